import assert from "node:assert/strict";
import { test } from "node:test";
import { ChaosRandom } from "./random-source.ts";

function draw(seed: number): unknown[] {
  const r = new ChaosRandom(seed);
  return [r.int(1, 6), r.pick(["a", "b", "c"]), r.chance(0.5), r.shuffle([1, 2, 3, 4]), r.int(1000, 9000)];
}

void test("the same seed draws the same sequence; another seed a different one", () => {
  assert.deepEqual(draw(1), draw(1));
  assert.notDeepEqual(draw(1), draw(2));
});

void test("int stays within its bounds and reaches both ends", () => {
  const r = new ChaosRandom(7);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const v = r.int(3, 5);
    assert.ok(v >= 3 && v <= 5);
    seen.add(v);
  }
  assert.deepEqual([...seen].sort(), [3, 4, 5]);
});

void test("shuffle keeps every item; pick refuses an empty list", () => {
  const r = new ChaosRandom(3);
  assert.deepEqual(r.shuffle([1, 2, 3, 4, 5]).sort(), [1, 2, 3, 4, 5]);
  assert.throws(() => r.pick([]), /FLOATIP_E_CHAOS/);
});
