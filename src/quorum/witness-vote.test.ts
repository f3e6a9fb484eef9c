import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../clock/manual-clock.ts";
import { Verdict, WitnessPacketType, type WitnessAnswer } from "./witness-packet.ts";
import { WitnessVoteTracker } from "./witness-vote.ts";

const INC = 77n;
const WINC = 9n;

function answer(seq: bigint, viewId: bigint, verdict: Verdict, leaseMs = 2000): WitnessAnswer {
  return {
    type: WitnessPacketType.answer,
    nodeIncarnation: INC,
    nodeSeq: seq,
    viewId,
    verdict,
    leaseMs,
    holder: [1],
  };
}

function tracker() {
  const clock = new ManualClock(5000);
  const t = new WitnessVoteTracker(INC, 2000, 1000, clock.now());
  t.setView([1, 2], clock.now());
  return { clock, t };
}

void test("a grant counts for the lease measured from the report's send time", () => {
  const { clock, t } = tracker();
  const r = t.nextReport(clock.now());
  clock.advance(300);
  assert.equal(t.onAnswer(WINC, answer(r.seq, r.body.viewId, Verdict.granted), clock.now()), null);
  assert.equal(t.vote(clock.now()), "granted");
  assert.equal(t.nextChangeAt(clock.now()), 5000 + 2000);
  clock.advance(1699);
  assert.equal(t.vote(clock.now()), "granted");
  clock.advance(1);
  assert.equal(t.vote(clock.now()), "denied");
  // The next report echoes the witness's incarnation.
  assert.equal(t.nextReport(clock.now()).body.witnessIncarnation, WINC);
});

void test("a new view voids the grant: pending until the witness answers for it, denied after the timeout", () => {
  const { clock, t } = tracker();
  const r = t.nextReport(clock.now());
  t.onAnswer(WINC, answer(r.seq, r.body.viewId, Verdict.granted), clock.now());
  assert.equal(t.setView([1], clock.now()), true);
  assert.equal(t.vote(clock.now()), "pending");
  clock.advance(999);
  assert.equal(t.vote(clock.now()), "pending");
  clock.advance(1);
  assert.equal(t.vote(clock.now()), "denied");
  const r2 = t.nextReport(clock.now());
  t.onAnswer(WINC, answer(r2.seq, r2.body.viewId, Verdict.granted), clock.now());
  assert.equal(t.vote(clock.now()), "granted");
});

void test("an explicit denial ends the pending time at once", () => {
  const { clock, t } = tracker();
  const r = t.nextReport(clock.now());
  t.onAnswer(WINC, answer(r.seq, r.body.viewId, Verdict.denied), clock.now());
  assert.equal(t.vote(clock.now()), "denied");
});

void test("answers for an older view, replays, unknown reports and other incarnations are ignored and counted", () => {
  const { clock, t } = tracker();
  const old = t.nextReport(clock.now());
  t.setView([1], clock.now());
  assert.equal(t.onAnswer(WINC, answer(old.seq, old.body.viewId, Verdict.granted), clock.now()), "old-view");
  assert.equal(t.vote(clock.now()), "pending");
  const r = t.nextReport(clock.now());
  assert.equal(t.onAnswer(WINC, answer(r.seq, r.body.viewId, Verdict.granted), clock.now()), null);
  assert.equal(t.onAnswer(WINC, answer(r.seq, r.body.viewId, Verdict.granted), clock.now()), "replay");
  assert.equal(
    t.onAnswer(WINC, answer(r.seq + 5n, r.body.viewId, Verdict.granted), clock.now()),
    "unknown-seq",
  );
  assert.equal(
    t.onAnswer(WINC, { ...answer(r.seq, r.body.viewId, Verdict.granted), nodeIncarnation: 1n }, clock.now()),
    "not-for-us",
  );
  assert.deepEqual(t.rejected, { "not-for-us": 1, "unknown-seq": 1, replay: 1, "old-view": 1 });
});

void test("a 'wait' answer keeps a running grant until its lease ends (witness restart)", () => {
  const { clock, t } = tracker();
  const r = t.nextReport(clock.now());
  t.onAnswer(WINC, answer(r.seq, r.body.viewId, Verdict.granted), clock.now());
  clock.advance(500);
  const r2 = t.nextReport(clock.now());
  t.onAnswer(10n, answer(r2.seq, r2.body.viewId, Verdict.wait), clock.now());
  assert.equal(t.vote(clock.now()), "granted");
  clock.advance(1500);
  assert.equal(t.vote(clock.now()), "denied");
});
