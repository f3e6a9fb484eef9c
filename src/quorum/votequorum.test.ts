import assert from "node:assert/strict";
import { test } from "node:test";
import { isQuorate } from "./votequorum.ts";

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
