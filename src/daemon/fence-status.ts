import type { StatusSnapshot } from "../api/status-types.ts";
import type { ClusterConfig } from "../config/schema.ts";
import type { ClusterView } from "../coordinator/cluster-node.ts";
import { stonithProperties } from "../fencing/stonith-config.ts";
import { isCloudVip } from "../policy/fencing.ts";

export const NO_STONITH_WARNING = "No stonith devices and stonith-enabled is not false";

/**
 * The fencing part of `floatip status`: devices (shown as started on the DC, which runs them), unclean and
 * fenced nodes, and pcs's warning when fencing is on but nothing can fence. floatip prints that warning
 * only where it applies: some resource other than a cloud VIP would be recovered without fencing (a cloud
 * VIP is fenced by its guarded move).
 */
export function fenceStatusOf(
  config: ClusterConfig | null,
  view: ClusterView | null,
): Pick<StatusSnapshot, "stonith" | "fencing" | "warnings"> {
  if (!config) return { stonith: [], fencing: null, warnings: [] };
  const warnings: string[] = [];
  const needsFencing = config.resources.some((r) => !isCloudVip(r, config));
  if (stonithProperties(config).enabled && config.stonith.length === 0 && needsFencing)
    warnings.push(NO_STONITH_WARNING);
  return {
    stonith: config.stonith.map((d) => ({ id: d.id, type: d.type, startedOn: view?.dc ?? null })),
    fencing: view?.fencing ?? null,
    warnings,
  };
}
