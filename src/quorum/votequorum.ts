/**
 * Majority quorum with corosync votequorum's two_node and wait_for_all rules: every node has one vote;
 * a partition is quorate with more than half of the expected votes. With two_node a lone survivor of a
 * two-node cluster stays quorate (safe only because the cloud move itself is fenced by ETag and epoch),
 * and wait_for_all keeps a fresh cluster inquorate until every node has been seen at least once.
 *
 * A quorum device (the witness) adds one vote: expected votes become nodes + 1 and two_node is off, as
 * corosync requires. Its vote is "pending" between a membership change and the witness's answer for the
 * new view: the partition then may neither start nor stop anything (see quorumState).
 */
export interface QuorumInput {
  expectedVotes: number;
  aliveVotes: number;
  twoNode: boolean;
  waitForAll: boolean;
  /** Whether all nodes have been members at the same time since this node started (or `quorum unblock`). */
  allSeenOnce: boolean;
  /** The witness's vote for this node's current view; absent or "none" without a quorum device. */
  device?: DeviceVote;
}

export type DeviceVote = "none" | "granted" | "denied" | "pending";

export interface QuorumState {
  quorate: boolean;
  /** Waiting for the witness's answer for a new view: freeze instead of acting on a guess. */
  pending: boolean;
  expectedVotes: number;
  totalVotes: number;
  /** Votes needed, as corosync-quorumtool prints it (1 with two_node). */
  quorum: number;
  /** corosync-quorumtool's flags: 2Node, Quorate, WaitForAll, Qdevice. */
  flags: string[];
  /** wait_for_all still holds quorum back. */
  waitingForAll: boolean;
}

export function quorumState(input: QuorumInput): QuorumState {
  const device = input.device ?? "none";
  const hasDevice = device !== "none";
  const expectedVotes = input.expectedVotes + (hasDevice ? 1 : 0);
  const twoNode = input.twoNode && !hasDevice && input.expectedVotes === 2;
  const totalVotes = input.aliveVotes + (device === "granted" ? 1 : 0);
  const quorum = twoNode ? 1 : Math.floor(expectedVotes / 2) + 1;
  const waitingForAll = input.waitForAll && !input.allSeenOnce;
  const quorate = !waitingForAll && totalVotes >= quorum;
  // Only a vote that would make the difference is worth waiting for.
  const pending = !quorate && !waitingForAll && device === "pending" && totalVotes + 1 >= quorum;
  const flags = [
    ...(twoNode ? ["2Node"] : []),
    ...(quorate ? ["Quorate"] : []),
    ...(input.waitForAll ? ["WaitForAll"] : []),
    ...(hasDevice ? ["Qdevice"] : []),
  ];
  return { quorate, pending, expectedVotes, totalVotes, quorum, flags, waitingForAll };
}

export function isQuorate(input: QuorumInput): boolean {
  return quorumState(input).quorate;
}

/**
 * votequorum's default: two_node implies wait_for_all unless wait_for_all is set explicitly. two_node only
 * takes effect in a cluster of exactly two nodes without a quorum device.
 */
export function effectiveQuorumOptions(
  quorum: { twoNode: boolean; waitForAll?: boolean | undefined; device?: unknown },
  nodeCount: number,
): { twoNode: boolean; waitForAll: boolean } {
  const twoNode = quorum.twoNode && nodeCount === 2 && quorum.device === undefined;
  return { twoNode, waitForAll: quorum.waitForAll ?? twoNode };
}
