import { formatDuration } from "../config/duration.ts";
import type { PolicyModel } from "./resource-model.ts";
import type { NodeStatus, ResourceStatus } from "./types.ts";

/** One resource as the online nodes of this partition report it; node lists follow configuration order. */
export interface ResourceObservation {
  state: (node: string) => ResourceStatus["state"];
  running: string[];
  /** `running`, newest generation first (ties keep configuration order). */
  runningNewestFirst: string[];
  failed: string[];
  unknown: string[];
  /** Nodes where the fail count (after failure-timeout expiry) has reached migration-threshold. */
  bannedByFailures: string[];
  /**
   * Where a resource that is active nowhere failed last, while still allowed there: a failed resource is
   * stopped in one round and started in the next, and this keeps the restart on the same node.
   */
  recoveryNode: string | null;
}

const noRecord: ResourceStatus = { state: "stopped", failCount: 0 };

export interface ObservedState {
  byResource: ReadonlyMap<string, ResourceObservation>;
  notes: string[];
}

/** Fail count as the policy should count it: failures older than failure-timeout are forgotten. */
function effectiveFailCount(record: ResourceStatus, failureTimeoutMs: number, nowMs: number): number {
  if (record.failCount <= 0) return 0;
  const expired =
    failureTimeoutMs > 0 &&
    record.lastFailureMs !== undefined &&
    nowMs >= record.lastFailureMs + failureTimeoutMs;
  return expired ? 0 : record.failCount;
}

export function observe(
  model: PolicyModel,
  online: readonly string[],
  status: Readonly<Record<string, NodeStatus>>,
  nowMs: number,
): ObservedState {
  const notes: string[] = [];
  const byResource = new Map<string, ResourceObservation>();
  for (const resource of model.resources) {
    const record = (node: string) => status[node]?.resources[resource.id] ?? noRecord;
    const state = (node: string) => record(node).state;
    const bannedByFailures: string[] = [];
    let recoveryNode: string | null = null;
    let recoveryAt = Number.NEGATIVE_INFINITY;
    for (const node of online) {
      const r = record(node);
      const count = effectiveFailCount(r, resource.failureTimeoutMs, nowMs);
      if (r.failCount > 0 && count === 0 && resource.failureTimeoutMs > 0 && r.lastFailureMs !== undefined) {
        notes.push(
          `${resource.id}: failures on ${node} expired (failure-timeout ${formatDuration(resource.failureTimeoutMs)})`,
        );
      }
      if (count >= resource.migrationThreshold) {
        bannedByFailures.push(node);
        notes.push(`${resource.id}: migration-threshold reached on ${node} (fail count ${count})`);
      } else if (count > 0 && (r.lastFailureMs ?? 0) > recoveryAt) {
        recoveryNode = node;
        recoveryAt = r.lastFailureMs ?? 0;
      }
    }
    const running = online.filter((n) => state(n) === "running");
    const failed = online.filter((n) => state(n) === "failed");
    const active = running.length + failed.length > 0;
    byResource.set(resource.id, {
      state,
      running,
      runningNewestFirst: [...running].sort(
        (a, b) => (record(b).generation ?? 0) - (record(a).generation ?? 0),
      ),
      failed,
      unknown: online.filter((n) => state(n) === "unknown"),
      bannedByFailures,
      recoveryNode: active ? null : recoveryNode,
    });
  }
  return { byResource, notes };
}
