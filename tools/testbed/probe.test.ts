import { test } from "node:test";
import assert from "node:assert/strict";
import { ProbeRecorder, type ProbeEvent } from "./probe.ts";

/** Requests every 10 ms; `answer(seq)` names the node that answered it, or null for a lost one. */
function run(count: number, answer: (seq: number) => string | null, recorder = new ProbeRecorder(100)) {
  for (let seq = 1; seq <= count; seq++) {
    const ms = seq * 10;
    recorder.record({ ev: "sent", seq, ms });
    const node = answer(seq);
    if (node !== null) recorder.record({ ev: "reply", seq, node, from: "10.0.0.11", ms: ms + 1 });
  }
  return recorder;
}

void test("a probe without losses reports no outage and one responder", () => {
  const report = run(50, () => "node1").report();
  assert.equal(report.sent, 50);
  assert.equal(report.answered, 50);
  assert.equal(report.longestOutageMs, 0);
  assert.deepEqual(report.responders, [{ node: "node1", fromMs: 10 }]);
  assert.equal(report.firstResponder, "node1");
  assert.equal(report.lastResponder, "node1");
});

void test("an outage runs from the last answered request before the gap to the first after it", () => {
  const report = run(60, (seq) => (seq <= 20 ? "node1" : seq < 35 ? null : "node2")).report();
  assert.deepEqual(report.outages, [{ startMs: 200, endMs: 350, ms: 150 }]);
  assert.equal(report.longestOutageMs, 150);
  assert.deepEqual(report.responders, [
    { node: "node1", fromMs: 10 },
    { node: "node2", fromMs: 350 },
  ]);
  assert.equal(report.answered, 46);
});

void test("unanswered requests at the end are an open outage once older than the grace time", () => {
  const recorder = run(30, (seq) => (seq <= 10 ? "node1" : null));
  const report = recorder.report();
  assert.equal(report.outages.length, 1);
  assert.deepEqual(report.outages[0], { startMs: 100, endMs: 300, ms: 200, open: true });
  const inFlight = run(12, (seq) => (seq <= 10 ? "node1" : null)).report();
  assert.deepEqual(inFlight.outages, [], "requests sent 20 ms ago are in flight, not lost");
});

void test("replies out of order and from two nodes for one request are counted once, and flagged", () => {
  const recorder = new ProbeRecorder();
  const events: ProbeEvent[] = [
    { ev: "sent", seq: 1, ms: 0 },
    { ev: "sent", seq: 2, ms: 10 },
    { ev: "reply", seq: 2, node: "node2", from: "10.0.0.12", ms: 11 },
    { ev: "reply", seq: 1, node: "node1", from: "10.0.0.11", ms: 12 },
    { ev: "reply", seq: 2, node: "node1", from: "10.0.0.11", ms: 13 },
    { ev: "reply", seq: 2, node: "node2", from: "10.0.0.12", ms: 14 },
  ];
  for (const event of events) recorder.record(event);
  const report = recorder.report();
  assert.equal(report.answered, 2);
  assert.equal(report.answeredByTwo, 1);
  assert.deepEqual(
    report.responders.map((r) => r.node),
    ["node1", "node2"],
  );
});
