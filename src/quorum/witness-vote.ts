import type { DeviceVote } from "./votequorum.ts";
import { Verdict, type WitnessAnswer, type WitnessReport } from "./witness-packet.ts";

/** How many recent reports an answer may still refer to. */
const REMEMBERED_REPORTS = 64;

export type AnswerRejectReason = "not-for-us" | "unknown-seq" | "replay" | "old-view";

export interface WitnessVoteStatus {
  vote: DeviceVote;
  viewId: string;
  members: number[];
  /** Node ids of the partition the witness says holds its vote. */
  holder: number[];
  /** Milliseconds the current grant has left, or null. */
  grantLeftMs: number | null;
  lastAnswerAgoMs: number | null;
  lastVerdict: "granted" | "denied" | "wait" | "resync" | null;
  rejected: Record<string, number>;
}

/** What `quorum device status` and `floatip status` show about the witness on a node. */
export interface QuorumDeviceStatus extends WitnessVoteStatus {
  host: string;
  addr: string;
  port: number;
  algorithm: string;
  sent: number;
  received: number;
  rejectedPackets: Record<string, number>;
}

/**
 * A node's side of the witness vote, pure (time is passed in). The vote counts only for the view it was
 * granted for, and only for the lease measured from when this node sent the report it answers: the
 * witness started its own lease no earlier than it received that report, so the node's lease always ends
 * first. Between a view change and the witness's answer the vote is "pending" (for at most
 * `pendingTimeoutMs`); without an answer after that, the node has no witness vote.
 */
export class WitnessVoteTracker {
  private viewId = 0n;
  private members: number[] = [];
  private viewSince: number;
  private seq = 0n;
  private readonly sent = new Map<bigint, { at: number; viewId: bigint }>();
  private lastAnswerSeq = -1n;
  private lastAnswerAt: number | null = null;
  private witnessIncarnation = 0n;
  private grant: { viewId: bigint; until: number } | null = null;
  private denied: bigint | null = null;
  private lastVerdict: WitnessVoteStatus["lastVerdict"] = null;
  private holder: number[] = [];
  readonly rejected: Record<AnswerRejectReason, number> = {
    "not-for-us": 0,
    "unknown-seq": 0,
    replay: 0,
    "old-view": 0,
  };

  constructor(
    readonly incarnation: bigint,
    private readonly leaseMs: number,
    private readonly pendingTimeoutMs: number,
    now: number,
  ) {
    this.viewSince = now;
  }

  /** Returns true when the view is new: its vote starts over. */
  setView(members: number[], now: number): boolean {
    const sorted = [...new Set(members)].sort((a, b) => a - b);
    if (sorted.join(",") === this.members.join(",")) return false;
    this.members = sorted;
    this.viewId++;
    this.viewSince = now;
    this.denied = null;
    return true;
  }

  /** The next report to send, remembered so its answer can be matched. */
  nextReport(now: number): { seq: bigint; body: WitnessReport } {
    this.seq++;
    this.sent.set(this.seq, { at: now, viewId: this.viewId });
    if (this.sent.size > REMEMBERED_REPORTS) {
      const oldest = this.sent.keys().next().value;
      if (oldest !== undefined) this.sent.delete(oldest);
    }
    return {
      seq: this.seq,
      body: {
        type: 1,
        witnessIncarnation: this.witnessIncarnation,
        viewId: this.viewId,
        leaseMs: this.leaseMs,
        members: this.members,
      },
    };
  }

  /** An authenticated answer from the witness; returns why it was ignored, or null when it was used. */
  onAnswer(witnessIncarnation: bigint, answer: WitnessAnswer, now: number): AnswerRejectReason | null {
    const reason = this.check(answer);
    if (reason !== null) {
      this.rejected[reason]++;
      return reason;
    }
    const report = this.sent.get(answer.nodeSeq);
    if (report === undefined) return "unknown-seq";
    this.lastAnswerSeq = answer.nodeSeq;
    this.lastAnswerAt = now;
    this.witnessIncarnation = witnessIncarnation;
    this.holder = [...answer.holder];
    this.lastVerdict = (["granted", "denied", "wait", "resync"] as const)[answer.verdict - 1] ?? null;
    if (report.viewId !== this.viewId) {
      this.rejected["old-view"]++;
      return "old-view";
    }
    if (answer.verdict === Verdict.granted) {
      const until = report.at + Math.min(answer.leaseMs, this.leaseMs);
      if (this.grant?.viewId !== this.viewId || until > this.grant.until)
        this.grant = { viewId: this.viewId, until };
      this.denied = null;
    } else if (answer.verdict === Verdict.denied) {
      this.grant = null;
      this.denied = this.viewId;
    }
    return null;
  }

  vote(now: number): DeviceVote {
    if (this.grant !== null && this.grant.viewId === this.viewId && now < this.grant.until) return "granted";
    if (this.denied === this.viewId) return "denied";
    return now - this.viewSince < this.pendingTimeoutMs ? "pending" : "denied";
  }

  /** When the vote may change by itself (a lease ends or the pending time is up), for a timer. */
  nextChangeAt(now: number): number | null {
    const vote = this.vote(now);
    if (vote === "granted" && this.grant !== null) return this.grant.until;
    if (vote === "pending") return this.viewSince + this.pendingTimeoutMs;
    return null;
  }

  status(now: number): WitnessVoteStatus {
    const vote = this.vote(now);
    return {
      vote,
      viewId: this.viewId.toString(),
      members: [...this.members],
      holder: [...this.holder],
      grantLeftMs: vote === "granted" && this.grant ? this.grant.until - now : null,
      lastAnswerAgoMs: this.lastAnswerAt === null ? null : now - this.lastAnswerAt,
      lastVerdict: this.lastVerdict,
      rejected: { ...this.rejected },
    };
  }

  private check(answer: WitnessAnswer): AnswerRejectReason | null {
    if (answer.nodeIncarnation !== this.incarnation) return "not-for-us";
    if (answer.nodeSeq <= this.lastAnswerSeq) return "replay";
    if (!this.sent.has(answer.nodeSeq)) return "unknown-seq";
    return null;
  }
}
