import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { startEmulator, type RunningEmulator } from "../tools/oci-emulator/emulator.ts";
import type { InstanceActionEvent } from "../tools/oci-emulator/cloud-state.ts";
import { twoNodeSeed } from "../src/cloud/oci/testing/emulated-cloud.ts";

/**
 * The fence_floatip_oci executable (compiled, as Pacemaker's fencer runs it) against the OCI emulator on
 * loopback: options on stdin as stonith-ng passes them, API-key auth from an OCI config file, and the
 * instance principal of node1 through the emulator's metadata service.
 */

const agent = fileURLToPath(new URL("../bin/fence_floatip_oci", import.meta.url));
const RNG = "/usr/share/cluster/relaxng/metadata.rng";

let emulator: RunningEmulator;
let dir: string;
let configFile: string;
const actions: InstanceActionEvent[] = [];

before(async () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const userId = "ocid1.user.oc1..fencer";
  const fingerprint = "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99";
  emulator = await startEmulator({
    seed: {
      ...twoNodeSeed,
      apiUsers: [
        { userId, fingerprint, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() },
      ],
    },
    listen: [{ host: "127.0.0.1", port: 0 }],
  });
  emulator.events.on("instanceAction", (e: InstanceActionEvent) => actions.push(e));
  dir = mkdtempSync(join(tmpdir(), "fence-agent-"));
  const keyFile = join(dir, "key.pem");
  writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), { mode: 0o600 });
  configFile = join(dir, "config");
  writeFileSync(
    configFile,
    `[DEFAULT]\nuser=${userId}\nfingerprint=${fingerprint}\ntenancy=${emulator.state.tenancyId}\nregion=us-ashburn-1\nkey_file=${keyFile}\n`,
  );
});

after(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the agent without blocking this process, which serves the emulator. */
function runAgent(args: string[], stdin: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      agent,
      args,
      {
        env: { PATH: process.env["PATH"] ?? "", FLOATIP_OCI_ENDPOINT: emulator.urls[0] ?? "", ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin);
  });
}

const stateOf = (name: string) => emulator.state.findInstance(name)?.lifecycleState;
const idOf = (name: string) => emulator.state.findInstance(name)?.id ?? "";
const compartment = () => emulator.state.findInstance("node1")?.compartmentId ?? "";
const stdinFor = (action: string, plug?: string) =>
  [
    `action=${action}`,
    ...(plug ? [`port=${plug}`] : []),
    `config_file=${configFile}`,
    `compartment=${compartment()}`,
    "nodename=node2",
    "stonith_status_sleep=0.1",
    "",
  ].join("\n");

void test(
  "the executable's metadata validates as fence-agents XML",
  { skip: !existsSync(RNG) && "fence-agents is not installed" },
  async () => {
    const meta = await runAgent(["-o", "metadata"], "");
    assert.equal(meta.code, 0, meta.stderr);
    const file = join(dir, "metadata.xml");
    writeFileSync(file, meta.stdout);
    const lint = await new Promise<Run>((resolve) =>
      execFile("xmllint", ["--noout", "--relaxng", RNG, file], (error, stdout, stderr) =>
        resolve({ code: error ? 1 : 0, stdout, stderr }),
      ),
    );
    assert.equal(lint.code, 0, lint.stderr);
    assert.match(lint.stderr, /validates/);
  },
);

void test("stdin options with an OCI config file: off, status 2, on, status 0, list, reboot", async () => {
  actions.length = 0;
  const off = await runAgent([], stdinFor("off", "node2"));
  assert.equal(off.code, 0, off.stderr);
  assert.equal(off.stdout, "Success: Powered OFF\n");
  assert.equal(stateOf("node2"), "STOPPED");
  assert.equal(stateOf("node1"), "RUNNING");

  const statusOff = await runAgent([], stdinFor("status", "node2"));
  assert.equal(statusOff.code, 2, statusOff.stderr);
  assert.equal(statusOff.stdout, "Status: OFF\n");

  const on = await runAgent([], stdinFor("on", idOf("node2")));
  assert.equal(on.code, 0, on.stderr);
  assert.equal(on.stdout, "Success: Powered ON\n");
  assert.equal(stateOf("node2"), "RUNNING");

  const statusOn = await runAgent([], stdinFor("status", "node2"));
  assert.equal(statusOn.code, 0, statusOn.stderr);
  assert.equal(statusOn.stdout, "Status: ON\n");

  const list = await runAgent([], stdinFor("list"));
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(list.stdout.trim().split("\n").sort(), [
    `${idOf("node1")},node1`,
    `${idOf("node2")},node2`,
  ]);

  const reboot = await runAgent([], stdinFor("reboot", "node2"));
  assert.equal(reboot.code, 0, reboot.stderr);
  assert.equal(reboot.stdout, "Success: Rebooted\n");
  assert.equal(stateOf("node2"), "RUNNING");
  assert.deepEqual(
    actions.map((a) => [a.instanceName, a.action]),
    [
      ["node2", "STOP"],
      ["node2", "START"],
      ["node2", "STOP"],
      ["node2", "START"],
    ],
  );
});

void test("command-line options: reboot by cycle sends RESET; a bad option is an error line", async () => {
  actions.length = 0;
  const cycle = await runAgent(
    ["-o", "reboot", "-n", idOf("node1"), "--method=cycle", `--config-file=${configFile}`],
    "",
  );
  assert.equal(cycle.code, 0, cycle.stderr);
  assert.equal(cycle.stdout, "Success: Rebooted\n");
  assert.deepEqual(
    actions.map((a) => [a.instanceName, a.action]),
    [["node1", "RESET"]],
  );
  const bad = await runAgent(["--frobnicate"], "");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Error: FLOATIP_E_FENCE_ARGS: option --frobnicate not recognized/);
});

void test("the instance principal of node1 (metadata, federation) fences node2 by name", async () => {
  actions.length = 0;
  const env = {
    FLOATIP_OCI_METADATA_URL: emulator.metadataUrlFor("node1"),
    FLOATIP_OCI_FEDERATION_ENDPOINT: emulator.urls[0] ?? "",
  };
  const off = await runAgent(["-o", "off", "-n", "node2", "--stonith-status-sleep=0.1"], "", env);
  assert.equal(off.code, 0, off.stderr);
  assert.equal(stateOf("node2"), "STOPPED");
  const status = await runAgent(["-o", "status", "-n", "node2"], "", env);
  assert.equal(status.code, 2, status.stderr);
  const on = await runAgent(["-o", "on", "-n", "node2", "--stonith-status-sleep=0.1"], "", env);
  assert.equal(on.code, 0, on.stderr);
  assert.equal(stateOf("node2"), "RUNNING");
  const monitor = await runAgent(["-o", "monitor"], "", env);
  assert.equal(monitor.code, 0, monitor.stderr);
  assert.deepEqual(
    actions.map((a) => [a.instanceName, a.action]),
    [
      ["node2", "STOP"],
      ["node2", "START"],
    ],
  );
});
