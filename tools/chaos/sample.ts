/** One look at the bed from the host, taken every ~150 ms while the chaos run goes on. */
export interface NodeView {
  running: boolean;
  quorate: boolean;
  online: string[];
  configEpoch: number | null;
  /** The cluster property, "stop" when unset (Pacemaker's default). */
  noQuorumPolicy: string;
  /** Resource id -> nodes this daemon says run it / have it failed. */
  runningOn: Record<string, string[]>;
  failedOn: Record<string, string[]>;
  properties: Record<string, string>;
  /** The witness vote as this node sees it ("granted", "denied", ...), null without a quorum device. */
  deviceVote: string | null;
}

export interface NodeSample {
  node: string;
  /** null: the daemon did not answer in time (down, restarting, or cut off). */
  view: NodeView | null;
  /** VIPs configured on the node's interface, as `ip addr` in its namespace shows them. */
  localVips: string[];
}

export interface Sample {
  at: number;
  /** VIP -> instances the emulated cloud assigns a private IP with that address to. */
  cloudHolders: Record<string, string[]>;
  nodes: NodeSample[];
}

/** A change of a VIP's cloud assignment, as the emulator reported it (node null: unassigned). */
export interface CloudMove {
  ip: string;
  node: string | null;
  at: number;
}

export type Convergence = { ok: true; holders: Record<string, string> } | { ok: false; why: string };

/**
 * Whether the bed is at rest: every daemon answers, runs, is quorate and sees every node; every node
 * agrees that each resource runs on exactly one node and has failed nowhere; each VIP is held in the cloud
 * and configured locally by exactly that node.
 */
export function convergence(
  sample: Sample,
  nodes: readonly string[],
  vips: Record<string, string>,
): Convergence {
  const all = [...nodes].sort().join();
  let reference: Record<string, string[]> | undefined;
  for (const { node, view } of sample.nodes) {
    if (view === null) return { ok: false, why: `${node}: daemon not answering` };
    if (!view.running) return { ok: false, why: `${node}: cluster services stopped` };
    if (!view.quorate) return { ok: false, why: `${node}: not quorate` };
    if ([...view.online].sort().join() !== all) {
      return { ok: false, why: `${node}: online ${view.online.join(",") || "-"}` };
    }
    for (const [id, failed] of Object.entries(view.failedOn)) {
      if (failed.length > 0) return { ok: false, why: `${node}: ${id} failed on ${failed.join(",")}` };
    }
    for (const [id, on] of Object.entries(view.runningOn)) {
      if (on.length !== 1) return { ok: false, why: `${node}: ${id} runs on [${on.join(",")}]` };
    }
    if (reference === undefined) reference = view.runningOn;
    else if (JSON.stringify(sortKeys(reference)) !== JSON.stringify(sortKeys(view.runningOn))) {
      return { ok: false, why: `nodes disagree on placement` };
    }
  }
  const holders: Record<string, string> = {};
  for (const [vip, resourceId] of Object.entries(vips)) {
    const cloud = sample.cloudHolders[vip] ?? [];
    const local = sample.nodes.filter((n) => n.localVips.includes(vip)).map((n) => n.node);
    const placed = reference?.[resourceId] ?? [];
    if (cloud.length !== 1) return { ok: false, why: `${vip}: cloud holders [${cloud.join(",")}]` };
    if (local.length !== 1 || local[0] !== cloud[0]) {
      return { ok: false, why: `${vip}: configured on [${local.join(",")}], cloud holder ${cloud[0]}` };
    }
    if (placed[0] !== cloud[0]) {
      return { ok: false, why: `${vip}: ${resourceId} placed on ${placed[0]}, cloud holder ${cloud[0]}` };
    }
    holders[vip] = cloud[0] ?? "";
  }
  return { ok: true, holders };
}

function sortKeys(map: Record<string, string[]>): [string, string[]][] {
  return Object.entries(map).sort(([a], [b]) => a.localeCompare(b));
}
