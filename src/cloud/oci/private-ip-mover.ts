import type { Logger } from "pino";
import type { Clock } from "../../clock/clock.ts";
import { backoffDelayMs } from "./backoff.ts";
import { decodeClaimHint, encodeClaimHint, otherTagsDigest } from "./claim-hint.ts";
import { vnicForIp, type LocalInstance, type LocalVnic } from "./discovery.ts";
import { DisplacementMemory } from "./displacement-memory.ts";
import { OciCloudError, describeError } from "./errors.ts";
import { readHoldTags, withHoldTags, type HoldTags } from "./hold-tags.ts";
import type { FreeformTags, OciApi, PrivateIpInfo, Versioned } from "./oci-api.ts";
import { VnicReadBatcher } from "./verify-batch.ts";

export type ClaimMode = "normal" | "force";

export type ClaimResult =
  | {
      outcome: "created" | "moved" | "already";
      privateIpId: string;
      vnicId: string;
      epoch: number;
      leaseUntil: number;
    }
  | {
      /** This node was displaced and the other holder's lease is still running. */
      outcome: "held-elsewhere";
      holderVnicId: string | undefined;
      holderInstanceId: string | undefined;
      epoch: number;
      leaseUntil: number;
    }
  | {
      /** Another node moved the VIP between our read and our write. */
      outcome: "lost-race";
      holderVnicId: string | undefined;
      holderInstanceId: string | undefined;
      epoch: number;
    };

export type InspectResult =
  | {
      state: "held";
      privateIpId: string;
      etag: string | undefined;
      holderVnicId: string | undefined;
      holderInstanceId: string | undefined;
      epoch: number;
      leaseUntil: number;
      /** The VIP is on this node's VNIC. */
      ours: boolean;
      /** Not ours, and another holder took it from this node with a newer epoch. */
      displaced: boolean;
      /** All freeform tags as read, so renew can write without reading again. */
      tags: FreeformTags;
      subnetId: string;
    }
  | { state: "absent" }
  | { state: "unknown"; reason: string; error: unknown };

export type HeldInspection = Extract<InspectResult, { state: "held" }>;

export type RenewResult =
  | { outcome: "renewed" | "fresh"; leaseUntil: number; epoch: number }
  | { outcome: "not-holder"; holderVnicId: string | undefined; epoch: number; displaced: boolean }
  | { outcome: "absent" };

export type ReleaseResult =
  { outcome: "released" | "not-holder" | "absent" } | { outcome: "failed"; reason: string };

export interface PrivateIpMoverOptions {
  api: OciApi;
  /** This instance (metadata + GetVnic), usually `cachedLocalInstance(...)`. */
  localInstance: (signal?: AbortSignal) => Promise<LocalInstance>;
  /** Must read wall-clock time: leases are compared across nodes. */
  clock: Clock;
  leaseMs: number;
  logger: Logger;
  /** Optional file to remember displacements across restarts. */
  stateFile?: string;
}

interface Target {
  local: LocalInstance;
  vnic: LocalVnic;
}

/** Renew when less than this share of the lease is left, so renewals happen at most every leaseMs/3. */
const RENEW_WHEN_REMAINING_BELOW = 2 / 3;
const VERIFY_READS = 3;

/**
 * Moves a secondary private IP (the VIP) to this instance's VNIC safely: every write is guarded by the
 * object's ETag and carries a growing epoch, and success is reported only after reading it back.
 *
 * The displacement rule keeps two partitioned nodes from taking the VIP back and forth: a node that held
 * the VIP and then saw another holder with a newer epoch does not take it back while that holder's
 * lease runs (unless forced by an admin). A node that was not displaced takes over at once.
 */
export class PrivateIpMover {
  readonly #options: PrivateIpMoverOptions;
  readonly #memory: DisplacementMemory;
  readonly #logger: Logger;
  /** Private IP OCIDs by VIP: the OCID stays when the IP moves, so inspect needs one GET, not a list. */
  readonly #privateIpIds = new Map<string, string>();
  /** Every configured node is a member, as the daemon last told (see forgetDisplacements). */
  #whole = false;
  /** The last state of each VIP's private IP this node read or wrote, and whether it was on our VNIC. */
  readonly #known = new Map<string, { seen: Versioned<PrivateIpInfo>; ours: boolean }>();
  /** Read-backs of claims, shared per VNIC (built on first use, see #readBack). */
  #readBacks: VnicReadBatcher | undefined;

  constructor(options: PrivateIpMoverOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "private-ip-mover" });
    this.#memory = new DisplacementMemory({
      ...(options.stateFile === undefined ? {} : { file: options.stateFile }),
      onWriteError: (error) =>
        this.#logger.warn(
          { err: describeError(error), file: options.stateFile },
          "mover state file not usable",
        ),
    });
  }

  /**
   * `onApplied` runs as soon as the cloud accepted our write, before the read-back: the caller can
   * configure the local address meanwhile, since traffic follows the cloud from that moment.
   */
  async claim(
    vip: string,
    options: { mode?: ClaimMode; signal?: AbortSignal; onApplied?: () => void; hint?: string } = {},
  ): Promise<ClaimResult> {
    const { signal } = options;
    const mode = options.mode ?? "normal";
    const target = await this.#target(vip, signal);
    const hinted = this.#fromHint(vip, options.hint, target);
    const rounds = hinted ? 3 : 2;
    for (let round = 1; round <= rounds; round++) {
      const fromHint = round === 1 && hinted !== undefined;
      const current = fromHint ? hinted : await this.#find(vip, target, signal);
      if (!current) {
        const created = await this.#create(vip, target, signal, options.onApplied);
        if (created) return created;
        continue;
      }
      const pip = current.value;
      if (pip.isPrimary) throw primaryError(vip, pip);
      const tags = readHoldTags(pip.freeformTags);
      if (pip.vnicId === target.vnic.vnicId) return this.#alreadyOurs(vip, target, current, signal);

      const displaced = await this.#observe(vip, pip, target);
      if (mode === "normal" && displaced && tags.leaseUntil > this.#now()) {
        // A hint may predate the holder's release (a standby, a clean stop): refuse only on a fresh read.
        if (fromHint) continue;
        this.#logger.info(
          { vip, holder: tags.holder, epoch: tags.epoch, leaseUntil: tags.leaseUntil },
          "VIP held elsewhere",
        );
        return {
          outcome: "held-elsewhere",
          holderVnicId: pip.vnicId,
          holderInstanceId: tags.holder,
          epoch: tags.epoch,
          leaseUntil: tags.leaseUntil,
        };
      }
      const next: HoldTags = {
        epoch: tags.epoch + 1,
        holder: target.local.instanceId,
        leaseUntil: this.#leaseEnd(),
      };
      try {
        const written = await this.#options.api.updatePrivateIp(
          pip.id,
          { vnicId: target.vnic.vnicId, freeformTags: withHoldTags(pip.freeformTags, next) },
          current.etag,
          callOptions(signal),
        );
        this.#remember(vip, written, target);
      } catch (error) {
        if (!(error instanceof OciCloudError && error.isEtagMismatch)) throw error;
        if (fromHint) {
          // The holder wrote again after its last heartbeat (or the hint is older): read, then decide.
          this.#logger.debug({ vip }, "claim hint was stale; reading the private IP");
          continue;
        }
        const after = await this.#options.api.getPrivateIp(pip.id, callOptions(signal));
        const seen = readHoldTags(after.value.freeformTags);
        const ourWriteLanded =
          after.value.vnicId === target.vnic.vnicId &&
          seen.epoch === next.epoch &&
          seen.holder === target.local.instanceId;
        if (!ourWriteLanded) {
          if (after.value.vnicId !== target.vnic.vnicId && seen.epoch > tags.epoch) {
            this.#logger.info({ vip, holder: seen.holder, epoch: seen.epoch }, "lost the race for the VIP");
            return {
              outcome: "lost-race",
              holderVnicId: after.value.vnicId,
              holderInstanceId: seen.holder,
              epoch: seen.epoch,
            };
          }
          continue;
        }
        // A timed-out attempt of ours was applied and its retry saw the new ETag: verify as usual.
      }
      options.onApplied?.();
      return this.#verify(vip, target, pip.id, next, "moved", signal);
    }
    throw new OciCloudError(
      "FLOATIP_E_OCI_CONFLICT",
      `${vip} kept changing while floatip tried to move it (two attempts, each answered 412 without a newer holder); something else is updating this private IP: stop it and retry`,
    );
  }

  /** Who holds the VIP according to the cloud; never throws for cloud errors (state "unknown"). */
  async inspect(vip: string, options: { signal?: AbortSignal } = {}): Promise<InspectResult> {
    try {
      const target = await this.#target(vip, options.signal);
      const current = await this.#find(vip, target, options.signal);
      if (!current) return { state: "absent" };
      const pip = current.value;
      const tags = readHoldTags(pip.freeformTags);
      const ours = pip.vnicId === target.vnic.vnicId;
      const displaced = ours ? false : await this.#observe(vip, pip, target, { monitoring: true });
      return {
        state: "held",
        privateIpId: pip.id,
        etag: current.etag,
        holderVnicId: pip.vnicId,
        holderInstanceId: ours ? target.local.instanceId : tags.holder,
        epoch: tags.epoch,
        leaseUntil: tags.leaseUntil,
        ours,
        displaced,
        tags: { ...pip.freeformTags },
        subnetId: pip.subnetId,
      };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      return { state: "unknown", reason: describeError(error), error };
    }
  }

  /**
   * A standby's look-up of many VIPs at once: one ListPrivateIps per subnet (paged) instead of a read per
   * VIP. Remembers each one's OCID, and its tags when it is on another VNIC (without an ETag: nothing is
   * written from it; a claim writes with the holder's hint, whose ETag it is, or reads first). Returns the
   * VIPs that exist; rejects on cloud errors. A VIP in no subnet of this instance is left to its start.
   */
  async learn(vips: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Set<string>> {
    const { signal } = options;
    const bySubnet = new Map<string, { target: Target; vips: Set<string> }>();
    const local = await this.#options.localInstance(signal);
    for (const vip of vips) {
      let target: Target;
      try {
        target = { local, vnic: vnicForIp(local, vip) };
      } catch (error) {
        if (error instanceof OciCloudError && error.code === "FLOATIP_E_VIP_NOT_IN_SUBNET") continue;
        throw error;
      }
      const group = bySubnet.get(target.vnic.subnetId) ?? { target, vips: new Set<string>() };
      group.vips.add(vip);
      bySubnet.set(target.vnic.subnetId, group);
    }
    const found = new Set<string>();
    for (const [subnetId, group] of bySubnet) {
      const listed = await this.#options.api.listPrivateIps({ subnetId }, callOptions(signal));
      for (const item of listed) {
        if (!group.vips.has(item.ipAddress) || item.isPrimary) continue;
        found.add(item.ipAddress);
        this.#privateIpIds.set(item.ipAddress, item.id);
        if (item.vnicId !== group.target.vnic.vnicId && !this.#known.has(item.ipAddress))
          this.#known.set(item.ipAddress, { seen: { value: item, etag: undefined }, ours: false });
      }
    }
    return found;
  }

  /**
   * Extends this node's lease when it holds the VIP and less than two thirds of the lease is left.
   * `from` saves a read when the caller has just inspected.
   */
  async renew(
    vip: string,
    options: { signal?: AbortSignal; from?: HeldInspection } = {},
  ): Promise<RenewResult> {
    const { signal, from } = options;
    const target = await this.#target(vip, signal);
    const known = from ? inspectionAsVersioned(vip, from) : undefined;
    return this.#renewFrom(vip, target, known, signal);
  }

  /**
   * Renews this node's lease with the ETag of its last read or write of the private IP, without reading
   * first: the guarded write lands only if nothing changed since, so the VIP is still on our VNIC under our
   * lease, and it is as good a cloud check as a read. At hundreds of VIPs this halves the steady state's
   * Core calls (a GET before every renewal). Undefined when this cannot be done or did not land (no such
   * copy, the lease not due or not live, a 412): the caller reads instead.
   */
  async renewKnown(
    vip: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ outcome: "renewed"; leaseUntil: number; epoch: number } | undefined> {
    const { signal } = options;
    if (!this.#known.get(vip)?.ours) return undefined;
    const target = await this.#target(vip, signal);
    // A released or lapsed lease is not renewed blindly: a read decides (the VIP may be a peer's now).
    const seen = this.#heldAsLastWritten(vip, target);
    if (!seen?.etag) return undefined;
    const pip = seen.value;
    const tags = readHoldTags(pip.freeformTags);
    const remaining = tags.leaseUntil - this.#now();
    if (remaining <= 0 || remaining > this.#options.leaseMs * RENEW_WHEN_REMAINING_BELOW) return undefined;
    const next: HoldTags = { ...tags, leaseUntil: this.#leaseEnd() };
    try {
      const written = await this.#options.api.updatePrivateIp(
        pip.id,
        { freeformTags: withHoldTags(pip.freeformTags, next) },
        seen.etag,
        callOptions(signal),
      );
      this.#remember(vip, written, target);
    } catch (error) {
      // 404: deleted outside floatip; the read says so.
      if (error instanceof OciCloudError && (error.isEtagMismatch || error.detail.status === 404))
        return undefined;
      throw error;
    }
    await this.#memory.markHeld(vip, next.epoch);
    return { outcome: "renewed", leaseUntil: next.leaseUntil, epoch: next.epoch };
  }

  /** This node's last write to `vip` when it shows a live lease of ours on our VNIC, else undefined. */
  #heldAsLastWritten(vip: string, target: Target): Versioned<PrivateIpInfo> | undefined {
    const known = this.#known.get(vip);
    if (!known?.ours || known.seen.etag === undefined) return undefined;
    const tags = readHoldTags(known.seen.value.freeformTags);
    const mine = known.seen.value.vnicId === target.vnic.vnicId && tags.holder === target.local.instanceId;
    return mine && tags.leaseUntil > 0 ? known.seen : undefined;
  }

  async #renewFrom(
    vip: string,
    target: Target,
    known: Versioned<PrivateIpInfo> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RenewResult> {
    for (let round = 1; round <= 2; round++) {
      const current = known ?? (await this.#find(vip, target, signal));
      known = undefined;
      if (!current) return { outcome: "absent" };
      const pip = current.value;
      const tags = readHoldTags(pip.freeformTags);
      if (pip.vnicId !== target.vnic.vnicId) {
        const displaced = await this.#observe(vip, pip, target, { monitoring: true });
        return { outcome: "not-holder", holderVnicId: pip.vnicId, epoch: tags.epoch, displaced };
      }
      const ownTags = tags.holder === target.local.instanceId;
      this.#remember(vip, current, target);
      if (ownTags && tags.leaseUntil - this.#now() > this.#options.leaseMs * RENEW_WHEN_REMAINING_BELOW) {
        await this.#memory.markHeld(vip, tags.epoch);
        return { outcome: "fresh", leaseUntil: tags.leaseUntil, epoch: tags.epoch };
      }
      // Tags written by someone else (or none) while the IP is on our VNIC: take ownership with a new epoch.
      const next: HoldTags = {
        epoch: ownTags ? tags.epoch : tags.epoch + 1,
        holder: target.local.instanceId,
        leaseUntil: this.#leaseEnd(),
      };
      try {
        const written = await this.#options.api.updatePrivateIp(
          pip.id,
          { freeformTags: withHoldTags(pip.freeformTags, next) },
          current.etag,
          callOptions(signal),
        );
        this.#remember(vip, written, target);
      } catch (error) {
        if (error instanceof OciCloudError && error.isEtagMismatch) continue;
        throw error;
      }
      await this.#memory.markHeld(vip, next.epoch);
      return { outcome: "renewed", leaseUntil: next.leaseUntil, epoch: next.epoch };
    }
    throw new OciCloudError(
      "FLOATIP_E_OCI_CONFLICT",
      `the lease of ${vip} kept changing while floatip renewed it; something else is updating this private IP: stop it`,
    );
  }

  /**
   * Best effort: when this node holds the VIP, ends its lease (tag "0") so a displaced peer may take it
   * at once. Never deletes or unassigns the private IP (that would free the address for anyone).
   */
  async release(vip: string, options: { signal?: AbortSignal } = {}): Promise<ReleaseResult> {
    const { signal } = options;
    try {
      const target = await this.#target(vip, signal);
      // The lease this node last wrote is released with that write's ETag, without reading first: a stop
      // on the failover path (a failed service) costs one call, and a 412 or 404 falls back to the read.
      const known = this.#heldAsLastWritten(vip, target);
      const rounds = known ? 3 : 2;
      for (let round = 1; round <= rounds; round++) {
        const fromKnown = round === 1 && known !== undefined;
        const current = fromKnown ? known : await this.#find(vip, target, signal);
        if (!current) return { outcome: "absent" };
        const pip = current.value;
        if (pip.vnicId !== target.vnic.vnicId) {
          // Taken while we thought we held it: remember the displacement, or a later start would take it back.
          // While the cluster is whole that start is the coordinator's own decision, like a monitor's view.
          await this.#observe(vip, pip, target, { monitoring: true });
          return { outcome: "not-holder" };
        }
        // A blind write may still find the VIP taken: the hold record stays until it lands, so the
        // read after its 412 can tell a displacement.
        if (!fromKnown) await this.#memory.markNotHeld(vip);
        const tags = readHoldTags(pip.freeformTags);
        if (tags.leaseUntil === 0 && pip.freeformTags["floatip-lease"] !== undefined)
          return { outcome: "released" };
        try {
          const written = await this.#options.api.updatePrivateIp(
            pip.id,
            { freeformTags: withHoldTags(pip.freeformTags, { ...tags, leaseUntil: 0 }) },
            current.etag,
            callOptions(signal),
          );
          this.#remember(vip, written, target);
          if (fromKnown) await this.#memory.markNotHeld(vip);
          return { outcome: "released" };
        } catch (error) {
          const deleted = fromKnown && error instanceof OciCloudError && error.detail.status === 404;
          if (!(error instanceof OciCloudError && error.isEtagMismatch) && !deleted) throw error;
        }
      }
      return { outcome: "failed", reason: "the private IP kept changing (412 twice)" };
    } catch (error) {
      if (signal?.aborted) throw error;
      this.#logger.warn({ vip, err: describeError(error) }, "could not release the VIP lease");
      return { outcome: "failed", reason: describeError(error) };
    }
  }

  async #target(vip: string, signal: AbortSignal | undefined): Promise<Target> {
    const local = await this.#options.localInstance(signal);
    return { local, vnic: vnicForIp(local, vip) };
  }

  /** The private IP object of `vip` in our subnet with its ETag, or undefined when it does not exist. */
  async #find(
    vip: string,
    target: Target,
    signal: AbortSignal | undefined,
  ): Promise<Versioned<PrivateIpInfo> | undefined> {
    const { api } = this.#options;
    const knownId = this.#privateIpIds.get(vip);
    if (knownId !== undefined) {
      try {
        const current = await api.getPrivateIp(knownId, callOptions(signal));
        if (current.value.ipAddress === vip) return this.#remember(vip, current, target);
      } catch (error) {
        if (!(error instanceof OciCloudError && error.detail.status === 404)) throw error;
      }
      this.#privateIpIds.delete(vip);
    }
    const found = await api.listPrivateIps(
      { subnetId: target.vnic.subnetId, ipAddress: vip },
      callOptions(signal),
    );
    const matching = found.filter((item) => item.ipAddress === vip);
    if (matching.length > 1) {
      throw new OciCloudError(
        "FLOATIP_E_OCI_AMBIGUOUS",
        `subnet ${target.vnic.subnetId} lists ${matching.length} private IPs with address ${vip} (${matching.map((item) => item.id).join(", ")}); remove the extra ones in the console`,
      );
    }
    const only = matching[0];
    if (!only) return undefined;
    if (only.isPrimary) throw primaryError(vip, only);
    const current = await api.getPrivateIp(only.id, callOptions(signal));
    this.#privateIpIds.set(vip, only.id);
    return this.#remember(vip, current, target);
  }

  /** Creates the VIP on our VNIC; undefined when someone else created it first (the caller re-reads). */
  async #create(
    vip: string,
    target: Target,
    signal: AbortSignal | undefined,
    onApplied: (() => void) | undefined,
  ): Promise<ClaimResult | undefined> {
    const hold: HoldTags = { epoch: 1, holder: target.local.instanceId, leaseUntil: this.#leaseEnd() };
    let created: Versioned<PrivateIpInfo>;
    try {
      created = await this.#options.api.createPrivateIp(
        { vnicId: target.vnic.vnicId, ipAddress: vip, freeformTags: withHoldTags({}, hold) },
        callOptions(signal),
      );
    } catch (error) {
      if (error instanceof OciCloudError && error.detail.status === 409) return undefined;
      throw error;
    }
    this.#privateIpIds.set(vip, created.value.id);
    this.#remember(vip, created, target);
    this.#logger.info({ vip, privateIpId: created.value.id }, "created the VIP as a secondary private IP");
    onApplied?.();
    return this.#verify(vip, target, created.value.id, hold, "created", signal);
  }

  async #alreadyOurs(
    vip: string,
    target: Target,
    current: Versioned<PrivateIpInfo>,
    signal: AbortSignal | undefined,
  ): Promise<ClaimResult> {
    const renewed = await this.#renewFrom(vip, target, current, signal);
    if (renewed.outcome === "not-holder") {
      return {
        outcome: "lost-race",
        holderVnicId: renewed.holderVnicId,
        holderInstanceId: undefined,
        epoch: renewed.epoch,
      };
    }
    if (renewed.outcome === "absent") {
      throw new OciCloudError(
        "FLOATIP_E_OCI_CONFLICT",
        `${vip} disappeared while floatip claimed it; retry the start`,
      );
    }
    return {
      outcome: "already",
      privateIpId: current.value.id,
      vnicId: target.vnic.vnicId,
      epoch: renewed.epoch,
      leaseUntil: renewed.leaseUntil,
    };
  }

  /** Reads back until the cloud shows our VNIC and our epoch; a few quick polls cover stale reads. */
  async #verify(
    vip: string,
    target: Target,
    privateIpId: string,
    hold: HoldTags,
    outcome: "created" | "moved",
    signal: AbortSignal | undefined,
  ): Promise<ClaimResult> {
    let last: PrivateIpInfo | undefined;
    for (let read = 0; read < VERIFY_READS; read++) {
      if (read > 0) {
        await this.#options.clock.sleep(
          backoffDelayMs(read - 1, { maxAttempts: VERIFY_READS, baseDelayMs: 100, maxDelayMs: 1000 }),
          signal,
        );
      }
      const seen = await this.#readBack(vip, target, privateIpId, signal);
      last = seen.value;
      const tags = readHoldTags(seen.value.freeformTags);
      if (
        seen.value.vnicId === target.vnic.vnicId &&
        tags.epoch === hold.epoch &&
        tags.holder === hold.holder
      ) {
        await this.#memory.markHeld(vip, hold.epoch);
        this.#logger.info({ vip, epoch: hold.epoch, outcome }, "VIP verified on this VNIC");
        return {
          outcome,
          privateIpId,
          vnicId: target.vnic.vnicId,
          epoch: hold.epoch,
          leaseUntil: hold.leaseUntil,
        };
      }
      if (tags.epoch > hold.epoch) {
        return {
          outcome: "lost-race",
          holderVnicId: seen.value.vnicId,
          holderInstanceId: tags.holder,
          epoch: tags.epoch,
        };
      }
    }
    throw new OciCloudError(
      "FLOATIP_E_OCI_VERIFY_FAILED",
      `after ${outcome === "created" ? "creating" : "moving"} ${vip} the cloud still shows it on VNIC ${last?.vnicId ?? "(none)"} with epoch ${readHoldTags(last?.freeformTags ?? {}).epoch}, not on ${target.vnic.vnicId} with epoch ${hold.epoch}; check the private IP in the console and retry`,
    );
  }

  /**
   * One read of a private IP this node just wrote, shared with the other read-backs on our VNIC. A listed
   * copy has no ETag: when it differs from what we wrote, what we know is dropped (never kept without an
   * ETag: nothing may write or hint from it); when the list does not show it on our VNIC, a GET says where.
   */
  async #readBack(
    vip: string,
    target: Target,
    privateIpId: string,
    signal: AbortSignal | undefined,
  ): Promise<Versioned<PrivateIpInfo>> {
    this.#readBacks ??= new VnicReadBatcher(this.#options.api);
    const read = await this.#readBacks.read(target.vnic.vnicId, privateIpId, signal);
    if (read === undefined) {
      return this.#remember(
        vip,
        await this.#options.api.getPrivateIp(privateIpId, callOptions(signal)),
        target,
      );
    }
    if (read.etag !== undefined) return this.#remember(vip, read, target);
    const known = this.#known.get(vip)?.seen.value;
    const same = known !== undefined && known.vnicId === read.value.vnicId;
    if (!same || !sameTags(known.freeformTags, read.value.freeformTags)) this.#known.delete(vip);
    return read;
  }

  /**
   * Records a displacement when the VIP is elsewhere with a newer epoch than this node's own hold.
   * Returns whether this node counts as displaced for `vip`.
   */
  async #observe(
    vip: string,
    pip: PrivateIpInfo,
    target: Target,
    options: { monitoring?: boolean } = {},
  ): Promise<boolean> {
    const tags = readHoldTags(pip.freeformTags);
    if (options.monitoring === true && this.#whole && tags.holder !== target.local.instanceId) {
      // Every node is a member: whoever holds the VIP got it from the coordinator (or kept it from a
      // partition that has healed). Remembering it would only delay a later, real failover to this node.
      // Claims never take this path: a start decided during the partition may still be running after the
      // heal, and must stand down rather than take the VIP back.
      await this.#memory.clear(vip);
      return false;
    }
    const record = await this.#memory.get(vip);
    if (
      record.heldEpoch !== undefined &&
      tags.epoch > record.heldEpoch &&
      tags.holder !== target.local.instanceId
    ) {
      await this.#memory.markDisplaced(vip, {
        at: this.#now(),
        byEpoch: tags.epoch,
        ...(tags.holder === undefined ? {} : { byInstance: tags.holder }),
      });
      this.#logger.warn(
        { vip, holder: tags.holder, epoch: tags.epoch, ownEpoch: record.heldEpoch },
        "displaced: another holder has the VIP",
      );
      return true;
    }
    return record.displaced !== undefined && tags.holder !== target.local.instanceId;
  }

  /**
   * What this node last wrote to or read from `vip`'s private IP while holding it, for its peers (see
   * claim-hint.ts); undefined when this node does not hold the VIP as far as it knows.
   */
  claimHint(vip: string): string | undefined {
    const known = this.#known.get(vip);
    if (!known?.ours || known.seen.etag === undefined) return undefined;
    const tags = readHoldTags(known.seen.value.freeformTags);
    return encodeClaimHint({
      etag: known.seen.etag,
      epoch: tags.epoch,
      leaseUntil: tags.leaseUntil,
      otherTags: otherTagsDigest(known.seen.value.freeformTags),
    });
  }

  #remember(vip: string, seen: Versioned<PrivateIpInfo>, target: Target): Versioned<PrivateIpInfo> {
    this.#known.set(vip, { seen, ours: seen.value.vnicId === target.vnic.vnicId });
    return seen;
  }

  /**
   * The private IP as the holder's hint says it is now: our last read of the object (its OCID and the
   * tags floatip does not own) with the hint's ETag and hold record. Undefined when the hint is missing,
   * unreadable, or our copy of the other tags differs from the holder's (a write would lose them).
   */
  #fromHint(vip: string, text: string | undefined, target: Target): Versioned<PrivateIpInfo> | undefined {
    const hint = decodeClaimHint(text);
    const known = this.#known.get(vip);
    if (!hint || !known) return undefined;
    const { value } = known.seen;
    // Our last view shows the VIP here: only a newer hold of the peer's (it took the VIP after that view,
    // typically after our own release) makes the hint worth a write; otherwise read, it may well be ours.
    if (known.ours && hint.epoch <= readHoldTags(value.freeformTags).epoch) return undefined;
    if (otherTagsDigest(value.freeformTags) !== hint.otherTags) return undefined;
    const seenHolder = readHoldTags(value.freeformTags).holder;
    const holder = seenHolder === target.local.instanceId ? undefined : seenHolder;
    return {
      // The holder is another node's VNIC, whichever: the hint came from the node that holds it.
      value: {
        ...value,
        vnicId: undefined,
        freeformTags: withHoldTags(value.freeformTags, {
          epoch: hint.epoch,
          holder,
          leaseUntil: hint.leaseUntil,
        }),
      },
      etag: hint.etag,
    };
  }

  /**
   * The cluster is whole again: displacements seen during a partition no longer hold a claim back, nor
   * do holds of VIPs that are not running here (`runningHere`, when the caller knows it).
   */
  forgetDisplacements(runningHere?: readonly string[]): Promise<void> {
    this.#whole = true;
    return this.#memory.forgetDisplacements(runningHere === undefined ? undefined : new Set(runningHere));
  }

  /** Some configured node is not a member (lost, or behind a partition): displacements count again. */
  clusterPartial(): void {
    this.#whole = false;
  }

  /**
   * A member was lost. If it is alive behind a cut link, a claim it sent with the ETag this node gossiped
   * can sit in its TCP send queue and reach the API when the link returns, moving a VIP away from this
   * healthy holder long after the peer came back. Rewriting the lease of every VIP held here changes the
   * ETags while the peer is still cut off, so such a late write fails its if-match and the peer reads.
   */
  async peersLost(signal?: AbortSignal): Promise<void> {
    const held = [...this.#known]
      .filter(([, k]) => k.ours && readHoldTags(k.seen.value.freeformTags).leaseUntil > this.#now())
      .map(([vip]) => vip);
    const results = await Promise.allSettled(held.map((vip) => this.#rotate(vip, signal)));
    results.forEach((result, i) => {
      if (result.status === "rejected")
        this.#logger.warn(
          { vip: held[i], err: describeError(result.reason) },
          "could not rewrite the lease after a peer was lost",
        );
    });
  }

  async #rotate(vip: string, signal: AbortSignal | undefined): Promise<void> {
    const target = await this.#target(vip, signal);
    let current = this.#known.get(vip)?.seen;
    for (let round = 1; round <= 2; round++) {
      current ??= await this.#find(vip, target, signal);
      if (!current) return;
      const pip = current.value;
      const tags = readHoldTags(pip.freeformTags);
      // Released or taken meanwhile: a rewrite would hold a VIP this node has let go of.
      const holding =
        pip.vnicId === target.vnic.vnicId &&
        tags.holder === target.local.instanceId &&
        tags.leaseUntil > this.#now();
      if (!holding) return;
      const next: HoldTags = { ...tags, leaseUntil: this.#leaseEnd() };
      try {
        const written = await this.#options.api.updatePrivateIp(
          pip.id,
          { freeformTags: withHoldTags(pip.freeformTags, next) },
          current.etag,
          callOptions(signal),
        );
        this.#remember(vip, written, target);
        this.#logger.info({ vip, epoch: next.epoch }, "lease rewritten after a peer was lost");
        return;
      } catch (error) {
        if (!(error instanceof OciCloudError && error.isEtagMismatch)) throw error;
        current = undefined;
      }
    }
  }

  #now(): number {
    return this.#options.clock.now();
  }

  #leaseEnd(): number {
    return this.#now() + this.#options.leaseMs;
  }
}

function inspectionAsVersioned(vip: string, seen: HeldInspection): Versioned<PrivateIpInfo> {
  return {
    value: {
      id: seen.privateIpId,
      ipAddress: vip,
      vnicId: seen.holderVnicId,
      subnetId: seen.subnetId,
      isPrimary: false,
      freeformTags: { ...seen.tags },
    },
    etag: seen.etag,
  };
}

function sameTags(a: FreeformTags, b: FreeformTags): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function callOptions(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

function primaryError(vip: string, pip: PrivateIpInfo): OciCloudError {
  return new OciCloudError(
    "FLOATIP_E_VIP_IS_PRIMARY",
    `${vip} is the primary private IP of VNIC ${pip.vnicId ?? "(unknown)"} and cannot move; pick a free address in the subnet for the VIP`,
  );
}
