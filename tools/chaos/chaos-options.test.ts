import assert from "node:assert/strict";
import { test } from "node:test";
import { parseChaosOptions } from "./chaos-options.ts";

const known = ["NodeLoss", "SplitBrain", "Reattach"];

void test("parses seed, minutes, scenarios and the JSON outputs", () => {
  assert.deepEqual(
    parseChaosOptions(
      [
        "--seed",
        "42",
        "--minutes",
        "2.5",
        "--scenarios",
        "NodeLoss, Reattach",
        "--json",
        "--json-file",
        "/tmp/x.json",
      ],
      known,
    ),
    { seed: 42, minutes: 2.5, json: true, jsonFile: "/tmp/x.json", scenarios: ["NodeLoss", "Reattach"] },
  );
});

void test("without a seed one is drawn (and printed by the caller); minutes default to 10", () => {
  const o = parseChaosOptions([], known);
  assert.ok(Number.isSafeInteger(o.seed) && o.seed > 0);
  assert.equal(o.minutes, 10);
  assert.equal(o.scenarios, null);
});

void test("bad input is a one-line FLOATIP_E_CHAOS_ARGS error", () => {
  for (const argv of [
    ["--seed", "x"],
    ["--seed", "-1"],
    ["--minutes", "0"],
    ["--minutes", "abc"],
    ["--scenarios", "Nope"],
    ["--scenarios", ","],
    ["--bogus"],
    ["positional"],
  ]) {
    assert.throws(
      () => parseChaosOptions(argv, known),
      (e: Error) => /^FLOATIP_E_CHAOS_ARGS: /.test(e.message) && !e.message.includes("\n"),
      argv.join(" "),
    );
  }
});
