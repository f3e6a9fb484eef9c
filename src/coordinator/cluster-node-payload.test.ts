import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { deflateRawSync } from "node:zlib";
import type { AgentResult, ResourceAgent } from "../agents/agent.ts";
import { ManualClock } from "../clock/manual-clock.ts";
import { clusterConfigSchema, type ClusterConfig } from "../config/schema.ts";
import type { MembershipEvents } from "../membership/membership.ts";
import { MAX_PAYLOAD_BYTES } from "../membership/packet.ts";
import { silentLogger } from "../observability/logger.ts";
import { ClusterNode, type MembershipPort } from "./cluster-node.ts";
import { LocalExecutor } from "./local-executor.ts";
import { decodeReport, encodeReport, type NodeReport } from "./node-report.ts";

const idle: ResourceAgent = {
  start: async (): Promise<AgentResult> => ({ state: "running" }),
  stop: async (): Promise<AgentResult> => ({ state: "stopped" }),
  monitor: async (): Promise<AgentResult> => ({ state: "stopped" }),
  probe: async (): Promise<AgentResult> => ({ state: "stopped" }),
  validate: () => [],
};

function config(resources: number, paramBytes: number): ClusterConfig {
  return clusterConfigSchema.parse({
    formatVersion: 1,
    name: "big",
    epoch: 7,
    nodes: [
      { name: "node1", id: 1, addrs: ["10.0.0.11"] },
      { name: "node2", id: 2, addrs: ["10.0.0.12"] },
    ],
    resources: Array.from({ length: resources }, (_, i) => ({
      id: `vip_${i}`,
      type: "ocf:heartbeat:IPaddr2",
      params: { ip: `10.1.${Math.floor(i / 250)}.${i % 250}`, note: randomBytes(paramBytes).toString("hex") },
      ops: [{ name: "monitor", intervalMs: 10_000, timeoutMs: 20_000 }],
    })),
  });
}

class FakeMembership extends EventEmitter<MembershipEvents> implements MembershipPort {
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

async function nodeWithLaggingPeer(cfg: ClusterConfig) {
  const clock = new ManualClock(1_000);
  const membership = new FakeMembership();
  const errors: string[] = [];
  const logger = silentLogger();
  logger.error = ((_: unknown, message: string) => void errors.push(message)) as typeof logger.error;
  const executor = new LocalExecutor({
    resolveAgent: () => idle,
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
    logger,
    adoptConfig: () => false,
  });
  membership.emit("view", { alive: [1, 2], joined: [2], lost: [], restarted: [] });
  const peer: NodeReport = {
    v: 1,
    name: "node2",
    configEpoch: cfg.epoch - 1,
    configHash: "old",
    probed: false,
    leaving: false,
    resources: {},
  };
  membership.emit("payload", { nodeId: 2, incarnation: 1n, payload: encodeReport(peer) });
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  const last = membership.payloads.at(-1);
  assert.ok(last, "the node published a report");
  const decoded = decodeReport(last);
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.error);
  void node;
  return { report: decoded.report, bytes: last, errors };
}

void test("a report with hundreds of resources and the whole config for a lagging peer is deflated into one heartbeat", async () => {
  const cfg = config(400, 8);
  assert.ok(
    Buffer.byteLength(JSON.stringify(cfg)) > MAX_PAYLOAD_BYTES,
    "the config alone exceeds a heartbeat",
  );
  const { report, bytes, errors } = await nodeWithLaggingPeer(cfg);
  assert.equal(report.config?.epoch, 7, "the lagging peer still gets the config");
  assert.equal(Object.keys(report.resources).length, 400);
  assert.ok(bytes.length <= MAX_PAYLOAD_BYTES);
  assert.deepEqual(errors, []);
});

void test("a config that does not fit even deflated is left out (logged), and the node keeps gossiping its states", async () => {
  const cfg = config(300, 250); // random parameters compress to about half
  const { report, errors } = await nodeWithLaggingPeer(cfg);
  assert.equal(report.config, undefined);
  assert.equal(Object.keys(report.resources).length, 300);
  assert.match(errors.join("\n"), /too large for a heartbeat/);
});

void test("a deflated report that expands beyond the limit or is damaged is refused with a reason", () => {
  const bomb = Buffer.concat([Buffer.of(0), deflateRawSync(Buffer.alloc(9 * 1024 * 1024, 0x20))]);
  const result = decodeReport(bomb);
  assert.equal(result.ok, false);
  const damaged = decodeReport(Buffer.of(0, 1, 2, 3));
  assert.equal(damaged.ok, false);
});
