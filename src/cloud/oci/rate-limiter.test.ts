import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../../clock/manual-clock.ts";
import {
  AdaptivePacer,
  callPacerFromEnv,
  parseRateLimit,
  rateLimiterFromEnv,
  TokenBucket,
} from "./rate-limiter.ts";

/** Lets promise callbacks run after ManualClock fired timers synchronously. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

void test("parseRateLimit reads a rate and an optional burst, and rejects anything else in one line", () => {
  assert.deepEqual(parseRateLimit("10"), { perSecond: 10, burst: 10 });
  assert.deepEqual(parseRateLimit(" 2.5 / 4 "), { perSecond: 2.5, burst: 4 });
  assert.deepEqual(parseRateLimit("0.5"), { perSecond: 0.5, burst: 1 });
  for (const bad of ["", "0", "-1", "ten", "10/0", "10/x", "10/2/3"]) {
    assert.throws(
      () => parseRateLimit(bad),
      /FLOATIP_E_OCI_SETTINGS_INVALID: FLOATIP_OCI_RATE_LIMIT=.* e\.g\. 10 or 10\/20/,
    );
  }
});

void test("rateLimiterFromEnv is off unless the variable is set", () => {
  const clock = new ManualClock();
  assert.equal(rateLimiterFromEnv({}, clock), undefined);
  assert.equal(rateLimiterFromEnv({ FLOATIP_OCI_RATE_LIMIT: " " }, clock), undefined);
  assert.deepEqual(rateLimiterFromEnv({ FLOATIP_OCI_RATE_LIMIT: "5/2" }, clock)?.limit, {
    perSecond: 5,
    burst: 2,
  });
});

void test("the burst passes at once, later callers are paced at the rate, in order", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ perSecond: 10, burst: 2 }, clock);
  const done: number[] = [];
  const takes = [1, 2, 3, 4].map((i) => bucket.take().then(() => done.push(i)));
  await flush();
  assert.deepEqual(done, [1, 2]);
  clock.advance(99);
  await flush();
  assert.deepEqual(done, [1, 2]);
  clock.advance(1);
  await flush();
  assert.deepEqual(done, [1, 2, 3]);
  clock.advance(100);
  await Promise.all(takes);
  assert.deepEqual(done, [1, 2, 3, 4]);
});

void test("tokens accrue while idle up to the burst only", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ perSecond: 1, burst: 3 }, clock);
  await bucket.take();
  clock.advance(60_000);
  assert.equal(bucket.available(), 3);
});

void test("a 429 empties the bucket so the next call waits one interval", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ perSecond: 4, burst: 4 }, clock);
  bucket.throttled();
  let passed = false;
  const take = bucket.take().then(() => (passed = true));
  clock.advance(249);
  await flush();
  assert.equal(passed, false);
  clock.advance(1);
  await take;
  assert.equal(passed, true);
});

void test("a cancelled wait gives its reservation back", async () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket({ perSecond: 1, burst: 1 }, clock);
  await bucket.take();
  const abort = new AbortController();
  const waiting = bucket.take(abort.signal);
  abort.abort();
  await assert.rejects(waiting);
  assert.equal(bucket.available(), 0);
});

void test("without FLOATIP_OCI_RATE_LIMIT calls are paced adaptively; with it, at the fixed limit", () => {
  const clock = new ManualClock();
  assert.ok(callPacerFromEnv({}, clock) instanceof AdaptivePacer);
  assert.ok(callPacerFromEnv({ FLOATIP_OCI_RATE_LIMIT: "5" }, clock) instanceof TokenBucket);
});

/** `n` answers spread evenly over `ms` (the last one at the end). */
function answers(pacer: AdaptivePacer, clock: ManualClock, n: number, ms: number): void {
  for (let i = 0; i < n; i++) {
    clock.advance(ms / n);
    pacer.answered();
  }
}

void test("the adaptive pacer lets every call through at once until the API answers 429", async () => {
  const clock = new ManualClock();
  const pacer = new AdaptivePacer(clock);
  const sent = await Promise.all(Array.from({ length: 200 }, () => pacer.take()));
  assert.equal(new Set(sent).size, 1, "no call waited");
  assert.equal(pacer.rate(), undefined);
});

void test("after a 429 calls are paced at the rate answered in the last second, in order, a resent one first", async () => {
  const clock = new ManualClock();
  const pacer = new AdaptivePacer(clock);
  answers(pacer, clock, 20, 1000);
  await pacer.take();
  pacer.throttled();
  assert.equal(pacer.rate(), 20);
  const order: string[] = [];
  const waiting = ["a", "b", "c"].map((name) => pacer.take().then(() => order.push(name)));
  const resent = pacer.take(undefined, { again: true }).then(() => order.push("again"));
  await flush();
  assert.deepEqual(order, []);
  clock.advance(50);
  await flush();
  assert.deepEqual(order, ["again"], "one call per 50 ms, the resent one first");
  clock.advance(49);
  await flush();
  assert.deepEqual(order, ["again"]);
  clock.advance(1);
  await flush();
  assert.deepEqual(order, ["again", "a"]);
  clock.advance(100);
  await Promise.all([...waiting, resent]);
  assert.deepEqual(order, ["again", "a", "b", "c"]);
});

void test("the first 429 paces at 10 per second at least, even before any answer measured the limit", () => {
  const clock = new ManualClock();
  const pacer = new AdaptivePacer(clock);
  pacer.throttled();
  assert.equal(pacer.rate(), 10);
});

void test("while 429s come the rate follows what the API admitted plus 10 %; without them it grows", async () => {
  const clock = new ManualClock();
  const pacer = new AdaptivePacer(clock);
  pacer.throttled(clock.now());
  assert.equal(pacer.rate(), 10);
  clock.advance(250); // the first revision comes after 250 ms: nothing happened, the rate stays
  assert.equal(pacer.rate(), 10);
  // The next second: 8 answered, and a 429 to a call sent in it.
  answers(pacer, clock, 4, 500);
  pacer.throttled(clock.now());
  answers(pacer, clock, 4, 500);
  assert.ok(Math.abs(pacer.rate()! - 8.8) < 1e-9, `rate ${pacer.rate()}`);
  // A 429 to a call sent before this window says nothing about the new rate.
  pacer.throttled(clock.now() - 1);
  // Calls wait (a backlog) but no 429 comes for a second: half as fast again.
  const waiting = Array.from({ length: 30 }, () => pacer.take());
  await clock.advanceAsync(1000);
  assert.ok(Math.abs(pacer.rate()! - 8.8 * 1.5) < 1e-9, `rate ${pacer.rate()}`);
  await clock.advanceAsync(5000);
  await Promise.all(waiting);
});

void test("the adaptive pacer stops pacing after 30 s without a 429 and nothing waiting", () => {
  const clock = new ManualClock();
  const pacer = new AdaptivePacer(clock);
  pacer.throttled();
  clock.advance(29_000);
  assert.equal(pacer.rate(), 10);
  clock.advance(1000);
  assert.equal(pacer.rate(), undefined);
});

void test("a call that gives up while paced leaves the line without holding the others up", async () => {
  const clock = new ManualClock();
  const pacer = new AdaptivePacer(clock);
  pacer.throttled();
  await pacer.take();
  const abort = new AbortController();
  const gaveUp = pacer.take(abort.signal);
  let next = false;
  const after = pacer.take().then(() => (next = true));
  abort.abort();
  await assert.rejects(gaveUp);
  clock.advance(100);
  await after;
  assert.equal(next, true);
});
