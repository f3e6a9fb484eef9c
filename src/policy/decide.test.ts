import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterConfigSchema } from "../config/schema.ts";
import { decide } from "./decide.ts";

const config = clusterConfigSchema.parse({
  formatVersion: 1,
  name: "web",
  epoch: 1,
  nodes: [
    { name: "node1", id: 1, addrs: ["10.0.0.11"] },
    { name: "node2", id: 2, addrs: ["10.0.0.12"] },
  ],
  resources: [{ id: "vip", type: "ocf:heartbeat:IPaddr2", params: { ip: "10.0.0.100" } }],
});

void test("starts a stopped resource on the first online node once every node has probed", () => {
  const decision = decide({
    config,
    view: { online: ["node1", "node2"], quorate: true },
    status: { node1: { probed: true, resources: {} }, node2: { probed: true, resources: {} } },
    nowMs: 0,
  });
  assert.deepEqual(decision.actions, [{ op: "start", resource: "vip", node: "node1" }]);
  assert.deepEqual(decision.placement, { vip: "node1" });
});

void test("holds every start while a node has not probed", () => {
  const decision = decide({
    config,
    view: { online: ["node1", "node2"], quorate: true },
    status: { node1: { probed: true, resources: {} }, node2: { probed: false, resources: {} } },
    nowMs: 0,
  });
  assert.deepEqual(decision.actions, []);
  assert.deepEqual(decision.notes, ["vip: waiting for node2 to finish probing"]);
});

void test("keeps a resource where it runs and stops the second copy after a partition heals", () => {
  const running = { state: "running", failCount: 0 } as const;
  const decision = decide({
    config,
    view: { online: ["node1", "node2"], quorate: true },
    status: {
      node1: { probed: true, resources: { vip: running } },
      node2: { probed: true, resources: { vip: running } },
    },
    nowMs: 0,
  });
  assert.deepEqual(decision.actions, [{ op: "stop", resource: "vip", node: "node2" }]);
  assert.deepEqual(decision.placement, { vip: "node1" });
});
