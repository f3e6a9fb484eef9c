import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { z } from "zod";
import type { ClusterEvent, EventLog } from "./event-log.ts";

/**
 * What a scrape reads from the daemon's status snapshot. The api layer's StatusSnapshot fits it; it is
 * spelled out here because observability sits below api and membership and must not import them.
 */
export interface MetricsStatus {
  nodeName: string | null;
  /** Whether this node's cluster services run. */
  running: boolean;
  dc: string | null;
  quorate: boolean;
  online: readonly string[];
  offline: readonly string[];
  configEpoch: number | null;
  resources: readonly {
    id: string;
    runningOn: readonly string[];
    failedOn: readonly string[];
    failCounts: Readonly<Record<string, number>>;
  }[];
  /** Membership stats while cluster services run, else null; checked at each scrape. */
  membership: unknown;
  config: { nodes: readonly { id: number; name: string }[] } | null;
}

export interface ClusterMetricsOptions {
  /** Counted from the moment of construction: events already in the log are not replayed. */
  events: EventLog;
  /** A fresh status at every scrape. */
  collect: () => MetricsStatus;
  /** The clock that stamped the membership's last-heard times. */
  now: () => number;
}

/** Failovers take from a fraction of a second (a failed resource) to about a minute (a slow cloud API). */
const FAILOVER_BUCKETS = [0.2, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60];
/** The phases range from milliseconds (decide) to the token and the cloud move (seconds). */
const PHASE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60];
const CLOUD_CALL_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60];
const ACTION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60];

const seconds = z.number().finite().nonnegative();
const failoverData = z.object({
  resource: z.string(),
  cause: z.string(),
  detectMs: seconds,
  decideMs: seconds,
  startMs: seconds,
  totalMs: seconds,
});
const cloudCallData = z.object({ op: z.string(), status: z.number().int().nullable(), latencyMs: seconds });
const actionData = z.object({ resource: z.string(), op: z.string(), state: z.string(), durationMs: seconds });
const resourceData = z.object({ resource: z.string() });
const membershipData = z.object({
  joined: z.array(z.string()).default([]),
  lost: z.array(z.string()).default([]),
  restarted: z.array(z.string()).default([]),
});
const count = z.number().finite().nonnegative();
const membershipStats = z.object({
  sent: count,
  received: count,
  accepted: count.optional(),
  duplicates: count.optional(),
  rejected: z.record(z.string(), count),
  peers: z.record(z.string(), z.number().finite().nullable()),
  lost: z.record(z.string(), count).optional(),
  rttMs: z.record(z.string(), z.number().finite().nullable()).optional(),
});

/**
 * This node's metrics in the Prometheus text format, on a registry of its own. What happens (failovers,
 * cloud calls, actions, monitor failures, membership changes) is counted from the event log as it comes;
 * what is (nodes, quorum, resources, heartbeats) is read from a fresh status at each scrape.
 */
export class ClusterMetrics {
  readonly registry = new Registry();
  readonly #collect: () => MetricsStatus;
  readonly #now: () => number;
  readonly #events: EventLog;
  readonly #m;

  constructor(options: ClusterMetricsOptions) {
    this.#collect = options.collect;
    this.#now = options.now;
    this.#events = options.events;
    this.#m = { ...this.#eventMetrics(), ...this.#statusMetrics() };
    this.#events.on("event", this.#onEvent);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, with the status-based metrics read now. */
  async text(): Promise<string> {
    this.#update(this.#collect());
    return this.registry.metrics();
  }

  /** Stops counting events. */
  close(): void {
    this.#events.off("event", this.#onEvent);
  }

  readonly #onEvent = (event: ClusterEvent): void => {
    // The event log's callers (the coordinator, the executor) must never fail because of a metric.
    try {
      this.#count(event);
    } catch {
      // A metric lost is better than a decision lost; the event itself stays in the log.
    }
  };

  #count(event: ClusterEvent): void {
    const m = this.#m;
    switch (event.type) {
      case "failover": {
        const f = failoverData.safeParse(event.data);
        if (!f.success) return;
        const { resource, cause } = f.data;
        m.failovers.inc({ resource, cause });
        m.failoverDuration.observe({ resource, cause }, f.data.totalMs / 1000);
        m.failoverPhase.observe({ phase: "detect" }, f.data.detectMs / 1000);
        m.failoverPhase.observe({ phase: "decide" }, f.data.decideMs / 1000);
        m.failoverPhase.observe({ phase: "start" }, f.data.startMs / 1000);
        return;
      }
      case "cloud-call": {
        const c = cloudCallData.safeParse(event.data);
        if (!c.success) return;
        const status = c.data.status === null ? "no_answer" : String(c.data.status);
        m.cloudCalls.inc({ op: c.data.op, status });
        m.cloudCallDuration.observe({ op: c.data.op }, c.data.latencyMs / 1000);
        return;
      }
      case "action": {
        const a = actionData.safeParse(event.data);
        if (!a.success) return;
        m.actions.inc({ resource: a.data.resource, op: a.data.op, result: actionResult(a.data) });
        m.actionDuration.observe({ op: a.data.op }, a.data.durationMs / 1000);
        return;
      }
      case "resource": {
        const r = resourceData.safeParse(event.data);
        if (r.success) m.monitorFailures.inc({ resource: r.data.resource });
        return;
      }
      case "membership": {
        const v = membershipData.safeParse(event.data);
        if (!v.success) return;
        for (const change of ["joined", "lost", "restarted"] as const)
          for (const node of v.data[change]) m.membershipChanges.inc({ node, change });
        return;
      }
      default:
        return;
    }
  }

  #update(status: MetricsStatus): void {
    const m = this.#m;
    const nodes = [...status.online, ...status.offline];
    for (const gauge of [m.nodeOnline, m.resourceRunning, m.resourceFailed, m.failCount]) gauge.reset();
    for (const node of nodes) m.nodeOnline.set({ node }, status.online.includes(node) ? 1 : 0);
    m.quorate.set(status.quorate ? 1 : 0);
    m.running.set(status.running ? 1 : 0);
    m.isDc.set(status.running && status.dc !== null && status.dc === status.nodeName ? 1 : 0);
    m.configEpoch.set(status.configEpoch ?? 0);
    for (const r of status.resources) {
      for (const node of nodes) {
        const labels = { resource: r.id, node };
        m.resourceRunning.set(labels, r.runningOn.includes(node) ? 1 : 0);
        m.resourceFailed.set(labels, r.failedOn.includes(node) ? 1 : 0);
        m.failCount.set(labels, r.failCounts[node] ?? 0);
      }
    }
    this.#updateHeartbeats(status);
  }

  #updateHeartbeats(status: MetricsStatus): void {
    const m = this.#m;
    for (const metric of [m.hbSent, m.hbReceived, m.hbAccepted, m.hbDuplicates, m.hbRejected, m.hbLost])
      metric.reset();
    m.hbAge.reset();
    const stats = membershipStats.safeParse(status.membership);
    if (!stats.success) return;
    const s = stats.data;
    m.hbSent.inc(s.sent);
    m.hbReceived.inc(s.received);
    if (s.accepted !== undefined) m.hbAccepted.inc(s.accepted);
    if (s.duplicates !== undefined) m.hbDuplicates.inc(s.duplicates);
    for (const [reason, n] of Object.entries(s.rejected)) m.hbRejected.inc({ reason: snakeCase(reason) }, n);
    const nameOf = new Map((status.config?.nodes ?? []).map((n) => [String(n.id), n.name]));
    const now = this.#now();
    for (const [id, lastHeard] of Object.entries(s.peers)) {
      const peer = nameOf.get(id) ?? id;
      if (lastHeard !== null) m.hbAge.set({ peer }, Math.max(0, now - lastHeard) / 1000);
      m.hbLost.inc({ peer }, s.lost?.[id] ?? 0);
      const rtt = s.rttMs?.[id];
      if (rtt !== null && rtt !== undefined) m.hbRtt.set({ peer }, rtt / 1000);
    }
  }

  #eventMetrics() {
    const registers = [this.registry];
    return {
      failovers: new Counter({
        name: "floatip_failovers_total",
        help: "Resources moved to another node after a node loss or a resource failure, as measured by this node while it was the coordinator (DC).",
        labelNames: ["resource", "cause"] as const,
        registers,
      }),
      failoverDuration: new Histogram({
        name: "floatip_failover_duration_seconds",
        help: "Outage of a failover: from the last heartbeat of the lost node (or the failure report) until the resource ran on its new node.",
        labelNames: ["resource", "cause"] as const,
        buckets: FAILOVER_BUCKETS,
        registers,
      }),
      failoverPhase: new Histogram({
        name: "floatip_failover_phase_duration_seconds",
        help: "Phases of a failover: detect (last heartbeat to loss declared), decide (loss to start requested), start (start requested to running, the cloud move included).",
        labelNames: ["phase"] as const,
        buckets: PHASE_BUCKETS,
        registers,
      }),
      cloudCalls: new Counter({
        name: "floatip_cloud_api_calls_total",
        help: 'Cloud API calls (every attempt, retries included) by operation and HTTP status; status "429" is throttling, "no_answer" a timeout or network error.',
        labelNames: ["op", "status"] as const,
        registers,
      }),
      cloudCallDuration: new Histogram({
        name: "floatip_cloud_api_call_duration_seconds",
        help: "Latency of cloud API calls by operation, answered or not.",
        labelNames: ["op"] as const,
        buckets: CLOUD_CALL_BUCKETS,
        registers,
      }),
      actions: new Counter({
        name: "floatip_resource_actions_total",
        help: 'Start and stop actions run on this node, by resource, operation and result ("ok" or "failed").',
        labelNames: ["resource", "op", "result"] as const,
        registers,
      }),
      actionDuration: new Histogram({
        name: "floatip_resource_action_duration_seconds",
        help: "Duration of start and stop actions run on this node.",
        labelNames: ["op"] as const,
        buckets: ACTION_BUCKETS,
        registers,
      }),
      monitorFailures: new Counter({
        name: "floatip_monitor_failures_total",
        help: "Monitor operations on this node that found a resource failed or unknown.",
        labelNames: ["resource"] as const,
        registers,
      }),
      membershipChanges: new Counter({
        name: "floatip_membership_changes_total",
        help: "Membership changes seen by this node: a node joined, was lost, or restarted faster than the token.",
        labelNames: ["node", "change"] as const,
        registers,
      }),
    };
  }

  #statusMetrics() {
    const registers = [this.registry];
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Gauge<L>({ name, help, labelNames, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    return {
      nodeOnline: gauge(
        "floatip_node_online",
        "1 if the configured node is in this node's membership view.",
        ["node"],
      ),
      quorate: gauge("floatip_quorate", "1 if this node's partition has quorum.", []),
      running: gauge("floatip_cluster_services_running", "1 if cluster services run on this node.", []),
      isDc: gauge("floatip_is_dc", "1 if this node is the designated coordinator (DC).", []),
      configEpoch: gauge(
        "floatip_config_epoch",
        "Epoch of the configuration this node holds; 0 if it holds none.",
        [],
      ),
      resourceRunning: gauge(
        "floatip_resource_running",
        "1 if the node reports the resource running; a sum over nodes above 1 means it runs twice.",
        ["resource", "node"],
      ),
      resourceFailed: gauge("floatip_resource_failed", "1 if the node reports the resource failed.", [
        "resource",
        "node",
      ]),
      failCount: gauge(
        "floatip_resource_fail_count",
        "Fail count of the resource on the node (1000000 is INFINITY, as after a failed start); the resource is banned there when it reaches migration-threshold.",
        ["resource", "node"],
      ),
      hbSent: counter("floatip_heartbeat_packets_sent_total", "Heartbeat packets sent by this node.", []),
      hbReceived: counter(
        "floatip_heartbeat_packets_received_total",
        "Heartbeat datagrams that reached this node, valid or not.",
        [],
      ),
      hbAccepted: counter(
        "floatip_heartbeat_packets_accepted_total",
        "Heartbeats accepted: authentic, fresh, from a configured peer at its address.",
        [],
      ),
      hbDuplicates: counter(
        "floatip_heartbeat_packets_duplicate_total",
        "Further copies of a heartbeat already accepted (each heartbeat is sent as totem.heartbeatCopies datagrams), dropped unread.",
        [],
      ),
      hbRejected: counter(
        "floatip_heartbeat_packets_rejected_total",
        "Heartbeat datagrams rejected, by reason (bad_mac, replay, wrong_cluster, unknown_sender, bad_source, ...).",
        ["reason"],
      ),
      hbLost: counter(
        "floatip_heartbeat_packets_lost_total",
        "Heartbeats from the peer that never arrived here (gaps in its sequence numbers).",
        ["peer"],
      ),
      hbAge: gauge(
        "floatip_heartbeat_age_seconds",
        "Seconds since the last valid heartbeat from the peer arrived; absent until it is first heard.",
        ["peer"],
      ),
      hbRtt: gauge(
        "floatip_heartbeat_rtt_seconds",
        "Latest heartbeat round-trip time to the peer (its echo of our send time, less how long it held it).",
        ["peer"],
      ),
    };
  }
}

function actionResult(action: { op: string; state: string }): "ok" | "failed" {
  const wanted = action.op === "start" ? "running" : action.op === "stop" ? "stopped" : null;
  return action.state === wanted ? "ok" : "failed";
}

function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
