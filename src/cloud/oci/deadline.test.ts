import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../clock/manual-clock.ts";
import { withDeadline } from "./deadline.ts";

void test("a call that answers after its deadline is reported as a timeout and its late result is dropped", async () => {
  const clock = new ManualClock(0);
  let finishLate: (value: string) => void = () => {};
  let sawAbort = false;
  const pending = withDeadline(
    (signal) =>
      new Promise<string>((resolve) => {
        signal.addEventListener("abort", () => (sawAbort = true));
        finishLate = resolve;
      }),
    { timeoutMs: 1000, clock, what: "GetPrivateIp" },
  );
  clock.advance(1000);
  finishLate("stale result");
  await assert.rejects(pending, (error: Error) =>
    error.message.startsWith("FLOATIP_E_OCI_TIMEOUT: GetPrivateIp"),
  );
  assert.equal(sawAbort, true, "the abandoned HTTP request is aborted");
});

void test("a call within its deadline returns its result and leaves no timer behind", async () => {
  const clock = new ManualClock(0);
  const value = await withDeadline(async () => 42, { timeoutMs: 1000, clock, what: "x" });
  assert.equal(value, 42);
  assert.equal(clock.pendingTimers, 0);
});

void test("aborting the caller's signal rejects at once with its reason", async () => {
  const clock = new ManualClock(0);
  const controller = new AbortController();
  const pending = withDeadline(() => new Promise<never>(() => {}), {
    timeoutMs: 1000,
    clock,
    what: "x",
    signal: controller.signal,
  });
  controller.abort(new Error("shutting down"));
  await assert.rejects(pending, /shutting down/);
  assert.equal(clock.pendingTimers, 0);
});
