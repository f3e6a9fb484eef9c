import { createHash } from "node:crypto";
import type { ClusterConfig } from "./schema.ts";

/**
 * JSON with object keys sorted at every level, so the same document gives the same bytes on every
 * node whatever order its keys were built in. Array order is meaningful and kept.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}

/** sha256 (hex) of the canonical document: tells apart two nodes holding the same epoch with different content. */
export function configHash(cfg: ClusterConfig): string {
  return createHash("sha256").update(canonicalJson(cfg)).digest("hex");
}
