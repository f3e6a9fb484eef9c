import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../clock/manual-clock.ts";
import { MemoryNetwork } from "./memory-transport.ts";
import { seededRandom } from "./seeded-random.ts";

function listen(network: MemoryNetwork, addr: string) {
  const got: string[] = [];
  const transport = network.transport(addr);
  transport.onMessage((payload, from) => got.push(`${from}:${payload[0]}`));
  return { transport, got };
}

void test("datagrams arrive after the latency on the manual clock, with the sender's address", () => {
  const clock = new ManualClock();
  const network = new MemoryNetwork({ clock, latencyMs: 5 });
  const a = listen(network, "a");
  const b = listen(network, "b");
  a.transport.send("b", Uint8Array.of(7));
  clock.advance(4);
  assert.deepEqual(b.got, []);
  clock.advance(1);
  assert.deepEqual(b.got, ["a:7"]);
  assert.deepEqual(a.got, []);
});

void test("loss applies per direction with the configured probability, reproducibly from a seed", () => {
  const run = (seed: number) => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({ clock, random: seededRandom(seed) });
    const a = listen(network, "a");
    const b = listen(network, "b");
    network.setLoss("a", "b", 0.3);
    for (let i = 0; i < 1000; i++) {
      a.transport.send("b", Uint8Array.of(1));
      b.transport.send("a", Uint8Array.of(2));
    }
    clock.advance(1);
    return { atB: b.got.length, atA: a.got.length };
  };
  const first = run(42);
  assert.equal(first.atA, 1000, "the reverse direction is lossless");
  assert.ok(first.atB > 650 && first.atB < 750, `delivered ${first.atB} of 1000 at 30% loss`);
  assert.deepEqual(run(42), first);
});

void test("a partition cuts both directions between groups but not inside one, and heal restores it", () => {
  const clock = new ManualClock();
  const network = new MemoryNetwork({ clock });
  const a = listen(network, "a");
  const b = listen(network, "b");
  const c = listen(network, "c");
  network.partition(["a"], ["b", "c"]);
  a.transport.send("b", Uint8Array.of(1));
  b.transport.send("a", Uint8Array.of(2));
  b.transport.send("c", Uint8Array.of(3));
  clock.advance(1);
  assert.deepEqual([a.got, b.got, c.got], [[], [], ["b:3"]]);
  network.heal();
  a.transport.send("b", Uint8Array.of(4));
  clock.advance(1);
  assert.deepEqual(b.got, ["a:4"]);
  assert.equal(network.stats().droppedByPartition, 2);
});

void test("a closed transport neither sends nor receives, and its address can be bound again", async () => {
  const clock = new ManualClock();
  const network = new MemoryNetwork({ clock });
  const a = listen(network, "a");
  const b = listen(network, "b");
  a.transport.send("b", Uint8Array.of(1));
  await b.transport.close();
  clock.advance(1);
  b.transport.send("a", Uint8Array.of(2));
  clock.advance(1);
  assert.deepEqual([a.got, b.got], [[], []]);
  assert.throws(() => network.transport("a"), /already in use/);
  const again = listen(network, "b");
  a.transport.send("b", Uint8Array.of(3));
  clock.advance(1);
  assert.deepEqual(again.got, ["a:3"]);
});
