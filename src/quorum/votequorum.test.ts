import assert from "node:assert/strict";
import { test } from "node:test";
import { effectiveQuorumOptions, isQuorate, quorumState } from "./votequorum.ts";

const base = { expectedVotes: 2, aliveVotes: 2, twoNode: false, waitForAll: false, allSeenOnce: true };

void test("a lone node of two is inquorate without two_node", () => {
  assert.equal(isQuorate({ ...base, aliveVotes: 1 }), false);
});

void test("a lone node of two stays quorate with two_node", () => {
  assert.equal(isQuorate({ ...base, aliveVotes: 1, twoNode: true }), true);
});

void test("wait_for_all keeps a fresh cluster inquorate until every node was seen", () => {
  assert.equal(isQuorate({ ...base, twoNode: true, waitForAll: true, allSeenOnce: false }), false);
  assert.equal(
    isQuorate({ ...base, twoNode: true, waitForAll: true, allSeenOnce: true, aliveVotes: 1 }),
    true,
  );
});

void test("three nodes need two votes, and two_node does not apply", () => {
  assert.equal(isQuorate({ ...base, expectedVotes: 3, aliveVotes: 2, twoNode: true }), true);
  assert.equal(isQuorate({ ...base, expectedVotes: 3, aliveVotes: 1, twoNode: true }), false);
});

void test("two_node implies wait_for_all unless wait_for_all is set explicitly", () => {
  assert.deepEqual(effectiveQuorumOptions({ twoNode: true }, 2), { twoNode: true, waitForAll: true });
  assert.deepEqual(effectiveQuorumOptions({ twoNode: true, waitForAll: false }, 2), {
    twoNode: true,
    waitForAll: false,
  });
  assert.deepEqual(effectiveQuorumOptions({ twoNode: true }, 3), { twoNode: false, waitForAll: false });
  assert.deepEqual(effectiveQuorumOptions({ twoNode: false, waitForAll: true }, 3), {
    twoNode: false,
    waitForAll: true,
  });
});

void test("a quorum device turns two_node off and adds one expected vote", () => {
  const device = { twoNode: true, device: { model: "net" } };
  assert.deepEqual(effectiveQuorumOptions(device, 2), { twoNode: false, waitForAll: false });
  const lone = { ...base, aliveVotes: 1, twoNode: true };
  const granted = quorumState({ ...lone, device: "granted" });
  assert.equal(granted.quorate, true);
  assert.deepEqual([granted.expectedVotes, granted.totalVotes, granted.quorum], [3, 2, 2]);
  assert.deepEqual(granted.flags, ["Quorate", "Qdevice"]);
  assert.equal(quorumState({ ...lone, device: "denied" }).quorate, false);
  // Both nodes alive: 2 of 3 without the witness.
  assert.equal(quorumState({ ...base, device: "denied" }).quorate, true);
});

void test("a pending witness vote is pending only where it makes the difference", () => {
  const lone = { ...base, aliveVotes: 1 };
  assert.deepEqual(
    [
      quorumState({ ...lone, device: "pending" }).quorate,
      quorumState({ ...lone, device: "pending" }).pending,
    ],
    [false, true],
  );
  assert.equal(quorumState({ ...base, device: "pending" }).pending, false);
  assert.equal(quorumState({ ...lone, expectedVotes: 4, device: "pending" }).pending, false);
});

void test("flags and the quorum figure read like corosync-quorumtool", () => {
  const s = quorumState({ ...base, twoNode: true, waitForAll: true, allSeenOnce: false });
  assert.deepEqual(s.flags, ["2Node", "WaitForAll"]);
  assert.equal(s.quorum, 1);
  assert.equal(s.waitingForAll, true);
  assert.equal(s.quorate, false);
});
