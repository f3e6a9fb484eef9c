import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentContext, AgentResult, ResourceAgent } from "../agents/agent.ts";
import { ManualClock } from "../clock/manual-clock.ts";
import { resourceSchema } from "../config/schema.ts";
import { silentLogger } from "../observability/logger.ts";
import { INFINITY_FAILCOUNT, LocalExecutor } from "./local-executor.ts";

/** A scripted agent: each operation answers from a queue (or a default), and calls are recorded. */
class ScriptedAgent implements ResourceAgent {
  readonly calls: string[] = [];
  readonly answers: Record<string, AgentResult[]> = {};
  defaults: Record<string, AgentResult> = {
    start: { state: "running" },
    stop: { state: "stopped" },
    monitor: { state: "running" },
    probe: { state: "stopped" },
  };
  private answer(op: string): Promise<AgentResult> {
    this.calls.push(op);
    return Promise.resolve(this.answers[op]?.shift() ?? this.defaults[op] ?? { state: "unknown" });
  }
  start = (_: AgentContext) => this.answer("start");
  stop = (_: AgentContext) => this.answer("stop");
  monitor = (_: AgentContext) => this.answer("monitor");
  probe = (_: AgentContext) => this.answer("probe");
  validate = () => [];
}

const vip = resourceSchema.parse({
  id: "Cluster_VIP",
  type: "ocf:heartbeat:IPaddr2",
  params: { ip: "10.0.0.200" },
  ops: [{ name: "monitor", intervalMs: 10_000, timeoutMs: 20_000 }],
});

async function settle(clock: ManualClock, ms = 0): Promise<void> {
  for (let i = 0; i < 50; i += 1) await new Promise((resolve) => setImmediate(resolve));
  if (ms > 0) await clock.advanceAsync(ms);
  for (let i = 0; i < 50; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

function setup(agent: ScriptedAgent) {
  const clock = new ManualClock(1_000);
  let changes = 0;
  const executor = new LocalExecutor({
    resolveAgent: () => agent,
    clock,
    logger: silentLogger(),
    events: { onChange: () => (changes += 1) },
  });
  executor.setResources([vip]);
  return { clock, executor, changes: () => changes };
}

void test("probes a new resource before reporting it, and starts it on request", async () => {
  const agent = new ScriptedAgent();
  const { clock, executor } = setup(agent);
  assert.equal(executor.allProbed, false);
  await settle(clock);
  assert.equal(executor.allProbed, true);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "running");
  assert.deepEqual(agent.calls, ["probe", "start"]);
});

void test("a monitor failure counts one failure; a cloud 'unknown' in monitor counts none", async () => {
  const agent = new ScriptedAgent();
  const { clock, executor } = setup(agent);
  await settle(clock);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  agent.answers["monitor"] = [
    { state: "unknown", message: "cloud check unknown: 503" },
    { state: "stopped" },
  ];
  await settle(clock, 10_000);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "running");
  assert.equal(executor.report()["Cluster_VIP"]?.failCount, 0);
  await settle(clock, 10_000);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "failed");
  assert.equal(executor.report()["Cluster_VIP"]?.failCount, 1);
});

void test("a stop requested while a monitor runs is kept and run afterwards", async () => {
  const agent = new ScriptedAgent();
  const { clock, executor } = setup(agent);
  await settle(clock);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  // The failing monitor reports the failure; the coordinator's stop arrives while the monitor is busy.
  agent.answers["monitor"] = [{ state: "stopped" }];
  const originalMonitor = agent.monitor;
  agent.monitor = async (ctx) => {
    const result = await originalMonitor(ctx);
    executor.apply([{ op: "stop", resource: "Cluster_VIP" }]);
    return result;
  };
  await settle(clock, 10_000);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "stopped");
  assert.deepEqual(agent.calls.slice(-2), ["monitor", "stop"]);
});

void test("a start that fails bans the node (INFINITY), but an unknown start only counts one and stays retryable", async () => {
  const agent = new ScriptedAgent();
  const { clock, executor } = setup(agent);
  await settle(clock);
  agent.answers["start"] = [{ state: "unknown", message: "cloud move failed: 503" }, { state: "failed" }];
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "stopped");
  assert.equal(executor.report()["Cluster_VIP"]?.failCount, 1);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "failed");
  assert.equal(executor.report()["Cluster_VIP"]?.failCount, INFINITY_FAILCOUNT);
});

void test("a VIP displaced by a newer cloud holder is unknown (not failed) until a later probe finds it free", async () => {
  const agent = new ScriptedAgent();
  const { clock, executor } = setup(agent);
  await settle(clock);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  agent.answers["monitor"] = [
    { state: "stopped", displaced: true, message: "FLOATIP_E_VIP_HELD_ELSEWHERE: ..." },
  ];
  await settle(clock, 10_000);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "unknown");
  assert.equal(executor.report()["Cluster_VIP"]?.failCount, 0);
  await settle(clock, 10_000);
  assert.deepEqual(agent.calls.slice(-2), ["monitor", "probe"], agent.calls.join());
  assert.equal(executor.report()["Cluster_VIP"]?.state, "stopped");
});

void test("an operation that outlives its timeout is abandoned and reported", async () => {
  const agent = new ScriptedAgent();
  const { clock, executor } = setup(agent);
  await settle(clock);
  agent.start = () => new Promise<AgentResult>(() => undefined);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock, 20_000);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "failed");
  assert.match(executor.report()["Cluster_VIP"]?.message ?? "", /timed out/);
});

void test("reprobeUnknown probes a displaced resource at once instead of waiting for the recheck", async () => {
  const agent = new ScriptedAgent();
  const { clock, executor } = setup(agent);
  await settle(clock);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  agent.answers["monitor"] = [
    { state: "stopped", displaced: true, message: "FLOATIP_E_VIP_HELD_ELSEWHERE: ..." },
  ];
  await settle(clock, 10_000);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "unknown");
  executor.reprobeUnknown();
  await settle(clock);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "stopped");
  assert.deepEqual(agent.calls.slice(-1), ["probe"]);
});

void test("a holder's handover hint is reported while running, and a peer's hint is handed to the next start", async () => {
  const agent = new ScriptedAgent();
  const contexts: AgentContext[] = [];
  agent.start = (ctx: AgentContext) => {
    contexts.push(ctx);
    return Promise.resolve({ state: "running", handoverHint: "own-1" });
  };
  agent.defaults.monitor = { state: "running", handoverHint: "own-2" };
  const { clock, executor } = setup(agent);
  await settle(clock);
  executor.notePeerHint("Cluster_VIP", "peer-hint");
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  assert.equal(contexts[0]?.peerHint, "peer-hint");
  assert.equal(executor.report().Cluster_VIP?.hint, "own-1");
  await settle(clock, 10_000);
  assert.equal(executor.report().Cluster_VIP?.hint, "own-2", "a monitor refreshes the hint");
  executor.apply([{ op: "stop", resource: "Cluster_VIP" }]);
  await settle(clock);
  assert.equal(executor.report().Cluster_VIP?.hint, undefined, "a stopped resource offers no hint");
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  assert.equal(contexts[1]?.peerHint, undefined, "a peer's hint is used for one start only");
});

void test("a stop that leaves a handover hint (a released lease) reports it while stopped; a peer's hint is not kept while running here", async () => {
  const agent = new ScriptedAgent();
  const contexts: AgentContext[] = [];
  agent.start = (ctx: AgentContext) => {
    contexts.push(ctx);
    return Promise.resolve({ state: "running", handoverHint: "own-1" });
  };
  agent.defaults.monitor = { state: "running", handoverHint: "own-1" };
  agent.defaults.stop = { state: "stopped", handoverHint: "released-1" };
  const { clock, executor } = setup(agent);
  await settle(clock);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  executor.notePeerHint("Cluster_VIP", "peer-stale");
  executor.apply([{ op: "stop", resource: "Cluster_VIP" }]);
  await settle(clock);
  assert.equal(executor.report().Cluster_VIP?.state, "stopped");
  assert.equal(executor.report().Cluster_VIP?.hint, "released-1");
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  assert.equal(contexts[1]?.peerHint, undefined, "a hint noted while the resource ran here is not used");
});

void test("a monitor that returns a new handover hint (a renewed lease) reports a change, an unchanged one does not", async () => {
  const agent = new ScriptedAgent();
  agent.start = () => Promise.resolve({ state: "running", handoverHint: "etag-1" });
  agent.answers.monitor = [
    { state: "running", handoverHint: "etag-1" },
    { state: "running", handoverHint: "etag-2" },
    { state: "running", handoverHint: "etag-2" },
  ];
  const { clock, executor, changes } = setup(agent);
  await settle(clock);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  const afterStart = changes();
  await settle(clock, 10_000);
  assert.equal(changes(), afterStart, "the same hint: nothing to gossip");
  await settle(clock, 10_000);
  assert.equal(executor.report().Cluster_VIP?.hint, "etag-2");
  assert.equal(changes(), afterStart + 1, "a new hint is published at once, not at the next state change");
  await settle(clock, 10_000);
  assert.equal(changes(), afterStart + 1);
});

void test("a hint-only change goes to onHintChange when given (no new decision), a state change still to onChange", async () => {
  const agent = new ScriptedAgent();
  agent.start = () => Promise.resolve({ state: "running", handoverHint: "etag-1" });
  agent.answers.monitor = [{ state: "running", handoverHint: "etag-2" }, { state: "failed" }];
  const clock = new ManualClock(1_000);
  const seen: string[] = [];
  const executor = new LocalExecutor({
    resolveAgent: () => agent,
    clock,
    logger: silentLogger(),
    events: { onChange: () => seen.push("change"), onHintChange: () => seen.push("hint") },
  });
  executor.setResources([vip]);
  await settle(clock);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock);
  seen.length = 0;
  await settle(clock, 10_000);
  assert.deepEqual(seen, ["hint"]);
  await settle(clock, 10_000);
  assert.ok(seen.slice(1).includes("change"), `events: ${seen.join(", ")}`);
  assert.ok(!seen.slice(1).includes("hint"));
});

void test("a start begun while a peer was lost is abandoned when that peer joins again; it stays retryable", async () => {
  const agent = new ScriptedAgent();
  const { clock, executor } = setup(agent);
  await settle(clock);
  let seen: AbortSignal | undefined;
  // A cloud move that hangs, as one whose link is down does.
  agent.start = (ctx: AgentContext) => {
    seen = ctx.signal;
    return new Promise<AgentResult>(() => {});
  };
  executor.peerLost("node1");
  await settle(clock, 1_000);
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock, 2_000);
  executor.peerJoined("node1");
  await settle(clock);
  assert.equal(seen?.aborted, true, "the agent's signal is aborted, so its cloud call is cancelled");
  const report = executor.report()["Cluster_VIP"];
  assert.equal(report?.state, "stopped");
  assert.match(report?.message ?? "", /start abandoned: node1, lost when this start began, is back/);
  assert.ok((report?.failCount ?? 0) < INFINITY_FAILCOUNT, "not banned: the node may be asked again");
});

void test("a start begun before a peer was lost, or while another peer was lost, is not abandoned by a join", async () => {
  const agent = new ScriptedAgent();
  const { clock, executor } = setup(agent);
  await settle(clock);
  let seen: AbortSignal | undefined;
  let finish: ((result: AgentResult) => void) | undefined;
  agent.start = (ctx: AgentContext) => {
    seen = ctx.signal;
    return new Promise<AgentResult>((resolve) => (finish = resolve));
  };
  executor.apply([{ op: "start", resource: "Cluster_VIP" }]);
  await settle(clock, 500);
  executor.peerLost("node1");
  executor.peerJoined("node1");
  executor.peerJoined("node3"); // never lost here: nothing to abandon
  await settle(clock);
  assert.equal(seen?.aborted, false);
  finish?.({ state: "running" });
  await settle(clock);
  assert.equal(executor.report()["Cluster_VIP"]?.state, "running");
});
