import { EventEmitter } from "node:events";
import { randomInt } from "node:crypto";
import type { Clock, TimerHandle } from "../clock/clock.ts";
import { MAX_HEARTBEAT_COPIES } from "../config/schema.ts";
import { MembershipError } from "./errors.ts";
import { FailureDetector } from "./failure-detector.ts";
import {
  MAX_PAYLOAD_BYTES,
  decodePacket,
  encodePacket,
  packetKey,
  type PacketKey,
  type PacketRejectReason,
} from "./packet.ts";
import { ReplayGuard } from "./replay-guard.ts";
import { unwrapEcho, wrapWithEcho, type RttEcho } from "./rtt-echo.ts";
import type { Transport } from "./transport.ts";

export interface MembershipPeer {
  id: number;
  name: string;
  /** Heartbeat addresses; packets go to the first, and are accepted from any of them. */
  addrs: readonly string[];
  /** Destination port when it differs from the transport's default (several daemons on one host). */
  port?: number;
}

export interface MembershipOptions {
  self: { id: number; name: string };
  /** The other nodes. An entry with the own id is ignored, so the whole node list may be passed. */
  peers: readonly MembershipPeer[];
  /** The 32-byte cluster key. */
  key: Uint8Array;
  clusterName: string;
  tokenMs: number;
  heartbeatIntervalMs: number;
  /**
   * Datagrams per heartbeat round, sent back to back (default 1). The receiver accepts the first to
   * arrive and drops the rest by byte comparison before any decoding, so a round is lost only when all
   * its copies are, and copies that arrive together wake the receiver once.
   */
  heartbeatCopies?: number;
  /** Owned by the caller: Membership never closes it; close it after stop(). */
  transport: Transport;
  clock: Clock;
  /** Defaults to newIncarnation(clock.now()). Must grow across restarts of this node. */
  incarnation?: bigint;
}

/** The membership after a change; `alive` includes this node. Node ids sorted ascending. */
export interface MembershipView {
  alive: number[];
  joined: number[];
  lost: number[];
  /** Peers that came back as a new incarnation without ever being lost: probe what they hold. */
  restarted: number[];
}

export interface PayloadEvent {
  nodeId: number;
  incarnation: bigint;
  payload: Uint8Array;
}

export interface MembershipEvents {
  view: [MembershipView];
  payload: [PayloadEvent];
}

type CamelReason<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelReason<Tail>>}`
  : S;

export type RejectCounters = Record<
  CamelReason<PacketRejectReason> | "replay" | "unknownSender" | "ownId" | "badSource",
  number
>;

export interface MembershipStats {
  /** Datagrams sent, every copy counted. */
  sent: number;
  /** Datagrams that reached this node, valid or not. */
  received: number;
  accepted: number;
  /** Further copies of a heartbeat already accepted, dropped unread. */
  duplicates: number;
  rejected: RejectCounters;
  /** Configured peer id -> clock time its last valid heartbeat arrived, or null if never heard. */
  peers: Record<number, number | null>;
  /**
   * Configured peer id -> heartbeats of its current life that never arrived here (gaps in its sequence
   * numbers, which grow by one per send round), summed over the time this membership ran.
   */
  lost: Record<number, number>;
  /** Configured peer id -> the latest heartbeat round-trip time in ms, or null before one was measured. */
  rttMs: Record<number, number | null>;
}

/**
 * A start-time based incarnation: milliseconds in the high bits and 16 random bits below, so a restarted
 * daemon is newer than its previous life (unless the wall clock stepped back more than the restart took)
 * and two starts in the same millisecond still differ.
 */
export function newIncarnation(nowMs: number): bigint {
  return (BigInt(Math.max(0, Math.floor(nowMs))) << 16n) | BigInt(randomInt(0x10000));
}

/**
 * Heartbeat membership: sends this node's payload to every peer each heartbeatIntervalMs, accepts only
 * authenticated, fresh packets from configured peers at their configured addresses, and emits `view`
 * when the set of live nodes changes and `payload` for every accepted heartbeat (after the view that
 * includes its sender).
 */
export class Membership extends EventEmitter<MembershipEvents> {
  readonly #selfId: number;
  readonly #incarnation: bigint;
  readonly #key: PacketKey;
  readonly #transport: Transport;
  readonly #clock: Clock;
  readonly #guard = new ReplayGuard();
  readonly #detector: FailureDetector;
  #peers = new Map<number, MembershipPeer>();
  #payload: Uint8Array = new Uint8Array();
  #seq = 0n;
  #stopped = false;
  readonly #copies: number;
  readonly #intervalMs: number;
  /** Clock time of the next heartbeat tick, which evaluates every deadline anyway. */
  #nextTickMs: number;
  readonly #timers: {
    interval: TimerHandle;
    first: TimerHandle | undefined;
    deadline?: TimerHandle | undefined;
  };
  readonly #counters = { sent: 0, received: 0, accepted: 0, duplicates: 0 };
  /** Per peer: the datagram last accepted from it, to recognise its other copies without decoding them. */
  readonly #lastAccepted = new Map<number, Uint8Array>();
  /** Per peer: the last sequence number accepted in its current incarnation, and the gaps seen so far. */
  readonly #received = new Map<number, { seq: bigint; lost: number }>();
  /** Per peer: the send time of its latest heartbeat and when it arrived here, to echo back. */
  readonly #lastFrom = new Map<number, { sentAtMs: number; receivedAtMs: number }>();
  readonly #rttMs = new Map<number, number>();
  readonly #rejected: RejectCounters = {
    truncated: 0,
    trailingBytes: 0,
    badMagic: 0,
    badVersion: 0,
    wrongCluster: 0,
    oversized: 0,
    badMac: 0,
    unknownType: 0,
    replay: 0,
    unknownSender: 0,
    ownId: 0,
    badSource: 0,
  };

  constructor(opts: MembershipOptions) {
    super();
    checkTimings(opts.tokenMs, opts.heartbeatIntervalMs);
    this.#copies = checkCopies(opts.heartbeatCopies ?? 1);
    this.#intervalMs = opts.heartbeatIntervalMs;
    this.#nextTickMs = opts.clock.now() + opts.heartbeatIntervalMs;
    this.#selfId = opts.self.id;
    this.#key = packetKey(opts.key, opts.clusterName);
    this.#transport = opts.transport;
    this.#clock = opts.clock;
    this.#incarnation = opts.incarnation ?? newIncarnation(opts.clock.now());
    this.#detector = new FailureDetector({ tokenMs: opts.tokenMs });
    this.#peers = this.#peerMap(opts.peers);
    this.#transport.onMessage((bytes, from) => this.#receive(bytes, from));
    this.#timers = {
      interval: this.#clock.setInterval(() => this.#heartbeatTick(), opts.heartbeatIntervalMs),
      // The first heartbeat waits for the current turn to end, so the caller can attach listeners and
      // set the payload right after construction.
      first: this.#clock.setTimeout(() => {
        this.#timers.first = undefined;
        this.sendNow();
      }, 0),
    };
  }

  get incarnation(): bigint {
    return this.#incarnation;
  }

  get selfId(): number {
    return this.#selfId;
  }

  /** This node and every peer heard within the last tokenMs, sorted. */
  aliveNodes(): number[] {
    return [...this.#detector.alive(this.#clock.now()), this.#selfId].sort((a, b) => a - b);
  }

  /** Replaces what every following heartbeat carries. Throws FLOATIP_E_HEARTBEAT_PAYLOAD_TOO_LARGE. */
  setPayload(bytes: Uint8Array): void {
    if (bytes.length > MAX_PAYLOAD_BYTES) {
      throw new MembershipError(
        "FLOATIP_E_HEARTBEAT_PAYLOAD_TOO_LARGE",
        `node state of ${bytes.length} bytes does not fit a heartbeat (limit ${MAX_PAYLOAD_BYTES}); ` +
          "reduce the number of resources reported per node",
      );
    }
    this.#payload = Uint8Array.from(bytes);
  }

  /** Sends a heartbeat to every peer at once, e.g. right after setPayload so a decision spreads now. */
  sendNow(): void {
    if (this.#stopped) return;
    // One sequence number per round, the same for every peer: each receiver sees consecutive numbers and
    // counts the gaps as lost heartbeats, and a packet replayed to another peer is no fresher there.
    this.#seq += 1n;
    const now = this.#clock.now();
    const echoes: RttEcho[] = [];
    for (const [nodeId, last] of this.#lastFrom)
      echoes.push({ nodeId, echoedSentAtMs: last.sentAtMs, heldMs: now - last.receivedAtMs });
    const packet = encodePacket(this.#key, {
      sender: this.#selfId,
      incarnation: this.#incarnation,
      seq: this.#seq,
      payload: wrapWithEcho(now, echoes, this.#payload),
    });
    for (const peer of this.#peers.values()) {
      const addr = peer.addrs[0];
      if (addr === undefined) continue;
      for (let copy = 0; copy < this.#copies; copy++) {
        this.#transport.send(addr, packet, peer.port);
        this.#counters.sent++;
      }
    }
  }

  /** Applies a configuration change; removed live peers are reported lost at once. */
  updatePeers(peers: readonly MembershipPeer[]): void {
    const next = this.#peerMap(peers);
    for (const id of this.#peers.keys()) {
      if (next.has(id)) continue;
      this.#guard.forget(id);
      this.#detector.forget(id);
      this.#received.delete(id);
      this.#lastAccepted.delete(id);
    }
    this.#peers = next;
    if (!this.#stopped) this.#evaluate(this.#clock.now());
  }

  stats(): MembershipStats {
    const peers: Record<number, number | null> = {};
    const lost: Record<number, number> = {};
    const rttMs: Record<number, number | null> = {};
    for (const id of this.#peers.keys()) {
      peers[id] = this.#detector.lastHeardMs(id) ?? null;
      lost[id] = this.#received.get(id)?.lost ?? 0;
      rttMs[id] = this.#rttMs.get(id) ?? null;
    }
    return { ...this.#counters, rejected: { ...this.#rejected }, peers, lost, rttMs };
  }

  /** Stops sending and ignores further packets; idempotent. The transport stays open for its owner to close. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#clock.clearInterval(this.#timers.interval);
    if (this.#timers.first !== undefined) this.#clock.clearTimeout(this.#timers.first);
    if (this.#timers.deadline !== undefined) this.#clock.clearTimeout(this.#timers.deadline);
  }

  #heartbeatTick(): void {
    const now = this.#clock.now();
    this.#nextTickMs = now + this.#intervalMs;
    this.sendNow();
    this.#evaluate(now);
  }

  #receive(bytes: Uint8Array, from: string): void {
    if (this.#stopped) return;
    this.#counters.received++;
    if (this.#isCopyOfAccepted(bytes, from)) {
      this.#counters.duplicates++;
      return;
    }
    const decoded = decodePacket(this.#key, bytes);
    if (!decoded.ok) {
      this.#rejected[camelReason(decoded.reason)]++;
      return;
    }
    const packet = decoded.packet;
    if (packet.sender === this.#selfId) {
      // Our own id from elsewhere: two nodes configured with one id, or a looped-back packet.
      this.#rejected.ownId++;
      return;
    }
    const peer = this.#peers.get(packet.sender);
    if (peer === undefined) {
      this.#rejected.unknownSender++;
      return;
    }
    if (!peer.addrs.includes(from)) {
      this.#rejected.badSource++;
      return;
    }
    const envelope = unwrapEcho(packet.payload);
    if (!envelope.ok) {
      this.#rejected.truncated++;
      return;
    }
    const verdict = this.#guard.admit(packet.sender, packet.incarnation, packet.seq);
    if (verdict === "replay") {
      this.#rejected.replay++;
      return;
    }
    this.#countGap(packet.sender, packet.seq, verdict === "new-incarnation");
    this.#counters.accepted++;
    // Kept whatever this node sends: a peer may be configured with more copies (during a change).
    this.#lastAccepted.set(packet.sender, Uint8Array.from(bytes));
    const now = this.#clock.now();
    this.#detector.heard(packet.sender, packet.incarnation, now);
    this.#lastFrom.set(packet.sender, { sentAtMs: envelope.sentAtMs, receivedAtMs: now });
    const echo = envelope.echoes.find((e) => e.nodeId === this.#selfId);
    if (echo !== undefined) {
      const rtt = now - echo.echoedSentAtMs - echo.heldMs;
      if (rtt >= 0 && Number.isFinite(rtt)) this.#rttMs.set(packet.sender, rtt);
    }
    this.#evaluate(now);
    this.emit("payload", {
      nodeId: packet.sender,
      incarnation: packet.incarnation,
      payload: envelope.payload,
    });
  }

  /**
   * A byte-for-byte copy of the datagram last accepted from a peer, from that peer's address, is another
   * copy of a round already taken in (or a replay of it, which is no fresher): no MAC to compute again.
   */
  #isCopyOfAccepted(bytes: Uint8Array, from: string): boolean {
    for (const [sender, last] of this.#lastAccepted) {
      if (last.length !== bytes.length || !this.#peers.get(sender)?.addrs.includes(from)) continue;
      if (Buffer.compare(last, bytes) === 0) return true;
    }
    return false;
  }

  #countGap(sender: number, seq: bigint, newLife: boolean): void {
    const entry = this.#received.get(sender);
    if (entry === undefined) {
      this.#received.set(sender, { seq, lost: 0 });
      return;
    }
    // A restarted peer counts from 1 again: nothing of its new life was missed before this packet.
    if (!newLife) entry.lost += Number(seq - entry.seq - 1n);
    entry.seq = seq;
  }

  #evaluate(nowMs: number): void {
    const change = this.#detector.tick(nowMs);
    this.#armDeadline(nowMs);
    if (change.joined.length + change.lost.length + change.restarted.length === 0) return;
    this.emit("view", { alive: this.aliveNodes(), ...change });
  }

  /**
   * A loss is seen at its deadline (lastHeard + token), not up to a heartbeat interval later at the next
   * tick: detection takes the token, whatever the interval. The timer is armed only for a deadline that
   * falls before the next tick (a later one is looked at again by that tick), so while every peer is
   * heard it never fires and costs the idle daemon no wake-ups of its own. One timer at a time:
   * heartbeats only push deadlines later, so it is not re-armed on every packet.
   */
  #armDeadline(nowMs: number): void {
    if (this.#stopped || this.#timers.deadline !== undefined) return;
    const expiry = this.#detector.nextExpiryMs();
    if (expiry === undefined || expiry > this.#nextTickMs) return;
    this.#timers.deadline = this.#clock.setTimeout(
      () => {
        this.#timers.deadline = undefined;
        this.#evaluate(this.#clock.now());
      },
      Math.max(1, Math.ceil(expiry - nowMs)),
    );
  }

  #peerMap(peers: readonly MembershipPeer[]): Map<number, MembershipPeer> {
    const map = new Map<number, MembershipPeer>();
    for (const peer of peers) {
      if (peer.id === this.#selfId) continue;
      if (map.has(peer.id)) {
        throw new MembershipError(
          "FLOATIP_E_MEMBERSHIP_CONFIG",
          `node id ${peer.id} is configured twice (${map.get(peer.id)?.name} and ${peer.name}); give every node its own id`,
        );
      }
      if (peer.addrs.length === 0) {
        throw new MembershipError(
          "FLOATIP_E_MEMBERSHIP_CONFIG",
          `node ${peer.name} has no heartbeat address; add addr=<ip> for it`,
        );
      }
      map.set(peer.id, { ...peer, addrs: [...peer.addrs] });
    }
    return map;
  }
}

function checkTimings(tokenMs: number, intervalMs: number): void {
  if (!(intervalMs > 0) || !(tokenMs >= 2 * intervalMs)) {
    throw new MembershipError(
      "FLOATIP_E_MEMBERSHIP_CONFIG",
      `heartbeat interval ${intervalMs} ms and token ${tokenMs} ms do not fit; ` +
        "the interval must be positive and at most half of the token",
    );
  }
}

function checkCopies(copies: number): number {
  if (!Number.isInteger(copies) || copies < 1 || copies > MAX_HEARTBEAT_COPIES) {
    throw new MembershipError(
      "FLOATIP_E_MEMBERSHIP_CONFIG",
      `heartbeat copies ${copies} is not an integer from 1 to ${MAX_HEARTBEAT_COPIES}`,
    );
  }
  return copies;
}

function camelReason(reason: PacketRejectReason): CamelReason<PacketRejectReason> {
  return reason.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) as CamelReason<PacketRejectReason>;
}
