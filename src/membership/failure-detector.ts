/** What changed since the previous tick; node ids sorted ascending. */
export interface MembershipChange {
  joined: number[];
  lost: number[];
  restarted: number[];
}

interface PeerLiveness {
  incarnation: bigint;
  lastHeardMs: number;
  /** Whether the last tick told the caller this peer is alive, and in which incarnation. */
  reportedAlive: boolean;
  reportedIncarnation: bigint;
}

/**
 * Decides which peers are alive from when they were last heard. Pure: no timers, no I/O; the caller
 * passes the time in, so tests drive it by hand.
 *
 * A peer is alive until tokenMs passes without a valid heartbeat (at lastHeard + tokenMs it is lost).
 * A new incarnation of a peer that stayed alive is reported as `restarted`: its daemon came back faster
 * than the token, and whatever it held must be probed again. A peer that was lost and comes back is
 * `joined`, whatever its incarnation, since a join already means "probe it".
 */
export class FailureDetector {
  readonly #tokenMs: number;
  readonly #peers = new Map<number, PeerLiveness>();
  /** Peers removed with forget() while reported alive: the next tick reports them lost. */
  readonly #forgottenAlive = new Set<number>();

  constructor(opts: { tokenMs: number }) {
    if (!(opts.tokenMs > 0)) throw new RangeError(`FailureDetector needs tokenMs > 0, got ${opts.tokenMs}`);
    this.#tokenMs = opts.tokenMs;
  }

  /** Records a valid heartbeat. An older incarnation than the one known is ignored. */
  heard(nodeId: number, incarnation: bigint, nowMs: number): void {
    const peer = this.#peers.get(nodeId);
    if (peer === undefined) {
      this.#forgottenAlive.delete(nodeId);
      this.#peers.set(nodeId, {
        incarnation,
        lastHeardMs: nowMs,
        reportedAlive: false,
        reportedIncarnation: incarnation,
      });
      return;
    }
    if (incarnation < peer.incarnation) return;
    peer.incarnation = incarnation;
    peer.lastHeardMs = Math.max(peer.lastHeardMs, nowMs);
  }

  /** Compares what is known now with what the previous tick reported, and reports the difference. */
  tick(nowMs: number): MembershipChange {
    const change: MembershipChange = { joined: [], lost: [...this.#forgottenAlive], restarted: [] };
    this.#forgottenAlive.clear();
    for (const [nodeId, peer] of this.#peers) {
      const fresh = this.#isFresh(peer, nowMs);
      if (peer.reportedAlive && !fresh) {
        peer.reportedAlive = false;
        change.lost.push(nodeId);
      } else if (!peer.reportedAlive && fresh) {
        peer.reportedAlive = true;
        peer.reportedIncarnation = peer.incarnation;
        change.joined.push(nodeId);
      } else if (fresh && peer.incarnation !== peer.reportedIncarnation) {
        peer.reportedIncarnation = peer.incarnation;
        change.restarted.push(nodeId);
      }
    }
    for (const list of [change.joined, change.lost, change.restarted]) list.sort((a, b) => a - b);
    return change;
  }

  /** Peers heard within the last tokenMs, sorted. Matches what tick(nowMs) just reported. */
  alive(nowMs: number): number[] {
    const ids: number[] = [];
    for (const [nodeId, peer] of this.#peers) if (this.#isFresh(peer, nowMs)) ids.push(nodeId);
    return ids.sort((a, b) => a - b);
  }

  /**
   * When the first peer reported alive turns lost unless it is heard again (lastHeard + tokenMs), or
   * undefined while none is alive: the time to look again, so a loss is seen at its deadline rather than
   * at the next heartbeat tick after it.
   */
  nextExpiryMs(): number | undefined {
    let earliest: number | undefined;
    for (const peer of this.#peers.values()) {
      if (!peer.reportedAlive) continue;
      const expiry = peer.lastHeardMs + this.#tokenMs;
      if (earliest === undefined || expiry < earliest) earliest = expiry;
    }
    return earliest;
  }

  lastHeardMs(nodeId: number): number | undefined {
    return this.#peers.get(nodeId)?.lastHeardMs;
  }

  /** Stops tracking a peer (removed from the configuration); if it was reported alive, the next tick reports it lost. */
  forget(nodeId: number): void {
    const peer = this.#peers.get(nodeId);
    if (peer?.reportedAlive) this.#forgottenAlive.add(nodeId);
    this.#peers.delete(nodeId);
  }

  #isFresh(peer: PeerLiveness, nowMs: number): boolean {
    return nowMs - peer.lastHeardMs < this.#tokenMs;
  }
}
