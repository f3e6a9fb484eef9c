import type { ClusterConfig, ResourceConfig } from "../config/schema.ts";
import type { FenceRequest, LostNode } from "./types.ts";

/** IPaddr2 on a cloud=oci cluster runs natively as a cloud VIP unless told to use the OCF script. */
export function isCloudVip(resource: ResourceConfig, config: ClusterConfig): boolean {
  return (
    resource.type === "ocf:heartbeat:IPaddr2" &&
    config.properties["cloud"] === "oci" &&
    resource.meta["floatip-use-script"] !== "true"
  );
}

export interface FencingPlan {
  requests: FenceRequest[];
  /** Resources that must not start anywhere until their lost node is fenced. */
  held: Set<string>;
  notes: string[];
}

/**
 * Which lost nodes are UNCLEAN. A node lost while something other than a cloud VIP may still be active
 * there (running, failed or unknown in its last report) is unclean when stonith-enabled is not false and a
 * device can fence it: it is fenced first, and those resources wait. Cloud VIPs never wait: the ETag- and
 * epoch-guarded move already fences them in the cloud. A partition without quorum fences nobody (the
 * other side may be the one that keeps running), unless no-quorum-policy=ignore.
 */
export function planFencing(
  config: ClusterConfig,
  lost: Readonly<Record<string, LostNode>>,
  quorate: boolean,
): FencingPlan {
  const plan: FencingPlan = { requests: [], held: new Set(), notes: [] };
  const enabled = config.properties["stonith-enabled"] !== "false";
  const configuredAction = config.properties["stonith-action"];
  const action = configuredAction === "off" || configuredAction === "poweroff" ? "off" : "reboot";
  const mayFence = quorate || config.properties["no-quorum-policy"] === "ignore";
  for (const node of config.nodes.map((n) => n.name)) {
    const entry = lost[node];
    if (entry === undefined) continue;
    const active = config.resources
      .filter((r) => !isCloudVip(r, config))
      .filter((r) => {
        const state = entry.resources[r.id]?.state;
        return state !== undefined && state !== "stopped";
      })
      .map((r) => r.id);
    if (active.length === 0) continue;
    if (!enabled) continue;
    if (!entry.fenceable) {
      plan.notes.push(
        `${node}: lost with ${active.join(", ")} active and no fence device can fence it; recovering without fencing`,
      );
      continue;
    }
    if (!mayFence) continue;
    plan.requests.push({ node, action });
    plan.notes.push(`${node}: UNCLEAN (offline) with ${active.join(", ")} active; fencing it (${action})`);
    for (const id of active) {
      plan.held.add(id);
      plan.notes.push(`${id}: waiting for ${node} to be fenced`);
    }
  }
  return plan;
}
