import { networkInterfaces } from "node:os";
import type { ClusterConfig, NodeConfig } from "../config/schema.ts";

/**
 * Finds which configured node this host is, as corosync does: the node whose heartbeat address is
 * configured on a local interface. FLOATIP_NODE_NAME overrides it for unusual set-ups.
 */
export function findSelf(config: ClusterConfig, override?: string): NodeConfig {
  if (override) {
    const node = config.nodes.find((n) => n.name === override);
    if (!node) {
      throw coded(
        "FLOATIP_E_NODE_UNKNOWN",
        `node '${override}' is not in cluster '${config.name}' (nodes: ${config.nodes.map((n) => n.name).join(", ")})`,
      );
    }
    return node;
  }
  const local = new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((i) => i?.address)
      .filter((a): a is string => a !== undefined),
  );
  const matches = config.nodes.filter((n) => n.addrs.some((a) => local.has(a)));
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length === 0) {
    throw coded(
      "FLOATIP_E_NODE_UNKNOWN",
      `none of this host's addresses belongs to a node of cluster '${config.name}'; check the node addresses (addr=) or set FLOATIP_NODE_NAME`,
    );
  }
  throw coded(
    "FLOATIP_E_NODE_AMBIGUOUS",
    `this host has addresses of several nodes (${matches.map((n) => n.name).join(", ")}); set FLOATIP_NODE_NAME`,
  );
}

function coded(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
