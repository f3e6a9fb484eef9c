import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterConfigSchema } from "../config/schema.ts";
import { nodeHarness } from "./cluster-node-testing.ts";
import type { NodeReport } from "./node-report.ts";

void test("a peer's report that changes only in hints or messages is noted without re-deciding or re-gossiping", async () => {
  const config = clusterConfigSchema.parse({
    formatVersion: 1,
    name: "c",
    epoch: 3,
    nodes: [
      { name: "node1", id: 1, addrs: ["10.0.0.11"] },
      { name: "node2", id: 2, addrs: ["10.0.0.12"] },
    ],
    resources: Array.from({ length: 3 }, (_, i) => ({
      id: `vip_${i}`,
      type: "ocf:heartbeat:IPaddr2",
      params: { ip: `10.0.0.${100 + i}` },
      ops: [{ name: "monitor", intervalMs: 10_000, timeoutMs: 20_000 }],
    })),
  });
  const { executor, membership, node, report: emit } = nodeHarness(config);
  const hints: string[] = [];
  const notePeerHint = executor.notePeerHint.bind(executor);
  executor.notePeerHint = (rid, hint) => {
    hints.push(`${rid}=${hint}`);
    notePeerHint(rid, hint);
  };
  const report = (hint: string, message: string, failCount = 0): NodeReport => ({
    v: 1,
    name: "node2",
    configEpoch: 3,
    configHash: "h",
    probed: true,
    leaving: false,
    resources: {
      vip_0: { state: "running", failCount, hint, message },
      vip_1: { state: "stopped", failCount: 0 },
      vip_2: { state: "stopped", failCount: 0 },
    },
  });
  const send = (r: NodeReport): Promise<void> => emit(2, r);
  await send(report("etag-1", "10.0.0.100 held"));
  const published = membership.payloads.length;
  assert.ok(published > 0, "the first report is decided on and gossiped");
  await send(report("etag-2", "lease renewed"));
  await send(report("etag-3", "cloud check: 429, retrying"));
  assert.equal(
    membership.payloads.length,
    published,
    "hint and message changes re-gossiped this node's report",
  );
  assert.deepEqual(hints.slice(-3), ["vip_0=etag-1", "vip_0=etag-2", "vip_0=etag-3"]);
  await send(report("etag-3", "cloud check: 429, retrying", 1));
  assert.ok(
    membership.payloads.length > published,
    "a change the policy reads (a failure count) is decided on",
  );
  assert.ok(node.view().reports["node2"]?.resources["vip_0"]?.hint === "etag-3");
});
