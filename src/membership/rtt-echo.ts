/**
 * Round-trip times ride on heartbeats: each heartbeat carries its send time and, for every peer, the send
 * time of that peer's latest heartbeat with how long it was held here. A peer that finds its own send
 * time echoed computes now - sentAt - held: the network round trip, on its own clock only.
 *
 * Layout (big-endian), in front of the user payload, inside the authenticated packet:
 *   f64 sentAtMs | u8 count | count x (u16 nodeId | f64 echoedSentAtMs | f64 heldMs) | payload
 */
export interface RttEcho {
  nodeId: number;
  echoedSentAtMs: number;
  heldMs: number;
}

const ENTRY_BYTES = 2 + 8 + 8;
const MAX_ENTRIES = 255;

export function wrapWithEcho(sentAtMs: number, echoes: readonly RttEcho[], payload: Uint8Array): Uint8Array {
  const entries = echoes.length > MAX_ENTRIES ? echoes.slice(0, MAX_ENTRIES) : echoes;
  // Every byte is written below, so no zero-filling; small blocks come from node's shared pool.
  const out = Buffer.allocUnsafe(9 + entries.length * ENTRY_BYTES + payload.length);
  out.writeDoubleBE(sentAtMs, 0);
  out.writeUInt8(entries.length, 8);
  let at = 9;
  for (const e of entries) {
    out.writeUInt16BE(e.nodeId, at);
    out.writeDoubleBE(e.echoedSentAtMs, at + 2);
    out.writeDoubleBE(e.heldMs, at + 10);
    at += ENTRY_BYTES;
  }
  out.set(payload, at);
  return out;
}

/**
 * Never throws: a block too short for what it announces is "truncated". The payload is a view into
 * `bytes`, not a copy (decodePacket already hands out a copy of its own).
 */
export function unwrapEcho(
  bytes: Uint8Array,
): { ok: true; sentAtMs: number; echoes: RttEcho[]; payload: Uint8Array } | { ok: false } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 9) return { ok: false };
  const count = buf.readUInt8(8);
  const end = 9 + count * ENTRY_BYTES;
  if (buf.length < end) return { ok: false };
  const echoes: RttEcho[] = [];
  for (let i = 0, at = 9; i < count; i += 1, at += ENTRY_BYTES) {
    echoes.push({
      nodeId: buf.readUInt16BE(at),
      echoedSentAtMs: buf.readDoubleBE(at + 2),
      heldMs: buf.readDoubleBE(at + 10),
    });
  }
  return {
    ok: true,
    sentAtMs: buf.readDoubleBE(0),
    echoes,
    payload: bytes.subarray(end),
  };
}
