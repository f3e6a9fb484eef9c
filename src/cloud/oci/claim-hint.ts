import { createHash } from "node:crypto";
import { TAG_EPOCH, TAG_HOLDER, TAG_LEASE } from "./hold-tags.ts";
import type { FreeformTags } from "./oci-api.ts";

/**
 * What the holder of a VIP last wrote to its private IP, as it tells its peers in heartbeats: the ETag,
 * the hold epoch and lease, and a digest of the tags floatip does not own. A peer that takes the VIP over
 * after the holder is lost can send its guarded UpdatePrivateIp at once with this ETag instead of reading
 * the object first, which saves one API round trip on the failover path. A stale hint costs nothing but
 * that saving: the cloud answers 412 and the claim falls back to reading.
 */
export interface ClaimHint {
  etag: string;
  epoch: number;
  leaseUntil: number;
  /** Digest of the freeform tags other than floatip's own, see `otherTagsDigest`. */
  otherTags: string;
}

const HINT_PATTERN = /^(\d{1,16})\.(\d{1,16})\.([0-9a-f]{8})\.([\x21-\x7e]{1,200})$/;

export function encodeClaimHint(hint: ClaimHint): string {
  return `${hint.epoch}.${hint.leaseUntil}.${hint.otherTags}.${hint.etag}`;
}

/** undefined for anything that is not a hint this version wrote: hints are an optimisation, never trusted. */
export function decodeClaimHint(text: string | undefined): ClaimHint | undefined {
  if (text === undefined) return undefined;
  const match = HINT_PATTERN.exec(text);
  if (!match) return undefined;
  const [, epoch = "", lease = "", otherTags = "", etag = ""] = match;
  return { epoch: Number(epoch), leaseUntil: Number(lease), otherTags, etag };
}

/** Order-independent digest of the tags floatip does not own, so peers can tell whether theirs match. */
export function otherTagsDigest(tags: FreeformTags): string {
  const own = new Set([TAG_EPOCH, TAG_HOLDER, TAG_LEASE]);
  const entries = Object.entries(tags)
    .filter(([key]) => !own.has(key))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256").update(JSON.stringify(entries)).digest("hex").slice(0, 8);
}
