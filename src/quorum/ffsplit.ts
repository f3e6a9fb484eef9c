import type { Verdict } from "./witness-packet.ts";

/**
 * The witness's decision for one cluster, pure (time is passed in): corosync-qnetd's ffsplit algorithm
 * with the vote as a lease.
 *
 * - Each node reports its current view (the node ids it sees, itself included) every heartbeat interval.
 *   A report is fresh for a quarter of the lease the node asks for, so a node cut off from the witness
 *   stops counting well before its peers' failure detectors fire.
 * - The vote goes to one partition (a set of node ids), the holder, and is renewed while its members
 *   report that same view. Largest partition first; on a tie the one sharing most members with the
 *   previous holder (keep_active_partition_tie_breaker), then the one with the lowest node id.
 * - The vote moves only when it cannot be counted twice: to a larger view containing the holder (a merge:
 *   the holder's members are in it), to a part of the holder once every still-reporting member of the
 *   holder has moved on to a new view (a split: a grant is only good for the view it was given for, so
 *   those members dropped theirs), and otherwise only after the holder's lease has run out plus a margin
 *   for clock rate differences.
 * - After a restart the witness answers "wait" for one lease period, since it no longer knows what it
 *   granted just before.
 */
export interface ArbiterState {
  /** The partition that last held the vote (for the tie-breaker), kept across witness restarts. */
  lastHolder: number[] | null;
  /** The longest lease granted so far: the hold after a restart. */
  maxLeaseMs: number;
}

export interface ArbiterAnswer {
  verdict: Verdict;
  leaseMs: number;
  holder: number[];
}

interface NodeReport {
  members: number[];
  key: string;
  at: number;
  freshMs: number;
}

const VERDICT = { granted: 1, denied: 2, wait: 3 } as const;

export function leaseMarginMs(leaseMs: number): number {
  return Math.max(200, Math.ceil(leaseMs / 5));
}

export class FfsplitArbiter {
  private readonly reports = new Map<number, NodeReport>();
  private holder: { members: number[]; key: string; until: number } | null = null;
  private holdUntil: number;
  private state: ArbiterState;

  constructor(
    initial: ArbiterState | null,
    now: number,
    /** Called when the state that must survive a restart changes (persist it before answering). */
    private readonly persist: (state: ArbiterState) => void = () => undefined,
  ) {
    this.state = initial ?? { lastHolder: null, maxLeaseMs: 0 };
    this.holdUntil =
      initial && initial.lastHolder !== null
        ? now + initial.maxLeaseMs + leaseMarginMs(initial.maxLeaseMs)
        : now;
  }

  get persistentState(): ArbiterState {
    return { lastHolder: this.state.lastHolder, maxLeaseMs: this.state.maxLeaseMs };
  }

  /** The holder while its lease runs, for status. */
  currentHolder(now: number): number[] | null {
    return this.holder && this.holder.until > now ? [...this.holder.members] : null;
  }

  holding(now: number): boolean {
    return now < this.holdUntil;
  }

  /** Fresh views per node, for status. */
  views(now: number): Record<number, number[]> {
    const out: Record<number, number[]> = {};
    for (const [id, r] of this.reports) if (now - r.at <= r.freshMs) out[id] = [...r.members];
    return out;
  }

  report(nodeId: number, members: readonly number[], leaseMs: number, now: number): ArbiterAnswer {
    const sorted = [...new Set(members)].sort((a, b) => a - b);
    const key = sorted.join(",");
    this.reports.set(nodeId, {
      members: sorted,
      key,
      at: now,
      freshMs: Math.max(50, Math.floor(leaseMs / 4)),
    });
    const answer = (verdict: Verdict): ArbiterAnswer => ({
      verdict,
      leaseMs,
      holder: this.holder ? [...this.holder.members] : [],
    });
    if (now < this.holdUntil) return answer(VERDICT.wait);

    const holder = this.holder;
    if (holder !== null && holder.key === key) return this.grant(sorted, key, leaseMs, now);

    const holderLive = holder !== null && now < holder.until + leaseMarginMs(this.state.maxLeaseMs);
    if (holder !== null && holderLive) {
      if (isSubset(holder.members, sorted)) return this.grant(sorted, key, leaseMs, now);
      if (!isSubset(sorted, holder.members)) return answer(VERDICT.denied);
      // A split of the holder: decide once no fresh member of the holder still reports the holder's view.
      const fresh = this.freshReports(now);
      const undecided = holder.members.some((id) => fresh.get(id)?.key === holder.key);
      if (undecided) return answer(VERDICT.wait);
      const winner = this.best(
        [...fresh.values()].filter((r) => isSubset(r.members, holder.members)),
        holder.members,
      );
      return winner?.key === key ? this.grant(sorted, key, leaseMs, now) : answer(VERDICT.denied);
    }

    // No live holder: the best partition among the fresh views gets the vote, once its members agree.
    const fresh = this.freshReports(now);
    const partition = [...fresh.values()].filter((r) => r.key === key);
    if (sorted.some((id) => fresh.has(id) && fresh.get(id)?.key !== key)) return answer(VERDICT.wait);
    const winner = this.best([...fresh.values()], this.state.lastHolder ?? []);
    if (winner === undefined || winner.key !== key || partition.length === 0) return answer(VERDICT.denied);
    return this.grant(sorted, key, leaseMs, now);
  }

  private grant(members: number[], key: string, leaseMs: number, now: number): ArbiterAnswer {
    const changed = this.holder?.key !== key || this.state.lastHolder?.join(",") !== key;
    const until = Math.max(this.holder?.key === key ? this.holder.until : 0, now + leaseMs);
    this.holder = { members, key, until };
    if (changed || leaseMs > this.state.maxLeaseMs) {
      this.state = { lastHolder: members, maxLeaseMs: Math.max(this.state.maxLeaseMs, leaseMs) };
      this.persist(this.persistentState);
    }
    return { verdict: VERDICT.granted, leaseMs, holder: [...members] };
  }

  private freshReports(now: number): Map<number, NodeReport> {
    const out = new Map<number, NodeReport>();
    for (const [id, r] of this.reports) if (now - r.at <= r.freshMs) out.set(id, r);
    return out;
  }

  /** ffsplit's order: size, then members of the previous holder, then lowest node id. */
  private best(candidates: NodeReport[], previous: number[]): NodeReport | undefined {
    const seen = new Map<string, NodeReport>();
    for (const c of candidates) seen.set(c.key, c);
    const overlap = (r: NodeReport): number => r.members.filter((id) => previous.includes(id)).length;
    return [...seen.values()].sort(
      (a, b) =>
        b.members.length - a.members.length ||
        overlap(b) - overlap(a) ||
        (a.members[0] ?? 0) - (b.members[0] ?? 0),
    )[0];
  }
}

function isSubset(small: number[], big: number[]): boolean {
  return small.every((id) => big.includes(id));
}
