import type { ClusterConfig } from "../config/schema.ts";

/** What the node's executor last saw of one resource. */
export interface ResourceStatus {
  state: "running" | "stopped" | "failed" | "unknown";
  /** Failures counted since the last cleanup; reset elsewhere (pcs resource cleanup). */
  failCount: number;
  /** Absolute time (same clock as PolicyInput.nowMs) of the last counted failure; lets failure-timeout expire it. */
  lastFailureMs?: number;
  /**
   * Grows each time the resource is started anywhere (for a cloud VIP: the cloud's epoch of the move).
   * When a partition heals with the resource running on several nodes, the newest copy is the one the
   * network now routes to, so it is the one kept.
   */
  generation?: number;
}

/** A resource absent from `resources` is stopped there with no failures. */
export interface NodeStatus {
  /** False until the node has probed every configured resource after (re)joining. */
  probed: boolean;
  resources: Record<string, ResourceStatus>;
}

export interface PolicyInput {
  config: ClusterConfig;
  /** Node names in this partition, and whether the partition has quorum. */
  view: { online: string[]; quorate: boolean };
  /** By node name, for online nodes. An online node without an entry counts as not probed. */
  status: Record<string, NodeStatus>;
  /** The caller's clock: used for failure-timeout and constraint lifetimes only. */
  nowMs: number;
  /**
   * Configured nodes outside the view that have not been fenced since they were lost, with their last
   * reported resources and whether a fence device can fence them. Omitted: none.
   */
  lost?: Record<string, LostNode>;
}

export interface LostNode {
  resources: Record<string, ResourceStatus>;
  fenceable: boolean;
}

/** A node to fence before what it may still run starts elsewhere. */
export interface FenceRequest {
  node: string;
  action: "off" | "reboot";
}

export type Action = { op: "start" | "stop"; resource: string; node: string };

export interface PolicyDecision {
  /** Where each configured resource should end up; null: nowhere. */
  placement: Record<string, string | null>;
  /**
   * What may run now, all at once: every dependency is already satisfied by the status given. A move
   * between two live nodes yields only the stop; the start comes in a later round once status shows it.
   */
  actions: Action[];
  /** One line per notable reason, e.g. "Cluster_VIP: waiting for node2 to finish probing". */
  notes: string[];
  /** Lost nodes that are UNCLEAN: they must be fenced before their non-cloud resources start elsewhere. */
  fencing: FenceRequest[];
}
