import type { FenceAction, FenceAttempt } from "../fencing/types.ts";

/** One fencing operation, as `stonith history` shows it. */
export interface FenceHistoryEntry {
  target: string;
  action: FenceAction;
  /** "policy" when the DC fenced a lost node, "manual" for `stonith fence`. */
  reason: "policy" | "manual";
  /** The node that ran it. */
  origin: string;
  state: "pending" | "done" | "failed";
  device: string | null;
  /** ms since the epoch */
  requestedAt: number;
  completedAt?: number;
  attempts: FenceAttempt[];
  message: string;
}
