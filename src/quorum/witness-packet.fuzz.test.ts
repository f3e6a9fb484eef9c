import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import {
  MAX_WITNESS_BODY_BYTES,
  WITNESS_HEADER_BYTES,
  WITNESS_MAC_BYTES,
  WitnessPacketType,
  decodeWitnessPacket,
  encodeWitnessPacket,
  witnessKeyOf,
  witnessPacketKey,
  type WitnessAnswer,
  type WitnessRejectReason,
  type WitnessReport,
} from "./witness-packet.ts";
import { WitnessVoteTracker } from "./witness-vote.ts";

/*
 * Security fuzzing of the witness vote packets (the third quorum vote travels over UDP like heartbeats):
 * forged, bit-flipped, truncated at every length, oversized, random and correctly signed but malformed
 * datagrams, and replayed answers on the node's side. FLOATIP_FUZZ_SEED replays a run.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

const clusterKey = Buffer.alloc(32, 0x17);
const key = witnessPacketKey(witnessKeyOf(clusterKey), "web");
const UDP_MAX_DATAGRAM = 65_507;
const reasons: readonly WitnessRejectReason[] = [
  "truncated",
  "trailing-bytes",
  "bad-magic",
  "bad-version",
  "wrong-cluster",
  "oversized",
  "bad-mac",
  "unknown-type",
  "bad-body",
];

const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const ids = (min: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: 0xffff }), { minLength: min, maxLength: 64 });
const report: fc.Arbitrary<{ sender: number; body: WitnessReport }> = fc
  .tuple(ids(1), fc.nat(), uint64, uint64, fc.integer({ min: 100, max: 120_000 }))
  .map(([members, pick, witnessIncarnation, viewId, leaseMs]) => ({
    sender: members[pick % members.length] ?? 1,
    body: { type: WitnessPacketType.report, witnessIncarnation, viewId, leaseMs, members },
  }));
const answer: fc.Arbitrary<{ sender: number; body: WitnessAnswer }> = fc
  .tuple(ids(0), uint64, uint64, uint64, fc.constantFrom(1, 2, 3, 4) as fc.Arbitrary<1 | 2 | 3 | 4>, fc.nat())
  .map(([holder, nodeIncarnation, nodeSeq, viewId, verdict, leaseMs]) => ({
    sender: 0,
    body: { type: WitnessPacketType.answer, nodeIncarnation, nodeSeq, viewId, verdict, leaseMs, holder },
  }));
const packet = fc
  .tuple(fc.oneof(report, answer), uint64, uint64)
  .map(([{ sender, body }, incarnation, seq]) => ({ sender, body, incarnation, seq }));

function assertRejected(
  result: ReturnType<typeof decodeWitnessPacket>,
  expected?: WitnessRejectReason,
): void {
  assert.equal(result.ok, false, "a bad witness datagram was accepted");
  if (result.ok) return;
  assert.ok(reasons.includes(result.reason), `uncounted reason ${result.reason}`);
  if (expected !== undefined) assert.equal(result.reason, expected);
}

/** Re-signs bytes whose header or body was changed, as a holder of the witness key could. */
function resign(bytes: Buffer): Buffer {
  const bodyEnd = bytes.length - WITNESS_MAC_BYTES;
  createHmac("sha256", key.macKey).update(bytes.subarray(0, bodyEnd)).digest().copy(bytes, bodyEnd);
  return bytes;
}

void test("fuzz: valid witness packets round-trip, and any other key makes them bad-mac", () => {
  fc.assert(
    fc.property(packet, fc.uint8Array({ minLength: 32, maxLength: 32 }), (fields, otherKey) => {
      const bytes = encodeWitnessPacket(key, fields);
      const decoded = decodeWitnessPacket(key, bytes);
      assert.ok(decoded.ok);
      assert.equal(decoded.packet.seq, fields.seq);
      fc.pre(!Buffer.from(otherKey).equals(key.macKey));
      assertRejected(decodeWitnessPacket(witnessPacketKey(otherKey, "web"), bytes), "bad-mac");
    }),
    params(300),
  );
});

void test("fuzz: flipped bits anywhere in a witness packet get it rejected", () => {
  fc.assert(
    fc.property(
      packet,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
      (fields, flips) => {
        const valid = encodeWitnessPacket(key, fields);
        const bytes = Uint8Array.from(valid);
        for (const [at, mask] of flips) bytes[at % bytes.length] = (bytes[at % bytes.length] ?? 0) ^ mask;
        fc.pre(!Buffer.from(bytes).equals(Buffer.from(valid)));
        assertRejected(decodeWitnessPacket(key, bytes));
      },
    ),
    params(1000),
  );
});

void test("fuzz: a witness packet cut at every length is truncated, and one with bytes appended is refused", () => {
  fc.assert(
    fc.property(packet, fc.integer({ min: 1, max: UDP_MAX_DATAGRAM }), (fields, extra) => {
      const valid = encodeWitnessPacket(key, fields);
      for (let cut = 0; cut < valid.length; cut++)
        assertRejected(decodeWitnessPacket(key, valid.subarray(0, cut)), "truncated");
      const room = Math.max(1, Math.min(extra, UDP_MAX_DATAGRAM - valid.length));
      assertRejected(decodeWitnessPacket(key, Buffer.concat([valid, Buffer.alloc(room)])), "trailing-bytes");
    }),
    params(60),
  );
});

void test("fuzz: a declared body over the limit is oversized, whatever follows", () => {
  fc.assert(
    fc.property(
      packet,
      fc.integer({ min: MAX_WITNESS_BODY_BYTES + 1, max: 0xffff }),
      fc.uint8Array({ maxLength: 2000 }),
      (fields, declared, tail) => {
        const bytes = Buffer.from(encodeWitnessPacket(key, fields));
        bytes.writeUInt16BE(declared, 28);
        const datagram = Buffer.concat([bytes.subarray(0, WITNESS_HEADER_BYTES), tail, Buffer.alloc(32)]);
        assertRejected(decodeWitnessPacket(key, datagram), "oversized");
      },
    ),
    params(200),
  );
});

void test("fuzz: a correctly signed packet with any body is bad-body or decodes to the one canonical encoding", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.oneof(
        fc.uint8Array({ maxLength: MAX_WITNESS_BODY_BYTES }),
        // Near-valid bodies: a real one with a byte changed, so the deeper checks are reached.
        fc
          .tuple(fc.oneof(report, answer), fc.nat(), fc.integer({ min: 1, max: 255 }))
          .map(([{ sender, body }, at, mask]) => {
            const b = Buffer.from(encodeWitnessPacket(key, { sender, body, incarnation: 1n, seq: 1n }));
            const inner = b.subarray(WITNESS_HEADER_BYTES, b.length - WITNESS_MAC_BYTES);
            inner[at % inner.length] = (inner[at % inner.length] ?? 0) ^ mask;
            return Uint8Array.from(inner);
          }),
      ),
      (type, sender, body) => {
        const header = Buffer.from(
          encodeWitnessPacket(key, {
            sender: 1,
            incarnation: 5n,
            seq: 9n,
            body: {
              type: 2,
              nodeIncarnation: 0n,
              nodeSeq: 0n,
              viewId: 0n,
              verdict: 1,
              leaseMs: 0,
              holder: [],
            },
          }),
        ).subarray(0, WITNESS_HEADER_BYTES);
        const bytes = Buffer.concat([header, body, Buffer.alloc(WITNESS_MAC_BYTES)]);
        bytes.writeUInt8(type, 5);
        bytes.writeUInt16BE(sender, 10);
        bytes.writeUInt16BE(body.length, 28);
        resign(bytes);
        const result = decodeWitnessPacket(key, bytes);
        if (!result.ok) {
          assert.ok(["unknown-type", "bad-body"].includes(result.reason), result.reason);
          return;
        }
        // One view, one encoding: nothing the decoder accepts can be re-encoded differently.
        const again = encodeWitnessPacket(key, result.packet);
        assert.deepEqual(Buffer.from(again), bytes);
      },
    ),
    params(1500),
  );
});

void test("fuzz: random datagrams up to the UDP maximum, with or without the magic, never throw", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        fc
          .uint8Array({ minLength: 62, maxLength: 400 })
          .map((b) => Buffer.concat([Buffer.from("FIPW\x01"), b])),
        fc.integer({ min: 0, max: UDP_MAX_DATAGRAM }).map((n) => Buffer.alloc(n, "FIPW")),
      ),
      (bytes) => assertRejected(decodeWitnessPacket(key, bytes)),
    ),
    params(500),
  );
});

void test("fuzz: on the node, a replayed, foreign or unsolicited witness answer never grants the vote", () => {
  const LEASE = 3_000;
  type Op =
    | { kind: "view"; members: number[] }
    | { kind: "report" }
    | { kind: "answer"; seqBack: number; foreign: boolean; verdict: 1 | 2 | 3 | 4; leaseMs: number }
    | { kind: "replay"; which: number }
    | { kind: "wait"; ms: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc
      .uniqueArray(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 })
      .map((members) => ({ kind: "view" as const, members })),
    fc.constant({ kind: "report" as const }),
    fc.record({
      kind: fc.constant("answer" as const),
      seqBack: fc.integer({ min: -2, max: 3 }),
      foreign: fc.boolean(),
      verdict: fc.constantFrom(1, 2, 3, 4) as fc.Arbitrary<1 | 2 | 3 | 4>,
      leaseMs: fc.integer({ min: 0, max: 10_000 }),
    }),
    fc.record({ kind: fc.constant("replay" as const), which: fc.nat() }),
    fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 2_000 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40, size: "max" }), (ops) => {
      let now = 1_000;
      const tracker = new WitnessVoteTracker(77n, LEASE, 5_000, now);
      let lastSeq = 0n;
      const used: WitnessAnswer[] = [];
      for (const o of ops) {
        if (o.kind === "view") tracker.setView(o.members, now);
        else if (o.kind === "report") lastSeq = tracker.nextReport(now).seq;
        else if (o.kind === "wait") now += o.ms;
        else if (o.kind === "answer") {
          const nodeSeq = lastSeq - BigInt(o.seqBack);
          const a: WitnessAnswer = {
            type: 2,
            nodeIncarnation: o.foreign ? 78n : 77n,
            nodeSeq,
            viewId: 0n,
            verdict: o.verdict,
            leaseMs: o.leaseMs,
            holder: [],
          };
          const before = tracker.status(now);
          const verdict = tracker.onAnswer(9n, a, now);
          if (o.foreign) assert.equal(verdict, "not-for-us");
          if (nodeSeq > lastSeq || nodeSeq <= 0n)
            assert.notEqual(verdict, null, "an answer to a report never sent was used");
          if (verdict === null || verdict === "old-view") used.push(a);
          else
            assert.deepEqual(
              { ...tracker.status(now), rejected: {} },
              { ...before, rejected: {} },
              `a rejected answer (${verdict}) changed the vote`,
            );
        } else if (used.length > 0) {
          const a = used[o.which % used.length] as WitnessAnswer;
          const before = tracker.status(now);
          assert.equal(tracker.onAnswer(9n, a, now), "replay");
          const after = tracker.status(now);
          assert.deepEqual(
            { ...after, rejected: {} },
            { ...before, rejected: {} },
            "a replay changed the vote",
          );
        }
        const status = tracker.status(now);
        if (status.grantLeftMs !== null)
          assert.ok(status.grantLeftMs <= LEASE, "a grant outlives the node's own lease");
      }
    }),
    params(400),
  );
});
