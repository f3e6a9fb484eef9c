import type { ResourceAgent } from "../agents/agent.ts";
import { IPADDR2_TYPE, unsupportedTypeMessage } from "../agents/agent-types.ts";
import { EXEC_CHECK_TYPE, ExecCheckAgent } from "../agents/exec-check.ts";
import { HTTP_CHECK_TYPE, HttpCheckAgent } from "../agents/http-check.ts";
import type { IpAddressAgent } from "../agents/ip-address.ts";
import { OcfAgent } from "../agents/ocf-agent.ts";
import { TCP_CHECK_TYPE, TcpCheckAgent } from "../agents/tcp-check.ts";
import type { ClusterConfig, ResourceConfig } from "../config/schema.ts";

/**
 * Meta attribute `floatip-use-script=true` runs an agent that floatip implements natively (IPaddr2) through
 * its OCF script instead, for operators who depend on the script's exact behaviour.
 */
export const SCRIPT_META = "floatip-use-script";

export interface AgentFactory {
  /** The agent for a resource under the current cluster configuration (cloud=oci turns IPaddr2 into a cloud VIP). */
  agentFor(resource: ResourceConfig, config: ClusterConfig): ResourceAgent;
  /** Slow one-time set-up (cloud discovery and auth), done before cluster services start. */
  prepare?(config: ClusterConfig): Promise<void>;
  /** Every configured node is a member: state kept from a partition can be dropped. */
  /** `runningHere`: the addresses of the resources running on this node. */
  clusterWhole?(runningHere?: readonly string[]): Promise<void>;
  /** Some configured node is not a member: partition-time state counts again. */
  clusterPartial?(): void;
  /** A node that was a member is no longer one (lost or cut off). */
  peersLost?(): void;
  /** This node's availability domain, when a cloud layer knows it. */
  zone?(config: ClusterConfig): Promise<string | undefined>;
}

export class LocalAgentFactory implements AgentFactory {
  private readonly http = new HttpCheckAgent();
  private readonly tcp = new TcpCheckAgent();
  private readonly exec = new ExecCheckAgent();
  /** OCF agents carry per-resource timeouts, so one instance per resource definition. */
  private readonly ocf = new Map<string, { key: string; agent: OcfAgent }>();

  constructor(
    private readonly ipAddress: IpAddressAgent,
    private readonly cloud?: {
      agentFor(): ResourceAgent;
      warmUp(timeoutMs: number): Promise<void>;
      clusterWhole(runningHere?: readonly string[]): Promise<void>;
      clusterPartial(): void;
      peersLost(): void;
      zone(): Promise<string | undefined>;
    },
    private readonly ocfRscTmpDir?: string,
  ) {}

  async zone(config: ClusterConfig): Promise<string | undefined> {
    return config.properties["cloud"] === "oci" ? this.cloud?.zone() : undefined;
  }

  async clusterWhole(runningHere?: readonly string[]): Promise<void> {
    await this.cloud?.clusterWhole(runningHere);
  }

  clusterPartial(): void {
    this.cloud?.clusterPartial();
  }

  peersLost(): void {
    this.cloud?.peersLost();
  }

  async prepare(config: ClusterConfig): Promise<void> {
    if (config.properties["cloud"] === "oci" && this.cloud) await this.cloud.warmUp(15_000);
  }

  agentFor(resource: ResourceConfig, config: ClusterConfig): ResourceAgent {
    const { type } = resource;
    if (type === IPADDR2_TYPE && resource.meta[SCRIPT_META] !== "true") {
      if (config.properties["cloud"] === "oci" && this.cloud) return this.cloud.agentFor();
      return this.ipAddress;
    }
    if (type === HTTP_CHECK_TYPE || type === "ocf:floatip:http-check") return this.http;
    if (type === TCP_CHECK_TYPE) return this.tcp;
    if (type === EXEC_CHECK_TYPE) return this.exec;
    const problem = unsupportedTypeMessage(type);
    if (problem) throw Object.assign(new Error(problem), { code: "FLOATIP_E_AGENT_UNKNOWN" });
    const key = JSON.stringify([type, resource.ops]);
    const cached = this.ocf.get(resource.id);
    if (cached?.key === key) return cached.agent;
    const timeout = (name: string) => resource.ops.find((o) => o.name === name)?.timeoutMs;
    const timeoutsMs: Partial<Record<"start" | "stop" | "monitor", number>> = {};
    for (const op of ["start", "stop", "monitor"] as const) {
      const ms = timeout(op);
      if (ms !== undefined) timeoutsMs[op] = ms;
    }
    const interval = resource.ops.find((o) => o.name === "monitor")?.intervalMs;
    const agent = new OcfAgent(type, {
      timeoutsMs,
      ...(interval !== undefined ? { monitorIntervalMs: interval } : {}),
      ...(this.ocfRscTmpDir !== undefined ? { rscTmpDir: this.ocfRscTmpDir } : {}),
    });
    this.ocf.set(resource.id, { key, agent });
    return agent;
  }
}
