import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import {
  cleanupStale,
  createNamespace,
  deleteNamespace,
  execIn,
  listNamespaces,
  NamespaceRegistry,
  netnsEtcDir,
  recordDir,
  uniquePrefix,
} from "./netns.ts";

const skip = process.getuid?.() !== 0 && "needs root";

void test("uniquePrefix is fi and four hex digits", () => {
  for (let i = 0; i < 20; i++) assert.match(uniquePrefix(), /^fi[0-9a-f]{4}$/);
});

void test("the registry rejects prefixes that cleanupStale would not recognise", () => {
  assert.throws(() => new NamespaceRegistry("test1"), /FLOATIP_E_TESTBED/);
});

void test(
  "cleanupStale removes namespaces of a dead creator and leaves unrecorded ones alone",
  { skip },
  async (t) => {
    const dead = uniquePrefix();
    const foreign = uniquePrefix();
    t.after(async () => {
      await deleteNamespace(`${dead}-n1`);
      await deleteNamespace(`${foreign}-n1`);
    });
    // A pid that existed and has exited stands in for a crashed test run.
    const exited = spawnSync("true").pid ?? 0;
    mkdirSync(recordDir, { recursive: true });
    writeFileSync(
      `${recordDir}/${dead}.json`,
      JSON.stringify({ pid: exited, startTime: "1", namespaces: [`${dead}-n1`, `${dead}-gone`] }),
    );
    await createNamespace(`${dead}-n1`);
    // A crash between deleting a namespace and removing its /etc files leaves the files behind.
    mkdirSync(`${netnsEtcDir}/${dead}-gone`, { recursive: true });
    writeFileSync(`${netnsEtcDir}/${dead}-gone/hosts`, "127.0.0.1 localhost\n");
    await createNamespace(`${foreign}-n1`);

    const removed = await cleanupStale();
    assert.ok(removed.includes(`${dead}-n1`));
    const left = await listNamespaces();
    assert.ok(!left.includes(`${dead}-n1`));
    assert.ok(left.includes(`${foreign}-n1`), "a namespace without a record was deleted");
    assert.equal(existsSync(`${recordDir}/${dead}.json`), false);
    assert.equal(existsSync(`${netnsEtcDir}/${dead}-gone`), false, "its /etc/netns files are gone too");
  },
);

void test("cleanupStale leaves the namespaces of a live registry alone", { skip }, async (t) => {
  const registry = new NamespaceRegistry();
  t.after(() => registry.teardown());
  const ns = await registry.createNamespace("n1");
  await cleanupStale();
  assert.ok((await listNamespaces()).includes(ns));
});

void test("teardown kills processes started in the namespace and deletes it", { skip }, async () => {
  const registry = new NamespaceRegistry();
  try {
    const ns = await registry.createNamespace("n1");
    const child = registry.spawnIn(ns, "sleep", ["30"]);
    await new Promise((resolve) => child.once("spawn", resolve));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await registry.teardown();
    await exited;
    assert.ok(!(await listNamespaces()).includes(ns));
    assert.equal(existsSync(`${recordDir}/${registry.prefix}.json`), false);
  } finally {
    await registry.teardown();
  }
});

void test(
  "a namespace's own hosts file is what processes in it see as /etc/hosts, and goes with it",
  { skip },
  async () => {
    const registry = new NamespaceRegistry();
    try {
      const ns = await registry.createNamespace("n1");
      registry.writeEtcFile(ns, "hosts", "127.0.0.1 localhost\n192.0.2.10 iaas.example.test\n");
      // getaddrinfo (AI_ADDRCONFIG) answers IPv4 only where an interface other than loopback has an address.
      for (const args of [
        ["link", "add", "d0", "type", "veth", "peer", "name", "d1"],
        ["addr", "add", "192.0.2.1/24", "dev", "d0"],
        ["link", "set", "d0", "up"],
        ["link", "set", "d1", "up"],
      ]) {
        assert.equal((await execIn(ns, "ip", args)).code, 0);
      }
      const seen = await execIn(ns, "getent", ["ahostsv4", "iaas.example.test"]);
      assert.match(seen.stdout, /^192\.0\.2\.10\s/m);
      assert.doesNotMatch(
        readFileSync("/etc/hosts", "utf8"),
        /iaas\.example\.test/,
        "the host's own file is untouched",
      );
      assert.throws(() => registry.writeEtcFile("fi0000-other", "hosts", ""), /not a namespace of this bed/);
      await registry.teardown();
      assert.equal(existsSync(`${netnsEtcDir}/${ns}`), false);
    } finally {
      await registry.teardown();
    }
  },
);
