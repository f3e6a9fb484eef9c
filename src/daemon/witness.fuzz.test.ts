import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { systemClock } from "../clock/system-clock.ts";
import { clusterConfigSchema } from "../config/schema.ts";
import { createLogger } from "../observability/logger.ts";
import {
  decodeWitnessPacket,
  encodeWitnessPacket,
  WitnessPacketType,
  witnessKeyOf,
  witnessPacketKey,
  type WitnessReport,
} from "../quorum/witness-packet.ts";
import { WitnessClient } from "./witness-client.ts";
import { WitnessDaemon } from "./witness-daemon.ts";

/*
 * A live witness (the third quorum vote) under attack over real UDP on 127.0.0.1: random, forged,
 * bit-flipped, truncated, oversized, replayed (same and older sequence, older incarnation), answers
 * posing as reports, reports from unknown nodes and clusters. Each must be counted once as a rejection,
 * get no answer, and leave the vote state alone. FLOATIP_FUZZ_SEED replays a run.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

const dir = mkdtempSync(join(tmpdir(), "floatip-witness-fuzz-"));
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const clusterKey = randomBytes(32);
const key = witnessPacketKey(witnessKeyOf(clusterKey), "web");
const UDP_MAX_DATAGRAM = 65_507;

function report(witnessIncarnation: bigint): WitnessReport {
  return { type: WitnessPacketType.report, witnessIncarnation, viewId: 1n, leaseMs: 3000, members: [1, 2] };
}

async function udpSocket(): Promise<{ socket: Socket; answers: Uint8Array[] }> {
  const socket = createSocket("udp4");
  const answers: Uint8Array[] = [];
  socket.on("message", (m) => answers.push(Uint8Array.from(m)));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { socket, answers };
}

const send = (socket: Socket, bytes: Uint8Array, port: number) =>
  new Promise<void>((resolve, reject) =>
    socket.send(bytes, port, "127.0.0.1", (err) => (err ? reject(err) : resolve())),
  );

const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

void test("fuzz: a live witness counts every hostile datagram, answers none of them and keeps its vote state", async () => {
  const witness = new WitnessDaemon({
    stateDir: join(dir, "witness"),
    socketPath: join(dir, "witness.sock"),
    address: "127.0.0.1",
    port: 0,
    adminHost: "127.0.0.1",
    adminPort: 0,
    logger: createLogger({ name: "witness-fuzz", level: "silent" }),
    clock: systemClock,
    version: "test",
  });
  await witness.start();
  cleanups.push(() => witness.close());
  witness.enrol("web", witnessKeyOf(clusterKey), [
    { id: 1, name: "node1" },
    { id: 2, name: "node2" },
  ]);

  // Node 1's genuine reports: a first life (incarnation 10) and the current one (11), seq 1..4 each.
  const node = await udpSocket();
  const genuine: Uint8Array[] = [];
  for (const incarnation of [10n, 11n]) {
    for (let seq = 1n; seq <= 4n; seq++) {
      const bytes = encodeWitnessPacket(key, {
        sender: 1,
        incarnation,
        seq,
        body: report(witness.incarnation),
      });
      genuine.push(bytes);
      await send(node.socket, bytes, witness.port);
      await until(() => node.answers.length === genuine.length);
    }
  }
  assert.equal(node.answers.length, genuine.length, "the witness answered every genuine report");
  const answered = () => witness.status().clusters[0]?.answered;
  const before = { status: witness.status(), answered: answered() };
  const lastReport = witness.status().clusters[0]?.nodes.find((n) => n.id === 1);
  assert.equal(total(before.status.rejected), 0);

  const signed = (sender: number, type: 1 | 2) =>
    encodeWitnessPacket(key, {
      sender,
      incarnation: 99n,
      seq: 1n,
      body:
        type === 1
          ? { ...report(witness.incarnation), members: [sender] }
          : {
              type: 2,
              nodeIncarnation: 11n,
              nodeSeq: 4n,
              viewId: 1n,
              verdict: 1,
              leaseMs: 3000,
              holder: [1],
            },
    });
  const datagram = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.constant(new Uint8Array(UDP_MAX_DATAGRAM).fill(0x57)),
    // Replays: every genuine report again, old life and current (same and older sequence numbers).
    fc.constantFrom(...genuine),
    fc.tuple(fc.constantFrom(...genuine), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([g, at, mask]) => {
      const bytes = Uint8Array.from(g);
      bytes[at % bytes.length] = (bytes[at % bytes.length] ?? 0) ^ mask;
      return bytes;
    }),
    fc.tuple(fc.constantFrom(...genuine), fc.nat()).map(([g, cut]) => g.subarray(0, cut % g.length)),
    fc
      .tuple(fc.constantFrom(...genuine), fc.integer({ min: 1, max: UDP_MAX_DATAGRAM - 200 }))
      .map(([g, extra]) => Buffer.concat([g, Buffer.alloc(extra)])),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((k) =>
      encodeWitnessPacket(witnessPacketKey(k, "web"), {
        sender: 2,
        incarnation: 1n << 40n,
        seq: 1n,
        body: { ...report(witness.incarnation), members: [2] },
      }),
    ),
    // Signed, but an answer posing as a report, an unknown node, and another cluster's report.
    fc.constant(signed(1, 2)),
    fc.integer({ min: 3, max: 0xffff }).map((sender) => signed(sender, 1)),
    fc.constant(
      encodeWitnessPacket(witnessPacketKey(witnessKeyOf(clusterKey), "other"), {
        sender: 1,
        incarnation: 1n << 40n,
        seq: 1n,
        body: report(witness.incarnation),
      }),
    ),
  );
  const shown = datagram.map((bytes) =>
    Object.assign(bytes, {
      [fc.toStringMethod]: () => `${bytes.length} bytes [${Array.from(bytes.subarray(0, 40)).join(",")}...]`,
    }),
  );

  const attacker = await udpSocket();
  await fc.assert(
    fc.asyncProperty(fc.array(shown, { minLength: 1, maxLength: 20, size: "max" }), async (datagrams) => {
      let want = total(witness.status().rejected);
      for (const bytes of datagrams) {
        await send(attacker.socket, bytes, witness.port);
        want += 1;
        // One at a time, so 64 KiB datagrams cannot overflow the socket buffer (a UDP drop, not a bug).
        await until(() => total(witness.status().rejected) >= want);
      }
      const status = witness.status();
      assert.equal(total(status.rejected), want, JSON.stringify(status.rejected));
      assert.deepEqual(answered(), before.answered, "no hostile report was answered or voted on");
      assert.equal(attacker.answers.length, 0, "the attacker got no answer");
      const seen = status.clusters[0]?.nodes.find((n) => n.id === 1);
      assert.deepEqual(seen?.view, lastReport?.view);
      assert.equal(seen?.address, lastReport?.address);
      assert.deepEqual(status.clusters[0]?.holder, before.status.clusters[0]?.holder);
    }),
    params(8),
  );
  // The genuine node is not locked out: its next report in the current life is answered.
  const next = encodeWitnessPacket(key, {
    sender: 1,
    incarnation: 11n,
    seq: 5n,
    body: report(witness.incarnation),
  });
  const answersBefore = node.answers.length;
  await send(node.socket, next, witness.port);
  await until(() => node.answers.length > answersBefore);
  assert.equal(node.answers.length, answersBefore + 1);
});

void test("fuzz: the node's witness client counts hostile answers and never takes its vote from them", async () => {
  // A stand-in witness socket: it receives the client's real reports, so the test learns their
  // sequence numbers and the client's port, and can answer (or attack) like the witness would.
  const fakeWitness = await udpSocket();
  const reports: { bytes: Uint8Array; port: number }[] = [];
  fakeWitness.socket.on("message", (m, rinfo) =>
    reports.push({ bytes: Uint8Array.from(m), port: rinfo.port }),
  );
  const config = clusterConfigSchema.parse({
    formatVersion: 1,
    name: "web",
    epoch: 1,
    nodes: [
      { name: "node1", id: 1, addrs: ["127.0.0.1"] },
      { name: "node2", id: 2, addrs: ["127.0.0.1"] },
    ],
    totem: { tokenMs: 4000, heartbeatIntervalMs: 1000, port: 5405 },
    quorum: {
      twoNode: true,
      device: { model: "net", host: "witness", addr: "127.0.0.1", port: fakeWitness.socket.address().port },
    },
  });
  const incarnation = 77n;
  const client = new WitnessClient(
    {
      clock: systemClock,
      logger: createLogger({ name: "witness-client-fuzz", level: "silent" }),
      clusterKey,
      selfId: 1,
      bindAddress: "127.0.0.1",
      incarnation,
    },
    config,
  );
  await client.configure(config);
  cleanups.push(() => client.stop());
  await until(() => reports.length > 0);
  const first = reports[0];
  assert.ok(first, "the client reported to the witness");
  const decoded = decodeWitnessPacket(key, first.bytes);
  assert.ok(decoded.ok && decoded.packet.body.type === WitnessPacketType.report);
  const answer = (verdict: 1 | 2, nodeSeq: bigint, nodeIncarnation = incarnation, witnessSeq = 1n) =>
    encodeWitnessPacket(key, {
      sender: 0,
      incarnation: 5n,
      seq: witnessSeq,
      body: {
        type: WitnessPacketType.answer,
        nodeIncarnation,
        nodeSeq,
        viewId: (decoded.packet.body as WitnessReport).viewId,
        verdict,
        leaseMs: 8000,
        holder: [1],
      },
    });
  // A genuine denial is used once; afterwards it, and anything else hostile, must not change the vote.
  const genuine = answer(2, decoded.packet.seq);
  const attacker = await udpSocket();
  await send(attacker.socket, genuine, first.port);
  await until(() => client.status()?.lastVerdict === "denied");
  assert.equal(client.vote(), "denied");
  const rejected = () => total(client.status()?.rejectedPackets ?? {});

  const hostile = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.constant(genuine),
    // Grants that would flip the vote: for a report never sent, for another life of the node, unsigned.
    fc.bigInt({ min: 1000n, max: 1n << 40n }).map((seq) => answer(1, seq)),
    fc.constant(answer(1, decoded.packet.seq, incarnation + 1n, 2n)),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((k) =>
      encodeWitnessPacket(witnessPacketKey(k, "web"), {
        sender: 0,
        incarnation: 5n,
        seq: 9n,
        body: {
          type: WitnessPacketType.answer,
          nodeIncarnation: incarnation,
          nodeSeq: decoded.packet.seq,
          viewId: 1n,
          verdict: 1,
          leaseMs: 8000,
          holder: [1],
        },
      }),
    ),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, mask]) => {
      const bytes = Uint8Array.from(answer(1, decoded.packet.seq));
      bytes[at % bytes.length] = (bytes[at % bytes.length] ?? 0) ^ mask;
      return bytes;
    }),
    fc.nat().map((cut) => genuine.subarray(0, cut % genuine.length)),
    // The client's own report sent back to it: signed, but not an answer.
    fc.constant(first.bytes),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 15, size: "max" }), async (datagrams) => {
      let want = rejected();
      for (const bytes of datagrams) {
        await send(attacker.socket, bytes, first.port);
        want += 1;
        await until(() => rejected() >= want);
      }
      assert.equal(rejected(), want, JSON.stringify(client.status()?.rejectedPackets));
      assert.equal(client.vote(), "denied", "a hostile answer changed the vote");
      assert.equal(client.status()?.lastVerdict, "denied");
    }),
    params(8),
  );
});

void test("fuzz: the witness's own admin routes answer random bodies with JSON, never a 500", async () => {
  const socketPath = join(dir, "witness-api.sock");
  const witness = new WitnessDaemon({
    stateDir: join(dir, "witness-api"),
    socketPath,
    address: "127.0.0.1",
    port: 0,
    adminHost: "127.0.0.1",
    adminPort: 0,
    logger: createLogger({ name: "witness-api-fuzz", level: "silent" }),
    clock: systemClock,
    version: "test",
  });
  await witness.start();
  cleanups.push(() => witness.close());
  // Read from the server itself, so routes added to the witness later are fuzzed too.
  const routes = [
    ...(witness.api as unknown as { routes: Map<string, { method: string; path: string }> }).routes.values(),
  ];
  assert.ok(
    routes.some((r) => r.path === "/remote/witness/enrol"),
    routes.map((r) => r.path).join(" "),
  );
  const call = (method: string, path: string, body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          socketPath,
          method,
          path,
          timeout: 15_000,
          headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const body = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc
      .record({
        cluster: fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
        key: fc.oneof(fc.string({ maxLength: 60 }), fc.constant(witnessKeyOf(clusterKey).toString("base64"))),
        nodes: fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.array(
            fc.record({ id: fc.integer({ min: -1, max: 70_000 }), name: fc.string({ maxLength: 8 }) }),
            {
              maxLength: 3,
            },
          ),
        ),
      })
      .map((v) => JSON.stringify(v)),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...routes), body, async (route, text) => {
      const answer = await call(route.method, route.path, text);
      assert.ok(answer.status !== 500, `${route.path}: ${answer.text}`);
      const json = JSON.parse(answer.text) as { error?: { code?: string; message?: string } };
      if (answer.status !== 200) {
        assert.ok(answer.status >= 400 && answer.status < 500, `${route.path}: HTTP ${answer.status}`);
        assert.match(json.error?.code ?? "", /^FLOATIP_E_/);
        assert.ok((json.error?.message ?? "").length > 0);
      }
    }),
    params(60),
  );
});
