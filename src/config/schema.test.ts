import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterConfigSchema, heartbeatIntervalFor } from "./schema.ts";

const minimal = {
  formatVersion: 1,
  name: "c",
  epoch: 1,
  nodes: [{ name: "node1", id: 1, addrs: ["10.0.0.11"] }],
};

void test("defaults are fresh objects: changing one parsed document never changes the next", () => {
  const first = clusterConfigSchema.parse(minimal);
  first.constraints.location.push({ id: "l", resource: "r", node: "node1", score: 1 });
  first.properties["cloud"] = "oci";
  first.totem.tokenMs = 5000;
  first.resources.push({ id: "r", type: "ocf:heartbeat:IPaddr2", params: {}, meta: {}, ops: [] });
  const second = clusterConfigSchema.parse(minimal);
  assert.deepEqual(second.constraints.location, []);
  assert.deepEqual(second.properties, {});
  assert.equal(second.totem.tokenMs, 1000);
  assert.deepEqual(second.resources, []);
});

void test("a heartbeat round every fifth of the token (at least 20 ms), two copies each, for the defaults and for a given token", () => {
  assert.equal(heartbeatIntervalFor(1000), 200);
  assert.equal(heartbeatIntervalFor(300), 60);
  assert.equal(heartbeatIntervalFor(150), 30);
  assert.equal(heartbeatIntervalFor(90), 20);
  assert.equal(heartbeatIntervalFor(5000), 1000);
  const config = clusterConfigSchema.parse({
    formatVersion: 1,
    name: "c",
    epoch: 1,
    nodes: [{ name: "n1", id: 1, addrs: ["10.0.0.1"] }],
  });
  assert.deepEqual(config.totem, { tokenMs: 1000, heartbeatIntervalMs: 200, heartbeatCopies: 2, port: 5405 });
  const single = clusterConfigSchema.parse({ ...config, totem: { ...config.totem, heartbeatCopies: 1 } });
  assert.equal(single.totem.heartbeatCopies, 1);
  for (const heartbeatCopies of [0, 5, 1.5]) {
    const bad = clusterConfigSchema.safeParse({ ...config, totem: { ...config.totem, heartbeatCopies } });
    assert.equal(bad.success, false, `copies ${heartbeatCopies}`);
  }
});
