import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { ConfigError } from "./errors.ts";
import { ConfigStore } from "./store.ts";
import { clusterConfigSchema, type ClusterConfig } from "./schema.ts";

function stateDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "floatip-store-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function twoNodeCluster(epoch: number): ClusterConfig {
  return clusterConfigSchema.parse({
    formatVersion: 1,
    name: "web",
    epoch,
    nodes: [
      { name: "node1", id: 1, addrs: ["10.0.0.11"] },
      { name: "node2", id: 2, addrs: ["10.0.0.12"] },
    ],
    resources: [{ id: "vip", type: "ocf:heartbeat:IPaddr2", params: { ip: "10.0.0.100" } }],
  });
}

function isConfigError(code: string, ...mentions: string[]) {
  return (error: unknown) =>
    error instanceof ConfigError && error.code === code && mentions.every((m) => error.message.includes(m));
}

void test("load returns null when no configuration was ever committed", (t) => {
  const store = ConfigStore.open(join(stateDir(t), "cluster.json"));
  assert.equal(store.load(), null);
  assert.equal(store.lastLoadProblem, null);
});

void test("a committed configuration loads back identical, in a file only root can read", (t) => {
  const path = join(stateDir(t), "cluster.json");
  const committed = ConfigStore.open(path).commit(twoNodeCluster(1));
  assert.deepEqual(ConfigStore.open(path).load(), committed);
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

void test("keeps the previous version as last-good on every commit", (t) => {
  const path = join(stateDir(t), "cluster.json");
  const store = ConfigStore.open(path);
  store.commit(twoNodeCluster(1));
  assert.equal(existsSync(store.lastGoodPath), false);
  store.commit(twoNodeCluster(2));
  assert.equal((JSON.parse(readFileSync(store.lastGoodPath, "utf8")) as ClusterConfig).epoch, 1);
  assert.equal(statSync(store.lastGoodPath).mode & 0o777, 0o600);
  store.commit(twoNodeCluster(3));
  assert.equal((JSON.parse(readFileSync(store.lastGoodPath, "utf8")) as ClusterConfig).epoch, 2);
  assert.equal(store.load()?.epoch, 3);
});

void test("refuses a commit whose epoch does not grow", (t) => {
  const store = ConfigStore.open(join(stateDir(t), "cluster.json"));
  store.commit(twoNodeCluster(5));
  assert.throws(
    () => store.commit(twoNodeCluster(5)),
    isConfigError("FLOATIP_E_CONFIG_EPOCH", "epoch 5", "stored epoch 5"),
  );
  assert.throws(() => store.commit(twoNodeCluster(4)), isConfigError("FLOATIP_E_CONFIG_EPOCH", "epoch 4"));
  assert.equal(store.load()?.epoch, 5);
});

void test("refuses an invalid configuration and names the field, leaving the stored one untouched", (t) => {
  const store = ConfigStore.open(join(stateDir(t), "cluster.json"));
  store.commit(twoNodeCluster(1));
  const broken = twoNodeCluster(2);
  broken.nodes[1]!.addrs[0] = "10.0.0.300";
  assert.throws(
    () => store.commit(broken),
    (error: unknown) =>
      isConfigError("FLOATIP_E_CONFIG_INVALID", "nodes[1].addrs[0]: must be an IPv4 address")(error) &&
      (error as ConfigError).field === "nodes[1].addrs[0]",
  );
  assert.equal(store.load()?.epoch, 1);
});

void test("update applies a change as the next epoch", (t) => {
  const store = ConfigStore.open(join(stateDir(t), "cluster.json"));
  store.commit(twoNodeCluster(7));
  const next = store.update((draft) => {
    draft.properties["stonith-enabled"] = "false";
  });
  assert.equal(next.epoch, 8);
  assert.equal(store.load()?.properties["stonith-enabled"], "false");
});

void test("update without a configuration says to create the cluster first", (t) => {
  const store = ConfigStore.open(join(stateDir(t), "cluster.json"));
  assert.throws(() => store.update(() => {}), isConfigError("FLOATIP_E_CONFIG_MISSING", "cluster setup"));
});

void test("adopts a peer's document only when its epoch is higher", (t) => {
  const store = ConfigStore.open(join(stateDir(t), "cluster.json"));
  assert.equal(store.adopt(twoNodeCluster(3)), true);
  assert.equal(store.adopt(twoNodeCluster(3)), false);
  assert.equal(store.adopt(twoNodeCluster(2)), false);
  assert.equal(store.load()?.epoch, 3);
  const newer = twoNodeCluster(9);
  newer.name = "renamed";
  assert.equal(store.adopt(newer), true);
  assert.equal(store.load()?.name, "renamed");
  assert.throws(
    () => store.adopt({ ...twoNodeCluster(10), nodes: [] }),
    isConfigError("FLOATIP_E_CONFIG_INVALID", "received from a peer", "nodes"),
  );
  assert.equal(store.load()?.epoch, 9);
});

void test("ignores temporary files left behind by a crashed writer", (t) => {
  const dir = stateDir(t);
  const path = join(dir, "cluster.json");
  const store = ConfigStore.open(path);
  store.commit(twoNodeCluster(1));
  writeFileSync(`${path}.tmp-999999-deadbeef0000`, '{"formatVersion": 1, "epo');
  assert.equal(store.load()?.epoch, 1);
  assert.equal(store.lastLoadProblem, null);
  store.commit(twoNodeCluster(2));
  assert.equal(ConfigStore.open(path).load()?.epoch, 2);
  // A successful commit leaves none of its own temporary files.
  assert.deepEqual(
    readdirSync(dir).filter((name) => name.includes(".tmp-") && !name.includes("999999")),
    [],
  );
});

void test("a truncated main file falls back to the last good version and says why", (t) => {
  const path = join(stateDir(t), "cluster.json");
  const store = ConfigStore.open(path);
  store.commit(twoNodeCluster(6));
  store.commit(twoNodeCluster(7));
  const full = readFileSync(path, "utf8");
  writeFileSync(path, full.slice(0, Math.floor(full.length / 2)));
  const loaded = store.load();
  assert.equal(loaded?.epoch, 6);
  assert.match(
    store.lastLoadProblem ?? "",
    /^cluster\.json is not valid JSON \(.+\); using the last good version \(epoch 6\)/,
  );
});

void test("a hand-broken field falls back to last-good with a problem naming the field", (t) => {
  const path = join(stateDir(t), "cluster.json");
  const store = ConfigStore.open(path);
  store.commit(twoNodeCluster(6));
  store.commit(twoNodeCluster(7));
  const edited = JSON.parse(readFileSync(path, "utf8")) as ClusterConfig;
  edited.nodes[0]!.addrs[0] = "999.1.1.1";
  writeFileSync(path, JSON.stringify(edited));
  assert.equal(store.load()?.epoch, 6);
  assert.equal(
    store.lastLoadProblem,
    "cluster.json is invalid at nodes[0].addrs[0]: must be an IPv4 address; " +
      "using the last good version (epoch 6) from cluster.json.last-good",
  );
});

void test("a commit over a damaged file keeps last-good intact and the damaged file aside", (t) => {
  const path = join(stateDir(t), "cluster.json");
  const store = ConfigStore.open(path);
  store.commit(twoNodeCluster(6));
  store.commit(twoNodeCluster(7));
  writeFileSync(path, "{ hand edit in progress");
  assert.throws(() => store.commit(twoNodeCluster(6)), isConfigError("FLOATIP_E_CONFIG_EPOCH"));
  store.commit(twoNodeCluster(8));
  assert.equal(store.load()?.epoch, 8);
  assert.equal(store.lastLoadProblem, null);
  assert.equal((JSON.parse(readFileSync(store.lastGoodPath, "utf8")) as ClusterConfig).epoch, 6);
  assert.equal(readFileSync(store.rejectedPath, "utf8"), "{ hand edit in progress");
});

void test("a deleted main file falls back to last-good rather than to an empty cluster", (t) => {
  const path = join(stateDir(t), "cluster.json");
  const store = ConfigStore.open(path);
  store.commit(twoNodeCluster(1));
  store.commit(twoNodeCluster(2));
  rmSync(path);
  assert.equal(store.load()?.epoch, 1);
  assert.match(
    store.lastLoadProblem ?? "",
    /^cluster\.json is missing; using the last good version \(epoch 1\)/,
  );
});

void test("when both copies are unusable, load throws CORRUPT naming both files and the field", (t) => {
  const path = join(stateDir(t), "cluster.json");
  const store = ConfigStore.open(path);
  store.commit(twoNodeCluster(1));
  store.commit(twoNodeCluster(2));
  const edited = JSON.parse(readFileSync(path, "utf8")) as ClusterConfig;
  edited.nodes[0]!.addrs[0] = "999.1.1.1";
  writeFileSync(path, JSON.stringify(edited));
  writeFileSync(store.lastGoodPath, "");
  assert.throws(
    () => store.load(),
    (error: unknown) =>
      isConfigError("FLOATIP_E_CONFIG_CORRUPT", path, "nodes[0].addrs[0]", store.lastGoodPath)(error) &&
      (error as ConfigError).field === "nodes[0].addrs[0]",
  );
  assert.throws(() => store.commit(twoNodeCluster(3)), isConfigError("FLOATIP_E_CONFIG_CORRUPT"));
});

void test("a damaged main file with no last-good is reported, not replaced by nothing", (t) => {
  const path = join(stateDir(t), "cluster.json");
  writeFileSync(path, "[]");
  assert.throws(() => ConfigStore.open(path).load(), isConfigError("FLOATIP_E_CONFIG_CORRUPT", "(document)"));
});

void test("arbitrary bytes in either file never make load fail with anything but a ConfigError", (t) => {
  const dir = stateDir(t);
  const path = join(dir, "cluster.json");
  const good = JSON.stringify(twoNodeCluster(1));
  const contents = fc.oneof(
    fc.string(),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    // Near-miss documents: a valid one with a field replaced by arbitrary JSON.
    fc
      .tuple(fc.constantFrom("nodes", "epoch", "name", "resources", "totem", "formatVersion"), fc.jsonValue())
      .map(([key, value]) => JSON.stringify({ ...(JSON.parse(good) as object), [key]: value })),
    fc.integer({ min: 0, max: good.length }).map((cut) => good.slice(0, cut)),
  );
  fc.assert(
    fc.property(contents, fc.option(contents), (main, lastGood) => {
      writeFileSync(path, main);
      rmSync(`${path}.last-good`, { force: true });
      if (lastGood !== null) writeFileSync(`${path}.last-good`, lastGood);
      const store = ConfigStore.open(path);
      try {
        const loaded = store.load();
        return loaded === null || clusterConfigSchema.safeParse(loaded).success;
      } catch (error) {
        return error instanceof ConfigError && error.message.startsWith(error.code);
      }
    }),
    { numRuns: 300 },
  );
});

void test("a writer killed with SIGKILL at any moment leaves a loadable configuration", async (t) => {
  const path = join(stateDir(t), "cluster.json");
  ConfigStore.open(path).commit(twoNodeCluster(1));
  const storeUrl = pathToFileURL(join(import.meta.dirname, "store.ts")).href;
  const writer = `
    const { ConfigStore } = await import(${JSON.stringify(storeUrl)});
    const store = ConfigStore.open(${JSON.stringify(path)});
    process.stdout.write("ready\\n");
    for (;;) store.update((draft) => { draft.properties.filler = "x".repeat(1 + (draft.epoch % 5000)); });
  `;
  let writtenInAllRounds = 0;
  for (let round = 0; round < 4; round++) {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", writer], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    t.after(() => child.kill("SIGKILL"));
    await new Promise<void>((resolveReady, reject) => {
      child.once("error", reject);
      child.stdout.once("data", () => resolveReady());
    });
    const before = ConfigStore.open(path).load()?.epoch ?? 0;
    // Kill only once the writer is really committing (a loaded machine starts it slowly), then at a
    // varying moment within its loop.
    const deadline = Date.now() + 10_000;
    while ((ConfigStore.open(path).load()?.epoch ?? 0) < before + 6 && Date.now() < deadline) {
      await new Promise((resolveLater) => setTimeout(resolveLater, 2));
    }
    await new Promise((resolveLater) => setTimeout(resolveLater, round * 5));
    child.kill("SIGKILL");
    await new Promise((resolveExit) => child.once("exit", resolveExit));
    const store = ConfigStore.open(path);
    const loaded = store.load();
    assert.equal(store.lastLoadProblem, null, "the main file is always whole after a crash");
    assert.ok(loaded !== null && loaded.epoch >= before, `epoch ${loaded?.epoch} went back from ${before}`);
    writtenInAllRounds += loaded.epoch - before;
  }
  assert.ok(
    writtenInAllRounds > 20,
    `the writer committed only ${writtenInAllRounds} times; the test proves nothing`,
  );
});
