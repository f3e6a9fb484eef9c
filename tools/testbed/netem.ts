import type { Bed } from "./bed.ts";

/**
 * Impaired links for a node (its egress, so every packet the node sends): tc netem for loss, delay and
 * jitter; on a kernel built without netem (some VM kernels), an nftables rule dropping the same share of
 * packets at random, without delay or jitter.
 */
export interface NetemSpec {
  lossPercent: number;
  delayMs: number;
  jitterMs: number;
}

export type ImpairmentTool = "netem" | "nftables";

export function netemArgs(spec: NetemSpec): string[] {
  return ["delay", `${spec.delayMs}ms`, `${spec.jitterMs}ms`, "loss", `${spec.lossPercent}%`];
}

const NFT_TABLE = "floatip_impair";

export function nftLossRules(lossPercent: number): string {
  const share = Math.round(lossPercent);
  return `table inet ${NFT_TABLE} {\n  chain out { type filter hook output priority 0; policy accept; numgen random mod 100 < ${share} drop; }\n}\n`;
}

/** Which tool this host can impair links with, probed in `node`'s namespace (null: neither). */
export async function impairmentTool(bed: Bed, node: string): Promise<ImpairmentTool | null> {
  const ns = bed.nodeNs(node);
  const netem = await bed.execIn(ns, "tc", [
    "qdisc",
    "replace",
    "dev",
    "lo",
    "root",
    "netem",
    "delay",
    "0ms",
  ]);
  if (netem.code === 0) {
    await bed.execIn(ns, "tc", ["qdisc", "del", "dev", "lo", "root"]);
    return "netem";
  }
  const nft = await bed.execIn(ns, "nft", ["list", "tables"]).catch(() => ({ code: 127 }));
  return nft.code === 0 ? "nftables" : null;
}

export async function addNetem(
  bed: Bed,
  node: string,
  spec: NetemSpec,
  tool: ImpairmentTool = "netem",
): Promise<void> {
  const ns = bed.nodeNs(node);
  const out =
    tool === "netem"
      ? await bed.execIn(ns, "tc", ["qdisc", "replace", "dev", "eth0", "root", "netem", ...netemArgs(spec)])
      : await bed.execIn(ns, "sh", ["-c", `printf '%s' '${nftLossRules(spec.lossPercent)}' | nft -f -`]);
  if (out.code !== 0) throw new Error(`FLOATIP_E_TESTBED: ${tool} on ${node} failed: ${out.stderr.trim()}`);
}

/** Removes any impairment from the node; fine when there is none. */
export async function clearNetem(bed: Bed, node: string): Promise<void> {
  const ns = bed.nodeNs(node);
  await bed.execIn(ns, "tc", ["qdisc", "del", "dev", "eth0", "root"]);
  await bed.execIn(ns, "nft", ["delete", "table", "inet", NFT_TABLE]).catch(() => undefined);
}
