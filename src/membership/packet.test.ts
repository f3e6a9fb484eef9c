import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import {
  MAX_PAYLOAD_BYTES,
  PACKET_HEADER_BYTES,
  PACKET_MAC_BYTES,
  decodePacket,
  encodePacket,
  macOf,
  packetKey,
  type PacketFields,
} from "./packet.ts";
import { MembershipError } from "./errors.ts";

const clusterKey = Buffer.alloc(32, 7);
const key = packetKey(clusterKey, "prod");
const fields: PacketFields = {
  sender: 3,
  incarnation: 0x0123_4567_89ab_cdefn,
  seq: 42n,
  payload: new TextEncoder().encode('{"state":"online"}'),
};

void test("a heartbeat survives an encode/decode round trip with every field intact", () => {
  const bytes = encodePacket(key, fields);
  assert.equal(bytes.length, PACKET_HEADER_BYTES + fields.payload.length + PACKET_MAC_BYTES);
  const result = decodePacket(key, bytes);
  assert.ok(result.ok);
  assert.deepEqual(result.packet, { type: 1, ...fields });
});

void test("the largest uint64 incarnation and sequence and an empty payload round-trip", () => {
  const max = (1n << 64n) - 1n;
  const result = decodePacket(
    key,
    encodePacket(key, { sender: 65535, incarnation: max, seq: max, payload: new Uint8Array() }),
  );
  assert.ok(result.ok);
  assert.equal(result.packet.incarnation, max);
  assert.equal(result.packet.seq, max);
  assert.equal(result.packet.sender, 65535);
  assert.equal(result.packet.payload.length, 0);
});

void test("a packet signed with another key is rejected as bad-mac", () => {
  const forged = encodePacket(packetKey(Buffer.alloc(32, 8), "prod"), fields);
  assert.deepEqual(decodePacket(key, forged), { ok: false, reason: "bad-mac" });
});

void test("a packet from another cluster on the same LAN is rejected as wrong-cluster", () => {
  const other = encodePacket(packetKey(clusterKey, "staging"), fields);
  assert.deepEqual(decodePacket(key, other), { ok: false, reason: "wrong-cluster" });
});

void test("truncated packets, trailing bytes, bad magic and bad version are each told apart", () => {
  const bytes = encodePacket(key, fields);
  assert.deepEqual(decodePacket(key, bytes.subarray(0, 10)), { ok: false, reason: "truncated" });
  assert.deepEqual(decodePacket(key, bytes.subarray(0, bytes.length - 1)), {
    ok: false,
    reason: "truncated",
  });
  assert.deepEqual(decodePacket(key, Uint8Array.of(...bytes, 0)), { ok: false, reason: "trailing-bytes" });
  const badMagic = Uint8Array.from(bytes);
  badMagic[0] = 0x47;
  assert.deepEqual(decodePacket(key, badMagic), { ok: false, reason: "bad-magic" });
  const badVersion = Uint8Array.from(bytes);
  badVersion[4] = 2;
  assert.deepEqual(decodePacket(key, badVersion), { ok: false, reason: "bad-version" });
});

void test("a declared payload length over the limit is rejected as oversized without reading it", () => {
  const bytes = Buffer.from(encodePacket(key, fields));
  bytes.writeUInt32BE(MAX_PAYLOAD_BYTES + 1, 28);
  assert.deepEqual(decodePacket(key, bytes), { ok: false, reason: "oversized" });
  bytes.writeUInt32BE(0xffff_ffff, 28);
  assert.deepEqual(decodePacket(key, bytes), { ok: false, reason: "oversized" });
});

void test("encoding refuses an oversized payload and a key that is not 32 bytes, with codes", () => {
  assert.throws(
    () => encodePacket(key, { ...fields, payload: new Uint8Array(MAX_PAYLOAD_BYTES + 1) }),
    (err: unknown) => err instanceof MembershipError && err.code === "FLOATIP_E_HEARTBEAT_PAYLOAD_TOO_LARGE",
  );
  assert.ok(
    decodePacket(key, encodePacket(key, { ...fields, payload: new Uint8Array(MAX_PAYLOAD_BYTES) })).ok,
  );
  assert.throws(
    () => packetKey(Buffer.alloc(16), "prod"),
    (err: unknown) => err instanceof MembershipError && err.code === "FLOATIP_E_CLUSTER_KEY_LENGTH",
  );
  assert.throws(() => encodePacket(key, { ...fields, sender: 70000 }), /FLOATIP_E_HEARTBEAT_FIELD/);
});

void test("fuzz: decodePacket never throws on random bytes, nor on random bytes behind a valid-looking header", () => {
  const header = encodePacket(key, fields).subarray(0, PACKET_HEADER_BYTES);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (tail, withHeader) => {
      const bytes = withHeader ? Uint8Array.of(...header.subarray(0, 28), ...tail) : tail;
      const result = decodePacket(key, bytes);
      assert.equal(result.ok, false);
    }),
    { numRuns: 2000 },
  );
});

void test("fuzz: every single-byte mutation of a valid packet is rejected", () => {
  const valid = encodePacket(key, fields);
  fc.assert(
    fc.property(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 }), (index, flip) => {
      const mutated = Uint8Array.from(valid);
      mutated[index] = (mutated[index] ?? 0) ^ flip;
      const result = decodePacket(key, mutated);
      assert.equal(result.ok, false, `mutation at byte ${index} was accepted`);
    }),
    { numRuns: 3000 },
  );
});

void test("the MAC is HMAC-SHA256 under the derived key, whatever the body, and the prepared key is reusable", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 3000 }),
      (k, body) => {
        const prepared = packetKey(k, "c");
        const expected = createHmac("sha256", prepared.macKey).update(body).digest();
        assert.deepEqual(macOf(prepared, body), expected);
        assert.deepEqual(macOf(prepared, body), expected);
      },
    ),
  );
  for (const size of [0, 63, 64, 65, MAX_PAYLOAD_BYTES + PACKET_HEADER_BYTES]) {
    const body = Buffer.alloc(size, size & 0xff);
    assert.deepEqual(macOf(key, body), createHmac("sha256", key.macKey).update(body).digest());
  }
  // A packet as the previous implementation (createHmac per packet) built it still verifies.
  const bytes = Buffer.from(encodePacket(key, fields));
  const bodyLength = bytes.length - PACKET_MAC_BYTES;
  createHmac("sha256", key.macKey).update(bytes.subarray(0, bodyLength)).digest().copy(bytes, bodyLength);
  assert.ok(decodePacket(key, bytes).ok);
});
