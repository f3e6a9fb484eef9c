import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import type { AgentContext, AgentResult, ResourceAgent } from "../agents/agent.ts";
import { ManualClock } from "../clock/manual-clock.ts";
import { configHash } from "../config/hash.ts";
import { clusterConfigSchema } from "../config/schema.ts";
import type { MembershipEvents } from "../membership/membership.ts";
import { silentLogger } from "../observability/logger.ts";
import { ClusterNode, type MembershipPort } from "./cluster-node.ts";
import { LocalExecutor } from "./local-executor.ts";
import { encodeReport, type NodeReport, type ResourceReport } from "./node-report.ts";

const cfg = clusterConfigSchema.parse({
  formatVersion: 1,
  name: "hints",
  epoch: 3,
  nodes: [
    { name: "node1", id: 1, addrs: ["10.0.0.11"] },
    { name: "node2", id: 2, addrs: ["10.0.0.12"] },
    { name: "node3", id: 3, addrs: ["10.0.0.13"] },
  ],
  resources: [{ id: "vip", type: "ocf:heartbeat:IPaddr2", params: { ip: "10.0.0.200" } }],
});

class FakeMembership extends EventEmitter<MembershipEvents> implements MembershipPort {
  setPayload(): void {}
  sendNow(): void {}
  updatePeers(): void {}
  stats(): { peers: Record<number, number | null> } {
    return { peers: {} };
  }
}

/** node1 of three; what its next start of `vip` is handed as the peer's hint. */
async function harness() {
  const clock = new ManualClock(1_000);
  const membership = new FakeMembership();
  const handed: (string | undefined)[] = [];
  const agent: ResourceAgent = {
    start: async (ctx: AgentContext): Promise<AgentResult> => {
      handed.push(ctx.peerHint);
      return { state: "running" };
    },
    stop: async (): Promise<AgentResult> => ({ state: "stopped" }),
    monitor: async (): Promise<AgentResult> => ({ state: "running" }),
    probe: async (): Promise<AgentResult> => ({ state: "stopped" }),
    validate: () => [],
  };
  const executor = new LocalExecutor({
    resolveAgent: () => agent,
    clock,
    logger: silentLogger(),
    events: { onChange: () => {} },
  });
  const node = new ClusterNode({
    selfName: "node1",
    config: cfg,
    membership,
    executor,
    clock,
    logger: silentLogger(),
    adoptConfig: () => false,
  });
  membership.emit("view", { alive: [1, 2, 3], joined: [2, 3], lost: [], restarted: [] });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const report = async (id: number, vip: ResourceReport) => {
    const peer: NodeReport = {
      v: 1,
      name: `node${id}`,
      configEpoch: cfg.epoch,
      configHash: configHash(cfg),
      probed: true,
      leaving: false,
      resources: { vip },
    };
    membership.emit("payload", { nodeId: id, incarnation: 1n, payload: encodeReport(peer) });
    await settle();
  };
  const nextStartHint = async () => {
    executor.apply([{ op: "start", resource: "vip" }]);
    await settle();
    return handed.at(-1);
  };
  await settle();
  void node;
  return { report, nextStartHint };
}

void test("a release hint counts from the node that handed the resource over, not from one that held it earlier", async () => {
  const { report, nextStartHint } = await harness();
  await report(3, { state: "stopped", failCount: 0, hint: "node3-release-long-ago" });
  await report(2, { state: "running", failCount: 0, hint: "node2-running" });
  await report(3, { state: "stopped", failCount: 0, hint: "node3-release-long-ago" });
  await report(2, { state: "stopped", failCount: 0, hint: "node2-release" });
  await report(3, { state: "stopped", failCount: 0, hint: "node3-release-long-ago" });
  assert.equal(await nextStartHint(), "node2-release");
});

void test("without a hand-over, the last running holder's hint is kept over another node's old release", async () => {
  const { report, nextStartHint } = await harness();
  await report(2, { state: "running", failCount: 0, hint: "node2-running" });
  await report(3, { state: "stopped", failCount: 0, hint: "node3-release-long-ago" });
  assert.equal(await nextStartHint(), "node2-running");
});
