import type { Bed } from "./bed.ts";

/** tc netem on a node's interface (its egress, so every packet the node sends): loss, delay, jitter. */
export interface NetemSpec {
  lossPercent: number;
  delayMs: number;
  jitterMs: number;
}

export function netemArgs(spec: NetemSpec): string[] {
  return ["delay", `${spec.delayMs}ms`, `${spec.jitterMs}ms`, "loss", `${spec.lossPercent}%`];
}

export async function addNetem(bed: Bed, node: string, spec: NetemSpec): Promise<void> {
  const out = await bed.execIn(bed.nodeNs(node), "tc", [
    "qdisc",
    "replace",
    "dev",
    "eth0",
    "root",
    "netem",
    ...netemArgs(spec),
  ]);
  if (out.code !== 0) throw new Error(`FLOATIP_E_TESTBED: tc netem on ${node} failed: ${out.stderr.trim()}`);
}

/** Removes netem from the node's interface; fine when there is none. */
export async function clearNetem(bed: Bed, node: string): Promise<void> {
  await bed.execIn(bed.nodeNs(node), "tc", ["qdisc", "del", "dev", "eth0", "root"]);
}
