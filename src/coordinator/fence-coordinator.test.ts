import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../clock/manual-clock.ts";
import { clusterConfigSchema, type ClusterConfig } from "../config/schema.ts";
import { decide } from "../policy/decide.ts";
import type { DeviceOutcome, FenceDevice } from "../fencing/types.ts";
import { noticesOf } from "../observability/alert-runner.ts";
import { EventLog } from "../observability/event-log.ts";
import { silentLogger } from "../observability/logger.ts";
import { NodeFencing } from "./fence-coordinator.ts";
import type { NodeReport } from "./node-report.ts";

const config: ClusterConfig = clusterConfigSchema.parse({
  formatVersion: 1,
  name: "c",
  epoch: 1,
  nodes: [
    { name: "node1", id: 1, addrs: ["10.0.0.11"] },
    { name: "node2", id: 2, addrs: ["10.0.0.12"] },
  ],
  properties: { cloud: "oci", "stonith-timeout": "10s" },
  resources: [
    { id: "Cluster_VIP", type: "ocf:heartbeat:IPaddr2", params: { ip: "10.0.0.200" } },
    { id: "App", type: "ocf:heartbeat:Dummy" },
  ],
  stonith: [{ id: "F", type: "fence_oci" }],
});

function report(resources: NodeReport["resources"], instanceId?: string): NodeReport {
  return {
    v: 1,
    name: "node1",
    configEpoch: 1,
    configHash: "h",
    probed: true,
    leaving: false,
    resources,
    ...(instanceId ? { instanceId } : {}),
  };
}

/** A device whose outcomes the test scripts, recording each call. */
function scriptedDevice(outcomes: DeviceOutcome[], calls: string[]): FenceDevice {
  return {
    id: "F",
    type: "fence_oci",
    canFence: (node) => node === "node1",
    run: (node, action) => {
      calls.push(`${action} ${node}`);
      return Promise.resolve(outcomes.shift() ?? { ok: true, message: "done" });
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}

function harness(outcomes: DeviceOutcome[]) {
  const clock = new ManualClock(1000);
  const calls: string[] = [];
  const events = new EventLog({ node: () => "node2", now: () => clock.now() });
  let changes = 0;
  const device = scriptedDevice(outcomes, calls);
  const fencing = new NodeFencing({
    selfName: "node2",
    clock,
    wallNow: () => clock.now(),
    logger: silentLogger(),
    events,
    devicesFor: () => [{ device, delayMs: 0 }],
    config: () => config,
    onChange: () => changes++,
    retryDelayMs: 5000,
  });
  const round = () => {
    const decision = decide({
      config,
      view: { online: ["node2"], quorate: true },
      status: { node2: { probed: true, resources: {} } },
      nowMs: clock.now(),
      lost: fencing.lostNodes(config, ["node2"]),
    });
    fencing.execute(decision.fencing);
    return decision;
  };
  return { clock, calls, events, fencing, round, changes: () => changes };
}

void test("a lost node with App running is fenced once, then App may start on the survivor", async () => {
  const h = harness([{ ok: true, power: "on", message: "RESET done" }]);
  h.fencing.observe("node1", 7n, report({ App: { state: "running", failCount: 0 } }, "ocid1.instance.n1"));
  h.fencing.nodeLost("node1", report({ App: { state: "running", failCount: 0 } }));
  const first = h.round();
  assert.deepEqual(first.fencing, [{ node: "node1", action: "reboot" }]);
  assert.equal(first.placement["App"], null);
  assert.deepEqual(h.fencing.view().pending, ["node1"]);
  h.round();
  await settle();
  assert.deepEqual(h.calls, ["reboot node1"], "one fence, not one per round");
  assert.equal(h.changes(), 1);
  const after = h.round();
  assert.deepEqual(after.fencing, []);
  assert.deepEqual(
    after.actions.filter((a) => a.resource === "App"),
    [{ op: "start", resource: "App", node: "node2" }],
  );
  assert.deepEqual(h.fencing.view().fenced, ["node1"]);
  const phases = h.events.since(0, ["fencing"]).map((e) => e.data["phase"]);
  assert.deepEqual(phases, ["requested", "succeeded"]);
  const done = h.events.since(0, ["fencing"])[1];
  assert.equal(done?.data["target"], "node1");
  assert.equal(done?.data["rc"], 0);
  assert.equal(h.fencing.history("node1")[0]?.state, "done");
  assert.equal(h.fencing.instanceIdOf("node1"), "ocid1.instance.n1");
});

void test("a failed fence is recorded and retried after the backoff, and the resource keeps waiting", async () => {
  const h = harness([
    { ok: false, message: "API down" },
    { ok: false, message: "API down" },
    { ok: true, message: "STOPPED" },
  ]);
  h.fencing.nodeLost("node1", report({ App: { state: "running", failCount: 0 } }));
  h.round();
  await settle();
  assert.deepEqual(h.calls, ["reboot node1"]);
  // The fencer retries each device once after 1 s before giving up on the round.
  h.clock.advance(1000);
  await settle();
  assert.equal(h.calls.length, 2);
  assert.equal(h.fencing.history()[0]?.state, "failed");
  assert.equal(h.round().placement["App"], null, "no start while unfenced");
  await settle();
  assert.equal(h.calls.length, 2, "no new try before the retry delay");
  h.clock.advance(5000);
  assert.equal(h.changes(), 1, "the retry timer asks the DC to decide again");
  h.round();
  await settle();
  assert.equal(h.calls.length, 3);
  assert.deepEqual(
    h.events.since(0, ["fencing"]).map((e) => e.data["phase"]),
    ["requested", "failed", "requested", "succeeded"],
  );
});

void test("a fenced node stays clean when lost again, until it returns with a new incarnation", async () => {
  const h = harness([]);
  h.fencing.observe("node1", 1n, report({ App: { state: "running", failCount: 0 } }));
  const manual = await h.fencing.fence("node1", "off", "manual");
  assert.equal(manual.ok, true);
  h.fencing.nodeLost("node1", report({ App: { state: "running", failCount: 0 } }));
  assert.deepEqual(h.fencing.lostNodes(config, ["node2"]), {});
  h.fencing.nodeJoined("node1");
  h.fencing.observe("node1", 2n, report({}));
  h.fencing.nodeLost("node1", report({ App: { state: "running", failCount: 0 } }));
  assert.deepEqual(Object.keys(h.fencing.lostNodes(config, ["node2"])), ["node1"]);
});

void test("a lost node that comes back before it is fenced is no longer unclean", () => {
  const h = harness([]);
  h.fencing.nodeLost("node1", report({ App: { state: "running", failCount: 0 } }));
  h.fencing.nodeJoined("node1");
  assert.deepEqual(h.fencing.lostNodes(config, ["node1", "node2"]), {});
});

void test("fence results raise Pacemaker fencing alerts, requests do not", async () => {
  const h = harness([{ ok: true, message: "STOPPED" }]);
  h.fencing.nodeLost("node1", report({ App: { state: "running", failCount: 0 } }));
  h.round();
  await settle();
  const ctx = { nodeIdOf: () => 1, monitorIntervalMsOf: () => 0 };
  const notices = h.events.since(0, ["fencing"]).flatMap((e) => noticesOf(e, ctx));
  assert.equal(notices.length, 1);
  assert.equal(notices[0]?.kind, "fencing");
  assert.equal(notices[0]?.node, "node1");
  assert.equal(notices[0]?.fields.desc, "Operation reboot of node1 by node2: OK");
});

void test("a node the DC reports as fenced is clean on the other nodes too", () => {
  const h = harness([]);
  h.fencing.observe("node1", 3n, report({ App: { state: "running", failCount: 0 } }));
  h.fencing.nodeLost("node1", report({ App: { state: "running", failCount: 0 } }));
  h.fencing.adoptFenced(["node1"]);
  assert.deepEqual(h.fencing.lostNodes(config, ["node2"]), {});
  assert.deepEqual(h.fencing.view().fenced, ["node1"]);
  h.fencing.observe("node1", 4n, report({}));
  assert.deepEqual(h.fencing.view().fenced, [], "back as a new incarnation: tracked again");
});
