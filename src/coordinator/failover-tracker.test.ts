import assert from "node:assert/strict";
import { test } from "node:test";
import { FailoverTracker } from "./failover-tracker.ts";
import type { NodeReport } from "./node-report.ts";

const report = (name: string, state: "running" | "stopped"): NodeReport => ({
  v: 1,
  name,
  configEpoch: 1,
  configHash: "h",
  probed: true,
  leaving: false,
  resources: { VIP: { state, failCount: 0 } },
});

void test("a failover after a node loss is measured from the last heartbeat to the resource running elsewhere", () => {
  const t = new FailoverTracker();
  t.nodeLost("node1", ["VIP"], 10_000, 11_000);
  t.startRequested("VIP", "node2", 11_002);
  assert.deepEqual(t.observe({ node2: report("node2", "stopped") }, 11_300), []);
  assert.deepEqual(t.observe({ node2: report("node2", "running") }, 11_650), [
    {
      resource: "VIP",
      from: "node1",
      to: "node2",
      cause: "node-lost",
      detectMs: 1000,
      decideMs: 2,
      startMs: 648,
      totalMs: 1650,
    },
  ]);
  assert.deepEqual(t.observe({ node2: report("node2", "running") }, 12_000), [], "reported once");
});

void test("a cloud VIP's start phases (cloud move, verify) are carried into the failover record", () => {
  const t = new FailoverTracker();
  t.nodeLost("node1", ["VIP"], 0, 1000);
  t.startRequested("VIP", "node2", 1001);
  const running = report("node2", "running");
  running.resources["VIP"] = {
    state: "running",
    failCount: 0,
    startPhases: { cloudMoveMs: 610, verifyMs: 300 },
  };
  const [record] = t.observe({ node2: running }, 2000);
  assert.equal(record?.cloudMoveMs, 610);
  assert.equal(record?.verifyMs, 300);
});

void test("a restart in place after a resource failure is not a failover", () => {
  const t = new FailoverTracker();
  t.resourceFailed("VIP", "node1", 5_000);
  t.startRequested("VIP", "node1", 5_100);
  assert.deepEqual(t.observe({ node1: report("node1", "running") }, 5_200), []);
});
