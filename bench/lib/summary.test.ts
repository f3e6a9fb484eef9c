import assert from "node:assert/strict";
import { test } from "node:test";
import { goal, replaceSection } from "./summary.ts";

void test("replaceSection adds a section under a title, then replaces only that section", () => {
  const one = replaceSection("", "footprint", "## footprint\n\nold");
  assert.match(one, /^# Bench summary/);
  assert.match(one, /<!-- bench:footprint -->\n## footprint\n\nold\n<!-- \/bench:footprint -->/);
  const two = replaceSection(one, "scale", "## scale\n\ns");
  const three = replaceSection(two, "footprint", "## footprint\n\nnew");
  assert.ok(three.includes("new") && !three.includes("old"));
  assert.ok(three.includes("## scale\n\ns"));
  assert.ok(three.indexOf("bench:footprint") < three.indexOf("bench:scale"), "order is kept");
});

void test("goal says met, MISSED or - for a value against an upper bound", () => {
  assert.equal(goal(80, 80), "met");
  assert.equal(goal(80.1, 80), "MISSED");
  assert.equal(goal(undefined, 80), "-");
});
