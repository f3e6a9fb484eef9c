import type { CoordinationStatus } from "../api/status-types.ts";
import type { Action } from "../policy/types.ts";

// The status shape is the admin API's; exported here too for the coordinator's own modules.
export type { CoordinationStatus };

/**
 * The seam between the coordinator's logic and where membership, quorum, the DC and resource ownership
 * come from. The built-in path (heartbeat membership, votequorum, lowest node id as DC, actions gossiped
 * by the DC) is ClusterNode's own behaviour when no Coordination is given; an external backend (etcd)
 * overrides exactly these answers, and feeds membership through a MembershipPort of its own.
 */
export interface Coordination {
  /** The DC, or null when there is none (or this node cannot know). */
  dc(): string | null;
  quorate(): boolean;
  /** Non-null while frozen: no decisions, no starts or stops, resources stay where they are. */
  frozen(): { since: number; reason: string } | null;
  /** Called on the DC with each decision's placement; the backend records the owners it implies. */
  publishPlacement(placement: Record<string, string | null>, resourceIds: readonly string[]): void;
  /**
   * The subset of the DC's actions for this node that may run now, plus stops this node owes because
   * another node owns what it runs. `runningHere` lists the resources running (or unknown) on this node.
   */
  admit(own: readonly Action[], runningHere: readonly string[], liveNodes: readonly string[]): Action[];
  /** Notifies when any answer above may have changed. */
  onChange(listener: () => void): void;
  status(): CoordinationStatus;
}
