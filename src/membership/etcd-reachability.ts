import type { Clock } from "../clock/clock.ts";

export interface FreezeState {
  /** Clock time the node froze. */
  since: number;
  reason: string;
}

/**
 * Whether this node may act on what etcd says. It starts frozen (nothing read yet), thaws once etcd
 * answered and the local copy was read in full, and freezes again when etcd has not answered for
 * `freezeAfterMs`, or at once when the lease is known lost.
 *
 * freezeAfterMs is shorter than the lease TTL on purpose: etcd expires the lease TTL after the last
 * renewal it received, which is no earlier than the last answer this node got, so a node that stops
 * hearing from etcd is frozen before any peer can see its lease expire and reassign its VIPs.
 */
export class EtcdReachability {
  private lastOkMs: number | null = null;
  private frozenState: FreezeState | null;
  private lastError = "";

  constructor(
    private readonly clock: Clock,
    readonly freezeAfterMs: number,
  ) {
    this.frozenState = { since: clock.now(), reason: "etcd not reached yet" };
  }

  get frozen(): FreezeState | null {
    return this.frozenState;
  }

  /** etcd answered. Thawing is separate (thaw()), since the local copy must be read again first. */
  answered(): void {
    this.lastOkMs = this.clock.now();
  }

  failed(error: string): void {
    this.lastError = error;
  }

  /** True when etcd answered recently enough that a full read may lift the freeze. */
  get reachable(): boolean {
    return this.lastOkMs !== null && this.clock.now() - this.lastOkMs <= this.freezeAfterMs;
  }

  /** Re-evaluates with the clock; returns the new freeze when this call froze the node. */
  check(): FreezeState | null {
    if (this.frozenState !== null || this.reachable) return null;
    const silentMs = this.lastOkMs === null ? 0 : this.clock.now() - this.lastOkMs;
    return this.freeze(
      `etcd unreachable for ${silentMs} ms${this.lastError ? ` (last error: ${this.lastError})` : ""}`,
    );
  }

  freeze(reason: string): FreezeState | null {
    if (this.frozenState !== null) return null;
    this.frozenState = { since: this.clock.now(), reason };
    return this.frozenState;
  }

  /** Lifts the freeze; returns how long it lasted, or null when the node was not frozen. */
  thaw(): number | null {
    if (this.frozenState === null) return null;
    const lasted = this.clock.now() - this.frozenState.since;
    this.frozenState = null;
    return lasted;
  }
}
