/**
 * What an agent reports about a resource on this node. "unknown" means the agent could not tell
 * (a cloud or metadata error): the caller must not treat it as a failure by itself.
 */
export type AgentState = "running" | "stopped" | "failed" | "unknown";

export interface AgentResult {
  state: AgentState;
  /** One line for the operator; never contains secrets. */
  message?: string;
  /**
   * Set with state "stopped" when another holder took the resource over (a cloud VIP moved by a newer
   * epoch): not a local failure, so the cluster must not count it or fight for the resource.
   */
  displaced?: boolean;
  /**
   * For a running resource: how recent this node's claim is (a cloud VIP's epoch). Compared between
   * nodes only for the same resource; when absent the executor uses the time of the start.
   */
  generation?: number;
  /** Durations (ms) of the parts of a start, e.g. a cloud VIP's cloudMoveMs and verifyMs, for failover records. */
  phases?: Record<string, number>;
  /**
   * For a running resource: an opaque note for peers that may take the resource over (a cloud VIP's
   * last known cloud version), gossiped in heartbeats and handed to the peer's start as `peerHint`.
   */
  handoverHint?: string;
}

export interface AgentContext {
  /** The resource id (OCF_RESOURCE_INSTANCE). */
  resourceId: string;
  params: Readonly<Record<string, string>>;
  signal: AbortSignal;
  /** On start: the last `handoverHint` a peer reported for this resource, if any. */
  peerHint?: string;
}

/** One resource agent; every method is idempotent and honours ctx.signal. */
export interface ResourceAgent {
  /** Brings the resource up; resolves only when it runs (state "running") or reports why not. */
  start(ctx: AgentContext): Promise<AgentResult>;
  /** Takes the resource down; "stopped" when it is down, even if it already was. */
  stop(ctx: AgentContext): Promise<AgentResult>;
  /** Periodic health check of a resource that should be running here. */
  monitor(ctx: AgentContext): Promise<AgentResult>;
  /** One-shot check at daemon start of whether the resource already runs here. */
  probe(ctx: AgentContext): Promise<AgentResult>;
  /** Returns an error message per bad parameter, or an empty list. */
  validate(params: Readonly<Record<string, string>>): string[];
}
