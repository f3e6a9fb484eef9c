import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { test } from "node:test";
import { OUTPUT_FILE, renderConfigReference } from "../tools/docs/config-reference.ts";

/** The documentation under docs/ cannot go stale: each page is checked against the source it describes. */

const root = resolve(import.meta.dirname, "..");
const read = (path: string) => readFileSync(resolve(root, path), "utf8");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

/** Every complete error code in src/ (a prefix such as FLOATIP_E_HEARTBEAT_* in a comment is not one). */
function errorCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  for (const file of sourceFiles(resolve(root, "src"))) {
    for (const match of readFileSync(file, "utf8").matchAll(/FLOATIP_E_[A-Z0-9_]*[A-Z0-9]\b(?!_)/g)) {
      if (!codes.has(match[0])) codes.set(match[0], relative(root, file));
    }
  }
  return codes;
}

void test("docs/configuration.md is what tools/docs/config-reference.ts generates from the schema", async () => {
  assert.equal(
    read(OUTPUT_FILE),
    await renderConfigReference(),
    "run: node --import tsx tools/docs/config-reference.ts --write",
  );
});

void test("the configuration reference covers every top-level field and the alerts", async () => {
  const text = await renderConfigReference();
  for (const field of ["nodes", "totem", "resources", "groups", "constraints", "alerts", "properties"]) {
    assert.match(text, new RegExp(`\\| \`${field}\` `), field);
  }
  assert.match(text, /## alerts\[\]\.recipients\[\]/);
  assert.match(text, /\| `timestamp-format` /);
});

void test("docs/troubleshooting.md explains every error code in the source, and no code that is gone", () => {
  const documented = [...read("docs/troubleshooting.md").matchAll(/^### (FLOATIP_E_[A-Z0-9_]+)$/gm)].map(
    (m) => m[1] ?? "",
  );
  const codes = errorCodes();
  const missing = [...codes].filter(([code]) => !documented.includes(code)).map(([c, f]) => `${c} (${f})`);
  assert.deepEqual(missing, [], "add a section for each to docs/troubleshooting.md");
  const stale = documented.filter((code) => !codes.has(code));
  assert.deepEqual(stale, [], "these codes are no longer in src/");
  assert.equal(new Set(documented).size, documented.length, "each code once");
});

void test("the migration guide gives the floatip form of every pcs command of the seed recipe", () => {
  const text = read("docs/migrating-from-pacemaker.md");
  for (const command of [
    "floatip passwd",
    "floatip cluster auth node1 node2",
    "floatip cluster setup --start --name vip-failover-test node1 node2",
    "floatip resource create Cluster_VIP ocf:heartbeat:IPaddr2 ip=10.0.0.200 cidr_netmask=24 op monitor interval=10s",
    "floatip status",
    "systemctl enable --now floatip",
  ]) {
    assert.ok(text.includes(command), command);
  }
  for (const gone of ["sed -i", "OCID", "console"])
    assert.ok(text.includes(gone), `says what happens to: ${gone}`);
});

void test("links between the docs point at files that exist", () => {
  for (const page of readdirSync(resolve(root, "docs")).filter((f) => f.endsWith(".md"))) {
    for (const [, target] of read(`docs/${page}`).matchAll(/\]\(([^)#:]+)(?:#[^)]*)?\)/g)) {
      assert.ok(statSync(resolve(root, "docs", target ?? "")).isFile(), `${page} links to ${target}`);
    }
  }
});
