import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ManualClock } from "../clock/manual-clock.ts";
import { MemoryNetwork } from "./memory-transport.ts";
import { Membership, type MembershipPeer, type MembershipView, type RejectCounters } from "./membership.ts";
import { PACKET_MAC_BYTES, encodePacket, packetKey } from "./packet.ts";
import { unwrapEcho, wrapWithEcho } from "./rtt-echo.ts";
import type { Transport } from "./transport.ts";

/*
 * An attacker on the heartbeat network, against a live three-node membership: forged, bit-flipped,
 * truncated, oversized, replayed (same and older sequence, older incarnation), random and correctly signed
 * but malformed datagrams, sent from any address including the peers' own. Each one must be counted as
 * exactly one rejection (or one duplicate: a replay of the very datagram last accepted from that peer, at
 * its address, is dropped unread like the second copy of a heartbeat), never throw out of the receive path, and never change who is alive: a lost node
 * stays lost, a live one stays live. FLOATIP_FUZZ_SEED replays a run.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

const clusterKey = Buffer.alloc(32, 0x5a);
const key = packetKey(clusterKey, "prod");
const TOKEN = 1000;
const INTERVAL = 100;
const nodes: MembershipPeer[] = [
  { id: 1, name: "node1", addrs: ["10.0.0.1"] },
  { id: 2, name: "node2", addrs: ["10.0.0.2"] },
  { id: 3, name: "node3", addrs: ["10.0.0.3"] },
];

/** The real memory transport, plus a way to hand the receiver any datagram from any address, and a log of sends. */
class TapTransport implements Transport {
  readonly sent: Uint8Array[] = [];
  #handler: ((payload: Uint8Array, from: string) => void) | undefined;
  constructor(private readonly inner: Transport) {}
  send(addr: string, payload: Uint8Array, port?: number): void {
    this.sent.push(Uint8Array.from(payload));
    this.inner.send(addr, payload, port);
  }
  onMessage(handler: (payload: Uint8Array, from: string) => void): void {
    this.#handler = handler;
    this.inner.onMessage(handler);
  }
  inject(payload: Uint8Array, from: string): void {
    assert.ok(this.#handler, "membership registered its receiver");
    this.#handler(payload, from);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Bed {
  clock: ManualClock;
  members: Membership[];
  taps: TapTransport[];
  views: MembershipView[];
  payloadsFrom: number[];
  node3Incarnation: bigint;
  /** What each node had sent when the attack began, by index; all of it was delivered. */
  captured: Uint8Array[][];
}

/** Three nodes that saw each other, then node3 died and was reported lost: [1, 2] alive on node1. */
async function bed(): Promise<Bed> {
  const clock = new ManualClock(1_000_000);
  const network = new MemoryNetwork({ clock });
  const taps = nodes.map((n) => new TapTransport(network.transport(n.addrs[0] ?? "")));
  const members = nodes.map(
    (self, i) =>
      new Membership({
        self,
        peers: nodes,
        key: clusterKey,
        clusterName: "prod",
        tokenMs: TOKEN,
        heartbeatIntervalMs: INTERVAL,
        // node2, alive through the attack, sends one copy: every duplicate node1 counts then is injected.
        heartbeatCopies: self.id === 2 ? 1 : 2,
        transport: taps[i] as TapTransport,
        clock,
      }),
  );
  clock.advance(1_000);
  const [node1, , node3] = members as [Membership, Membership, Membership];
  assert.deepEqual(node1.aliveNodes(), [1, 2, 3]);
  node3.stop();
  await taps[2]?.close();
  clock.advance(TOKEN + 2 * INTERVAL);
  assert.deepEqual(node1.aliveNodes(), [1, 2]);
  // Off the heartbeat tick, so nothing is in flight: every captured packet already reached node1.
  clock.advance(INTERVAL / 2);
  const out: Bed = {
    clock,
    members,
    taps,
    views: [],
    payloadsFrom: [],
    node3Incarnation: node3.incarnation,
    captured: [[], (taps[1]?.sent ?? []).slice(), (taps[2]?.sent ?? []).slice()],
  };
  node1.on("view", (v) => out.views.push(v));
  node1.on("payload", (p) => out.payloadsFrom.push(p.nodeId));
  return out;
}

const totalRejected = (r: RejectCounters): number => Object.values(r).reduce((a, b) => a + b, 0);

type Attack = (b: Bed) => { bytes: Uint8Array; from: string };

/** Gives an attack a readable name, which fast-check prints in a counterexample instead of the function's code. */
function named(label: string, make: Attack): Attack {
  return Object.assign(make, { [fc.toStringMethod]: () => label });
}

const from = fc.constantFrom("10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.99");
const captured = (b: Bed, who: 1 | 2, pick: number): Uint8Array => {
  const log = b.captured[who] ?? [];
  return log[pick % log.length] ?? new Uint8Array();
};
const capturedArb = fc.tuple(fc.constantFrom(1 as const, 2 as const), fc.nat());
const packetOf = ([who, pick]: [1 | 2, number]) => `node${who + 1}'s packet #${pick}`;
const attack: fc.Arbitrary<Attack> = fc.oneof(
  fc
    .tuple(fc.uint8Array({ maxLength: 400 }), from)
    .map(([bytes, f]) => named(`${bytes.length} random bytes from ${f}`, () => ({ bytes, from: f }))),
  // Forged: a well-formed, fresh-looking heartbeat for node2 or the dead node3, signed with a guessed key.
  fc
    .tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(2, 3), from)
    .filter(([k]) => !clusterKey.equals(k))
    .map(([k, sender, f]) =>
      named(`forged heartbeat of node${sender} from ${f}`, () => ({
        bytes: encodePacket(packetKey(k, "prod"), {
          sender,
          incarnation: (1n << 63n) + 1n,
          seq: 1n,
          payload: wrapWithEcho(0, [], new Uint8Array()),
        }),
        from: f,
      })),
    ),
  // Replays of what node2 and node3 really sent: the same or older sequence numbers, node3's only life.
  fc
    .tuple(capturedArb, from)
    .map(([c, f]) =>
      named(`replay of ${packetOf(c)} from ${f}`, (b) => ({ bytes: captured(b, ...c), from: f })),
    ),
  fc.tuple(capturedArb, fc.nat(), fc.integer({ min: 1, max: 255 }), from).map(([c, at, mask, f]) =>
    named(`${packetOf(c)} with byte ${at} (mod length) xor ${mask} from ${f}`, (b) => {
      const bytes = Uint8Array.from(captured(b, ...c));
      const i = at % bytes.length;
      bytes[i] = (bytes[i] ?? 0) ^ mask;
      return { bytes, from: f };
    }),
  ),
  fc.tuple(capturedArb, fc.nat(), from).map(([c, cut, f]) =>
    named(`${packetOf(c)} cut at ${cut} (mod length) from ${f}`, (b) => {
      const bytes = captured(b, ...c);
      return { bytes: bytes.subarray(0, cut % bytes.length), from: f };
    }),
  ),
  fc.tuple(capturedArb, fc.integer({ min: 1, max: 65_507 - 200 }), from).map(([c, extra, f]) =>
    named(`${packetOf(c)} plus ${extra} bytes from ${f}`, (b) => ({
      bytes: Buffer.concat([captured(b, ...c), Buffer.alloc(extra)]),
      from: f,
    })),
  ),
  // Correctly signed (an insider or a bug) but malformed: an echo block that promises more than it has,
  // from node3 as a brand-new incarnation. It must not revive node3 nor advance its replay guard.
  fc
    .uint8Array({ maxLength: 64 })
    .filter((p) => !unwrapEcho(p).ok)
    .map((payload) =>
      named(`signed node3 heartbeat with malformed body [${payload.join(",")}]`, (b) => ({
        bytes: encodePacket(key, { sender: 3, incarnation: b.node3Incarnation + 1n, seq: 1n, payload }),
        from: "10.0.0.3",
      })),
    ),
  // Signed, well formed, but from an id that is not configured or is node1's own.
  fc.constantFrom(1, 9, 0xffff).map((sender) =>
    named(`signed heartbeat of unconfigured or own id ${sender}`, () => ({
      bytes: encodePacket(key, {
        sender,
        incarnation: 1n << 62n,
        seq: 1n,
        payload: wrapWithEcho(0, [], new Uint8Array()),
      }),
      from: "10.0.0.2",
    })),
  ),
);

void test("fuzz: a live membership counts every hostile datagram once and its view never changes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(attack, fc.integer({ min: 0, max: 30 })), {
        minLength: 1,
        maxLength: 40,
        size: "max",
      }),
      async (attacks) => {
        const b = await bed();
        const [node1] = b.members as [Membership, Membership];
        const before = node1.stats();
        let injected = 0;
        for (const [make, pauseMs] of attacks) {
          const { bytes, from: src } = make(b);
          b.taps[0]?.inject(bytes, src);
          injected++;
          b.clock.advance(pauseMs);
        }
        const after = node1.stats();
        assert.equal(
          totalRejected(after.rejected) -
            totalRejected(before.rejected) +
            (after.duplicates - before.duplicates),
          injected,
          JSON.stringify(after.rejected),
        );
        assert.equal(
          after.accepted - before.accepted,
          b.payloadsFrom.length,
          "only genuine heartbeats were accepted",
        );
        assert.ok(
          b.payloadsFrom.every((id) => id === 2),
          `payload from ${b.payloadsFrom.join(",")}`,
        );
        assert.equal(after.peers[3], before.peers[3], "node3 was never heard again");
        assert.deepEqual(b.views, [], "no membership change");
        assert.deepEqual(node1.aliveNodes(), [1, 2]);
        // The genuine node2 was not locked out by anything the attacker sent.
        b.clock.advance(2 * INTERVAL);
        assert.ok(node1.stats().accepted > after.accepted, "node2's next heartbeats are still accepted");
        for (const m of b.members) m.stop();
      },
    ),
    params(60),
  );
});

void test("replays of a dead node's heartbeats, in any order, never bring it back", async () => {
  const b = await bed();
  const [node1] = b.members as [Membership];
  const node3Packets = b.captured[2] ?? [];
  assert.ok(node3Packets.length > 10);
  const before = node1.stats();
  // Newest first, so the last packets node3 ever sent come first (not only older ones).
  for (const bytes of [...node3Packets].reverse()) b.taps[0]?.inject(bytes, "10.0.0.3");
  // Node3's last round (its copies to node1 and node2: the same bytes) is the datagram node1 last accepted
  // from it: dropped unread as a copy. Every other one is refused by the replay guard.
  const stats = node1.stats();
  const replays = stats.rejected.replay - before.rejected.replay;
  const copies = stats.duplicates - before.duplicates;
  assert.equal(replays + copies, node3Packets.length);
  assert.ok(copies <= 2 * 2, `copies ${copies}: only the last round's two copies to each of two peers`);
  b.clock.advance(INTERVAL);
  assert.deepEqual(node1.aliveNodes(), [1, 2]);
  assert.deepEqual(b.views, []);
  // A replay with one body bit changed fails the MAC before the replay guard sees it.
  const tampered = Uint8Array.from(node3Packets.at(-1) ?? []);
  const at = tampered.length - PACKET_MAC_BYTES - 1;
  tampered[at] = (tampered[at] ?? 0) ^ 1;
  b.taps[0]?.inject(tampered, "10.0.0.3");
  assert.equal(node1.stats().rejected.badMac, 1);
  for (const m of b.members) m.stop();
});
