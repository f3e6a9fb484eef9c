import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import fc from "fast-check";
import { systemClock } from "../clock/system-clock.ts";
import { Membership, type MembershipStats, type MembershipView, type RejectCounters } from "./membership.ts";
import { encodePacket, packetKey } from "./packet.ts";
import { wrapWithEcho } from "./rtt-echo.ts";
import type { Transport } from "./transport.ts";
import { UdpTransport } from "./udp-transport.ts";

/*
 * The same attacks as membership.fuzz.test.ts, through the kernel: hostile datagrams sent over real UDP on
 * 127.0.0.1 to a live member that keeps hearing a genuine peer. The member must count each one, stay up
 * and keep its view. FLOATIP_FUZZ_SEED replays a run.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

const clusterKey = Buffer.alloc(32, 0x61);
const UDP_MAX_DATAGRAM = 65_507;

/** Records what the genuine peer sends, so the attacker can replay it. */
class RecordingTransport implements Transport {
  readonly sent: Uint8Array[] = [];
  constructor(private readonly inner: UdpTransport) {}
  send(addr: string, payload: Uint8Array, port?: number): void {
    this.sent.push(Uint8Array.from(payload));
    this.inner.send(addr, payload, port);
  }
  onMessage(handler: (payload: Uint8Array, from: string) => void): void {
    this.inner.onMessage(handler);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const totalRejected = (r: RejectCounters): number => Object.values(r).reduce((a, b) => a + b, 0);
/**
 * Every hostile datagram is one of these: a rejection, or a duplicate when it is a replay of the very
 * datagram A last accepted from B (dropped unread like a second copy). B sends one copy, so all
 * duplicates here are the attacker's.
 */
const dropped = (s: MembershipStats): number => totalRejected(s.rejected) + s.duplicates;

void test("fuzz: hostile datagrams over real UDP are counted and a live member keeps its genuine peer", async (t) => {
  const a = await UdpTransport.bind({ address: "127.0.0.1", port: 0 });
  t.after(() => a.close());
  const bInner = await UdpTransport.bind({ address: "127.0.0.1", port: 0 });
  const b = new RecordingTransport(bInner);
  t.after(() => b.close());
  const peers = [
    { id: 1, name: "a", addrs: ["127.0.0.1"], port: a.port },
    { id: 2, name: "b", addrs: ["127.0.0.1"], port: bInner.port },
  ];
  const common = { peers, key: clusterKey, clusterName: "udpfuzz", tokenMs: 3000, heartbeatIntervalMs: 50 };
  const memberA = new Membership({ ...common, self: { id: 1, name: "a" }, transport: a, clock: systemClock });
  t.after(() => memberA.stop());
  const memberB = new Membership({ ...common, self: { id: 2, name: "b" }, transport: b, clock: systemClock });
  t.after(() => memberB.stop());
  const attacker = createSocket("udp4");
  t.after(() => new Promise<void>((resolve) => attacker.close(() => resolve())));
  await new Promise<void>((resolve) => attacker.bind(0, "127.0.0.1", resolve));

  const deadline = Date.now() + 5_000;
  while (!memberA.aliveNodes().includes(2) && Date.now() < deadline) await sleep(20);
  assert.deepEqual(memberA.aliveNodes(), [1, 2]);
  const views: MembershipView[] = [];
  memberA.on("view", (v) => views.push(v));
  // Only packets B sent before the attack: each already reached A, so a replay is never the first copy.
  await sleep(100);
  const captured = b.sent.slice();
  const key = packetKey(clusterKey, "udpfuzz");

  const datagram = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.constant(new Uint8Array(UDP_MAX_DATAGRAM).fill(0x46)),
    fc.nat().map((i) => captured[i % captured.length] ?? new Uint8Array(1)),
    fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, at, mask]) => {
      const bytes = Uint8Array.from(captured[i % captured.length] ?? new Uint8Array(1));
      bytes[at % bytes.length] = (bytes[at % bytes.length] ?? 0) ^ mask;
      return bytes;
    }),
    fc.tuple(fc.nat(), fc.nat()).map(([i, cut]) => {
      const bytes = captured[i % captured.length] ?? new Uint8Array(1);
      return bytes.subarray(0, cut % bytes.length);
    }),
    fc
      .tuple(fc.nat(), fc.integer({ min: 1, max: UDP_MAX_DATAGRAM - 200 }))
      .map(([i, extra]) =>
        Buffer.concat([captured[i % captured.length] ?? new Uint8Array(1), Buffer.alloc(extra)]),
      ),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((forgedKey) =>
      encodePacket(packetKey(forgedKey, "udpfuzz"), {
        sender: 2,
        incarnation: memberB.incarnation + 1n,
        seq: 1n,
        payload: wrapWithEcho(0, [], new Uint8Array()),
      }),
    ),
    // Signed, a newer life of B, but with a body too short for its echo block: must not restart B.
    fc
      .uint8Array({ maxLength: 8 })
      .map((payload) =>
        encodePacket(key, { sender: 2, incarnation: memberB.incarnation + 1n, seq: 1n, payload }),
      ),
  );

  // Printed as a length and a prefix: a 64 KiB counterexample in full would drown the report.
  const shown = datagram.map((bytes) =>
    Object.assign(bytes, {
      [fc.toStringMethod]: () => `${bytes.length} bytes [${Array.from(bytes.subarray(0, 40)).join(",")}...]`,
    }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(shown, { minLength: 1, maxLength: 25, size: "max" }), async (datagrams) => {
      const before = memberA.stats();
      let want = dropped(before);
      for (const bytes of datagrams) {
        await new Promise<void>((resolve, reject) =>
          attacker.send(bytes, a.port, "127.0.0.1", (err) => (err ? reject(err) : resolve())),
        );
        // One at a time: a burst of 64 KiB datagrams overflows the socket buffer and the kernel drops
        // some, which is UDP, not a counting error.
        want += 1;
        const until = Date.now() + 2_000;
        while (dropped(memberA.stats()) < want && Date.now() < until) await sleep(1);
      }
      const after = memberA.stats();
      assert.equal(dropped(after), want, JSON.stringify(after.rejected));
      assert.equal(a.stats().socketErrors, 0);
      assert.deepEqual(views, [], "no membership change");
      assert.deepEqual(memberA.aliveNodes(), [1, 2]);
    }),
    params(8),
  );
  // B's genuine heartbeats still get through after all of it.
  const accepted = memberA.stats().accepted;
  const until = Date.now() + 2_000;
  while (memberA.stats().accepted === accepted && Date.now() < until) await sleep(20);
  assert.ok(memberA.stats().accepted > accepted, "genuine heartbeats are still accepted");
  assert.equal(memberA.stats().rejected.badSource, 0);
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
