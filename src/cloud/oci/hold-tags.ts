import type { FreeformTags } from "./oci-api.ts";

/**
 * The hold record floatip keeps in freeform tags on the private IP itself, so it changes atomically with
 * the vnicId in one if-match guarded UpdatePrivateIp.
 */
export const TAG_EPOCH = "floatip-epoch";
export const TAG_HOLDER = "floatip-holder";
export const TAG_LEASE = "floatip-lease";

export interface HoldTags {
  /** Grows by one with every change of holder; 0 when the tag is absent or unreadable. */
  epoch: number;
  /** Instance OCID of the holder that wrote the tags, if any. */
  holder: string | undefined;
  /** Wall-clock ms until which the holder claims the VIP; 0 when released or absent. */
  leaseUntil: number;
}

function wholeNumber(text: string | undefined): number {
  if (text === undefined || !/^\d{1,16}$/.test(text)) return 0;
  return Number(text);
}

export function readHoldTags(tags: FreeformTags): HoldTags {
  const holder = tags[TAG_HOLDER];
  return {
    epoch: wholeNumber(tags[TAG_EPOCH]),
    holder: holder === undefined || holder === "" ? undefined : holder,
    leaseUntil: wholeNumber(tags[TAG_LEASE]),
  };
}

/** `existing` with the hold record replaced, keeping every tag floatip does not own. */
export function withHoldTags(existing: FreeformTags, hold: HoldTags): FreeformTags {
  const tags: FreeformTags = {
    ...existing,
    [TAG_EPOCH]: String(hold.epoch),
    [TAG_LEASE]: String(hold.leaseUntil),
  };
  if (hold.holder === undefined) delete tags[TAG_HOLDER];
  else tags[TAG_HOLDER] = hold.holder;
  return tags;
}
