import type { Clock, TimerHandle } from "../clock/clock.ts";
import type { ClusterConfig } from "../config/schema.ts";
import type { ConfiguredDevice } from "../fencing/device-registry.ts";
import { fenceNode } from "../fencing/fencer.ts";
import { stonithProperties } from "../fencing/stonith-config.ts";
import type { FenceHistoryEntry } from "../api/fence-history.ts";
import type { FenceAction, FenceResult } from "../fencing/types.ts";
import type { EventLog } from "../observability/event-log.ts";
import type { Logger } from "../observability/logger.ts";
import type { FenceRequest, LostNode } from "../policy/types.ts";
import type { NodeReport } from "./node-report.ts";

export interface FencingView {
  /** Lost nodes the last decision wanted fenced (pcs: "UNCLEAN (offline)"). */
  unclean: string[];
  /** Fences running now. */
  pending: string[];
  /** Nodes fenced since they were last seen (clean until they come back with a new incarnation). */
  fenced: string[];
}

export interface NodeFencingDeps {
  selfName: string;
  clock: Clock;
  wallNow: () => number;
  logger: Logger;
  events?: EventLog;
  /** The fence devices of a configuration, with each node's reported instance OCID for fence_oci. */
  devicesFor: (
    config: ClusterConfig,
    instanceIdOf: (node: string) => string | undefined,
  ) => ConfiguredDevice[];
  /** The configuration in force. */
  config: () => ClusterConfig;
  /** A fence finished (or its retry is due): the DC decides again. */
  onChange: () => void;
  /** First pause before a failed policy fence is retried; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

const HISTORY_LIMIT = 200;

/**
 * The coordinator side of fencing, on every node (any node may become DC): remembers which lost nodes
 * may still run something (their last report) and which were fenced, feeds that to the policy, and on the
 * DC executes the fence requests the policy returns: one at a time per node, recorded in the event log
 * (fencing events raise Pacemaker's fencing alerts), retried with backoff until they succeed or the node
 * comes back. A fenced node stays clean until it is seen again with a new incarnation.
 */
export class NodeFencing {
  readonly #lost = new Map<string, LostNode["resources"]>();
  readonly #fenced = new Map<string, { incarnation: bigint | undefined }>();
  readonly #incarnations = new Map<string, bigint>();
  readonly #instanceIds = new Map<string, string>();
  readonly #inFlight = new Map<string, Promise<FenceResult>>();
  readonly #failures = new Map<string, number>();
  readonly #retryTimers = new Map<string, TimerHandle>();
  readonly #history: FenceHistoryEntry[] = [];
  readonly #closing = new AbortController();
  #unclean: string[] = [];
  #devices: { key: string; devices: ConfiguredDevice[] } | null = null;

  constructor(private readonly deps: NodeFencingDeps) {}

  /** A peer's report arrived: its instance OCID, and whether it came back as a new incarnation. */
  observe(name: string, incarnation: bigint, report: NodeReport): void {
    if (report.instanceId !== undefined) this.#instanceIds.set(name, report.instanceId);
    this.#incarnations.set(name, incarnation);
    const fenced = this.#fenced.get(name);
    if (fenced !== undefined && fenced.incarnation !== incarnation) this.#fenced.delete(name);
  }

  /** The node left the membership; `report` is the last one it sent. */
  nodeLost(name: string, report: NodeReport | undefined): void {
    if (name === this.deps.selfName || this.#fenced.has(name)) return;
    this.#lost.set(name, report?.resources ?? {});
  }

  /** The DC says it fenced these nodes: they are clean here too, so this node never fences them again as DC. */
  adoptFenced(nodes: readonly string[]): void {
    for (const name of nodes) {
      if (!this.#lost.has(name) || name === this.deps.selfName) continue;
      this.#lost.delete(name);
      this.#fenced.set(name, { incarnation: this.#incarnations.get(name) });
    }
  }

  /** The node is a member again: whatever it runs is in its reports, nothing to fence. */
  nodeJoined(name: string): void {
    this.#lost.delete(name);
    this.#cancelRetry(name);
    this.#failures.delete(name);
  }

  instanceIdOf(node: string): string | undefined {
    return this.#instanceIds.get(node);
  }

  /** The policy's view of lost nodes: not fenced since they were lost, not online now. */
  lostNodes(config: ClusterConfig, online: readonly string[]): Record<string, LostNode> {
    const devices = this.devices(config);
    const lost: Record<string, LostNode> = {};
    for (const [name, resources] of this.#lost) {
      if (online.includes(name)) continue;
      lost[name] = { resources, fenceable: devices.some((d) => d.device.canFence(name)) };
    }
    return lost;
  }

  /** On the DC: starts the fences the policy asked for that are not running or waiting for a retry. */
  execute(requests: readonly FenceRequest[]): void {
    this.#unclean = requests.map((r) => r.node);
    for (const { node, action } of requests) {
      if (this.#inFlight.has(node) || this.#retryTimers.has(node)) continue;
      void this.fence(node, action, "policy");
    }
  }

  /** Fences `node` now (one operation per node at a time) and resolves with the result. */
  fence(node: string, action: FenceAction, reason: FenceHistoryEntry["reason"]): Promise<FenceResult> {
    const running = this.#inFlight.get(node);
    if (running) return running;
    const work = this.#run(node, action, reason).finally(() => this.#inFlight.delete(node));
    this.#inFlight.set(node, work);
    return work;
  }

  history(node?: string): FenceHistoryEntry[] {
    return this.#history.filter((h) => node === undefined || h.target === node).map((h) => ({ ...h }));
  }

  view(): FencingView {
    return {
      unclean: this.#unclean.filter((n) => this.#lost.has(n)),
      pending: [...this.#inFlight.keys()],
      fenced: [...this.#fenced.keys()],
    };
  }

  close(): void {
    this.#closing.abort(new Error("cluster services stopping"));
    for (const name of [...this.#retryTimers.keys()]) this.#cancelRetry(name);
  }

  devices(config: ClusterConfig): ConfiguredDevice[] {
    const key = JSON.stringify(config.stonith);
    if (this.#devices?.key !== key) {
      this.#devices = { key, devices: this.#build(config) };
    }
    return this.#devices.devices;
  }

  #build(config: ClusterConfig): ConfiguredDevice[] {
    try {
      return this.deps.devicesFor(config, (node) => this.instanceIdOf(node));
    } catch (error) {
      this.deps.logger.error({ err: error }, "cannot build the fence devices");
      return [];
    }
  }

  async #run(node: string, action: FenceAction, reason: FenceHistoryEntry["reason"]): Promise<FenceResult> {
    const config = this.deps.config();
    const { timeoutMs } = stonithProperties(config);
    const entry: FenceHistoryEntry = {
      target: node,
      action,
      reason,
      origin: this.deps.selfName,
      state: "pending",
      device: null,
      requestedAt: this.deps.wallNow(),
      attempts: [],
      message: "",
    };
    this.#history.push(entry);
    if (this.#history.length > HISTORY_LIMIT) this.#history.splice(0, this.#history.length - HISTORY_LIMIT);
    // Requests carry `node`, not `target`: only results raise Pacemaker fencing alerts.
    this.deps.events?.record({
      type: "fencing",
      summary: `fencing ${node} (${action}) requested${reason === "manual" ? " by hand" : ": lost while unclean"}`,
      data: { phase: "requested", node, action, reason, origin: this.deps.selfName },
    });
    this.deps.logger.warn({ node, action, reason }, "fencing node");
    let result: FenceResult;
    try {
      result = await fenceNode(this.devices(config), node, action, {
        clock: this.deps.clock,
        wallNow: this.deps.wallNow,
        timeoutMs,
        attemptsPerDevice: 2,
        retryDelayMs: 1000,
        signal: this.#closing.signal,
        onAttempt: (attempt) => entry.attempts.push(attempt),
      });
    } catch (error) {
      entry.state = "failed";
      entry.message = `cancelled: ${error instanceof Error ? error.message : String(error)}`;
      entry.completedAt = this.deps.wallNow();
      return { node, action, ok: false, device: null, attempts: entry.attempts, message: entry.message };
    }
    entry.state = result.ok ? "done" : "failed";
    entry.device = result.device;
    entry.message = result.message;
    entry.completedAt = this.deps.wallNow();
    this.deps.events?.record({
      type: "fencing",
      summary: `fencing ${node} (${action}) ${result.ok ? `succeeded with ${result.device ?? "?"}` : `failed: ${result.message}`}`,
      data: {
        phase: result.ok ? "succeeded" : "failed",
        target: node,
        action,
        rc: result.ok ? 0 : 1,
        result: result.ok ? "OK" : "Error",
        origin: this.deps.selfName,
        reason,
        device: result.device,
        attempts: result.attempts,
        durationMs: entry.completedAt - entry.requestedAt,
      },
    });
    if (result.ok) this.#succeeded(node, action);
    else this.#failed(node, reason, result);
    return result;
  }

  #succeeded(node: string, action: FenceAction): void {
    this.deps.logger.warn({ node, action }, "node fenced");
    if (action === "off" || action === "reboot") {
      this.#fenced.set(node, { incarnation: this.#incarnations.get(node) });
      this.#lost.delete(node);
      this.#failures.delete(node);
    }
    this.deps.onChange();
  }

  #failed(node: string, reason: FenceHistoryEntry["reason"], result: FenceResult): void {
    this.deps.logger.error({ node, message: result.message }, "fencing failed");
    if (reason !== "policy" || this.#closing.signal.aborted) return;
    const failures = (this.#failures.get(node) ?? 0) + 1;
    this.#failures.set(node, failures);
    const first = this.deps.retryDelayMs ?? 5000;
    const delay = Math.min(first * 2 ** (failures - 1), this.deps.maxRetryDelayMs ?? 60_000);
    this.#retryTimers.set(
      node,
      this.deps.clock.setTimeout(() => {
        this.#retryTimers.delete(node);
        // The DC decides again; if the node is still unclean, execute() starts the next try.
        this.deps.onChange();
      }, delay),
    );
  }

  #cancelRetry(node: string): void {
    const timer = this.#retryTimers.get(node);
    if (timer !== undefined) this.deps.clock.clearTimeout(timer);
    this.#retryTimers.delete(node);
  }
}
