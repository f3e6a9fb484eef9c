import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { callApi, callApiWithPeer } from "../api/client.ts";
import { ManualClock } from "../clock/manual-clock.ts";
import { systemClock } from "../clock/system-clock.ts";
import { clusterConfigSchema, type ClusterConfig } from "../config/schema.ts";
import { createLogger } from "../observability/logger.ts";
import type { DeviceVote } from "../quorum/votequorum.ts";
import {
  encodeWitnessPacket,
  WitnessPacketType,
  witnessKeyOf,
  witnessPacketKey,
} from "../quorum/witness-packet.ts";
import { WitnessClient } from "./witness-client.ts";
import { WitnessDaemon } from "./witness-daemon.ts";

const dir = mkdtempSync(join(tmpdir(), "floatip-witness-"));
const logger = createLogger({ name: "witness-test", level: "silent" });
const clusterKey = randomBytes(32);
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function startWitness(): Promise<WitnessDaemon> {
  const w = new WitnessDaemon({
    stateDir: join(dir, "witness"),
    socketPath: join(dir, `witness-${Math.random()}.sock`),
    address: "127.0.0.1",
    port: 0,
    adminHost: "127.0.0.1",
    adminPort: 0,
    logger,
    clock: systemClock,
    version: "test",
  });
  await w.start();
  cleanups.push(() => w.close());
  return w;
}

function configWith(port: number): ClusterConfig {
  return clusterConfigSchema.parse({
    formatVersion: 1,
    name: "web",
    epoch: 1,
    nodes: [
      { name: "node1", id: 1, addrs: ["127.0.0.1"] },
      { name: "node2", id: 2, addrs: ["127.0.0.1"] },
    ],
    totem: { tokenMs: 400, heartbeatIntervalMs: 40, port: 5405 },
    quorum: { twoNode: true, device: { model: "net", host: "witness", addr: "127.0.0.1", port } },
  });
}

async function client(id: number, config: ClusterConfig, key = clusterKey): Promise<WitnessClient> {
  const c = new WitnessClient(
    {
      clock: systemClock,
      logger,
      clusterKey: key,
      selfId: id,
      bindAddress: "127.0.0.1",
      incarnation: BigInt(Date.now()) * 65536n + BigInt(id),
    },
    config,
  );
  await c.configure(config);
  cleanups.push(() => c.stop());
  return c;
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let witness: WitnessDaemon;

void test("enrolment needs the admin password's token over TLS; the key is stored 0600", async () => {
  witness = await startWitness();
  witness.auth.setPassword("hacluster", "secret");
  const adminPort = (
    witness.api as unknown as { servers: { address(): { port: number } }[] }
  ).servers[1]?.address().port;
  assert.ok(adminPort);
  const enrol = {
    cluster: "web",
    key: witnessKeyOf(clusterKey).toString("base64"),
    nodes: [
      { id: 1, name: "node1" },
      { id: 2, name: "node2" },
    ],
  };
  await assert.rejects(
    callApi({ host: "127.0.0.1", port: adminPort }, "POST", "/remote/witness/enrol", enrol),
    { code: "FLOATIP_E_NOT_AUTHORIZED" },
  );
  const login = await callApiWithPeer<{ token: string }>(
    { host: "127.0.0.1", port: adminPort },
    "POST",
    "/remote/auth",
    {
      username: "hacluster",
      password: "secret",
    },
  );
  assert.ok(login.fingerprint);
  const endpoint = {
    host: "127.0.0.1",
    port: adminPort,
    token: login.body.token,
    fingerprint: login.fingerprint,
  };
  await callApi(endpoint, "POST", "/remote/witness/enrol", enrol);
  // A second cluster on the same witness.
  await callApi(endpoint, "POST", "/remote/witness/enrol", { ...enrol, cluster: "db" });
  assert.equal(statSync(join(dir, "witness", "witness-clusters.json")).mode & 0o777, 0o600);
  assert.deepEqual(
    witness.status().clusters.map((c) => c.cluster),
    ["web", "db"],
  );
});

void test("both nodes get the vote; on a 50:50 split only the lowest node id keeps it", async () => {
  const config = configWith(witness.port);
  const [c1, c2] = [await client(1, config), await client(2, config)];
  const changes: DeviceVote[] = [];
  c2.on("change", (v) => changes.push(v));
  c1.setView([1, 2]);
  c2.setView([1, 2]);
  await until("both granted", () => c1.vote() === "granted" && c2.vote() === "granted");
  c1.setView([1]);
  c2.setView([2]);
  await until("split decided", () => c1.vote() === "granted" && c2.vote() === "denied");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(c1.vote(), "granted");
  assert.equal(c2.vote(), "denied");
  assert.ok(changes.includes("denied"));
  assert.deepEqual(witness.status().clusters[0]?.holder, [1]);
  c1.setView([1, 2]);
  c2.setView([1, 2]);
  await until("merge granted", () => c1.vote() === "granted" && c2.vote() === "granted");
  await c1.stop();
  await c2.stop();
});

void test("a node with the wrong key gets no vote, and the witness counts the forgery", async () => {
  const before = witness.status().rejected["bad-mac"] ?? 0;
  const c = await client(2, configWith(witness.port), randomBytes(32));
  c.setView([2]);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(c.vote(), "denied");
  assert.ok((witness.status().rejected["bad-mac"] ?? 0) > before);
  await c.stop();
});

void test("forged, replayed, truncated, oversized and unknown-cluster packets are counted and ignored", async () => {
  const key = witnessPacketKey(witnessKeyOf(clusterKey), "web");
  const socket = createSocket("udp4");
  cleanups.push(() => new Promise((r) => socket.close(() => r())));
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  const answers: Buffer[] = [];
  socket.on("message", (m) => answers.push(m));
  const send = (b: Uint8Array) =>
    new Promise<void>((r) => socket.send(b, witness.port, "127.0.0.1", () => r()));
  const report = (seq: bigint, sender = 1) =>
    encodeWitnessPacket(key, {
      sender,
      incarnation: 1n << 62n,
      seq,
      body: {
        type: WitnessPacketType.report,
        witnessIncarnation: 0n,
        viewId: 1n,
        leaseMs: 800,
        members: [sender],
      },
    });
  const r0 = { ...witness.status().rejected };
  await send(report(1n));
  await send(report(1n)); // replay
  await send(report(2n).subarray(0, 40)); // truncated
  const big = Buffer.from(report(3n));
  big.writeUInt16BE(40_000, 28);
  await send(big); // oversized
  await send(report(4n, 9)); // not a node of the cluster
  await send(
    encodeWitnessPacket(witnessPacketKey(witnessKeyOf(clusterKey), "other"), {
      sender: 1,
      incarnation: 1n,
      seq: 1n,
      body: {
        type: WitnessPacketType.report,
        witnessIncarnation: 0n,
        viewId: 1n,
        leaseMs: 800,
        members: [1],
      },
    }),
  );
  await send(randomBytes(5));
  await until("answer", () => answers.length >= 1);
  await new Promise((r) => setTimeout(r, 100));
  const r1 = witness.status().rejected;
  const delta = (k: string) => (r1[k] ?? 0) - (r0[k] ?? 0);
  assert.deepEqual(
    {
      replay: delta("replay"),
      truncated: delta("truncated"),
      oversized: delta("oversized"),
      "unknown-node": delta("unknown-node"),
      "unknown-cluster": delta("unknown-cluster"),
    },
    { replay: 1, truncated: 2, oversized: 1, "unknown-node": 1, "unknown-cluster": 1 },
  );
  // Only the genuine first report got an answer (resync: it did not know the witness incarnation yet).
  assert.equal(answers.length, 1);
});

void test("after a restart the witness still knows its clusters and grants again after one lease", async () => {
  const port = witness.port;
  await witness.close();
  const restarted = new WitnessDaemon({
    stateDir: join(dir, "witness"),
    socketPath: join(dir, "witness-restarted.sock"),
    address: "127.0.0.1",
    port,
    adminHost: "127.0.0.1",
    adminPort: 0,
    logger,
    clock: systemClock,
    version: "test",
  });
  await restarted.start();
  cleanups.push(() => restarted.close());
  assert.deepEqual(
    restarted.status().clusters.map((c) => c.cluster),
    ["web", "db"],
  );
  assert.equal(restarted.status().clusters[0]?.restartHold, true);
  const c1 = await client(1, configWith(port));
  c1.setView([1]);
  await new Promise((r) => setTimeout(r, 300));
  assert.notEqual(c1.vote(), "granted", "no grant during the restart hold");
  await until("granted after the hold", () => c1.vote() === "granted", 5000);
  await c1.stop();
});

void test("a node reports to the witness ten times per token, whatever its heartbeat interval", async () => {
  const clock = new ManualClock(1_000_000);
  const config = clusterConfigSchema.parse({
    ...configWith(witness.port),
    totem: { tokenMs: 1000, heartbeatIntervalMs: 200, heartbeatCopies: 2, port: 5405 },
  });
  const c = new WitnessClient(
    {
      clock,
      logger,
      clusterKey,
      selfId: 1,
      bindAddress: "127.0.0.1",
      incarnation: 1n << 40n,
    },
    config,
  );
  await c.configure(config);
  cleanups.push(() => c.stop());
  clock.advance(1000);
  assert.equal(c.status()?.sent, 1 + 10, "one at start and one every 100 ms");
  await c.stop();
});
