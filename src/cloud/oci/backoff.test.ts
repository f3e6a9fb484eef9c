import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../clock/manual-clock.ts";
import { backoffDelayMs, withRetries } from "./backoff.ts";

void test("backoff grows exponentially, is capped, and always keeps half of the step", () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(
    backoffDelayMs(0, policy, () => 0),
    50,
  );
  assert.equal(
    backoffDelayMs(0, policy, () => 1),
    100,
  );
  assert.equal(
    backoffDelayMs(2, policy, () => 1),
    400,
  );
  assert.equal(
    backoffDelayMs(10, policy, () => 1),
    1000,
  );
  assert.equal(
    backoffDelayMs(10, policy, () => 0),
    500,
  );
});

void test("retries stop at the first non-retryable error and after maxAttempts", async () => {
  const clock = new ManualClock(0);
  const policy = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 };
  let calls = 0;
  const failing = withRetries(
    async () => {
      calls++;
      throw new Error("503");
    },
    { policy, clock, isRetryable: () => true },
  );
  const assertion = assert.rejects(failing, /503/);
  await clock.advanceAsync(100);
  await assertion;
  assert.equal(calls, 3);

  calls = 0;
  await assert.rejects(
    withRetries(
      async () => {
        calls++;
        throw new Error("400");
      },
      { policy, clock, isRetryable: (error) => !(error as Error).message.includes("400") },
    ),
    /400/,
  );
  assert.equal(calls, 1);
});
