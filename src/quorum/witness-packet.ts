import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { clusterIdOf, CLUSTER_KEY_BYTES } from "../membership/packet.ts";

/*
 * Witness vote packet, version 1 (UDP, default port 5403). All integers big-endian.
 *
 *   offset  size  field
 *        0     4  magic "FIPW"
 *        4     1  version (1)
 *        5     1  type (1 = report, node -> witness; 2 = answer, witness -> node)
 *        6     4  cluster id: as heartbeats, first 4 bytes of sha256("floatip cluster\0" + cluster name)
 *       10     2  sender node id (0 for the witness)
 *       12     8  sender incarnation (a witness's is random per start; a node's grows across restarts)
 *       20     8  sequence (grows by one per packet within an incarnation)
 *       28     2  body length (at most MAX_WITNESS_BODY_BYTES)
 *       30     n  body (below)
 *     30+n    32  HMAC-SHA256 over bytes [0, 30+n) with the witness key
 *
 * report body: witness incarnation echoed (8; 0 = not known yet), view id (8), lease wanted in ms (4),
 *   member count (1, 1..64), member node ids (2 each, ascending, the sender among them).
 * answer body: node incarnation and sequence echoed (8 + 8), view id echoed (8), verdict (1), lease ms (4),
 *   holder count (1, 0..64), node ids of the partition holding the vote (2 each, ascending).
 *
 * The witness key is derived from the cluster key with HKDF (info "floatip witness v1"), so the witness
 * host never holds the key that authenticates heartbeats. Every check runs before anything is trusted;
 * decodeWitnessPacket never throws.
 */

export const WITNESS_MAGIC = Uint8Array.of(0x46, 0x49, 0x50, 0x57); // "FIPW"
export const WITNESS_VERSION = 1;
export const WITNESS_HEADER_BYTES = 30;
export const WITNESS_MAC_BYTES = 32;
export const MAX_WITNESS_BODY_BYTES = 256;
export const MAX_WITNESS_MEMBERS = 64;
export const WITNESS_KEY_BYTES = 32;

export const WitnessPacketType = { report: 1, answer: 2 } as const;

/** What the witness says about the vote for the view in the report it answers. */
export const Verdict = {
  granted: 1,
  denied: 2,
  /** The witness is deciding (waiting for the other nodes' reports, or its restart hold). */
  wait: 3,
  /** The report echoed another witness incarnation (the witness restarted): report again with this one. */
  resync: 4,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export interface WitnessReport {
  type: typeof WitnessPacketType.report;
  witnessIncarnation: bigint;
  viewId: bigint;
  leaseMs: number;
  members: readonly number[];
}

export interface WitnessAnswer {
  type: typeof WitnessPacketType.answer;
  nodeIncarnation: bigint;
  nodeSeq: bigint;
  viewId: bigint;
  verdict: Verdict;
  leaseMs: number;
  holder: readonly number[];
}

export interface WitnessPacket {
  clusterId: number;
  sender: number;
  incarnation: bigint;
  seq: bigint;
  body: WitnessReport | WitnessAnswer;
}

export type WitnessRejectReason =
  | "truncated"
  | "trailing-bytes"
  | "bad-magic"
  | "bad-version"
  | "wrong-cluster"
  | "oversized"
  | "bad-mac"
  | "unknown-type"
  | "bad-body";

export type WitnessDecodeResult =
  { ok: true; packet: WitnessPacket } | { ok: false; reason: WitnessRejectReason };

export interface WitnessPacketKey {
  readonly macKey: Buffer;
  readonly clusterId: number;
}

/** The key the witness stores for a cluster: derived from the cluster key, never the key itself. */
export function witnessKeyOf(clusterKey: Uint8Array): Buffer {
  if (clusterKey.length !== CLUSTER_KEY_BYTES) {
    throw Object.assign(
      new Error(
        `FLOATIP_E_CLUSTER_KEY_LENGTH: the cluster key has ${clusterKey.length} bytes, it needs ${CLUSTER_KEY_BYTES}; ` +
          "copy /etc/floatip/cluster.key from another node",
      ),
      { code: "FLOATIP_E_CLUSTER_KEY_LENGTH" },
    );
  }
  return Buffer.from(
    hkdfSync("sha256", clusterKey, Buffer.alloc(0), "floatip witness v1", WITNESS_KEY_BYTES),
  );
}

export function witnessPacketKey(witnessKey: Uint8Array, clusterName: string): WitnessPacketKey {
  return { macKey: Buffer.from(witnessKey), clusterId: clusterIdOf(clusterName) };
}

/** The cluster id of a datagram that is at least a header long, so the witness can pick the key; else null. */
export function peekClusterId(bytes: Uint8Array): number | null {
  if (bytes.length < WITNESS_HEADER_BYTES) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32BE(6);
}

export function encodeWitnessPacket(
  key: WitnessPacketKey,
  fields: { sender: number; incarnation: bigint; seq: bigint; body: WitnessReport | WitnessAnswer },
): Uint8Array {
  const body = encodeBody(fields.body);
  const bodyEnd = WITNESS_HEADER_BYTES + body.length;
  const out = Buffer.alloc(bodyEnd + WITNESS_MAC_BYTES);
  out.set(WITNESS_MAGIC, 0);
  out.writeUInt8(WITNESS_VERSION, 4);
  out.writeUInt8(fields.body.type, 5);
  out.writeUInt32BE(key.clusterId, 6);
  out.writeUInt16BE(fields.sender, 10);
  out.writeBigUInt64BE(fields.incarnation, 12);
  out.writeBigUInt64BE(fields.seq, 20);
  out.writeUInt16BE(body.length, 28);
  out.set(body, WITNESS_HEADER_BYTES);
  out.set(macOf(key, out.subarray(0, bodyEnd)), bodyEnd);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Validates and parses a witness datagram. Never throws, whatever the bytes. */
export function decodeWitnessPacket(key: WitnessPacketKey, bytes: Uint8Array): WitnessDecodeResult {
  if (bytes.length < WITNESS_HEADER_BYTES + WITNESS_MAC_BYTES) return reject("truncated");
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < WITNESS_MAGIC.length; i++) if (buf[i] !== WITNESS_MAGIC[i]) return reject("bad-magic");
  if (buf.readUInt8(4) !== WITNESS_VERSION) return reject("bad-version");
  if (buf.readUInt32BE(6) !== key.clusterId) return reject("wrong-cluster");
  const bodyLength = buf.readUInt16BE(28);
  if (bodyLength > MAX_WITNESS_BODY_BYTES) return reject("oversized");
  const bodyEnd = WITNESS_HEADER_BYTES + bodyLength;
  const total = bodyEnd + WITNESS_MAC_BYTES;
  if (bytes.length < total) return reject("truncated");
  if (bytes.length > total) return reject("trailing-bytes");
  if (!timingSafeEqual(macOf(key, buf.subarray(0, bodyEnd)), buf.subarray(bodyEnd, total)))
    return reject("bad-mac");
  const type = buf.readUInt8(5);
  const sender = buf.readUInt16BE(10);
  const body = buf.subarray(WITNESS_HEADER_BYTES, bodyEnd);
  let parsed: WitnessReport | WitnessAnswer | null;
  if (type === WitnessPacketType.report) parsed = decodeReport(body, sender);
  else if (type === WitnessPacketType.answer) parsed = decodeAnswer(body);
  else return reject("unknown-type");
  if (parsed === null) return reject("bad-body");
  return {
    ok: true,
    packet: {
      clusterId: key.clusterId,
      sender,
      incarnation: buf.readBigUInt64BE(12),
      seq: buf.readBigUInt64BE(20),
      body: parsed,
    },
  };
}

function encodeBody(body: WitnessReport | WitnessAnswer): Buffer {
  const ids = body.type === WitnessPacketType.report ? body.members : body.holder;
  if (
    ids.length > MAX_WITNESS_MEMBERS ||
    !ids.every((id) => Number.isInteger(id) && id >= 0 && id <= 0xffff)
  ) {
    throw Object.assign(
      new Error("FLOATIP_E_WITNESS_FIELD: witness packet node ids out of range; this is a bug"),
      {
        code: "FLOATIP_E_WITNESS_FIELD",
      },
    );
  }
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  if (body.type === WitnessPacketType.report) {
    const out = Buffer.alloc(21 + 2 * sorted.length);
    out.writeBigUInt64BE(body.witnessIncarnation, 0);
    out.writeBigUInt64BE(body.viewId, 8);
    out.writeUInt32BE(body.leaseMs, 16);
    out.writeUInt8(sorted.length, 20);
    sorted.forEach((id, i) => out.writeUInt16BE(id, 21 + 2 * i));
    return out;
  }
  const out = Buffer.alloc(30 + 2 * sorted.length);
  out.writeBigUInt64BE(body.nodeIncarnation, 0);
  out.writeBigUInt64BE(body.nodeSeq, 8);
  out.writeBigUInt64BE(body.viewId, 16);
  out.writeUInt8(body.verdict, 24);
  out.writeUInt32BE(body.leaseMs, 25);
  out.writeUInt8(sorted.length, 29);
  sorted.forEach((id, i) => out.writeUInt16BE(id, 30 + 2 * i));
  return out;
}

function readIds(body: Buffer, countAt: number, min: number): number[] | null {
  const count = body.readUInt8(countAt);
  if (count < min || count > MAX_WITNESS_MEMBERS || body.length !== countAt + 1 + 2 * count) return null;
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = body.readUInt16BE(countAt + 1 + 2 * i);
    // Ascending and unique, so one view has exactly one encoding.
    if (ids.length > 0 && id <= (ids[ids.length - 1] ?? -1)) return null;
    ids.push(id);
  }
  return ids;
}

function decodeReport(body: Buffer, sender: number): WitnessReport | null {
  if (body.length < 21) return null;
  const members = readIds(body, 20, 1);
  if (members === null || !members.includes(sender) || sender === 0) return null;
  const leaseMs = body.readUInt32BE(16);
  if (leaseMs < 100 || leaseMs > 120_000) return null;
  return {
    type: WitnessPacketType.report,
    witnessIncarnation: body.readBigUInt64BE(0),
    viewId: body.readBigUInt64BE(8),
    leaseMs,
    members,
  };
}

function decodeAnswer(body: Buffer): WitnessAnswer | null {
  if (body.length < 30) return null;
  const holder = readIds(body, 29, 0);
  const verdict = body.readUInt8(24);
  if (holder === null || verdict < 1 || verdict > 4) return null;
  return {
    type: WitnessPacketType.answer,
    nodeIncarnation: body.readBigUInt64BE(0),
    nodeSeq: body.readBigUInt64BE(8),
    viewId: body.readBigUInt64BE(16),
    verdict: verdict as Verdict,
    leaseMs: body.readUInt32BE(25),
    holder,
  };
}

function macOf(key: WitnessPacketKey, body: Uint8Array): Buffer {
  return createHmac("sha256", key.macKey).update(body).digest();
}

function reject(reason: WitnessRejectReason): WitnessDecodeResult {
  return { ok: false, reason };
}
