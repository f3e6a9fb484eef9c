import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../../clock/manual-clock.ts";
import { parseRateLimit, rateLimiterFromEnv, TokenBucket } from "./rate-limiter.ts";

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
