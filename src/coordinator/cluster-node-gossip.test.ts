import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import type { AgentResult, ResourceAgent } from "../agents/agent.ts";
import { ManualClock } from "../clock/manual-clock.ts";
import { clusterConfigSchema } from "../config/schema.ts";
import type { MembershipEvents } from "../membership/membership.ts";
import { silentLogger } from "../observability/logger.ts";
import { ClusterNode, type MembershipPort } from "./cluster-node.ts";
import { LocalExecutor } from "./local-executor.ts";
import { encodeReport, type NodeReport } from "./node-report.ts";

const idle: ResourceAgent = {
  start: async (): Promise<AgentResult> => ({ state: "running" }),
  stop: async (): Promise<AgentResult> => ({ state: "stopped" }),
  monitor: async (): Promise<AgentResult> => ({ state: "stopped" }),
  probe: async (): Promise<AgentResult> => ({ state: "stopped" }),
  validate: () => [],
};

class FakeMembership extends EventEmitter<MembershipEvents> implements MembershipPort {
  published = 0;
  setPayload(): void {
    this.published++;
  }
  sendNow(): void {}
  updatePeers(): void {}
  stats(): { peers: Record<number, number | null> } {
    return { peers: {} };
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

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
  const membership = new FakeMembership();
  const clock = new ManualClock(1_000);
  const executor = new LocalExecutor({
    resolveAgent: () => idle,
    clock,
    logger: silentLogger(),
    events: { onChange: () => {} },
  });
  const hints: string[] = [];
  const notePeerHint = executor.notePeerHint.bind(executor);
  executor.notePeerHint = (rid, hint) => {
    hints.push(`${rid}=${hint}`);
    notePeerHint(rid, hint);
  };
  const node = new ClusterNode({
    selfName: "node1",
    config,
    membership,
    executor,
    clock,
    logger: silentLogger(),
    adoptConfig: () => false,
  });
  membership.emit("view", { alive: [1, 2], joined: [2], lost: [], restarted: [] });
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
  const send = async (r: NodeReport): Promise<void> => {
    membership.emit("payload", { nodeId: 2, incarnation: 1n, payload: encodeReport(r) });
    await settle();
  };
  await send(report("etag-1", "10.0.0.100 held"));
  const published = membership.published;
  assert.ok(published > 0, "the first report is decided on and gossiped");
  await send(report("etag-2", "lease renewed"));
  await send(report("etag-3", "cloud check: 429, retrying"));
  assert.equal(membership.published, published, "hint and message changes re-gossiped this node's report");
  assert.deepEqual(hints.slice(-3), ["vip_0=etag-1", "vip_0=etag-2", "vip_0=etag-3"]);
  await send(report("etag-3", "cloud check: 429, retrying", 1));
  assert.ok(membership.published > published, "a change the policy reads (a failure count) is decided on");
  assert.ok(node.view().reports["node2"]?.resources["vip_0"]?.hint === "etag-3");
});
