import assert from "node:assert/strict";
import { test } from "node:test";
import { EventLog } from "./event-log.ts";
import { ClusterMetrics, type MetricsStatus } from "./metrics.ts";

const NOW = 1_700_000_000_000;

function status(overrides: Partial<MetricsStatus> = {}): MetricsStatus {
  return {
    nodeName: "node1",
    running: true,
    dc: "node1",
    quorate: true,
    online: ["node1", "node2"],
    offline: ["node3"],
    configEpoch: 7,
    resources: [{ id: "vip", runningOn: ["node2"], failedOn: ["node1"], failCounts: { node1: 3 } }],
    membership: {
      sent: 120,
      received: 120,
      accepted: 75,
      duplicates: 40,
      rejected: { badMac: 2, replay: 3, unknownSender: 0 },
      peers: { 2: NOW - 250, 3: null },
      lost: { 2: 4, 3: 0 },
      rttMs: { 2: 0.4, 3: null },
    },
    config: {
      nodes: [
        { id: 1, name: "node1" },
        { id: 2, name: "node2" },
        { id: 3, name: "node3" },
      ],
    },
    ...overrides,
  };
}

function setup(current: () => MetricsStatus = () => status()) {
  const events = new EventLog({ node: () => "node1", now: () => NOW });
  const metrics = new ClusterMetrics({ events, collect: current, now: () => NOW });
  return { events, metrics };
}

/** The value of one sample line, e.g. `floatip_quorate` or `floatip_node_online{node="node1"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

void test("a failover is counted by resource and cause, with its outage and phases in histograms of seconds", async () => {
  const { events, metrics } = setup();
  events.record({
    type: "failover",
    summary: "vip moved",
    data: {
      resource: "vip",
      from: "node1",
      to: "node2",
      cause: "node-lost",
      detectMs: 1500,
      decideMs: 20,
      startMs: 2480,
      totalMs: 4000,
    },
  });
  events.record({
    type: "failover",
    summary: "vip moved back",
    data: {
      resource: "vip",
      from: "node2",
      to: "node1",
      cause: "node-lost",
      detectMs: 1000,
      decideMs: 10,
      startMs: 990,
      totalMs: 2000,
    },
  });
  const text = await metrics.text();
  const labels = '{resource="vip",cause="node-lost"}';
  assert.equal(sample(text, `floatip_failovers_total${labels}`), 2);
  assert.equal(sample(text, `floatip_failover_duration_seconds_count${labels}`), 2);
  assert.equal(sample(text, `floatip_failover_duration_seconds_sum${labels}`), 6);
  assert.equal(
    sample(text, 'floatip_failover_duration_seconds_bucket{le="3",resource="vip",cause="node-lost"}'),
    1,
  );
  assert.equal(sample(text, 'floatip_failover_phase_duration_seconds_sum{phase="detect"}'), 2.5);
  assert.equal(sample(text, 'floatip_failover_phase_duration_seconds_count{phase="decide"}'), 2);
  assert.match(text, /# HELP floatip_failover_duration_seconds Outage of a failover/);
  assert.match(text, /# TYPE floatip_failover_duration_seconds histogram/);
  metrics.close();
});

void test("cloud API calls are counted by operation and status, throttling (429) and no answer apart", async () => {
  const { events, metrics } = setup();
  const call = (status: number | null, latencyMs: number) =>
    events.record({
      type: "cloud-call",
      summary: "call",
      data: { op: "updatePrivateIp", method: "PUT", status, latencyMs, opcRequestId: "r" },
    });
  call(429, 100);
  call(429, 120);
  call(null, 10_000);
  call(200, 300);
  const text = await metrics.text();
  assert.equal(sample(text, 'floatip_cloud_api_calls_total{op="updatePrivateIp",status="429"}'), 2);
  assert.equal(sample(text, 'floatip_cloud_api_calls_total{op="updatePrivateIp",status="no_answer"}'), 1);
  assert.equal(sample(text, 'floatip_cloud_api_calls_total{op="updatePrivateIp",status="200"}'), 1);
  assert.equal(sample(text, 'floatip_cloud_api_call_duration_seconds_count{op="updatePrivateIp"}'), 4);
  const latency = sample(text, 'floatip_cloud_api_call_duration_seconds_sum{op="updatePrivateIp"}') ?? 0;
  assert.ok(Math.abs(latency - 10.52) < 1e-9, String(latency));
  metrics.close();
});

void test("start and stop results, monitor failures and membership changes are counted", async () => {
  const { events, metrics } = setup();
  const action = (op: string, state: string) =>
    events.record({
      type: "action",
      summary: op,
      data: { resource: "vip", op, state, durationMs: 500, failCount: 0 },
    });
  action("start", "running");
  action("start", "failed");
  action("stop", "stopped");
  events.record({
    type: "resource",
    summary: "monitor vip: failed",
    data: { resource: "vip", op: "monitor", state: "failed", durationMs: 5, failCount: 1 },
  });
  events.record({
    type: "membership",
    summary: "node3 lost",
    data: { online: ["node1", "node2"], joined: [], lost: ["node3"], restarted: [] },
  });
  const text = await metrics.text();
  assert.equal(sample(text, 'floatip_resource_actions_total{resource="vip",op="start",result="ok"}'), 1);
  assert.equal(sample(text, 'floatip_resource_actions_total{resource="vip",op="start",result="failed"}'), 1);
  assert.equal(sample(text, 'floatip_resource_actions_total{resource="vip",op="stop",result="ok"}'), 1);
  assert.equal(sample(text, 'floatip_resource_action_duration_seconds_sum{op="start"}'), 1);
  assert.equal(sample(text, 'floatip_monitor_failures_total{resource="vip"}'), 1);
  assert.equal(sample(text, 'floatip_membership_changes_total{node="node3",change="lost"}'), 1);
  metrics.close();
});

void test("nodes, quorum, the DC role, resources and the configuration epoch are read from the status at scrape time", async () => {
  let current = status();
  const { metrics } = setup(() => current);
  let text = await metrics.text();
  assert.equal(sample(text, 'floatip_node_online{node="node1"}'), 1);
  assert.equal(sample(text, 'floatip_node_online{node="node3"}'), 0);
  assert.equal(sample(text, "floatip_quorate"), 1);
  assert.equal(sample(text, "floatip_is_dc"), 1);
  assert.equal(sample(text, "floatip_cluster_services_running"), 1);
  assert.equal(sample(text, "floatip_config_epoch"), 7);
  assert.equal(sample(text, 'floatip_resource_running{resource="vip",node="node2"}'), 1);
  assert.equal(sample(text, 'floatip_resource_running{resource="vip",node="node1"}'), 0);
  assert.equal(sample(text, 'floatip_resource_failed{resource="vip",node="node1"}'), 1);
  assert.equal(sample(text, 'floatip_resource_fail_count{resource="vip",node="node1"}'), 3);
  assert.equal(sample(text, 'floatip_resource_fail_count{resource="vip",node="node2"}'), 0);

  current = status({ dc: "node2", quorate: false, online: ["node1"], offline: ["node2"], resources: [] });
  text = await metrics.text();
  assert.equal(sample(text, "floatip_is_dc"), 0);
  assert.equal(sample(text, "floatip_quorate"), 0);
  assert.equal(sample(text, 'floatip_node_online{node="node2"}'), 0);
  assert.equal(sample(text, 'floatip_node_online{node="node3"}'), undefined, "a removed node disappears");
  assert.doesNotMatch(text, /floatip_resource_running\{/, "a deleted resource disappears");
  metrics.close();
});

void test("heartbeat counters by rejection reason, per-peer loss and silence come from the membership stats", async () => {
  const { metrics } = setup();
  const text = await metrics.text();
  assert.equal(sample(text, "floatip_heartbeat_packets_sent_total"), 120);
  assert.equal(sample(text, "floatip_heartbeat_packets_received_total"), 120);
  assert.equal(sample(text, "floatip_heartbeat_packets_accepted_total"), 75);
  assert.equal(sample(text, "floatip_heartbeat_packets_duplicate_total"), 40);
  assert.equal(sample(text, 'floatip_heartbeat_packets_rejected_total{reason="bad_mac"}'), 2);
  assert.equal(sample(text, 'floatip_heartbeat_packets_rejected_total{reason="replay"}'), 3);
  assert.equal(sample(text, 'floatip_heartbeat_packets_lost_total{peer="node2"}'), 4);
  assert.equal(sample(text, 'floatip_heartbeat_rtt_seconds{peer="node2"}'), 0.0004);
  assert.equal(
    sample(text, 'floatip_heartbeat_rtt_seconds{peer="node3"}'),
    undefined,
    "no RTT before one was measured",
  );
  assert.equal(sample(text, 'floatip_heartbeat_age_seconds{peer="node2"}'), 0.25);
  assert.equal(sample(text, 'floatip_heartbeat_age_seconds{peer="node3"}'), undefined, "never heard");
  metrics.close();
});

void test("a stopped node exposes no heartbeat peers and no DC role, and malformed events count nothing", async () => {
  const { events, metrics } = setup(() =>
    status({ running: false, dc: null, quorate: false, membership: null, configEpoch: null }),
  );
  events.record({ type: "failover", summary: "broken", data: { resource: "vip" } });
  events.record({ type: "cloud-call", summary: "broken", data: { op: 5 } });
  const text = await metrics.text();
  assert.equal(sample(text, "floatip_is_dc"), 0);
  assert.equal(sample(text, "floatip_cluster_services_running"), 0);
  assert.doesNotMatch(text, /floatip_heartbeat_age_seconds\{/);
  assert.equal(sample(text, "floatip_config_epoch"), 0);
  assert.doesNotMatch(text, /^floatip_failovers_total\{/m);
  assert.doesNotMatch(text, /^floatip_cloud_api_calls_total\{/m);
  metrics.close();
});

void test("metrics live on their own registry and every name carries the floatip_ prefix and a HELP text", async () => {
  const { metrics } = setup();
  const other = setup();
  const text = await metrics.text();
  const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? "");
  assert.ok(names.length >= 20, names.join(", "));
  for (const name of names) {
    assert.match(name, /^floatip_/);
    assert.match(text, new RegExp(`^# HELP ${name} \\S`, "m"));
  }
  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  metrics.close();
  other.metrics.close();
});
