import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import {
  cleanupStale,
  createNamespace,
  deleteNamespace,
  listNamespaces,
  NamespaceRegistry,
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
      JSON.stringify({ pid: exited, startTime: "1", namespaces: [] }),
    );
    await createNamespace(`${dead}-n1`);
    await createNamespace(`${foreign}-n1`);

    const removed = await cleanupStale();
    assert.ok(removed.includes(`${dead}-n1`));
    const left = await listNamespaces();
    assert.ok(!left.includes(`${dead}-n1`));
    assert.ok(left.includes(`${foreign}-n1`), "a namespace without a record was deleted");
    assert.equal(existsSync(`${recordDir}/${dead}.json`), false);
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
