import type { AgentContext, AgentResult, ResourceAgent } from "./agent.ts";

/** One kind of health check: how to read its parameters and how to check once. */
export interface HealthCheck<P> {
  parse(params: Readonly<Record<string, string>>): { params: P } | { problems: string[] };
  validate(params: Readonly<Record<string, string>>): string[];
  check(params: P, signal: AbortSignal): Promise<AgentResult>;
}

/**
 * A health check as a resource: it changes nothing on the node, it only watches a service. Start and
 * monitor check the service; in a group with a VIP, a failing check moves the whole group.
 */
export class HealthCheckAgent<P> implements ResourceAgent {
  constructor(private readonly kind: HealthCheck<P>) {}

  validate(params: Readonly<Record<string, string>>): string[] {
    return this.kind.validate(params);
  }

  /** Running only if the check passes now, so a group does not come up where the service is dead. */
  async start(ctx: AgentContext): Promise<AgentResult> {
    return this.check(ctx);
  }

  async monitor(ctx: AgentContext): Promise<AgentResult> {
    return this.check(ctx);
  }

  /** A check changes nothing on the node, so there is nothing to undo. */
  async stop(_ctx: AgentContext): Promise<AgentResult> {
    return { state: "stopped" };
  }

  /**
   * Always "stopped": a check holds no state, so "is it running here?" has no local answer. Reporting a
   * healthy service as "running" would make the check look active on every node with a healthy service
   * (a duplicate the cluster would stop); the cluster starts the check where its group runs.
   */
  async probe(_ctx: AgentContext): Promise<AgentResult> {
    return {
      state: "stopped",
      message: "a health check holds no state; it runs where the cluster starts it",
    };
  }

  private async check(ctx: AgentContext): Promise<AgentResult> {
    const parsed = this.kind.parse(ctx.params);
    if ("problems" in parsed)
      return { state: "failed", message: `FLOATIP_E_PARAM: ${parsed.problems.join("; ")}` };
    return this.kind.check(parsed.params, ctx.signal);
  }
}
