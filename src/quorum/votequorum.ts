/**
 * Majority quorum with corosync votequorum's two_node and wait_for_all rules: every node has one vote;
 * a partition is quorate with more than half of the expected votes. With two_node a lone survivor of a
 * two-node cluster stays quorate (safe only because the cloud move itself is fenced by ETag and epoch),
 * and wait_for_all keeps a fresh cluster inquorate until every node has been seen at least once.
 */
export interface QuorumInput {
  expectedVotes: number;
  aliveVotes: number;
  twoNode: boolean;
  waitForAll: boolean;
  /** Whether all nodes have been members at the same time since this node started. */
  allSeenOnce: boolean;
}

export function isQuorate(input: QuorumInput): boolean {
  if (input.waitForAll && !input.allSeenOnce) return false;
  if (input.twoNode && input.expectedVotes === 2) return input.aliveVotes >= 1;
  return input.aliveVotes * 2 > input.expectedVotes;
}
