import { test } from "node:test";
import assert from "node:assert/strict";
import { FailureDetector } from "./failure-detector.ts";

const none = { joined: [], lost: [], restarted: [] };

void test("a peer heard once is reported joined on the next tick, and only once", () => {
  const detector = new FailureDetector({ tokenMs: 1000 });
  assert.deepEqual(detector.tick(0), none);
  detector.heard(3, 7n, 10);
  detector.heard(2, 7n, 10);
  assert.deepEqual(detector.tick(10), { joined: [2, 3], lost: [], restarted: [] });
  detector.heard(2, 7n, 100);
  assert.deepEqual(detector.tick(100), none);
  assert.deepEqual(detector.alive(100), [2, 3]);
});

void test("a silent peer is lost exactly tokenMs after it was last heard, not a millisecond before", () => {
  const detector = new FailureDetector({ tokenMs: 1000 });
  detector.heard(2, 1n, 500);
  detector.tick(500);
  assert.deepEqual(detector.tick(1499), none);
  assert.deepEqual(detector.alive(1499), [2]);
  assert.deepEqual(detector.tick(1500), { joined: [], lost: [2], restarted: [] });
  assert.deepEqual(detector.alive(1500), []);
  assert.deepEqual(detector.tick(5000), none, "loss is reported once");
});

void test("heartbeats keep a peer alive indefinitely", () => {
  const detector = new FailureDetector({ tokenMs: 1000 });
  for (let now = 0; now <= 60_000; now += 100) {
    detector.heard(2, 1n, now);
    const change = detector.tick(now);
    if (now > 0) assert.deepEqual(change, none, `at ${now}`);
  }
});

void test("a new incarnation of a live peer is reported as restarted, not as lost and joined", () => {
  const detector = new FailureDetector({ tokenMs: 1000 });
  detector.heard(2, 1n, 0);
  detector.tick(0);
  detector.heard(2, 2n, 300);
  assert.deepEqual(detector.tick(300), { joined: [], lost: [], restarted: [2] });
  assert.deepEqual(detector.tick(400), none);
});

void test("a lost peer that comes back is joined again, whatever its incarnation", () => {
  const detector = new FailureDetector({ tokenMs: 1000 });
  detector.heard(2, 1n, 0);
  detector.tick(0);
  assert.deepEqual(detector.tick(1000).lost, [2]);
  detector.heard(2, 9n, 4000);
  assert.deepEqual(detector.tick(4000), { joined: [2], lost: [], restarted: [] });
});

void test("an older incarnation does not refresh a peer", () => {
  const detector = new FailureDetector({ tokenMs: 1000 });
  detector.heard(2, 5n, 0);
  detector.tick(0);
  detector.heard(2, 4n, 900);
  assert.deepEqual(detector.tick(1000).lost, [2]);
});

void test("a peer heard only long ago is never reported joined", () => {
  const detector = new FailureDetector({ tokenMs: 1000 });
  detector.heard(2, 1n, 0);
  assert.deepEqual(detector.tick(2000), none);
});

void test("forgetting a live peer reports it lost on the next tick", () => {
  const detector = new FailureDetector({ tokenMs: 1000 });
  detector.heard(2, 1n, 0);
  detector.heard(3, 1n, 0);
  detector.tick(0);
  detector.forget(3);
  assert.deepEqual(detector.tick(10), { joined: [], lost: [3], restarted: [] });
  assert.deepEqual(detector.alive(10), [2]);
});

void test("nextExpiryMs is the earliest deadline among peers reported alive, and undefined while none is", () => {
  const detector = new FailureDetector({ tokenMs: 1000 });
  assert.equal(detector.nextExpiryMs(), undefined);
  detector.heard(2, 1n, 100);
  detector.heard(3, 1n, 300);
  assert.equal(detector.nextExpiryMs(), undefined, "heard but not yet reported joined");
  detector.tick(300);
  assert.equal(detector.nextExpiryMs(), 1100);
  detector.heard(2, 1n, 400);
  assert.equal(detector.nextExpiryMs(), 1300, "node 3 now expires first");
  detector.tick(1300);
  assert.equal(detector.nextExpiryMs(), 1400, "a lost peer has no deadline");
  detector.tick(1400);
  assert.equal(detector.nextExpiryMs(), undefined);
});
