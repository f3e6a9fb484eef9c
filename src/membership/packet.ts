import { createHash, hkdfSync, timingSafeEqual, type Hash } from "node:crypto";
import { MembershipError } from "./errors.ts";

/*
 * Heartbeat packet, version 1. All integers big-endian.
 *
 *   offset  size  field
 *        0     4  magic "FIP1"
 *        4     1  version (1)
 *        5     1  type (1 = heartbeat; other values reserved)
 *        6     4  cluster id: first 4 bytes of sha256("floatip cluster\0" + cluster name)
 *       10     2  sender node id
 *       12     8  incarnation (grows across restarts of the sender, see membership.ts)
 *       20     8  sequence (grows by one per packet within an incarnation)
 *       28     4  payload length (at most MAX_PAYLOAD_BYTES)
 *       32     n  payload (opaque to membership; the daemon's node state)
 *     32+n    32  HMAC-SHA256 over bytes [0, 32+n)
 *
 * The MAC key is derived from the 32-byte cluster key with HKDF (info "floatip heartbeat v1"), so the
 * same cluster key can later authenticate other things without one MAC being valid in two places.
 * Structural checks run before the MAC so garbage is rejected cheaply; every reason is counted by the caller.
 */

export const PACKET_MAGIC = Uint8Array.of(0x46, 0x49, 0x50, 0x31); // "FIP1"
export const PACKET_VERSION = 1;
export const PACKET_HEADER_BYTES = 32;
export const PACKET_MAC_BYTES = 32;
/** Keeps a whole packet inside one UDP datagram (65,507 bytes) with room to spare. */
export const MAX_PAYLOAD_BYTES = 60_000;
export const CLUSTER_KEY_BYTES = 32;

export const PacketType = { heartbeat: 1 } as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

const MAX_UINT64 = (1n << 64n) - 1n;

/** The cluster key and name, prepared once: the derived MAC key and the 4-byte cluster id. */
export interface PacketKey {
  readonly macKey: Buffer;
  readonly clusterId: number;
  /** SHA-256 states after the HMAC key's inner and outer pads, copied for every packet (see macOf). */
  readonly innerPad: Hash;
  readonly outerPad: Hash;
}

const SHA256_BLOCK_BYTES = 64;

export interface PacketFields {
  type?: PacketType;
  sender: number;
  incarnation: bigint;
  seq: bigint;
  payload: Uint8Array;
}

export interface Packet {
  type: PacketType;
  sender: number;
  incarnation: bigint;
  seq: bigint;
  payload: Uint8Array;
}

export type PacketRejectReason =
  | "truncated"
  | "trailing-bytes"
  | "bad-magic"
  | "bad-version"
  | "wrong-cluster"
  | "oversized"
  | "bad-mac"
  | "unknown-type";

export type DecodeResult = { ok: true; packet: Packet } | { ok: false; reason: PacketRejectReason };

/** Throws FLOATIP_E_CLUSTER_KEY_LENGTH unless the key has exactly 32 bytes. */
export function packetKey(clusterKey: Uint8Array, clusterName: string): PacketKey {
  if (clusterKey.length !== CLUSTER_KEY_BYTES) {
    throw new MembershipError(
      "FLOATIP_E_CLUSTER_KEY_LENGTH",
      `the cluster key has ${clusterKey.length} bytes, heartbeats need exactly ${CLUSTER_KEY_BYTES}; ` +
        "regenerate it with `floatip cluster setup` (or copy /etc/floatip/cluster.key from another node)",
    );
  }
  const macKey = Buffer.from(hkdfSync("sha256", clusterKey, Buffer.alloc(0), "floatip heartbeat v1", 32));
  // RFC 2104 with a key shorter than the block: the key zero-padded, XORed with 0x36 and 0x5c.
  const inner = Buffer.alloc(SHA256_BLOCK_BYTES, 0x36);
  const outer = Buffer.alloc(SHA256_BLOCK_BYTES, 0x5c);
  for (const [i, byte] of macKey.entries()) {
    inner[i] = 0x36 ^ byte;
    outer[i] = 0x5c ^ byte;
  }
  return {
    macKey,
    clusterId: clusterIdOf(clusterName),
    innerPad: createHash("sha256").update(inner),
    outerPad: createHash("sha256").update(outer),
  };
}

export function clusterIdOf(clusterName: string): number {
  return createHash("sha256").update(`floatip cluster\0${clusterName}`).digest().readUInt32BE(0);
}

/** Builds one authenticated packet; throws FLOATIP_E_HEARTBEAT_* only on a programming error in `fields`. */
export function encodePacket(key: PacketKey, fields: PacketFields): Uint8Array {
  const type = fields.type ?? PacketType.heartbeat;
  checkField("sender", Number.isInteger(fields.sender) && fields.sender >= 0 && fields.sender <= 0xffff);
  checkField("incarnation", fields.incarnation >= 0n && fields.incarnation <= MAX_UINT64);
  checkField("seq", fields.seq >= 0n && fields.seq <= MAX_UINT64);
  if (fields.payload.length > MAX_PAYLOAD_BYTES) {
    throw new MembershipError(
      "FLOATIP_E_HEARTBEAT_PAYLOAD_TOO_LARGE",
      `heartbeat payload has ${fields.payload.length} bytes, the limit is ${MAX_PAYLOAD_BYTES}; ` +
        "send less node state per heartbeat",
    );
  }
  const bodyLength = PACKET_HEADER_BYTES + fields.payload.length;
  // Every byte is written below (header, payload, MAC): no zero-filling needed.
  const out = Buffer.allocUnsafe(bodyLength + PACKET_MAC_BYTES);
  out.set(PACKET_MAGIC, 0);
  out.writeUInt8(PACKET_VERSION, 4);
  out.writeUInt8(type, 5);
  out.writeUInt32BE(key.clusterId, 6);
  out.writeUInt16BE(fields.sender, 10);
  out.writeBigUInt64BE(fields.incarnation, 12);
  out.writeBigUInt64BE(fields.seq, 20);
  out.writeUInt32BE(fields.payload.length, 28);
  out.set(fields.payload, PACKET_HEADER_BYTES);
  out.set(macOf(key, out.subarray(0, bodyLength)), bodyLength);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Validates and parses a datagram. Never throws, whatever the bytes. */
export function decodePacket(key: PacketKey, bytes: Uint8Array): DecodeResult {
  if (bytes.length < PACKET_HEADER_BYTES + PACKET_MAC_BYTES) return reject("truncated");
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < PACKET_MAGIC.length; i++) if (buf[i] !== PACKET_MAGIC[i]) return reject("bad-magic");
  if (buf.readUInt8(4) !== PACKET_VERSION) return reject("bad-version");
  if (buf.readUInt32BE(6) !== key.clusterId) return reject("wrong-cluster");
  const payloadLength = buf.readUInt32BE(28);
  if (payloadLength > MAX_PAYLOAD_BYTES) return reject("oversized");
  const bodyLength = PACKET_HEADER_BYTES + payloadLength;
  const expectedLength = bodyLength + PACKET_MAC_BYTES;
  if (bytes.length < expectedLength) return reject("truncated");
  if (bytes.length > expectedLength) return reject("trailing-bytes");
  const mac = macOf(key, buf.subarray(0, bodyLength));
  if (!timingSafeEqual(mac, buf.subarray(bodyLength, expectedLength))) return reject("bad-mac");
  const type = buf.readUInt8(5);
  if (type !== PacketType.heartbeat) return reject("unknown-type");
  return {
    ok: true,
    packet: {
      type,
      sender: buf.readUInt16BE(10),
      incarnation: buf.readBigUInt64BE(12),
      seq: buf.readBigUInt64BE(20),
      // A copy, so the caller may keep the payload after the transport reuses its receive buffer.
      payload: Uint8Array.from(buf.subarray(PACKET_HEADER_BYTES, bodyLength)),
    },
  };
}

/**
 * HMAC-SHA256(macKey, body), from the pads hashed once in packetKey: createHmac sets the key up again for
 * every call (OpenSSL looks the digest up three times), and heartbeats are MACed 20 times a second per
 * peer; copying the two prepared states costs about a quarter less in the idle daemon.
 */
export function macOf(key: PacketKey, body: Uint8Array): Buffer {
  return key.outerPad.copy().update(key.innerPad.copy().update(body).digest()).digest();
}

function reject(reason: PacketRejectReason): DecodeResult {
  return { ok: false, reason };
}

function checkField(name: string, valid: boolean): void {
  if (!valid) {
    throw new MembershipError(
      "FLOATIP_E_HEARTBEAT_FIELD",
      `heartbeat field '${name}' is out of range; this is a bug in floatip, please report it`,
    );
  }
}
