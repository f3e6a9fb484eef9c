import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentContext, AgentResult, ResourceAgent } from "../agents/agent.ts";
import { configHash } from "../config/hash.ts";
import { clusterConfigSchema } from "../config/schema.ts";
import { idleAgent, nodeHarness, settle } from "./cluster-node-testing.ts";
import type { ResourceReport } from "./node-report.ts";

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

/** node1 of three; what its next start of `vip` is handed as the peer's hint. */
async function harness() {
  const handed: (string | undefined)[] = [];
  const agent: ResourceAgent = {
    ...idleAgent,
    start: async (ctx: AgentContext): Promise<AgentResult> => {
      handed.push(ctx.peerHint);
      return { state: "running" };
    },
  };
  const { executor, report: emit } = nodeHarness(cfg, { agent });
  const report = (id: number, vip: ResourceReport) =>
    emit(id, {
      v: 1,
      name: `node${id}`,
      configEpoch: cfg.epoch,
      configHash: configHash(cfg),
      probed: true,
      leaving: false,
      resources: { vip },
    });
  const nextStartHint = async () => {
    executor.apply([{ op: "start", resource: "vip" }]);
    await settle();
    return handed.at(-1);
  };
  await settle();
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
