import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../clock/manual-clock.ts";
import { FfsplitArbiter, leaseMarginMs, type ArbiterState } from "./ffsplit.ts";
import { Verdict } from "./witness-packet.ts";

const LEASE = 2000;
const verdict = (a: { verdict: number }): string =>
  (["", "granted", "denied", "wait", "resync"] as const)[a.verdict] ?? "?";

function started(initial: ArbiterState | null = null) {
  const clock = new ManualClock(1_000_000);
  const saved: ArbiterState[] = [];
  const arbiter = new FfsplitArbiter(initial, clock.now(), (s) => saved.push(s));
  const report = (node: number, members: number[]) =>
    verdict(arbiter.report(node, members, LEASE, clock.now()));
  return { clock, arbiter, saved, report };
}

void test("a whole cluster gets the vote and keeps it while it reports", () => {
  const { clock, report, saved, arbiter } = started();
  assert.equal(report(1, [1, 2]), "granted");
  assert.equal(report(2, [1, 2]), "granted");
  clock.advance(1500);
  assert.equal(report(1, [1, 2]), "granted");
  assert.deepEqual(arbiter.currentHolder(clock.now()), [1, 2]);
  assert.deepEqual(saved.at(-1), { lastHolder: [1, 2], maxLeaseMs: LEASE });
});

void test("50:50 split with both sides reaching the witness: it waits for both views, then the lowest id wins", () => {
  const { clock, report } = started();
  report(1, [1, 2]);
  report(2, [1, 2]);
  clock.advance(100);
  // node2 notices first; node1 still reports the old view, so nothing is decided yet.
  assert.equal(report(2, [2]), "wait");
  clock.advance(100);
  assert.equal(report(1, [1]), "granted");
  assert.equal(report(2, [2]), "denied");
  clock.advance(100);
  assert.equal(report(1, [1]), "granted");
  assert.equal(report(2, [2]), "denied");
});

void test("a split decides without a member that stopped reporting (cut off from the witness too)", () => {
  const { clock, report } = started();
  report(1, [1, 2]);
  report(2, [1, 2]);
  clock.advance(1000); // node1's last report is older than a quarter lease
  assert.equal(report(2, [2]), "granted");
  // node1 comes back to the witness but not to node2: the vote stays with node2's side.
  assert.equal(report(1, [1]), "denied");
});

void test("a disjoint partition waits for the holder's lease to lapse", () => {
  const { clock, report } = started();
  report(1, [1]); // node2 was never seen
  clock.advance(100);
  assert.equal(report(2, [2]), "denied");
  clock.advance(LEASE + leaseMarginMs(LEASE) + 1); // node1 went silent
  assert.equal(report(2, [2]), "granted");
  assert.equal(report(1, [1]), "denied");
});

void test("on a tie the partition that held the vote before wins over the lower node id", () => {
  const { clock, report } = started({ lastHolder: [2], maxLeaseMs: LEASE });
  clock.advance(LEASE + leaseMarginMs(LEASE) - 200);
  assert.equal(report(2, [2]), "wait"); // still the restart hold
  clock.advance(300);
  assert.equal(report(1, [1]), "denied");
  assert.equal(report(2, [2]), "granted");
});

void test("a different partition never gets the vote before the holder's lease ran out plus the margin", () => {
  const { clock, report } = started();
  report(1, [1]);
  const grantedAt = clock.now();
  clock.advance(600); // node1 now silent
  for (let t = clock.now(); t < grantedAt + LEASE + leaseMarginMs(LEASE); t += 100) {
    assert.notEqual(report(2, [2]), "granted", `at +${t - grantedAt} ms`);
    clock.advance(100);
  }
  assert.equal(report(2, [2]), "granted");
});

void test("a merge moves the vote to the bigger view at once", () => {
  const { report } = started();
  report(1, [1]);
  assert.equal(report(2, [1, 2]), "granted");
  assert.equal(report(1, [1, 2]), "granted");
});

void test("with no holder, the largest fresh partition wins", () => {
  const { report } = started();
  assert.equal(report(1, [1, 2]), "granted");
  assert.equal(report(3, [3]), "denied");
});

void test("with no holder, a partition whose members disagree waits", () => {
  const { clock, report } = started({ lastHolder: [1, 2, 3], maxLeaseMs: LEASE });
  clock.advance(LEASE + leaseMarginMs(LEASE) - 100);
  report(2, [2]);
  clock.advance(200);
  assert.equal(report(3, [2, 3]), "wait");
  assert.equal(report(2, [2, 3]), "granted");
  assert.equal(report(3, [2, 3]), "granted");
});

void test("after a restart the witness grants nothing for one lease, then resumes with the old holder", () => {
  const { clock, report } = started({ lastHolder: [1, 2], maxLeaseMs: LEASE });
  assert.equal(report(1, [1, 2]), "wait");
  clock.advance(LEASE + leaseMarginMs(LEASE) - 1);
  assert.equal(report(1, [1, 2]), "wait");
  clock.advance(2);
  assert.equal(report(1, [1, 2]), "granted");
  assert.equal(Verdict.granted, 1);
});
