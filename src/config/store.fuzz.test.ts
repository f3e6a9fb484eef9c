import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { ConfigError } from "./errors.ts";
import { ConfigStore } from "./store.ts";
import { clusterConfigSchema, type ClusterConfig } from "./schema.ts";

/*
 * Fuzzing of the configuration file. store.test.ts already shows that arbitrary bytes make load() answer
 * a config or a ConfigError; these properties add what an operator relies on: a valid copy is never lost
 * or rewritten by a load, a damaged file is kept aside byte for byte when a commit replaces it, errors
 * are one FLOATIP_E_ line naming the field, and a peer's document of any shape is refused without
 * touching the disk. FLOATIP_FUZZ_SEED replays a run.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

function stateDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "floatip-store-fuzz-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function cluster(epoch: number): ClusterConfig {
  return clusterConfigSchema.parse({
    formatVersion: 1,
    name: "web",
    epoch,
    nodes: [
      { name: "node1", id: 1, addrs: ["10.0.0.11"] },
      { name: "node2", id: 2, addrs: ["10.0.0.12"] },
    ],
    resources: [
      { id: "vip", type: "ocf:heartbeat:IPaddr2", params: { ip: "10.0.0.100", cidr_netmask: "24" } },
    ],
    properties: { "no-quorum-policy": "stop" },
  });
}

/** A copy of `root` with the value at a random path replaced by arbitrary JSON, or its key deleted. */
function mutateAt(root: unknown, path: readonly number[], replacement: unknown, drop: boolean): unknown {
  const copy = structuredClone(root);
  let node: unknown = copy;
  for (let depth = 0; depth < path.length; depth++) {
    if (node === null || typeof node !== "object") break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const k = keys[(path[depth] ?? 0) % keys.length] as string;
    const child = (node as Record<string, unknown>)[k];
    if (depth === path.length - 1 || child === null || typeof child !== "object") {
      if (drop) delete (node as Record<string, unknown>)[k];
      else (node as Record<string, unknown>)[k] = replacement;
      break;
    }
    node = child;
  }
  return copy;
}

const goodText = (epoch: number) => `${JSON.stringify(cluster(epoch), null, 2)}\n`;

/** Anything a hand edit, a disk fault or a bug could leave in the file. */
const damaged: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.json(),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc
    .tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.jsonValue(), fc.boolean())
    .map(([path, value, drop]) => JSON.stringify(mutateAt(cluster(5), path, value, drop))),
  fc.integer({ min: 0, max: goodText(5).length - 2 }).map((cut) => goodText(5).slice(0, cut)),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, mask]) => {
    const bytes = Buffer.from(goodText(5));
    bytes[at % bytes.length] = (bytes[at % bytes.length] ?? 0) ^ mask;
    return bytes;
  }),
);

function assertOneLineCode(error: unknown, code?: string): asserts error is ConfigError {
  assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
  assert.match(error.message, /^FLOATIP_E_[A-Z_]+: /);
  if (code !== undefined) assert.equal(error.code, code);
  assert.ok(!error.message.includes("\n"), `more than one line: ${error.message}`);
}

const read = (path: string): Buffer | null => (existsSync(path) ? readFileSync(path) : null);

void test("fuzz: a load never rewrites either file, and a valid copy always wins over a damaged one", (t) => {
  const path = join(stateDir(t), "cluster.json");
  const lastGood = `${path}.last-good`;
  fc.assert(
    fc.property(damaged, fc.boolean(), (bad, mainIsGood) => {
      // One valid copy and one damaged one, in either file.
      writeFileSync(path, mainIsGood ? goodText(7) : bad);
      writeFileSync(lastGood, mainIsGood ? bad : goodText(6));
      const before = [read(path), read(lastGood)];
      const store = ConfigStore.open(path);
      const loaded = store.load();
      assert.deepEqual([read(path), read(lastGood)], before, "load changed a file");
      const parsedBad = (() => {
        try {
          return clusterConfigSchema.safeParse(JSON.parse(bad.toString())).success;
        } catch {
          return false;
        }
      })();
      if (mainIsGood || parsedBad) {
        // A damaged-looking main that still validates is a valid file, and it is the one used.
        assert.ok(loaded !== null && clusterConfigSchema.safeParse(loaded).success);
        return;
      }
      assert.equal(loaded?.epoch, 6, "the last good version was used");
      assert.match(store.lastLoadProblem ?? "", /^cluster\.json .*; using the last good version \(epoch 6\)/);
      assert.ok(!(store.lastLoadProblem ?? "").includes("\n"));
    }),
    params(150),
  );
});

void test("fuzz: when no valid copy is left, load fails with one FLOATIP_E_CONFIG_CORRUPT line naming both files", (t) => {
  const path = join(stateDir(t), "cluster.json");
  fc.assert(
    fc.property(damaged, fc.option(damaged), (main, lastGood) => {
      const valid = (text: string | Buffer) => {
        try {
          return clusterConfigSchema.safeParse(JSON.parse(text.toString())).success;
        } catch {
          return false;
        }
      };
      fc.pre(!valid(main) && (lastGood === null || !valid(lastGood)));
      writeFileSync(path, main);
      rmSync(`${path}.last-good`, { force: true });
      if (lastGood !== null) writeFileSync(`${path}.last-good`, lastGood);
      try {
        ConfigStore.open(path).load();
        assert.fail("a damaged configuration loaded");
      } catch (error) {
        assertOneLineCode(error, "FLOATIP_E_CONFIG_CORRUPT");
        assert.ok(error.message.includes(path) && error.message.includes(`${path}.last-good`));
        if (error.field !== undefined) assert.ok(error.message.includes(error.field), error.message);
      }
    }),
    params(150),
  );
});

void test("fuzz: a commit over a damaged file keeps it aside byte for byte and keeps last-good", (t) => {
  const dir = stateDir(t);
  let round = 0;
  fc.assert(
    fc.property(damaged, (bad) => {
      const path = join(dir, `c${round++}.json`);
      ConfigStore.open(path).commit(cluster(1));
      ConfigStore.open(path).commit(cluster(2));
      writeFileSync(path, bad);
      const store = ConfigStore.open(path);
      const loaded = store.load();
      assert.ok(loaded !== null);
      const fellBack = store.lastLoadProblem !== null;
      const next = store.commit({ ...loaded, epoch: loaded.epoch + 1 });
      if (!fellBack) {
        // The "damage" still validated; it became last-good like any valid file.
        return;
      }
      assert.equal(next.epoch, loaded.epoch + 1);
      assert.deepEqual(read(`${path}.rejected`), Buffer.from(bad), "the damaged file was kept aside");
      assert.equal(ConfigStore.open(path).load()?.epoch, next.epoch);
      assert.equal(JSON.parse(readFileSync(`${path}.last-good`, "utf8")).epoch, 1, "last-good untouched");
    }),
    params(30),
  );
});

void test("fuzz: a peer's document of any shape is adopted only when valid and newer; otherwise the disk is untouched", (t) => {
  const path = join(stateDir(t), "cluster.json");
  ConfigStore.open(path).commit(cluster(10));
  const remote = fc.oneof(
    fc.anything(),
    fc.jsonValue(),
    fc
      .tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.jsonValue(), fc.boolean())
      .map(([p, value, drop]) => mutateAt({ ...cluster(11) }, p, value, drop)),
  );
  fc.assert(
    fc.property(remote, (doc) => {
      const before = [read(path), read(`${path}.last-good`)];
      let adopted: boolean;
      try {
        adopted = ConfigStore.open(path).adopt(doc);
      } catch (error) {
        assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
        assert.equal(error.code, "FLOATIP_E_CONFIG_INVALID");
        // One header line, then one `field: problem` line per issue.
        assert.match(error.message.split("\n")[0] ?? "", /^FLOATIP_E_CONFIG_INVALID: .* fix these fields:$/);
        assert.deepEqual(
          [read(path), read(`${path}.last-good`)],
          before,
          "a refused document changed the disk",
        );
        return;
      }
      if (!adopted) assert.deepEqual([read(path), read(`${path}.last-good`)], before);
      else {
        // Valid and newer: stored, and the previous version is now last-good. Reset for the next run.
        assert.ok(clusterConfigSchema.safeParse(ConfigStore.open(path).load()).success);
        rmSync(`${path}.last-good`, { force: true });
        writeFileSync(path, goodText(10));
      }
    }),
    params(300),
  );
});

void test("a configuration path that is a directory is a FLOATIP_E_CONFIG_IO line, not a crash", (t) => {
  const path = join(stateDir(t), "cluster.json");
  mkdirSync(path);
  try {
    ConfigStore.open(path).load();
    assert.fail("loaded a directory");
  } catch (error) {
    assertOneLineCode(error, "FLOATIP_E_CONFIG_IO");
  }
});
