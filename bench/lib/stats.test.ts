import assert from "node:assert/strict";
import { test } from "node:test";
import { markdownTable, median, ratio, round, roundedLoad, stats } from "./stats.ts";

void test("median takes the middle value, or the mean of the two middle values", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.throws(() => median([]), RangeError);
});

void test("stats gives n/min/median/max rounded to the asked digits, undefined for no samples", () => {
  assert.deepEqual(stats([1650.4, 1619.6, 1688.2]), { n: 3, min: 1620, median: 1650, max: 1688 });
  assert.deepEqual(stats([0.123, 0.456], 2), { n: 2, min: 0.12, median: 0.29, max: 0.46 });
  assert.equal(stats([]), undefined);
});

void test("ratio prints two decimals and '-' when it cannot be computed", () => {
  assert.equal(ratio(9150, 1650), "5.55");
  assert.equal(ratio(1, 3, 1), "0.3");
  assert.equal(ratio(undefined, 1), "-");
  assert.equal(ratio(1, 0), "-");
  assert.equal(round(1.005, 1), 1);
  assert.deepEqual(roundedLoad([1.234, 0.5, 2]), [1.23, 0.5, 2]);
});

void test("markdownTable pads every column to its widest cell", () => {
  assert.equal(
    markdownTable(
      ["system", "ms"],
      [
        ["floatip", "1650"],
        ["seed", "9"],
      ],
    ),
    ["| system  | ms   |", "|---------|------|", "| floatip | 1650 |", "| seed    | 9    |"].join("\n"),
  );
});
