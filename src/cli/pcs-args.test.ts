import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseNodeList, parseResourceArgs, UsageError } from "./pcs-args.ts";

void test("node lists take pcs 0.10 addr= options", () => {
  assert.deepEqual(parseNodeList(["node1", "addr=10.0.0.11", "node2"]), [
    { name: "node1", addr: "10.0.0.11" },
    { name: "node2" },
  ]);
  assert.throws(() => parseNodeList(["addr=10.0.0.11"]), UsageError);
  assert.throws(() => parseNodeList(["n", "ring0=1"]), /unknown node option 'ring0'/);
});

void test("the seed's resource create arguments parse into params and a 10 s monitor", () => {
  const args = parseResourceArgs(["ip=10.0.0.200", "cidr_netmask=24", "op", "monitor", "interval=10s"]);
  assert.deepEqual(args.params, { ip: "10.0.0.200", cidr_netmask: "24" });
  assert.deepEqual(args.ops, [{ name: "monitor", intervalMs: 10_000, timeoutMs: 20_000 }]);
});

void test("meta and several ops are kept apart", () => {
  const args = parseResourceArgs([
    "ip=1.2.3.4",
    "op",
    "start",
    "timeout=30s",
    "op",
    "monitor",
    "interval=5s",
    "meta",
    "resource-stickiness=100",
  ]);
  assert.deepEqual(args.meta, { "resource-stickiness": "100" });
  assert.equal(args.ops.length, 2);
  assert.equal(args.ops[0]?.timeoutMs, 30_000);
  assert.equal(args.ops[1]?.intervalMs, 5_000);
});

void test("fuzz: arbitrary CLI words either parse or fail with a UsageError, never anything else", () => {
  const word = fc.oneof(
    fc.string(),
    fc.constantFrom("op", "meta", "monitor", "start", "interval=10s", "timeout=x", "addr=", "=", "a=b"),
  );
  fc.assert(
    fc.property(fc.array(word, { maxLength: 12 }), (words) => {
      for (const parse of [parseResourceArgs, parseNodeList]) {
        try {
          parse(words);
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
        }
      }
    }),
    { numRuns: 500 },
  );
});
