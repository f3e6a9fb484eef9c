import type { ResourceStatusView, StatusSnapshot } from "../api/status-types.ts";
import type { ClusterConfig } from "../config/schema.ts";
import type { ClusterView } from "../coordinator/cluster-node.ts";
import { fenceStatusOf } from "./fence-status.ts";

export function buildStatus(input: {
  config: ClusterConfig | null;
  view: ClusterView | null;
  membershipStats: unknown;
  configProblem: string | null;
  lastChange: StatusSnapshot["lastChange"];
  daemon: StatusSnapshot["daemon"];
  nodeName: string | null;
  quorum?: StatusSnapshot["quorum"];
}): StatusSnapshot {
  const { config, view } = input;
  const nodes = config?.nodes.map((n) => n.name) ?? [];
  const online = view ? nodes.filter((n) => view.online.includes(n) || view.leaving.includes(n)) : [];
  const resources: ResourceStatusView[] = (config?.resources ?? []).map((r) => {
    const out: ResourceStatusView = {
      id: r.id,
      type: r.type,
      runningOn: [],
      failedOn: [],
      unknownOn: [],
      disabled: (r.meta["target-role"] ?? "Started") === "Stopped",
      failCounts: {},
      messages: {},
    };
    for (const [node, report] of Object.entries(view?.reports ?? {})) {
      const rr = report.resources[r.id];
      if (!rr) continue;
      if (rr.state === "running") out.runningOn.push(node);
      if (rr.state === "failed") out.failedOn.push(node);
      if (rr.state === "unknown") out.unknownOn.push(node);
      if (rr.failCount > 0) out.failCounts[node] = rr.failCount;
      if (rr.message) out.messages[node] = rr.message;
    }
    return out;
  });
  return {
    clusterName: config?.name ?? null,
    nodeName: input.nodeName,
    configured: config !== null,
    running: view !== null,
    dc: view?.dc ?? null,
    quorate: view?.quorate ?? false,
    online,
    offline: nodes.filter((n) => !online.includes(n)),
    leaving: view?.leaving ?? [],
    nodesConfigured: nodes.length,
    zones: view?.zones ?? {},
    resources,
    notes: view?.decision?.notes ?? view?.dcActions?.notes ?? [],
    configEpoch: config?.epoch ?? null,
    lastChange: input.lastChange,
    configProblem: input.configProblem,
    daemon: input.daemon,
    membership: input.membershipStats,
    config,
    ...fenceStatusOf(config, view),
    frozen: view?.coordination?.frozen != null,
    coordination: view?.coordination ?? null,
    quorum: input.quorum ?? null,
  };
}
