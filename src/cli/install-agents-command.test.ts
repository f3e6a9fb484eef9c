import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installAgents, installedText, packageRoot } from "./install-agents-command.ts";

/** install-agents against a scratch prefix and a scratch package (for the optional fence agent). */

const root = packageRoot();

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "floatip-install-"));
}

void test("installs ocf:floatip:oci-vip with this installation's paths, then reports it unchanged", () => {
  const prefix = scratch();
  try {
    // Only the OCF agent is looked at: whether this checkout has the fence agent yet does not matter here.
    const ocf = (report: ReturnType<typeof installAgents>) =>
      report.files.filter((f) => f.agent === "ocf:floatip:oci-vip");
    const first = installAgents({ prefix, node: "/opt/node/bin/node" });
    const target = join(prefix, "usr/lib/ocf/resource.d/floatip/oci-vip");
    assert.deepEqual(
      ocf(first).map((f) => [f.agent, f.target, f.action]),
      [["ocf:floatip:oci-vip", target, "installed"]],
    );
    const text = readFileSync(target, "utf8");
    assert.match(text, /^FLOATIP_NODE="\/opt\/node\/bin\/node"$/m);
    assert.match(text, new RegExp(`^FLOATIP_MAIN="${join(root, "bin/floatip.mjs")}"$`, "m"));
    assert.doesNotMatch(text, /@FLOATIP_/);
    assert.equal(statSync(target).mode & 0o777, 0o755);
    const second = installAgents({ prefix, node: "/opt/node/bin/node" });
    assert.deepEqual(
      ocf(second).map((f) => f.action),
      ["unchanged"],
    );
    chmodSync(target, 0o644);
    assert.deepEqual(
      ocf(installAgents({ prefix, node: "/opt/node/bin/node" })).map((f) => f.action),
      ["updated"],
      "a wrong mode is repaired",
    );
    const meta = spawnSync(target, ["meta-data"], { encoding: "utf8", env: { OCF_ROOT: "/usr/lib/ocf" } });
    assert.equal(meta.status, 0);
    assert.match(meta.stdout, /<resource-agent name="oci-vip"/);
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});

void test("the fence agent is skipped when the package lacks it and wrapped when it is a node script", () => {
  const prefix = scratch();
  const pkg = scratch();
  try {
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "floatip" }));
    mkdirSync(join(pkg, "agents/ocf"), { recursive: true });
    mkdirSync(join(pkg, "bin"));
    cpSync(join(root, "agents/ocf/oci-vip"), join(pkg, "agents/ocf/oci-vip"));
    const without = installAgents({ prefix, root: pkg, node: "/usr/bin/node" });
    assert.deepEqual(
      without.skipped.map((s) => s.agent),
      ["fence_floatip_oci"],
    );
    writeFileSync(join(pkg, "bin/fence_floatip_oci"), "#!/usr/bin/env node\nconsole.log('x');\n");
    const withFence = installAgents({ prefix, root: pkg, node: "/usr/bin/node" });
    assert.deepEqual(
      withFence.files.map((f) => [f.agent, f.action]),
      [
        ["ocf:floatip:oci-vip", "unchanged"],
        ["fence_floatip_oci", "installed"],
      ],
    );
    const wrapper = readFileSync(join(prefix, "usr/sbin/fence_floatip_oci"), "utf8");
    assert.match(
      wrapper,
      new RegExp(`^exec '/usr/bin/node' '${join(pkg, "bin/fence_floatip_oci")}' "\\$@"$`, "m"),
    );
  } finally {
    rmSync(prefix, { recursive: true, force: true });
    rmSync(pkg, { recursive: true, force: true });
  }
});

void test("a shell agent is copied with the placeholders replaced; quotes in paths stay quoted in wrappers", () => {
  assert.equal(
    installedText("/x/fence", "#!/bin/sh\nN=@FLOATIP_NODE@ M=@FLOATIP_MAIN@\n", { node: "/n", main: "/m" }),
    "#!/bin/sh\nN=/n M=/m\n",
  );
  assert.match(
    installedText("/it's/fence", "#!/usr/bin/node\n", { node: "/n", main: "/m" }),
    /exec '\/n' '\/it'\\''s\/fence' "\$@"/,
  );
});

void test("an unwritable prefix is a one-line FLOATIP_E_INSTALL_AGENTS error", () => {
  const prefix = scratch();
  try {
    writeFileSync(join(prefix, "usr"), "a file where a directory must go");
    assert.throws(
      () => installAgents({ prefix }),
      /^Error: FLOATIP_E_INSTALL_AGENTS: cannot write .*oci-vip/,
    );
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});

void test(
  "this package's fence agent, when present, is installed as a wrapper that runs it from anywhere",
  { skip: !existsSync(join(root, "bin/fence_floatip_oci")) || !existsSync(join(root, "dist/src/cli")) },
  () => {
    const prefix = scratch();
    try {
      const report = installAgents({ prefix });
      const fence = report.files.find((f) => f.agent === "fence_floatip_oci");
      assert.equal(fence?.target, join(prefix, "usr/sbin/fence_floatip_oci"));
      // Run with a bare environment, as fenced does: the wrapper needs no PATH to node.
      const meta = spawnSync(fence.target, ["-o", "metadata"], {
        encoding: "utf8",
        env: {
          FLOATIP_OCI_METADATA_URL: "http://127.0.0.1:9/opc/v2/",
          FLOATIP_OCI_ENDPOINT: "http://127.0.0.1:9",
        },
        cwd: "/",
        timeout: 30_000,
      });
      assert.equal(meta.status, 0, meta.stderr);
      assert.match(meta.stdout, /<resource-agent name="fence_floatip_oci"/);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  },
);
