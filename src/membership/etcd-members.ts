import { EventEmitter } from "node:events";
import type { Clock } from "../clock/clock.ts";
import { membersOf } from "./etcd-mirror.ts";
import type { EtcdSession } from "./etcd-session.ts";
import type { MembershipEvents, MembershipPeer } from "./membership.ts";

export interface EtcdMembersOptions {
  self: { id: number; name: string };
  peers: readonly Pick<MembershipPeer, "id" | "name">[];
  session: EtcdSession;
  clock: Clock;
}

/**
 * Membership from etcd instead of heartbeats: a node is alive while its member key exists (its lease is
 * renewed), and the key's value is its report. It speaks the same events as the heartbeat Membership
 * (`view`, then `payload` for reports that changed), so the coordinator above it does not change.
 *
 * While the session is frozen nothing is emitted: a node cut off from etcd keeps its last view instead of
 * concluding that everyone else is gone.
 */
export class EtcdMembers extends EventEmitter<MembershipEvents> {
  private readonly session: EtcdSession;
  private readonly clock: Clock;
  private readonly selfName: string;
  private readonly selfId: number;
  private peers = new Map<string, number>();
  /** Per live peer name: its lease (incarnation) and the report last passed on. */
  private readonly seen = new Map<string, { lease: string; report: Buffer }>();
  private readonly lastHeard = new Map<number, number>();
  private payload: Uint8Array = new Uint8Array();
  private stopped = false;

  constructor(opts: EtcdMembersOptions) {
    super();
    this.session = opts.session;
    this.clock = opts.clock;
    this.selfName = opts.self.name;
    this.selfId = opts.self.id;
    this.updatePeers(opts.peers);
    this.session.on("change", () => this.evaluate());
  }

  setPayload(bytes: Uint8Array): void {
    this.payload = Uint8Array.from(bytes);
  }

  /** Writes the report into the member key now (the session skips unchanged values). */
  sendNow(): void {
    if (!this.stopped) this.session.publishMember(this.payload);
  }

  updatePeers(peers: readonly Pick<MembershipPeer, "id" | "name">[]): void {
    this.peers = new Map(peers.filter((p) => p.name !== this.selfName).map((p) => [p.name, p.id]));
    if (!this.stopped) this.evaluate();
  }

  /**
   * Per peer id: the last time its key was seen alive. A lost peer stopped renewing one TTL before etcd
   * deleted its key, so that is taken as its last sign of life.
   */
  stats(): { peers: Record<number, number | null> } {
    const peers: Record<number, number | null> = {};
    for (const id of this.peers.values()) peers[id] = this.lastHeard.get(id) ?? null;
    return { peers };
  }

  stop(): void {
    this.stopped = true;
  }

  private evaluate(): void {
    if (this.stopped || this.session.reachability.frozen !== null) return;
    const now = this.clock.now();
    const live = membersOf(this.session.mirror, this.session.keys);
    const joined: number[] = [];
    const lost: number[] = [];
    const restarted: number[] = [];
    for (const [name, id] of this.peers) {
      const member = live.get(name);
      const before = this.seen.get(name);
      if (member === undefined) {
        if (before !== undefined) {
          lost.push(id);
          this.seen.delete(name);
          this.lastHeard.set(id, now - this.session.intervalMs * 3);
        }
        continue;
      }
      this.lastHeard.set(id, now);
      if (before === undefined) joined.push(id);
      else if (before.lease !== member.lease) restarted.push(id);
    }
    for (const name of this.seen.keys()) if (!this.peers.has(name)) this.seen.delete(name);
    if (joined.length + lost.length + restarted.length > 0) {
      const alive = [...this.peers]
        .filter(([name]) => live.has(name))
        .map(([, id]) => id)
        .concat(this.selfId);
      this.emit("view", {
        alive: alive.sort((a, b) => a - b),
        joined: joined.sort((a, b) => a - b),
        lost: lost.sort((a, b) => a - b),
        restarted: restarted.sort((a, b) => a - b),
      });
    }
    for (const [name, id] of this.peers) {
      const member = live.get(name);
      if (member === undefined) continue;
      const before = this.seen.get(name);
      if (before && before.lease === member.lease && before.report.equals(member.report)) continue;
      this.seen.set(name, { lease: member.lease, report: member.report });
      this.emit("payload", { nodeId: id, incarnation: BigInt(member.lease), payload: member.report });
    }
  }
}
