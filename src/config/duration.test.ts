import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatDuration, parseDuration } from "./duration.ts";
import { ConfigError } from "./errors.ts";

const accepted: [string, number][] = [
  ["10s", 10_000],
  ["500ms", 500],
  ["500msec", 500],
  ["2min", 120_000],
  ["1m", 60_000],
  ["1h", 3_600_000],
  ["2hr", 7_200_000],
  ["10", 10_000],
  ["0", 0],
  ["1.5s", 1500],
  ["0.1s", 100],
  [" 20s ", 20_000],
  ["20 s", 20_000],
  ["10S", 10_000],
  ["PT10S", 10_000],
  ["PT1M30S", 90_000],
  ["pt2h", 7_200_000],
  ["P1D", 86_400_000],
  ["P1DT1S", 86_401_000],
  ["PT0.5S", 500],
];

for (const [text, ms] of accepted) {
  void test(`parses ${JSON.stringify(text)} as ${ms} ms`, () => {
    assert.equal(parseDuration(text), ms);
  });
}

const rejected = [
  "",
  "s",
  "abc",
  "-5s",
  "10 parsecs",
  "1.2.3s",
  "P",
  "PT",
  "P1DT",
  "P1Y",
  "PT1M30",
  "0.0001s",
  "1e3",
  "99999999999999999999h",
  "10s 5ms",
];

for (const text of rejected) {
  void test(`rejects ${JSON.stringify(text)} naming the input and the accepted forms`, () => {
    assert.throws(
      () => parseDuration(text),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.code === "FLOATIP_E_DURATION_INVALID" &&
        error.message.includes(JSON.stringify(text)) &&
        error.message.includes("PT1M30S") &&
        error.message.includes("10s"),
    );
  });
}

void test("formats durations in the shortest exact pcs form", () => {
  assert.equal(formatDuration(10_000), "10s");
  assert.equal(formatDuration(500), "500ms");
  assert.equal(formatDuration(120_000), "2min");
  assert.equal(formatDuration(90_000), "90s");
  assert.equal(formatDuration(7_200_000), "2h");
  assert.equal(formatDuration(1001), "1001ms");
  assert.equal(formatDuration(0), "0s");
  assert.throws(() => formatDuration(-1), RangeError);
  assert.throws(() => formatDuration(1.5), RangeError);
});

void test("formatDuration output always parses back to the same number", () => {
  fc.assert(
    fc.property(fc.nat({ max: 10 * 86_400_000 }), (ms) => parseDuration(formatDuration(ms)) === ms),
    { numRuns: 300 },
  );
});

void test("parseDuration on arbitrary text returns a whole non-negative ms count or throws a ConfigError", () => {
  const durationLike = fc
    .tuple(
      fc.constantFrom("", " ", "P", "PT", "-"),
      fc.string({ unit: fc.constantFrom(..."0123456789.smhinrPTDSM ") }),
    )
    .map(([prefix, rest]) => prefix + rest);
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), durationLike), (text) => {
      let result: number;
      try {
        result = parseDuration(text);
      } catch (error) {
        return error instanceof ConfigError && error.message.length > 0;
      }
      return Number.isSafeInteger(result) && result >= 0;
    }),
    { numRuns: 400 },
  );
});
