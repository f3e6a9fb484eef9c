import type { ResourceAgent } from "../agents/agent.ts";
import { IpAddressAgent } from "../agents/ip-address.ts";
import type { ClusterConfig, ResourceConfig } from "../config/schema.ts";

/** Types floatip runs natively; other OCF types need the OCF runner. */
export const NATIVE_TYPES = ["ocf:heartbeat:IPaddr2"] as const;

export interface AgentFactory {
  /** The agent for a resource under the current cluster configuration (cloud=oci turns IPaddr2 into a cloud VIP). */
  agentFor(resource: ResourceConfig, config: ClusterConfig): ResourceAgent;
}

export function unsupportedTypeMessage(type: string): string | null {
  if ((NATIVE_TYPES as readonly string[]).includes(type)) return null;
  return `FLOATIP_E_AGENT_UNKNOWN: Agent '${type}' is not installed or does not provide valid metadata; supported: ${NATIVE_TYPES.join(", ")}`;
}

export class LocalAgentFactory implements AgentFactory {
  constructor(
    private readonly ipAddress: IpAddressAgent,
    private readonly cloudAgent?: (config: ClusterConfig) => ResourceAgent,
  ) {}

  agentFor(resource: ResourceConfig, config: ClusterConfig): ResourceAgent {
    const problem = unsupportedTypeMessage(resource.type);
    if (problem) throw Object.assign(new Error(problem), { code: "FLOATIP_E_AGENT_UNKNOWN" });
    if (config.properties["cloud"] === "oci" && this.cloudAgent) return this.cloudAgent(config);
    return this.ipAddress;
  }
}
