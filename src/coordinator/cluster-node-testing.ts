import { EventEmitter } from "node:events";
import type { AgentResult, ResourceAgent } from "../agents/agent.ts";
import { ManualClock } from "../clock/manual-clock.ts";
import type { ClusterConfig } from "../config/schema.ts";
import type { MembershipEvents } from "../membership/membership.ts";
import { MAX_PAYLOAD_BYTES } from "../membership/packet.ts";
import { silentLogger, type Logger } from "../observability/logger.ts";
import { ClusterNode, type MembershipPort } from "./cluster-node.ts";
import { LocalExecutor } from "./local-executor.ts";
import { encodeReport, type NodeReport } from "./node-report.ts";

/*
 * Test support for ClusterNode's unit tests: one node with a scripted membership (peers' payloads are
 * emitted by the test, this node's are recorded) and a real LocalExecutor.
 */

/** An agent whose resources are never running unless started. */
export const idleAgent: ResourceAgent = {
  start: async (): Promise<AgentResult> => ({ state: "running" }),
  stop: async (): Promise<AgentResult> => ({ state: "stopped" }),
  monitor: async (): Promise<AgentResult> => ({ state: "stopped" }),
  probe: async (): Promise<AgentResult> => ({ state: "stopped" }),
  validate: () => [],
};

export class FakeMembership extends EventEmitter<MembershipEvents> implements MembershipPort {
  readonly payloads: Uint8Array[] = [];
  setPayload(bytes: Uint8Array): void {
    if (bytes.length > MAX_PAYLOAD_BYTES) throw new Error("FLOATIP_E_HEARTBEAT_PAYLOAD_TOO_LARGE");
    this.payloads.push(bytes);
  }
  sendNow(): void {}
  updatePeers(): void {}
  stats(): { peers: Record<number, number | null> } {
    return { peers: {} };
  }
}

/** Lets the microtasks and immediates a payload or an executor action starts run to their end. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** `selfName` (default node1) of `config`, every node in the view; `report` emits a peer's payload. */
export function nodeHarness(
  config: ClusterConfig,
  options: { agent?: ResourceAgent; selfName?: string; logger?: Logger } = {},
) {
  const selfName = options.selfName ?? "node1";
  const clock = new ManualClock(1_000);
  const membership = new FakeMembership();
  const executor = new LocalExecutor({
    resolveAgent: () => options.agent ?? idleAgent,
    clock,
    logger: silentLogger(),
    events: { onChange: () => {} },
  });
  const node = new ClusterNode({
    selfName,
    config,
    membership,
    executor,
    clock,
    logger: options.logger ?? silentLogger(),
    adoptConfig: () => false,
  });
  const ids = config.nodes.map((n) => n.id);
  const peers = config.nodes.filter((n) => n.name !== selfName).map((n) => n.id);
  membership.emit("view", { alive: ids, joined: peers, lost: [], restarted: [] });
  const report = async (nodeId: number, peer: NodeReport): Promise<void> => {
    membership.emit("payload", { nodeId, incarnation: 1n, payload: encodeReport(peer) });
    await settle();
  };
  return { clock, membership, executor, node, report };
}
