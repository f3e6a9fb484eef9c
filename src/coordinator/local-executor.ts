import type { AgentResult, ResourceAgent } from "../agents/agent.ts";
import type { Clock, TimerHandle } from "../clock/clock.ts";
import type { ResourceConfig } from "../config/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { ResourceReport } from "./node-report.ts";

/** Pacemaker's INFINITY: a start failure bans the resource from this node (start-failure-is-fatal). */
export const INFINITY_FAILCOUNT = 1_000_000;

const DEFAULT_TIMEOUT_MS = 20_000;

export type AgentResolver = (resource: ResourceConfig) => ResourceAgent;

interface Entry {
  config: ResourceConfig;
  agent: ResourceAgent;
  state: ResourceReport["state"];
  failCount: number;
  lastFailureMs?: number;
  generation?: number;
  startPhases?: Record<string, number>;
  handoverHint?: string;
  message?: string;
  /** The operation in flight; one at a time per resource, like Pacemaker's executor. */
  busy: Promise<void> | null;
  /** An action that arrived while busy; run when the current operation ends, so it is not lost. */
  deferred: "start" | "stop" | null;
  probed: boolean;
  monitorTimer: TimerHandle | null;
  recheckTimer: TimerHandle | null;
  /** The start in flight, if any, and when it began (see peerJoined). */
  start?: { controller: AbortController; beganMs: number };
}

/** Why a start was abandoned: a node lost when it began is a member again. */
class PeerReturned extends Error {
  constructor(readonly peer: string) {
    super(`${peer}, lost when this start began, is back`);
  }
}

export interface ActionRecord {
  resource: string;
  op: "start" | "stop" | "monitor";
  /** The state the resource is in afterwards. */
  state: ResourceReport["state"];
  durationMs: number;
  message?: string;
  failCount: number;
}

export interface ExecutorEvents {
  /** Called whenever a resource's reported state changes, so the node can gossip at once. */
  onChange(): void;
  /**
   * Only a resource's handover hint changed (a renewed lease): worth gossiping at once, but nothing the
   * coordinator decides on, so no new decision is needed. onChange when not given.
   */
  onHintChange?(): void;
  /** A start or stop finished, or a monitor found a failure; for the event log and metrics. */
  onAction?(record: ActionRecord): void;
}

/**
 * Runs agents on this node: probes at start, start/stop on the coordinator's request, recurring monitors.
 * It never decides placement; it reports what is true here.
 */
export class LocalExecutor {
  private readonly entries = new Map<string, Entry>();
  /** The last handover hint each resource's peer holder reported; kept after that peer is lost. */
  private readonly peerHints = new Map<string, string>();
  /** When each peer was last lost, until it joins again. */
  private readonly lostAt = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly deps: {
      resolveAgent: AgentResolver;
      clock: Clock;
      logger: Logger;
      events: ExecutorEvents;
      /** How long a displaced resource stays "unknown" before it is probed again (default 10 s). */
      displacedRecheckMs?: number;
    },
  ) {}

  /** Brings the resource set in line with the configuration; new resources are probed before use. */
  setResources(resources: readonly ResourceConfig[]): void {
    const wanted = new Set(resources.map((r) => r.id));
    for (const [id, entry] of this.entries) {
      if (!wanted.has(id)) {
        this.entries.delete(id);
        this.clearMonitor(entry);
        // A deleted resource must not keep running unmanaged here.
        if (entry.state === "running" || entry.state === "unknown" || entry.state === "failed") {
          void this.runOp(entry, "stop");
        }
      }
    }
    for (const config of resources) {
      const existing = this.entries.get(config.id);
      if (existing && sameDefinition(existing.config, config)) continue;
      if (existing) {
        existing.config = config;
        existing.agent = this.deps.resolveAgent(config);
        this.scheduleMonitor(existing);
        continue;
      }
      const entry: Entry = {
        config,
        agent: this.deps.resolveAgent(config),
        state: "unknown",
        failCount: 0,
        busy: null,
        deferred: null,
        probed: false,
        monitorTimer: null,
        recheckTimer: null,
      };
      this.entries.set(config.id, entry);
      void this.probe(entry);
    }
  }

  get allProbed(): boolean {
    for (const entry of this.entries.values()) if (!entry.probed) return false;
    return true;
  }

  report(): Record<string, ResourceReport> {
    const out: Record<string, ResourceReport> = {};
    for (const [id, e] of this.entries) {
      out[id] = {
        state: e.state,
        failCount: e.failCount,
        ...(e.lastFailureMs !== undefined ? { lastFailureMs: e.lastFailureMs } : {}),
        ...(e.generation !== undefined && e.state === "running" ? { generation: e.generation } : {}),
        ...(e.startPhases !== undefined && e.state === "running" ? { startPhases: e.startPhases } : {}),
        ...(e.handoverHint !== undefined && (e.state === "running" || e.state === "stopped")
          ? { hint: e.handoverHint }
          : {}),
        ...(e.message !== undefined ? { message: e.message.slice(0, 300) } : {}),
      };
    }
    return out;
  }

  /** A peer's hint for a resource it runs or just released: what this node's start may use to take over. */
  notePeerHint(resourceId: string, hint: string): void {
    // While it runs here this node's own view is the newer one; a peer's hint is for a later start here.
    if (this.entries.get(resourceId)?.state === "running") return;
    this.peerHints.set(resourceId, hint);
  }

  peerLost(name: string): void {
    this.lostAt.set(name, this.deps.clock.now());
  }

  /**
   * A peer that was lost is a member again. Starts begun since it was lost were decided without it: it
   * may still run the resource (it was cut off, not dead), and a cloud move still in flight would take
   * the VIP from a healthy holder once the link is back. They are abandoned ("unknown", retried if the
   * cluster, whole again, still wants them here).
   */
  peerJoined(name: string): void {
    const since = this.lostAt.get(name);
    this.lostAt.delete(name);
    if (since === undefined) return;
    for (const entry of this.entries.values()) {
      if (entry.start === undefined || entry.start.beganMs < since) continue;
      this.deps.logger.info(
        { resource: entry.config.id, peer: name },
        "abandoning a start decided while a peer was lost",
      );
      entry.start.controller.abort(new PeerReturned(name));
    }
  }

  /** Executes the coordinator's actions addressed to this node; repeated requests are no-ops. */
  apply(actions: readonly { op: "start" | "stop"; resource: string }[]): void {
    for (const action of actions) {
      const entry = this.entries.get(action.resource);
      if (!entry) continue;
      if (entry.busy || !entry.probed) {
        entry.deferred = action.op;
        continue;
      }
      this.runIfNeeded(entry, action.op);
    }
  }

  private runIfNeeded(entry: Entry, op: "start" | "stop"): void {
    if (op === "start" && entry.state === "running") return;
    if (op === "stop" && entry.state === "stopped") return;
    void this.runOp(entry, op);
  }

  /** Forgets failures, as `resource cleanup` does, and re-probes the real state. */
  cleanup(resourceId?: string): void {
    for (const [id, entry] of this.entries) {
      if (resourceId !== undefined && id !== resourceId) continue;
      entry.failCount = 0;
      delete entry.lastFailureMs;
      delete entry.message;
      if (!entry.busy) void this.probe(entry);
    }
    this.deps.events.onChange();
  }

  /**
   * Probes again, now, every resource whose state here is "unknown" (displaced, or a probe that could
   * not tell): after a membership change the answer may have changed, and waiting would delay a failover.
   */
  reprobeUnknown(): void {
    for (const entry of this.entries.values()) {
      if (entry.state !== "unknown" || entry.busy) continue;
      if (entry.recheckTimer) this.deps.clock.clearTimeout(entry.recheckTimer);
      entry.recheckTimer = null;
      void this.probe(entry);
    }
  }

  /** Triggers an immediate monitor of a running resource (e.g. its address was just removed). */
  checkNow(resourceId: string): void {
    const entry = this.entries.get(resourceId);
    if (entry && entry.state === "running" && !entry.busy) void this.runMonitor(entry);
  }

  resourceIds(): string[] {
    return [...this.entries.keys()];
  }

  paramsOf(resourceId: string): Readonly<Record<string, string>> | undefined {
    return this.entries.get(resourceId)?.config.params;
  }

  /** Stops every resource that may run here (clean shutdown), in reverse configuration order. */
  async stopAll(): Promise<void> {
    const entries = [...this.entries.values()].reverse();
    for (const entry of entries) {
      if (entry.busy) await entry.busy;
      if (entry.state !== "stopped") await this.runOp(entry, "stop");
    }
  }

  /** Stops timers without touching resources (leave them running for a restart to re-attach). */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.entries.values()) this.clearMonitor(entry);
    await Promise.allSettled([...this.entries.values()].map((e) => e.busy ?? Promise.resolve()));
  }

  private async probe(entry: Entry): Promise<void> {
    await this.exclusive(entry, async () => {
      const result = await this.call(entry, "probe");
      entry.probed = true;
      if (result.generation !== undefined) entry.generation = result.generation;
      this.noteHint(entry, result);
      // A probe that cannot tell stays "unknown": the policy then refuses to start the resource elsewhere.
      this.setState(entry, result.state === "failed" ? "failed" : result.state, result.message);
      this.scheduleMonitor(entry);
    });
  }

  private runOp(entry: Entry, op: "start" | "stop"): Promise<void> {
    return this.exclusive(entry, async () => {
      this.deps.logger.info({ resource: entry.config.id, op }, `${op} ${entry.config.id}`);
      const started = this.deps.clock.now();
      const result = await this.call(entry, op);
      if (op === "start") {
        this.peerHints.delete(entry.config.id);
        this.noteHint(entry, result);
        if (result.state === "running") {
          entry.generation = result.generation ?? this.deps.clock.now();
          if (result.phases !== undefined) entry.startPhases = result.phases;
          else delete entry.startPhases;
          this.setState(entry, "running", result.message);
        } else if (result.state === "stopped" && isDisplaced(result)) {
          this.markDisplaced(entry, result);
        } else if (result.state === "unknown") {
          // The agent could not tell (the cloud API unreachable): retry later, do not ban this node for it.
          entry.failCount = Math.min(INFINITY_FAILCOUNT, entry.failCount + 1);
          entry.lastFailureMs = this.deps.clock.now();
          this.setState(entry, "stopped", result.message);
        } else {
          this.recordFailure(entry, result, INFINITY_FAILCOUNT);
        }
      } else if (result.state === "stopped") {
        this.noteHint(entry, result);
        this.setState(entry, "stopped", result.message);
      } else {
        // A failed stop leaves the resource in an unknown state; Pacemaker would fence here.
        this.recordFailure(entry, result, INFINITY_FAILCOUNT);
      }
      this.reportAction(entry, op, this.deps.clock.now() - started);
      this.scheduleMonitor(entry);
    });
  }

  private reportAction(entry: Entry, op: ActionRecord["op"], durationMs: number): void {
    this.deps.events.onAction?.({
      resource: entry.config.id,
      op,
      state: entry.state,
      durationMs,
      failCount: entry.failCount,
      ...(entry.message !== undefined ? { message: entry.message } : {}),
    });
  }

  private async runMonitor(entry: Entry): Promise<void> {
    await this.exclusive(entry, async () => {
      if (entry.state !== "running") return;
      const started = this.deps.clock.now();
      const result = await this.call(entry, "monitor");
      if (result.state !== "running" && result.state !== "unknown") {
        // Only failures are worth an event; a healthy monitor every few seconds is not news.
        queueMicrotask(() => this.reportAction(entry, "monitor", this.deps.clock.now() - started));
      }
      const hintChanged = this.noteHint(entry, result);
      if (result.state === "running" || result.state === "unknown") {
        // "unknown" (a cloud error) is never a failure by itself.
        if (result.message !== entry.message) this.setState(entry, "running", result.message);
        // A renewed lease has a new ETag: gossip it now, or a peer taking over later writes with the old
        // one, gets 412 and pays two more API calls (the hint went stale after the first renewal).
        else if (hintChanged) {
          if (this.deps.events.onHintChange) this.deps.events.onHintChange();
          else this.deps.events.onChange();
        }
      } else if (result.state === "stopped" && isDisplaced(result)) {
        this.markDisplaced(entry, result);
      } else {
        this.recordFailure(entry, result, entry.failCount + 1);
      }
    });
  }

  /**
   * Keeps the agent's latest handover hint; true when it changed. A stop may leave one too (a released
   * cloud lease's version), for the peer that starts the resource next.
   */
  private noteHint(entry: Entry, result: AgentResult): boolean {
    const before = entry.handoverHint;
    if ((result.state === "running" || result.state === "stopped") && result.handoverHint !== undefined)
      entry.handoverHint = result.handoverHint;
    else if (result.state !== "running" && result.state !== "unknown") delete entry.handoverHint;
    return entry.handoverHint !== before;
  }

  private recordFailure(entry: Entry, result: AgentResult, failCount: number): void {
    entry.failCount = Math.min(INFINITY_FAILCOUNT, failCount);
    entry.lastFailureMs = this.deps.clock.now();
    this.deps.logger.warn(
      { resource: entry.config.id, state: result.state, message: result.message },
      `${entry.config.id} failed`,
    );
    this.setState(entry, "failed", result.message);
  }

  private setState(entry: Entry, state: ResourceReport["state"], message?: string): void {
    const changed = entry.state !== state || entry.message !== message;
    entry.state = state;
    if (message === undefined) delete entry.message;
    else entry.message = message;
    if (changed) this.deps.events.onChange();
  }

  private async exclusive(entry: Entry, work: () => Promise<void>): Promise<void> {
    while (entry.busy) await entry.busy;
    if (this.closed) return;
    const run = work().catch((error: unknown) => {
      this.deps.logger.error({ resource: entry.config.id, err: error }, "agent operation crashed");
      this.recordFailure(entry, { state: "failed", message: (error as Error).message }, entry.failCount + 1);
    });
    entry.busy = run;
    try {
      await run;
    } finally {
      entry.busy = null;
      const deferred = entry.deferred;
      entry.deferred = null;
      if (deferred && !this.closed && this.entries.get(entry.config.id) === entry)
        this.runIfNeeded(entry, deferred);
    }
  }

  private async call(entry: Entry, op: "start" | "stop" | "monitor" | "probe"): Promise<AgentResult> {
    const timeoutMs = opTimeout(entry.config, op);
    const controller = new AbortController();
    const timer = this.deps.clock.setTimeout(() => controller.abort(new Error(`${op} timed out`)), timeoutMs);
    if (op === "start") entry.start = { controller, beganMs: this.deps.clock.now() };
    try {
      const peerHint = op === "start" ? this.peerHints.get(entry.config.id) : undefined;
      const ctx = {
        resourceId: entry.config.id,
        params: entry.config.params,
        signal: controller.signal,
        ...(peerHint === undefined ? {} : { peerHint }),
      };
      const pending = entry.agent[op](ctx);
      const aborted = new Promise<AgentResult>((resolve) =>
        controller.signal.addEventListener(
          "abort",
          () =>
            resolve(
              controller.signal.reason instanceof PeerReturned
                ? { state: "unknown", message: `start abandoned: ${controller.signal.reason.message}` }
                : {
                    state: op === "monitor" ? "unknown" : "failed",
                    message: `${op} timed out after ${timeoutMs} ms`,
                  },
            ),
          { once: true },
        ),
      );
      return await Promise.race([pending, aborted]);
    } finally {
      this.deps.clock.clearTimeout(timer);
      if (op === "start") delete entry.start;
    }
  }

  private scheduleMonitor(entry: Entry): void {
    this.clearMonitor(entry);
    if (this.closed || entry.state !== "running") return;
    const interval = entry.config.ops.find((o) => o.name === "monitor")?.intervalMs ?? 0;
    if (interval <= 0) return;
    entry.monitorTimer = this.deps.clock.setInterval(() => void this.runMonitor(entry), interval);
  }

  /**
   * Another holder took the resource over (a newer cloud epoch, maybe across a partition): it runs, but
   * not here and maybe where we cannot see. "unknown" keeps the coordinator from starting it again at
   * once; a probe after a while tells whether it is free again.
   */
  private markDisplaced(entry: Entry, result: AgentResult): void {
    this.setState(entry, "unknown", result.message);
    if (entry.recheckTimer) this.deps.clock.clearTimeout(entry.recheckTimer);
    entry.recheckTimer = this.deps.clock.setTimeout(() => {
      entry.recheckTimer = null;
      if (!this.closed && this.entries.get(entry.config.id) === entry) void this.probe(entry);
    }, this.deps.displacedRecheckMs ?? 10_000);
  }

  private clearMonitor(entry: Entry): void {
    if (entry.recheckTimer) this.deps.clock.clearTimeout(entry.recheckTimer);
    entry.recheckTimer = null;
    if (entry.monitorTimer) this.deps.clock.clearInterval(entry.monitorTimer);
    entry.monitorTimer = null;
  }
}

function opTimeout(config: ResourceConfig, op: string): number {
  const name = op === "probe" ? "monitor" : op;
  return config.ops.find((o) => o.name === name)?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
}

function sameDefinition(a: ResourceConfig, b: ResourceConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A cloud VIP taken over by a newer holder is not a local failure: the cluster must not fight over it. */
function isDisplaced(result: AgentResult): boolean {
  return result.displaced === true || (result.message ?? "").includes("FLOATIP_E_VIP_HELD_ELSEWHERE");
}
