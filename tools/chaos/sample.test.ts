import assert from "node:assert/strict";
import { test } from "node:test";
import { convergence, type NodeView, type Sample } from "./sample.ts";

const VIP = "10.0.0.200";
const NODES = ["node1", "node2"];

function view(over: Partial<NodeView> = {}): NodeView {
  return {
    running: true,
    quorate: true,
    online: ["node2", "node1"],
    configEpoch: 3,
    noQuorumPolicy: "stop",
    runningOn: { Cluster_VIP: ["node2"] },
    failedOn: { Cluster_VIP: [] },
    properties: {},
    deviceVote: null,
    ...over,
  };
}

function sample(views: (NodeView | null)[], local: string[][], cloud: string[]): Sample {
  return {
    at: 0,
    cloudHolders: { [VIP]: cloud },
    nodes: NODES.map((node, i) => ({ node, view: views[i] ?? null, localVips: local[i] ?? [] })),
  };
}

const vips = { [VIP]: "Cluster_VIP" };

void test("converged: all up and agreeing, the VIP held in the cloud and configured by the same single node", () => {
  const c = convergence(sample([view(), view()], [[], [VIP]], ["node2"]), NODES, vips);
  assert.deepEqual(c, { ok: true, holders: { [VIP]: "node2" } });
});

void test("not converged, with the reason, for each way the bed can be unsettled", () => {
  const cases: [Sample, RegExp][] = [
    [sample([view(), null], [[], [VIP]], ["node2"]), /node2: daemon not answering/],
    [sample([view({ running: false }), view()], [[], [VIP]], ["node2"]), /node1: cluster services stopped/],
    [sample([view({ quorate: false }), view()], [[], [VIP]], ["node2"]), /node1: not quorate/],
    [sample([view({ online: ["node1"] }), view()], [[], [VIP]], ["node2"]), /node1: online node1/],
    [
      sample([view({ failedOn: { Cluster_VIP: ["node1"] } }), view()], [[], [VIP]], ["node2"]),
      /failed on node1/,
    ],
    [
      sample([view({ runningOn: { Cluster_VIP: ["node1", "node2"] } }), view()], [[], [VIP]], ["node2"]),
      /runs on \[node1,node2\]/,
    ],
    [sample([view({ runningOn: { Cluster_VIP: ["node1"] } }), view()], [[], [VIP]], ["node2"]), /disagree/],
    [sample([view(), view()], [[VIP], [VIP]], ["node2"]), /configured on \[node1,node2\]/],
    [sample([view(), view()], [[], [VIP]], ["node1"]), /configured on \[node2\], cloud holder node1/],
    [sample([view(), view()], [[], [VIP]], []), /cloud holders \[\]/],
  ];
  for (const [s, why] of cases) {
    const c = convergence(s, NODES, vips);
    assert.equal(c.ok, false);
    if (!c.ok) assert.match(c.why, why);
  }
});
