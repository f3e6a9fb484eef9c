import type { Action, NodeStatus, PolicyDecision, PolicyInput, ResourceStatus } from "./types.ts";

const stopped: ResourceStatus = { state: "stopped", failCount: 0 };

function statusOf(status: Record<string, NodeStatus>, node: string, resource: string): ResourceStatus {
  return status[node]?.resources[resource] ?? stopped;
}

/**
 * Minimal placement: one online node per resource, the one it runs on, else the earliest online node
 * in config order. Starts wait for probes and for every other copy to be stopped.
 */
export function decide(input: PolicyInput): PolicyDecision {
  const { config, view, status } = input;
  const online = config.nodes.map((n) => n.name).filter((name) => view.online.includes(name));
  const unprobed = online.filter((name) => status[name]?.probed !== true);
  const placement: Record<string, string | null> = {};
  const actions: Action[] = [];
  const notes: string[] = [];
  for (const resource of config.resources) {
    const id = resource.id;
    const stateOn = (node: string) => statusOf(status, node, id).state;
    const running = online.filter((n) => stateOn(n) === "running");
    const failed = online.filter((n) => stateOn(n) === "failed");
    const unknown = online.filter((n) => stateOn(n) === "unknown");
    const target = running[0] ?? failed[0] ?? online[0] ?? null;
    placement[id] = target;
    for (const node of online) {
      if ((stateOn(node) === "running" && node !== target) || stateOn(node) === "failed") {
        actions.push({ op: "stop", resource: id, node });
      }
    }
    if (target === null || running.includes(target)) continue;
    if (unprobed.length > 0) notes.push(`${id}: waiting for ${unprobed.join(", ")} to finish probing`);
    else if (unknown.length > 0) notes.push(`${id}: state unknown on ${unknown.join(", ")}; not starting`);
    else if (running.length === 0 && failed.length === 0)
      actions.push({ op: "start", resource: id, node: target });
  }
  return { placement, actions, notes };
}
