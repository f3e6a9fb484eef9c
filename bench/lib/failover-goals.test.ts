import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeLossGoalLines, parseTokenMs } from "./failover-goals.ts";

void test("defaults at L = 300: the bound and 1.5 s goals, ratios to the baselines", () => {
  const lines = nodeLossGoalLines(
    { floatip: 1325, seed: 12473, keepalived: 1000 },
    { tokenMs: 1000, latencyMs: 300, tuned: false },
  );
  assert.deepEqual(lines, [
    "- node loss, floatip median outage 1325 ms <= token 1000 + L 300 + 100 = 1400 ms: met",
    "- node loss at the defaults, floatip median outage 1325 ms <= 1500 ms (at 300 ms latency): met",
    "- >= 5x shorter than the seed replay (9.41x): met",
    "- shorter than keepalived + notify (0.75x): MISSED",
  ]);
});

void test("tuned at L = 100: the 0.5 s goal, met or missed", () => {
  const opts = { tokenMs: 300, latencyMs: 100, tuned: true };
  const met = nodeLossGoalLines({ floatip: 480 }, opts);
  assert.equal(met.length, 2);
  assert.match(met[0] ?? "", /<= token 300 \+ L 100 \+ 100 = 500 ms: met/);
  assert.match(met[1] ?? "", /tuned \(token 300 ms\).* 480 ms <= 500 ms .*: met$/);
  assert.match(nodeLossGoalLines({ floatip: 501 }, opts)[1] ?? "", /MISSED$/);
  // The 0.5 s goal is stated for L = 100 only; the 1.5 s goal for the defaults only.
  assert.equal(nodeLossGoalLines({ floatip: 480 }, { ...opts, latencyMs: 300 }).length, 1);
  assert.deepEqual(nodeLossGoalLines({}, opts), []);
});

void test("parseTokenMs accepts whole ms in the schema's range and rejects the rest", () => {
  assert.equal(parseTokenMs(undefined), undefined);
  assert.equal(parseTokenMs("300"), 300);
  for (const bad of ["199", "60001", "3e2", "300.5", "", "abc", "-300"]) {
    assert.throws(() => parseTokenMs(bad), /--token-ms .*200 to 60000/);
  }
});
