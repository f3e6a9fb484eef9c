import { EventEmitter } from "node:events";
import type { Clock } from "../clock/clock.ts";
import { leaderOf, ownersOf } from "../membership/etcd-mirror.ts";
import type { EtcdSession } from "../membership/etcd-session.ts";
import type { EventLog } from "../observability/event-log.ts";
import type { Logger } from "../observability/logger.ts";
import type { Action } from "../policy/types.ts";
import type { Coordination, CoordinationStatus } from "./coordination.ts";
import { admitActions, isEmpty, ownerWrites } from "./etcd-ownership.ts";
import { decodeReport } from "./node-report.ts";

export interface EtcdCoordinationOptions {
  session: EtcdSession;
  selfName: string;
  endpoints: readonly string[];
  clock: Clock;
  logger: Logger;
  events?: EventLog;
}

/**
 * Coordination kept in etcd. The quorum is etcd's own: a node that can talk to etcd takes part, one that
 * cannot freezes. The DC is the leader of an election run under the node's member lease (etcd's election
 * recipe), so a node loses leadership exactly when it loses membership. The DC turns each decision's
 * placement into owner keys, written in a transaction guarded by its election key's create revision: a
 * deposed DC's write fails. Nodes start a resource only where etcd names them owner.
 */
export class EtcdCoordination implements Coordination {
  private readonly opts: EtcdCoordinationOptions;
  private readonly emitter = new EventEmitter<{ change: [] }>();
  private writing = false;
  private pending: { placement: Record<string, string | null>; resourceIds: readonly string[] } | null = null;

  constructor(opts: EtcdCoordinationOptions) {
    this.opts = opts;
    const { session } = opts;
    session.on("change", () => {
      this.resignIfLeaving();
      this.emitter.emit("change");
    });
    session.on("frozen", (frozen) => {
      opts.events?.record({
        type: "quorum",
        summary: `frozen: ${frozen.reason}; VIPs stay where they are, no starts, stops or moves until etcd answers`,
        data: { frozen: true, reason: frozen.reason },
      });
      this.emitter.emit("change");
    });
    session.on("thawed", (frozenMs) => {
      opts.events?.record({
        type: "quorum",
        summary: `unfrozen: etcd answers again after ${frozenMs} ms`,
        data: { frozen: false, frozenMs },
      });
    });
    session.campaign();
  }

  onChange(listener: () => void): void {
    this.emitter.on("change", listener);
  }

  dc(): string | null {
    return leaderOf(this.opts.session.mirror, this.opts.session.keys)?.name ?? null;
  }

  quorate(): boolean {
    return this.opts.session.reachability.frozen === null;
  }

  frozen(): { since: number; reason: string } | null {
    return this.opts.session.reachability.frozen;
  }

  publishPlacement(placement: Record<string, string | null>, resourceIds: readonly string[]): void {
    this.pending = { placement, resourceIds };
    void this.flush();
  }

  admit(own: readonly Action[], runningHere: readonly string[], liveNodes: readonly string[]): Action[] {
    return admitActions({
      self: this.opts.selfName,
      frozen: this.frozen() !== null,
      own,
      owners: ownersOf(this.opts.session.mirror, this.opts.session.keys),
      runningHere,
      liveNodes,
    });
  }

  status(): CoordinationStatus {
    const { session } = this.opts;
    const frozen = session.reachability.frozen;
    const owners: CoordinationStatus["owners"] = {};
    for (const [resource, o] of ownersOf(session.mirror, session.keys))
      owners[resource] = { node: o.node, revision: o.revision.toString() };
    return {
      kind: "etcd",
      endpoints: [...this.opts.endpoints],
      frozen: frozen
        ? {
            since: new Date(Date.now() - (this.opts.clock.now() - frozen.since)).toISOString(),
            reason: frozen.reason,
          }
        : null,
      leaseId: session.leaseId,
      leader: this.dc(),
      owners,
    };
  }

  /** One guarded transaction at a time; the latest placement wins, earlier unsent ones are dropped. */
  private async flush(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.pending !== null) {
        const { placement, resourceIds } = this.pending;
        this.pending = null;
        await this.writeOwners(placement, resourceIds);
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeOwners(
    placement: Record<string, string | null>,
    resourceIds: readonly string[],
  ): Promise<void> {
    const { session, logger } = this.opts;
    const guard = session.electionKey;
    const leader = leaderOf(session.mirror, session.keys);
    if (this.frozen() !== null || guard === null || leader?.key !== guard.key) return;
    const writes = ownerWrites(placement, ownersOf(session.mirror, session.keys), resourceIds);
    if (isEmpty(writes)) return;
    const puts: Record<string, string> = {};
    for (const [resource, node] of Object.entries(writes.put)) puts[session.keys.owner(resource)] = node;
    try {
      const result = await session.guardedWrite(
        guard,
        puts,
        writes.remove.map((r) => session.keys.owner(r)),
      );
      if (!result.written) {
        logger.warn("owner write refused: this node is no longer the etcd election leader");
        return;
      }
      logger.info(
        { owners: writes.put, removed: writes.remove, revision: String(result.revision) },
        "owners written",
      );
      this.opts.events?.record({
        type: "decision",
        summary: `owners in etcd at revision ${result.revision}: ${Object.entries(writes.put)
          .map(([r, n]) => `${r}=${n}`)
          .join(", ")}${writes.remove.length > 0 ? `; removed ${writes.remove.join(", ")}` : ""}`,
        data: { owners: writes.put, removed: writes.remove, revision: Number(result.revision) },
      });
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, "owner write failed");
      // Nodes wait for these owners before they start anything: try again soon even if nothing changes.
      this.opts.clock.setTimeout(() => {
        this.pending ??= { placement, resourceIds };
        void this.flush();
      }, session.intervalMs);
    }
  }

  /** A node stopping cleanly hands the DC role over at once instead of when its lease ends. */
  private resignIfLeaving(): void {
    const { session, selfName } = this.opts;
    const own = session.mirror.entries.get(session.keys.member(selfName));
    if (!own || !session.isCampaigning) return;
    const decoded = decodeReport(own.value);
    if (decoded.ok && decoded.report.leaving) session.resign();
  }
}
