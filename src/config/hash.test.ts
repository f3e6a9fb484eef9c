import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson, configHash } from "./hash.ts";
import { clusterConfigSchema } from "./schema.ts";

const base = clusterConfigSchema.parse({
  formatVersion: 1,
  name: "web",
  epoch: 4,
  nodes: [
    { name: "node1", id: 1, addrs: ["10.0.0.11"] },
    { name: "node2", id: 2, addrs: ["10.0.0.12"] },
  ],
  resources: [{ id: "vip", type: "ocf:heartbeat:IPaddr2", params: { ip: "10.0.0.100", cidr_netmask: "24" } }],
});

void test("gives the same hash whatever the key order", () => {
  const reordered = JSON.parse(canonicalJson(base)) as typeof base;
  const shuffled = Object.fromEntries(Object.entries(reordered).reverse()) as typeof base;
  assert.equal(configHash(shuffled), configHash(base));
  assert.match(configHash(base), /^[0-9a-f]{64}$/);
});

void test("tells apart two documents at the same epoch with different content", () => {
  const other = structuredClone(base);
  other.resources[0]!.params["ip"] = "10.0.0.101";
  assert.equal(other.epoch, base.epoch);
  assert.notEqual(configHash(other), configHash(base));
});

void test("keeps array order significant", () => {
  const swapped = structuredClone(base);
  swapped.nodes.reverse();
  assert.notEqual(configHash(swapped), configHash(base));
});

void test("canonical JSON sorts keys at every depth", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }),
    '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
  );
  fc.assert(
    fc.property(
      fc.jsonValue(),
      (value) => canonicalJson(JSON.parse(canonicalJson(value))) === canonicalJson(value),
    ),
    { numRuns: 200 },
  );
});
