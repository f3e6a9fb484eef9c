import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "./manual-clock.ts";
import { systemClock } from "./system-clock.ts";

void test("manual clock fires timers in due order and reports their due time as now", () => {
  const clock = new ManualClock(1000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
  clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
  clock.advance(15);
  assert.deepEqual(fired, ["a@1010"]);
  assert.equal(clock.now(), 1015);
  clock.advance(5);
  assert.deepEqual(fired, ["a@1010", "b@1020", "c@1020"]);
  assert.equal(clock.pendingTimers, 0);
});

void test("manual clock repeats intervals until cleared and never fires cleared timers", () => {
  const clock = new ManualClock();
  const ticks: number[] = [];
  const interval = clock.setInterval(() => ticks.push(clock.now()), 100);
  const cancelled = clock.setTimeout(() => ticks.push(-1), 50);
  clock.clearTimeout(cancelled);
  clock.advance(350);
  assert.deepEqual(ticks, [100, 200, 300]);
  clock.clearInterval(interval);
  clock.advance(1000);
  assert.deepEqual(ticks, [100, 200, 300]);
});

void test("a timer scheduled from inside a firing timer fires within the same advance when due", () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 5), 10);
  clock.advance(20);
  assert.deepEqual(fired, [15]);
});

void test("manual sleep resolves only once time is advanced past it, and aborts on signal", async () => {
  const clock = new ManualClock();
  let done = false;
  const sleeping = clock.sleep(100).then(() => (done = true));
  await clock.advanceAsync(99);
  assert.equal(done, false);
  await clock.advanceAsync(1);
  await sleeping;
  assert.equal(done, true);

  const controller = new AbortController();
  const aborted = clock.sleep(100, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
  assert.equal(clock.pendingTimers, 0);
});

void test("system clock sleep rejects at once when the signal is already aborted", async () => {
  await assert.rejects(systemClock.sleep(10_000, AbortSignal.abort()), { name: "AbortError" });
  const before = systemClock.now();
  await systemClock.sleep(5);
  assert.ok(systemClock.now() - before >= 4);
});
