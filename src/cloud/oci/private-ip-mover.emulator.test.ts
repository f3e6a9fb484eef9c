import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PrivateIpAssignedEvent, RunningEmulator } from "../../../tools/oci-emulator/emulator.ts";
import { systemClock } from "../../clock/system-clock.ts";
import type { Clock } from "../../clock/clock.ts";
import { readHoldTags } from "./hold-tags.ts";
import type { OciRuntime } from "./oci-runtime.ts";
import { createOciRuntime } from "./oci-runtime.ts";
import { silentLogger } from "../../observability/logger.ts";
import {
  emulatedInstance,
  emulatedNode,
  emulatedSettings,
  startTestEmulator,
  TEST_VIP,
  twoNodeSeed,
} from "./testing/emulated-cloud.ts";

/** The safe move against the loopback OCI emulator, through the real SDK (signed requests, ETags, IAM). */

let emulator: RunningEmulator;
let nodes: OciRuntime[] = [];
let moves: PrivateIpAssignedEvent[] = [];

const threeNodeSeed = {
  ...twoNodeSeed,
  instances: [
    ...twoNodeSeed.instances,
    {
      displayName: "node3",
      availabilityDomain: "Uocm:US-ASHBURN-AD-3",
      vnics: [{ subnet: "10.0.0.0/24", privateIp: "10.0.0.13" }],
    },
  ],
};

beforeEach(async () => {
  emulator = await startTestEmulator(threeNodeSeed);
  moves = [];
  emulator.events.on("privateIpAssigned", (event: PrivateIpAssignedEvent) => moves.push(event));
});

afterEach(async () => {
  for (const node of nodes) node.close();
  nodes = [];
  await emulator.close();
});

function node(name: string, overrides: Parameters<typeof emulatedNode>[2] = {}, clock?: Clock): OciRuntime {
  const runtime = clock
    ? createOciRuntime(emulatedSettings(emulator, name, overrides), { clock, logger: silentLogger() })
    : emulatedNode(emulator, name, overrides);
  nodes.push(runtime);
  return runtime;
}

function holder(): { instanceName: string | undefined; epoch: number; tags: Record<string, string> } {
  const subnetId = emulator.state.primaryVnicOf(emulatedInstance(emulator, "node1"))?.subnetId ?? "";
  const found = emulator.state.findPrivateIp({ subnetId, ipAddress: TEST_VIP });
  assert.ok(found, "the VIP exists in the cloud");
  const vnicId = found.vnicId;
  const owner = ["node1", "node2", "node3"].find(
    (name) => emulator.state.primaryVnicOf(emulatedInstance(emulator, name))?.id === vnicId,
  );
  return { instanceName: owner, epoch: readHoldTags(found.freeformTags).epoch, tags: found.freeformTags };
}

/** A clock that runs `offsetMs` ahead of real time: a node that sees a lease as long expired. */
function aheadBy(offsetMs: number): Clock {
  return { ...systemClock, now: () => Date.now() + offsetMs };
}

void test("creates the VIP on this node's VNIC with epoch 1 when it does not exist", async () => {
  const result = await node("node1").mover.claim(TEST_VIP);
  assert.equal(result.outcome, "created");
  assert.equal(holder().instanceName, "node1");
  assert.equal(holder().epoch, 1);
  assert.equal(holder().tags["floatip-holder"], emulatedInstance(emulator, "node1").id);
  assert.equal(moves.length, 1);
});

void test("moves the VIP with epoch+1 and reports success only once the cloud shows it here", async () => {
  await node("node1").mover.claim(TEST_VIP);
  const result = await node("node2").mover.claim(TEST_VIP);
  assert.equal(result.outcome, "moved");
  assert.equal(holder().instanceName, "node2");
  assert.equal(holder().epoch, 2);
  const log = emulator.state.requestLog.filter((entry) => entry.principal === "instance:node2");
  const last = log.slice(-2).map((entry) => `${entry.method} ${entry.status}`);
  assert.deepEqual(last, ["PUT 200", "GET 200"], "the PUT is read back before success");
});

void test("of two nodes racing for the VIP exactly one moves it and the other stands down", async () => {
  await node("node3").mover.claim(TEST_VIP);
  const racers = [node("node1"), node("node2")];
  await Promise.all(racers.map((racer) => racer.localInstance())); // both authenticated and discovered
  // Slow answers widen the window so both read the same ETag before either writes.
  emulator.faults.setLatency(150);
  moves = [];
  const results = await Promise.all(racers.map((racer) => racer.mover.claim(TEST_VIP)));
  const outcomes = results.map((result) => result.outcome).sort();
  assert.deepEqual(outcomes, ["lost-race", "moved"]);
  assert.equal(moves.length, 1, "exactly one move happened in the cloud");
  const winner = results[0]?.outcome === "moved" ? "node1" : "node2";
  assert.equal(holder().instanceName, winner);
  assert.equal(holder().epoch, 2);
  const rejected = emulator.state.requestLog.filter((entry) => entry.status === 412);
  assert.equal(rejected.length, 1, "the loser's write was refused by if-match");
});

void test("in a partition the displaced node does not take the VIP back while the new holder's lease runs", async () => {
  const a = node("node1");
  const b = node("node2");
  await a.mover.claim(TEST_VIP);
  assert.equal((await b.mover.claim(TEST_VIP)).outcome, "moved"); // B's side decided A is dead
  moves = [];
  const back = await a.mover.claim(TEST_VIP);
  assert.equal(back.outcome, "held-elsewhere");
  assert.equal(
    back.outcome === "held-elsewhere" && back.holderInstanceId,
    emulatedInstance(emulator, "node2").id,
  );
  assert.equal(moves.length, 0, "no second move");
  assert.equal(holder().instanceName, "node2");
});

void test("a displaced node takes the VIP once the holder's lease has expired", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "floatip-mover-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stateFile = join(dir, "mover.json");
  const a = node("node1", { stateFile, leaseMs: 30_000 });
  const b = node("node2", { leaseMs: 30_000 });
  await a.mover.claim(TEST_VIP);
  await b.mover.claim(TEST_VIP);
  assert.equal((await a.mover.claim(TEST_VIP)).outcome, "held-elsewhere");
  // Node1 31 s later (B died and stopped renewing); its state file still says it was displaced.
  const aLater = node("node1", { stateFile, leaseMs: 30_000 }, aheadBy(31_000));
  const result = await aLater.mover.claim(TEST_VIP);
  assert.equal(result.outcome, "moved");
  assert.equal(holder().instanceName, "node1");
  assert.equal(holder().epoch, 3);
});

void test("a displaced node takes the VIP at once after the holder releases it", async () => {
  const a = node("node1");
  const b = node("node2");
  await a.mover.claim(TEST_VIP);
  await b.mover.claim(TEST_VIP);
  assert.equal((await a.mover.claim(TEST_VIP)).outcome, "held-elsewhere");
  assert.deepEqual(await b.mover.release(TEST_VIP), { outcome: "released" });
  assert.equal(holder().tags["floatip-lease"], "0");
  assert.equal(holder().instanceName, "node2", "release never unassigns or deletes the private IP");
  assert.equal((await a.mover.claim(TEST_VIP)).outcome, "moved");
  assert.equal(holder().instanceName, "node1");
});

void test("a claim gets through bursts of 429 and 5xx answers by retrying", async () => {
  const a = node("node1");
  await a.localInstance();
  emulator.faults.failNext(3, 429);
  assert.equal((await a.mover.claim(TEST_VIP)).outcome, "created");
  emulator.faults.failNext(3, 503);
  const b = node("node2");
  await b.localInstance();
  emulator.faults.failNext(3, 502);
  assert.equal((await b.mover.claim(TEST_VIP)).outcome, "moved");
  const statuses = emulator.state.requestLog.map((entry) => entry.status);
  assert.equal(statuses.filter((status) => status === 429).length, 3);
  assert.equal(statuses.filter((status) => status >= 500).length, 6);
});

void test("a claim gets through a request-rate limit with the default backoff", async () => {
  const a = node("node1", { retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2000 } });
  await a.localInstance();
  emulator.faults.setRateLimit({ perSecond: 4, burst: 1 });
  assert.equal((await a.mover.claim(TEST_VIP)).outcome, "created");
  assert.equal(holder().instanceName, "node1");
});

void test("a move still succeeds when every API call takes 2 s", async () => {
  await node("node1").mover.claim(TEST_VIP);
  const b = node("node2", { requestTimeoutMs: 5000 });
  await b.localInstance();
  emulator.faults.setLatency(2000);
  const result = await b.mover.claim(TEST_VIP);
  assert.equal(result.outcome, "moved");
  assert.equal(holder().instanceName, "node2");
});

void test("an outage during a claim is an error, never a success, and moves nothing", async () => {
  await node("node1").mover.claim(TEST_VIP);
  const b = node("node2");
  await b.localInstance();
  emulator.faults.outage(5000);
  await assert.rejects(b.mover.claim(TEST_VIP), /^OciCloudError: FLOATIP_E_OCI_API: ListPrivateIps: 503/);
  emulator.faults.outage(null);
  assert.equal(holder().instanceName, "node1");
});

void test("calls slower than the request timeout fail with a timeout, and their late answers change nothing", async () => {
  await node("node1").mover.claim(TEST_VIP);
  const b = node("node2", {
    requestTimeoutMs: 300,
    retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
  });
  await b.localInstance();
  emulator.faults.setLatency(1000);
  await assert.rejects(
    b.mover.claim(TEST_VIP),
    /FLOATIP_E_OCI_TIMEOUT: ListPrivateIps got no answer within 300 ms/,
  );
  await new Promise((resolve) => setTimeout(resolve, 1200));
  assert.equal(holder().instanceName, "node1");
});
