import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { deflateRawSync } from "node:zlib";
import { clusterConfigSchema, type ClusterConfig } from "../config/schema.ts";
import { MAX_PAYLOAD_BYTES } from "../membership/packet.ts";
import { silentLogger } from "../observability/logger.ts";
import { nodeHarness } from "./cluster-node-testing.ts";
import { decodeReport, type NodeReport } from "./node-report.ts";

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

async function nodeWithLaggingPeer(cfg: ClusterConfig) {
  const errors: string[] = [];
  const logger = silentLogger();
  logger.error = ((_: unknown, message: string) => void errors.push(message)) as typeof logger.error;
  const { membership, report } = nodeHarness(cfg, { logger });
  const peer: NodeReport = {
    v: 1,
    name: "node2",
    configEpoch: cfg.epoch - 1,
    configHash: "old",
    probed: false,
    leaving: false,
    resources: {},
  };
  await report(2, peer);
  const last = membership.payloads.at(-1);
  assert.ok(last, "the node published a report");
  const decoded = decodeReport(last);
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.error);
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
