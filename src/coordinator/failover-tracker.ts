import type { NodeReport } from "./node-report.ts";

/** One failover as the coordinator saw it, with the phases of the outage. */
export interface FailoverRecord {
  resource: string;
  from: string;
  to: string;
  cause: "node-lost" | "resource-failed";
  /** From the last heartbeat of the lost node (or the failure report) to the loss being declared. */
  detectMs: number;
  /** From the loss to the coordinator asking for the start elsewhere. */
  decideMs: number;
  /** From that request until the new node reports the resource running (the cloud move and verify). */
  startMs: number;
  totalMs: number;
  /** For a cloud VIP: the part of the start until the cloud accepted the move, and the read-back after it. */
  cloudMoveMs?: number;
  verifyMs?: number;
}

interface Pending {
  from: string;
  cause: FailoverRecord["cause"];
  startedAt: number;
  detectedAt: number;
  decidedAt?: number;
  to?: string;
}

/**
 * Follows resources from the moment their node is lost (or they fail) until they run elsewhere, so that
 * every failover has measured phases. Fed by the designated coordinator; pure bookkeeping, clock passed in.
 */
export class FailoverTracker {
  private readonly pending = new Map<string, Pending>();

  /** The node went silent at `lastHeardMs` and was declared lost at `nowMs`, running `resources`. */
  nodeLost(node: string, resources: readonly string[], lastHeardMs: number, nowMs: number): void {
    for (const r of resources) {
      this.pending.set(r, { from: node, cause: "node-lost", startedAt: lastHeardMs, detectedAt: nowMs });
    }
  }

  resourceFailed(resource: string, node: string, nowMs: number): void {
    if (this.pending.has(resource)) return;
    this.pending.set(resource, { from: node, cause: "resource-failed", startedAt: nowMs, detectedAt: nowMs });
  }

  /** The coordinator asked for `resource` to start on `node`. */
  startRequested(resource: string, node: string, nowMs: number): void {
    const p = this.pending.get(resource);
    if (!p || p.to !== undefined) return;
    p.to = node;
    p.decidedAt = nowMs;
  }

  /** Checks the latest reports; returns the failovers that completed (the resource runs on its new node). */
  observe(reports: Readonly<Record<string, NodeReport>>, nowMs: number): FailoverRecord[] {
    const done: FailoverRecord[] = [];
    for (const [resource, p] of this.pending) {
      if (p.to === undefined || p.decidedAt === undefined) continue;
      const running = reports[p.to]?.resources[resource];
      if (running?.state !== "running") continue;
      this.pending.delete(resource);
      if (p.to === p.from) continue; // restarted in place: a recovery, not a failover
      done.push({
        resource,
        from: p.from,
        to: p.to,
        cause: p.cause,
        detectMs: p.detectedAt - p.startedAt,
        decideMs: p.decidedAt - p.detectedAt,
        startMs: nowMs - p.decidedAt,
        totalMs: nowMs - p.startedAt,
        ...(running.startPhases?.["cloudMoveMs"] !== undefined
          ? { cloudMoveMs: running.startPhases["cloudMoveMs"] }
          : {}),
        ...(running.startPhases?.["verifyMs"] !== undefined
          ? { verifyMs: running.startPhases["verifyMs"] }
          : {}),
      });
    }
    return done;
  }
}
