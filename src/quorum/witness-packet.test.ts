import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { test } from "node:test";
import {
  decodeWitnessPacket,
  encodeWitnessPacket,
  peekClusterId,
  Verdict,
  WitnessPacketType,
  witnessKeyOf,
  witnessPacketKey,
  WITNESS_HEADER_BYTES,
} from "./witness-packet.ts";

const clusterKey = randomBytes(32);
const key = witnessPacketKey(witnessKeyOf(clusterKey), "web");
const report = {
  sender: 2,
  incarnation: 123n,
  seq: 7n,
  body: {
    type: WitnessPacketType.report,
    witnessIncarnation: 99n,
    viewId: 4n,
    leaseMs: 2000,
    members: [2, 1],
  },
} as const;

void test("reports and answers round-trip; member ids come out sorted", () => {
  const bytes = encodeWitnessPacket(key, report);
  const r = decodeWitnessPacket(key, bytes);
  assert.ok(r.ok);
  assert.deepEqual(r.packet.body, { ...report.body, members: [1, 2] });
  assert.equal(peekClusterId(bytes), key.clusterId);
  const answer = {
    type: WitnessPacketType.answer,
    nodeIncarnation: 123n,
    nodeSeq: 7n,
    viewId: 4n,
    verdict: Verdict.granted,
    leaseMs: 2000,
    holder: [1, 2],
  } as const;
  const a = decodeWitnessPacket(
    key,
    encodeWitnessPacket(key, { sender: 0, incarnation: 5n, seq: 1n, body: answer }),
  );
  assert.ok(a.ok);
  assert.deepEqual(a.packet.body, answer);
});

void test("the witness key is derived from, never equal to, the cluster key", () => {
  assert.notDeepEqual(witnessKeyOf(clusterKey), clusterKey);
  assert.equal(witnessKeyOf(clusterKey).length, 32);
  assert.throws(() => witnessKeyOf(randomBytes(16)), /FLOATIP_E_CLUSTER_KEY_LENGTH/);
});

void test("forged, truncated, oversized, foreign and malformed packets are rejected with a reason", () => {
  const good = Buffer.from(encodeWitnessPacket(key, report));
  const reason = (bytes: Uint8Array, k = key) => {
    const r = decodeWitnessPacket(k, bytes);
    return r.ok ? "ok" : r.reason;
  };
  assert.equal(reason(good.subarray(0, 40)), "truncated");
  assert.equal(reason(good.subarray(0, good.length - 1)), "truncated");
  assert.equal(reason(Buffer.concat([good, Buffer.of(0)])), "trailing-bytes");
  const flip = (at: number) => {
    const b = Buffer.from(good);
    b[at] = (b[at] ?? 0) ^ 1;
    return b;
  };
  assert.equal(reason(flip(0)), "bad-magic");
  assert.equal(reason(flip(4)), "bad-version");
  assert.equal(reason(flip(7)), "wrong-cluster");
  assert.equal(reason(flip(WITNESS_HEADER_BYTES + 3)), "bad-mac");
  assert.equal(reason(good, witnessPacketKey(randomBytes(32), "web")), "bad-mac");
  const big = Buffer.from(good);
  big.writeUInt16BE(60_000, 28);
  assert.equal(reason(big), "oversized");
  // Correct MAC but nonsense inside: unknown type, a sender outside its own view, unsorted ids.
  const forge = (mutate: (b: Buffer) => void) => {
    const bytes = Buffer.from(encodeWitnessPacket(key, report));
    mutate(bytes);
    const bodyEnd = bytes.length - 32;
    createHmac("sha256", key.macKey).update(bytes.subarray(0, bodyEnd)).digest().copy(bytes, bodyEnd);
    return bytes;
  };
  assert.equal(reason(forge((b) => b.writeUInt8(9, 5))), "unknown-type");
  assert.equal(reason(forge((b) => b.writeUInt16BE(3, 10))), "bad-body");
  assert.equal(reason(forge((b) => b.writeUInt16BE(5, WITNESS_HEADER_BYTES + 21))), "bad-body");
  assert.equal(reason(forge((b) => b.writeUInt32BE(5, WITNESS_HEADER_BYTES + 16))), "bad-body");
});

void test("random bytes never throw", () => {
  for (let i = 0; i < 2000; i++) {
    const bytes = randomBytes(Math.floor(Math.random() * 200));
    if (i % 2 === 0 && bytes.length >= 4) Buffer.from("FIPW").copy(bytes);
    const r = decodeWitnessPacket(key, bytes);
    assert.equal(r.ok, false);
  }
});
