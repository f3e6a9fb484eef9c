import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  MAX_PAYLOAD_BYTES,
  PACKET_HEADER_BYTES,
  PACKET_MAC_BYTES,
  decodePacket,
  encodePacket,
  packetKey,
  type PacketFields,
  type PacketRejectReason,
} from "./packet.ts";
import { ReplayGuard } from "./replay-guard.ts";
import { unwrapEcho } from "./rtt-echo.ts";

/*
 * Security fuzzing of the heartbeat codec and replay guard. packet.test.ts already flips single bytes of
 * one fixed packet and feeds short random buffers; these properties cover random packets, every cut, forged
 * keys, datagrams up to the UDP maximum, correctly signed but malformed bodies, and the replay rule.
 * fast-check prints the seed and path of any failure; FLOATIP_FUZZ_SEED replays a run.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

const clusterKey = Buffer.alloc(32, 0x42);
const key = packetKey(clusterKey, "prod");
const UDP_MAX_DATAGRAM = 65_507;
const reasons: readonly PacketRejectReason[] = [
  "truncated",
  "trailing-bytes",
  "bad-magic",
  "bad-version",
  "wrong-cluster",
  "oversized",
  "bad-mac",
  "unknown-type",
];

const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const fieldsArb: fc.Arbitrary<PacketFields> = fc.record({
  sender: fc.integer({ min: 0, max: 0xffff }),
  incarnation: uint64,
  seq: uint64,
  payload: fc.uint8Array({ maxLength: 200 }),
});

function assertRejected(result: ReturnType<typeof decodePacket>, expected?: PacketRejectReason): void {
  assert.equal(result.ok, false, "a bad datagram was accepted");
  if (result.ok) return;
  assert.ok(reasons.includes(result.reason), `uncounted reason ${result.reason}`);
  if (expected !== undefined) assert.equal(result.reason, expected);
}

void test("fuzz: a packet signed with any other key is rejected as bad-mac, whatever it carries", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => !clusterKey.equals(k)),
      fieldsArb,
      (forgedKey, fields) => {
        assertRejected(decodePacket(key, encodePacket(packetKey(forgedKey, "prod"), fields)), "bad-mac");
      },
    ),
    params(300),
  );
});

void test("fuzz: flipping any set of bits anywhere in any valid packet gets it rejected", () => {
  fc.assert(
    fc.property(
      fieldsArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
      (fields, flips) => {
        const valid = encodePacket(key, fields);
        const mutated = Uint8Array.from(valid);
        for (const [at, mask] of flips) {
          const i = at % mutated.length;
          mutated[i] = (mutated[i] ?? 0) ^ mask;
        }
        // Two flips of one byte may cancel out; only a changed packet must be refused.
        fc.pre(!Buffer.from(mutated).equals(Buffer.from(valid)));
        assertRejected(decodePacket(key, mutated));
      },
    ),
    params(1500),
  );
});

void test("fuzz: a valid packet cut at every length is rejected as truncated", () => {
  fc.assert(
    fc.property(fieldsArb, (fields) => {
      const valid = encodePacket(key, fields);
      for (let cut = 0; cut < valid.length; cut++)
        assertRejected(decodePacket(key, valid.subarray(0, cut)), "truncated");
    }),
    params(60),
  );
});

void test("fuzz: bytes appended to a valid packet, up to the largest UDP datagram, are rejected", () => {
  const big = encodePacket(key, {
    sender: 1,
    incarnation: 1n,
    seq: 1n,
    payload: new Uint8Array(MAX_PAYLOAD_BYTES),
  });
  fc.assert(
    fc.property(
      fieldsArb,
      fc.integer({ min: 1, max: UDP_MAX_DATAGRAM }),
      fc.boolean(),
      (fields, extra, useBig) => {
        const valid = useBig ? big : encodePacket(key, fields);
        const room = Math.max(1, Math.min(extra, UDP_MAX_DATAGRAM - valid.length));
        const datagram = Buffer.concat([valid, Buffer.alloc(room, 0xa5)]);
        assertRejected(decodePacket(key, datagram), "trailing-bytes");
      },
    ),
    params(100),
  );
});

void test("fuzz: a declared payload over the limit is rejected as oversized even when the bytes are all there", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: MAX_PAYLOAD_BYTES + 1, max: 0xffff_ffff }),
      fc.uint8Array({ maxLength: UDP_MAX_DATAGRAM - PACKET_HEADER_BYTES, minLength: 0 }),
      (declared, tail) => {
        const header = Buffer.from(
          encodePacket(key, { sender: 2, incarnation: 1n, seq: 1n, payload: new Uint8Array() }),
        );
        header.writeUInt32BE(declared, 28);
        const datagram = Buffer.concat([
          header.subarray(0, PACKET_HEADER_BYTES),
          tail,
          Buffer.alloc(PACKET_MAC_BYTES),
        ]);
        assertRejected(decodePacket(key, datagram.subarray(0, UDP_MAX_DATAGRAM)), "oversized");
      },
    ),
    params(100),
  );
});

void test("fuzz: random bytes behind a consistent header reach the MAC check and fail it", () => {
  fc.assert(
    fc.property(fieldsArb, fc.uint8Array({ minLength: 32, maxLength: 32 }), (fields, fakeMac) => {
      const valid = Buffer.from(encodePacket(key, fields));
      const forged = Buffer.from(valid);
      forged.set(fakeMac, valid.length - PACKET_MAC_BYTES);
      fc.pre(!forged.equals(valid));
      assertRejected(decodePacket(key, forged), "bad-mac");
    }),
    params(500),
  );
});

void test("fuzz: a correctly signed packet of an unknown type is refused as unknown-type", () => {
  fc.assert(
    fc.property(
      fieldsArb,
      fc.integer({ min: 0, max: 255 }).filter((t) => t !== 1),
      (fields, type) => {
        assertRejected(decodePacket(key, encodePacket(key, { ...fields, type: type as 1 })), "unknown-type");
      },
    ),
    params(200),
  );
});

void test("fuzz: decodePacket and unwrapEcho never throw on random datagrams up to the UDP maximum", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        { weight: 4, arbitrary: fc.uint8Array({ maxLength: 512 }) },
        {
          weight: 1,
          arbitrary: fc
            .integer({ min: 0, max: UDP_MAX_DATAGRAM })
            .map((n) => new Uint8Array(n).fill(n & 0xff)),
        },
      ),
      (bytes) => {
        assertRejected(decodePacket(key, bytes));
        // The echo block is parsed from authenticated payloads only, but a bug must not crash there either.
        const echo = unwrapEcho(bytes);
        if (echo.ok) assert.ok(echo.payload.length <= bytes.length);
      },
    ),
    params(400),
  );
});

type GuardOp = { sender: number; incarnation: bigint; seq: bigint };

void test("fuzz: the replay guard admits a packet only when it is fresher than everything admitted from its sender", () => {
  const small = fc.bigInt({ min: 0n, max: 6n });
  const op: fc.Arbitrary<GuardOp> = fc.record({
    sender: fc.integer({ min: 1, max: 3 }),
    incarnation: small,
    seq: small,
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const guard = new ReplayGuard();
      const model = new Map<number, { incarnation: bigint; seq: bigint }>();
      for (const { sender, incarnation, seq } of ops) {
        const high = model.get(sender);
        const expected =
          high === undefined || incarnation > high.incarnation
            ? "new-incarnation"
            : incarnation === high.incarnation && seq > high.seq
              ? "accept"
              : "replay";
        assert.equal(
          guard.admit(sender, incarnation, seq),
          expected,
          JSON.stringify({ sender, incarnation: `${incarnation}`, seq: `${seq}` }),
        );
        if (expected !== "replay") model.set(sender, { incarnation, seq });
        // A repeat of what was just admitted, or anything older, is always a replay.
        if (expected !== "replay") assert.equal(guard.admit(sender, incarnation, seq), "replay");
        if (seq > 0n) assert.equal(guard.admit(sender, incarnation, seq - 1n), "replay");
        if (incarnation > 0n) assert.equal(guard.admit(sender, incarnation - 1n, seq + 100n), "replay");
      }
    }),
    params(300),
  );
});
