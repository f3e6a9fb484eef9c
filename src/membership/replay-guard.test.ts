import { test } from "node:test";
import assert from "node:assert/strict";
import { ReplayGuard } from "./replay-guard.ts";

void test("accepts growing sequence numbers and rejects a repeated or older one as replay", () => {
  const guard = new ReplayGuard();
  assert.equal(guard.admit(2, 100n, 1n), "new-incarnation");
  assert.equal(guard.admit(2, 100n, 2n), "accept");
  assert.equal(guard.admit(2, 100n, 5n), "accept");
  assert.equal(guard.admit(2, 100n, 5n), "replay");
  assert.equal(guard.admit(2, 100n, 4n), "replay", "out-of-order older packet");
  assert.equal(guard.admit(2, 100n, 6n), "accept");
});

void test("a newer incarnation restarts the sequence; an older incarnation is a replay", () => {
  const guard = new ReplayGuard();
  guard.admit(2, 100n, 50n);
  assert.equal(guard.admit(2, 200n, 0n), "new-incarnation");
  assert.equal(guard.admit(2, 200n, 1n), "accept");
  assert.equal(guard.admit(2, 100n, 51n), "replay");
  assert.equal(guard.admit(2, 100n, 1_000_000n), "replay");
});

void test("senders are tracked independently and forget() clears one of them", () => {
  const guard = new ReplayGuard();
  guard.admit(2, 100n, 10n);
  assert.equal(guard.admit(3, 100n, 1n), "new-incarnation");
  assert.equal(guard.admit(3, 100n, 1n), "replay");
  guard.forget(2);
  assert.equal(guard.admit(2, 100n, 1n), "new-incarnation");
  assert.equal(guard.admit(3, 100n, 2n), "accept");
});
