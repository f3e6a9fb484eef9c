import assert from "node:assert/strict";
import { test } from "node:test";
import { EventLog } from "./event-log.ts";

void test("events are numbered, kept up to the capacity, paged with since() and streamed to subscribers", () => {
  let now = 1_700_000_000_000;
  const log = new EventLog({ node: () => "node1", now: () => now, capacity: 3 });
  const streamed: number[] = [];
  log.on("event", (e) => streamed.push(e.seq));
  for (let i = 0; i < 5; i += 1) {
    now += 1000;
    log.record({ type: "action", summary: `start ${i}`, data: { i } });
  }
  assert.deepEqual(streamed, [1, 2, 3, 4, 5]);
  assert.deepEqual(
    log.since(0).map((e) => e.seq),
    [3, 4, 5],
  );
  assert.deepEqual(
    log.since(4).map((e) => e.summary),
    ["start 4"],
  );
  assert.equal(log.since(0)[0]?.node, "node1");
  assert.equal(log.since(0)[0]?.at, new Date(1_700_000_003_000).toISOString());
  log.record({ type: "failover", summary: "x", data: {} });
  assert.deepEqual(
    log.since(0, ["failover"]).map((e) => e.type),
    ["failover"],
  );
});
