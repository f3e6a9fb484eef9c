import type { ClusterConfig } from "../config/schema.ts";
import type { QuorumState } from "../quorum/votequorum.ts";
import type { QuorumDeviceStatus } from "../quorum/witness-vote.ts";

/** What `floatip status` shows about an external coordination backend (etcd). */
export interface CoordinationStatus {
  kind: "etcd";
  endpoints: string[];
  /** Set while the node cannot rely on etcd: it keeps its VIPs where they are and changes nothing. */
  frozen: { since: string; reason: string } | null;
  leaseId: string | null;
  leader: string | null;
  /** Resource -> the node etcd names as its owner, and the revision of that assignment. */
  owners: Record<string, { node: string; revision: string }>;
}

export interface ResourceStatusView {
  id: string;
  type: string;
  /** Nodes that report the resource running, failed, or unknown. */
  runningOn: string[];
  failedOn: string[];
  unknownOn: string[];
  disabled: boolean;
  failCounts: Record<string, number>;
  messages: Record<string, string>;
}

export interface StatusSnapshot {
  clusterName: string | null;
  nodeName: string | null;
  configured: boolean;
  /** Whether this node's cluster services run (`cluster start`). */
  running: boolean;
  dc: string | null;
  quorate: boolean;
  online: string[];
  offline: string[];
  leaving: string[];
  nodesConfigured: number;
  /** Availability domain (zone) per node, as each node reported it. */
  zones: Record<string, string>;
  resources: ResourceStatusView[];
  notes: string[];
  configEpoch: number | null;
  lastChange: { at: string; epoch: number } | null;
  configProblem: string | null;
  daemon: { pid: number; startedAt: string; version: string };
  membership: unknown;
  config: ClusterConfig | null;
  /** Fence devices (pcs stonith); they run on the DC. */
  stonith?: { id: string; type: string; startedOn: string | null }[];
  /** Lost nodes waiting for fencing (UNCLEAN), fences running, and nodes fenced since they were last seen. */
  fencing?: { unclean: string[]; pending: string[]; fenced: string[] } | null;
  /** pcs status's WARNINGS, e.g. "No stonith devices and stonith-enabled is not false". */
  warnings?: string[];
  /**
   * True while this node is frozen (coordination=etcd and etcd unreachable): it keeps its VIPs where they
   * are and starts, stops or moves nothing.
   */
  frozen?: boolean;
  /** The etcd coordination (coordination=etcd): endpoints, freeze, lease, leader, owners. */
  coordination?: CoordinationStatus | null;
  /** Votes and flags of this node's partition, with the witness (quorum device) when configured. */
  quorum?: (QuorumState & { device: QuorumDeviceStatus | null }) | null;
}
