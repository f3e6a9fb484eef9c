import type { Action } from "../policy/types.ts";

/**
 * Pure rules of VIP ownership kept in etcd (see etcd-coordination.ts): what the DC writes, and what a node
 * may do with the DC's actions given the owners it sees.
 */

export interface OwnerWrites {
  /** resource -> node */
  put: Record<string, string>;
  /** Resources whose owner key goes (removed from the configuration). */
  remove: string[];
}

/**
 * The owner writes a decision implies. A resource placed on a node is owned by it; a resource placed
 * nowhere keeps its last owner (the policy's stop actions take it down, and a placement of null while a
 * node is still probing must not make the holder stop); a resource gone from the configuration loses its
 * owner key.
 */
export function ownerWrites(
  placement: Readonly<Record<string, string | null>>,
  owners: ReadonlyMap<string, { node: string }>,
  resourceIds: readonly string[],
): OwnerWrites {
  const put: Record<string, string> = {};
  for (const [resource, node] of Object.entries(placement)) {
    if (node !== null && owners.get(resource)?.node !== node) put[resource] = node;
  }
  const configured = new Set(resourceIds);
  const remove = [...owners.keys()].filter((r) => !configured.has(r)).sort();
  return { put, remove };
}

export function isEmpty(writes: OwnerWrites): boolean {
  return Object.keys(writes.put).length === 0 && writes.remove.length === 0;
}

/**
 * What a node runs of the DC's actions addressed to it: nothing while frozen; a start only where etcd
 * names this node the owner (so a start never runs ahead of the guarded ownership write, and never from a
 * deposed DC); every stop. Besides, a resource running here whose owner is another live node is stopped,
 * even if the DC's stop was missed.
 */
export function admitActions(input: {
  self: string;
  frozen: boolean;
  own: readonly Action[];
  owners: ReadonlyMap<string, { node: string }>;
  runningHere: readonly string[];
  liveNodes: readonly string[];
}): Action[] {
  if (input.frozen) return [];
  const out: Action[] = [];
  const seen = new Set<string>();
  for (const a of input.own) {
    if (a.node !== input.self) continue;
    if (a.op === "start" && input.owners.get(a.resource)?.node !== input.self) continue;
    out.push(a);
    seen.add(a.resource);
  }
  const live = new Set(input.liveNodes);
  for (const resource of input.runningHere) {
    if (seen.has(resource)) continue;
    const owner = input.owners.get(resource)?.node;
    if (owner !== undefined && owner !== input.self && live.has(owner)) {
      out.push({ op: "stop", resource, node: input.self });
    }
  }
  return out;
}
