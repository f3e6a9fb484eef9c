import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../clock/manual-clock.ts";
import { EtcdReachability } from "./etcd-reachability.ts";

void test("a node starts frozen and thaws only once etcd answered", () => {
  const clock = new ManualClock(1000);
  const r = new EtcdReachability(clock, 1300);
  assert.equal(r.frozen?.reason, "etcd not reached yet");
  assert.equal(r.reachable, false);
  r.answered();
  assert.equal(r.reachable, true);
  clock.advance(200);
  assert.equal(r.thaw(), 200);
  assert.equal(r.frozen, null);
  assert.equal(r.thaw(), null, "thawing twice is a no-op");
});

void test("silence longer than freezeAfterMs freezes, with the last error in the reason", () => {
  const clock = new ManualClock(0);
  const r = new EtcdReachability(clock, 1300);
  r.answered();
  r.thaw();
  clock.advance(1300);
  assert.equal(r.check(), null, "exactly at the limit is still reachable");
  r.failed("14 UNAVAILABLE: connect ECONNREFUSED");
  clock.advance(1);
  const frozen = r.check();
  assert.ok(frozen);
  assert.equal(frozen.since, 1301);
  assert.match(frozen.reason, /etcd unreachable for 1301 ms \(last error: 14 UNAVAILABLE/);
  assert.equal(r.check(), null, "already frozen: no second freeze");
  assert.equal(r.reachable, false);
  r.answered();
  assert.equal(r.reachable, true);
  assert.equal(r.thaw(), 0);
});

void test("freezeAfterMs below the lease TTL: frozen before etcd can expire the lease", () => {
  // The session renews every TTL/3 and freezes after two renewal intervals of silence.
  const ttlMs = 3000;
  const clock = new ManualClock(0);
  const r = new EtcdReachability(clock, (2 * ttlMs) / 3);
  r.answered();
  r.thaw();
  clock.advance(ttlMs - 1);
  assert.ok(r.check() ?? r.frozen, "frozen before the lease could run out at etcd");
});

void test("freeze(reason) freezes at once (lease known lost) and only once", () => {
  const clock = new ManualClock(0);
  const r = new EtcdReachability(clock, 1000);
  r.answered();
  r.thaw();
  assert.equal(r.freeze("the etcd lease expired")?.reason, "the etcd lease expired");
  assert.equal(r.freeze("again"), null);
});
