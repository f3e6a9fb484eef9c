import assert from "node:assert/strict";
import { test } from "node:test";
import { InvariantChecker } from "./invariant-checker.ts";
import type { NodeView, Sample } from "./sample.ts";

const VIP = "10.0.0.200";
const bounds = { localOverlapMs: 5000, noQuorumStopMs: 3000, convergenceMs: 30_000 };

function view(over: Partial<NodeView> = {}): NodeView {
  return {
    running: true,
    quorate: true,
    online: ["node1", "node2"],
    configEpoch: 5,
    noQuorumPolicy: "stop",
    runningOn: { Cluster_VIP: ["node1"] },
    failedOn: { Cluster_VIP: [] },
    properties: {},
    deviceVote: null,
    ...over,
  };
}

function sample(
  at: number,
  local: Record<string, string[]>,
  over: Partial<Record<string, Partial<NodeView>>> = {},
  cloud = ["node1"],
): Sample {
  return {
    at,
    cloudHolders: { [VIP]: cloud },
    nodes: ["node1", "node2"].map((node) => ({ node, view: view(over[node]), localVips: local[node] ?? [] })),
  };
}

void test("a move inside a scenario that may move is fine; the same move in a scenario that must not is a false failover", () => {
  const c = new InvariantChecker(bounds, [VIP]);
  c.begin("NodeLoss", { mayMove: true, maxMoves: 1 }, 1000);
  c.move({ ip: VIP, node: "node2", at: 2000 });
  c.end(5000);
  c.begin("PacketLoss", { mayMove: false }, 6000);
  c.move({ ip: VIP, node: "node1", at: 7000 });
  assert.deepEqual(
    c.violations.map((v) => [v.scenario, v.falseFailover]),
    [["PacketLoss", true]],
  );
  const rows = Object.fromEntries(c.table().map((r) => [r.scenario, r]));
  assert.equal(rows["NodeLoss"]?.falseFailovers, 0);
  assert.equal(rows["PacketLoss"]?.falseFailovers, 1);
});

void test("a move after the scenario converged, or before any scenario, is a false failover", () => {
  const c = new InvariantChecker(bounds, [VIP]);
  c.move({ ip: VIP, node: "node2", at: 500 });
  c.begin("Standby", { mayMove: true }, 1000);
  c.end(5000);
  c.move({ ip: VIP, node: "node1", at: 5200 });
  assert.equal(c.violations.length, 2);
  assert.ok(c.violations.every((v) => v.falseFailover));
  assert.match(c.violations[1]?.what ?? "", /after Standby had converged/);
});

void test("more moves than the scenario allows is ping-pong", () => {
  const c = new InvariantChecker(bounds, [VIP]);
  c.begin("SplitBrain", { mayMove: true, maxMoves: 1 }, 0);
  c.move({ ip: VIP, node: "node2", at: 100 });
  c.move({ ip: VIP, node: "node1", at: 200 });
  assert.equal(c.violations.length, 1);
  assert.match(c.violations[0]?.what ?? "", /ping-pong/);
});

void test("two cloud holders is a violation at once", () => {
  const c = new InvariantChecker(bounds, [VIP]);
  c.observe(sample(0, { node1: [VIP] }, {}, ["node1", "node2"]));
  assert.match(c.violations[0]?.what ?? "", /2 cloud holders/);
});

void test("a VIP on two nodes is a violation only past the overlap bound, and not while an exempt fault is on", () => {
  const c = new InvariantChecker(bounds, [VIP]);
  c.begin("NodeLoss", { mayMove: true, overlapWhileFaulted: true }, 0);
  const both = { node1: [VIP], node2: [VIP] };
  for (let t = 0; t <= 20_000; t += 1000) c.observe(sample(t, both));
  assert.equal(c.violations.length, 0, "exempt while the node is cut off");
  c.faultCleared(20_000);
  for (let t = 21_000; t <= 25_000; t += 1000) c.observe(sample(t, both));
  assert.equal(c.violations.length, 0, "4 s after the fault cleared: within 5 s");
  c.observe(sample(26_500, both));
  c.observe(sample(27_500, both));
  assert.equal(c.violations.length, 1, "reported once per episode");
  c.observe(sample(28_000, { node1: [VIP] }));
  c.begin("Reattach", { mayMove: false }, 29_000);
  c.observe(sample(30_000, both));
  c.observe(sample(36_000, both));
  assert.equal(c.violations.length, 2);
});

void test("the configuration epoch going back on a node is a violation", () => {
  const c = new InvariantChecker(bounds, [VIP]);
  c.observe(sample(0, {}, { node2: { configEpoch: 7 } }));
  c.observe(sample(100, {}, { node2: { configEpoch: 6 } }));
  assert.match(c.violations[0]?.what ?? "", /node2: configuration epoch went back from 7 to 6/);
});

void test("a VIP kept past the grace without quorum under no-quorum-policy=stop is a violation, not under ignore", () => {
  const c = new InvariantChecker(bounds, [VIP]);
  for (let t = 0; t <= 5000; t += 500)
    c.observe(sample(t, { node1: [VIP] }, { node1: { quorate: false, noQuorumPolicy: "ignore" } }));
  assert.equal(c.violations.length, 0);
  for (let t = 6000; t <= 8000; t += 500)
    c.observe(sample(t, { node1: [VIP] }, { node1: { quorate: false } }));
  assert.equal(c.violations.length, 0, "within 3 s");
  c.observe(sample(9500, { node1: [VIP] }, { node1: { quorate: false } }));
  assert.match(c.violations[0]?.what ?? "", /node1 keeps 10.0.0.200 without quorum/);
});

void test("outages and runs are counted per scenario row", () => {
  const c = new InvariantChecker(bounds, [VIP]);
  c.begin("NodeLoss", { mayMove: true }, 0);
  c.outage("NodeLoss", 1500);
  c.end(10);
  c.begin("NodeLoss", { mayMove: true }, 20);
  c.outage("NodeLoss", 900);
  assert.deepEqual(c.table(), [
    { scenario: "NodeLoss", runs: 2, violations: 0, falseFailovers: 0, moves: 0, maxOutageMs: 1500 },
  ]);
});
