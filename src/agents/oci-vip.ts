import type { Logger } from "pino";
import type { Clock, TimerHandle } from "../clock/clock.ts";
import { describeError } from "../cloud/oci/errors.ts";
import type { ClaimMode, ClaimResult, PrivateIpMover } from "../cloud/oci/private-ip-mover.ts";
import type { OciSettings } from "../cloud/oci/settings.ts";
import type { AgentContext, AgentResult, ResourceAgent } from "./agent.ts";
import { validateIpAddressParams } from "./ip-address.ts";

/** What the agent needs from the cloud side; PrivateIpMover in production. */
export type VipMover = Pick<PrivateIpMover, "claim" | "release" | "inspect" | "renew"> &
  Partial<Pick<PrivateIpMover, "claimHint" | "renewKnown" | "learn">>;

export interface OciVipAgentOptions {
  mover: VipMover;
  /** Adds/removes the address on this host (IpAddressAgent in production: ip addr + gratuitous ARP). */
  localAddress: ResourceAgent;
  clock: Clock;
  settings: Pick<OciSettings, "cloudCheckIntervalMs" | "leaseMs">;
  logger?: Logger;
  /** In [0, 1): spreads the standby's warm-up retries (Math.random by default). */
  random?: () => number;
}

/**
 * A standby's warm-up rounds (see #warm) retry 1 s, 2 s, 4 s ... apart up to WARM_MAX_DELAY_MS, and each VIP
 * is looked for during at most WARM_GIVE_UP_MS: the holder may create hundreds of VIPs over a minute or more
 * under the API's rate limit, and a standby that gave up before never learns the private IPs (three calls
 * per VIP at failover, not one).
 */
const WARM_FIRST_DELAY_MS = 1_000;
const WARM_MAX_DELAY_MS = 15_000;
const WARM_GIVE_UP_MS = 15 * 60_000;
/** VIPs asked for within this time share a round: a daemon probes its resources one after the other. */
const WARM_GATHER_MS = 100;
/** One round's own deadline; a hung call must not hold the warm-up forever. */
const WARM_LOOKUP_TIMEOUT_MS = 30_000;

/** Optional resource parameter: claim_mode=force lets an admin move take a VIP from a live holder. */
const CLAIM_MODE_PARAM = "claim_mode";

/**
 * A VIP on OCI (cluster property cloud=oci), parameters as IPaddr2 (ip, cidr_netmask, nic): the secondary
 * private IP is moved to this instance's VNIC in the cloud and the address is configured locally.
 *
 * Cloud errors are never a failure by themselves (the lesson of resource-agents #2020): monitor stays
 * "running" while the local address is there and says the cloud check is unknown. The resource fails or
 * stops only on evidence: the local address is gone, or the cloud shows another holder.
 */
export class OciVipAgent implements ResourceAgent {
  readonly #options: OciVipAgentOptions;
  /** When the cloud was last asked about each VIP; absent means "ask at the next monitor". */
  readonly #lastCloudCheck = new Map<string, number>();
  /** VIPs this standby is still looking up in the background, with when each was first asked for. */
  readonly #warming = new Map<string, number>();
  /** The next warm-up round, when one is waiting, and when it is due. */
  #warmTimer: TimerHandle | undefined;
  #warmDue = 0;
  /** The warm-up round on its way, if any (aborted by close()). */
  #warmRound: AbortController | undefined;
  /** A VIP was added since the last round began: the next round runs at once. */
  #warmAdded = false;
  /** Rounds since a VIP was last added, for the backoff. */
  #warmRetries = 0;
  #closed = false;

  constructor(options: OciVipAgentOptions) {
    this.#options = options;
  }

  validate(params: Readonly<Record<string, string>>): string[] {
    const problems = validateIpAddressParams(params);
    const mode = params[CLAIM_MODE_PARAM];
    if (mode !== undefined && mode !== "" && mode !== "normal" && mode !== "force") {
      problems.push(`${CLAIM_MODE_PARAM}=${mode} is not valid; use normal (default) or force`);
    }
    return problems;
  }

  async start(ctx: AgentContext): Promise<AgentResult> {
    const problems = this.validate(ctx.params);
    if (problems.length > 0) return { state: "failed", message: `FLOATIP_E_PARAM: ${problems.join("; ")}` };
    const ip = ctx.params.ip ?? "";
    // The claim reads what it needs itself; a look-up still running would only spend the API's budget.
    this.#stopWarming(ip);
    const mode: ClaimMode = ctx.params[CLAIM_MODE_PARAM] === "force" ? "force" : "normal";
    let claim: ClaimResult;
    // Started as soon as the cloud accepted the move, in parallel with the read-back that verifies it.
    let localStart: Promise<AgentResult> | null = null;
    const startedAt = this.#options.clock.now();
    let appliedAt: number | null = null;
    const onApplied = (): void => {
      appliedAt = this.#options.clock.now();
      localStart = this.#local("start", ctx);
    };
    try {
      claim = await this.#options.mover.claim(ip, {
        mode,
        signal: ctx.signal,
        onApplied,
        ...(ctx.peerHint === undefined ? {} : { hint: ctx.peerHint }),
      });
    } catch (error) {
      if (localStart) {
        await localStart;
        await this.#local("stop", ctx);
      }
      // The cloud could not be asked (outage, throttling): not evidence against this node, so "unknown"
      // lets the cluster retry instead of banning the node for a start failure.
      if (ctx.signal.aborted) return { state: "unknown", message: `cloud move of ${ip} timed out` };
      return { state: "unknown", message: `cloud move of ${ip} failed: ${describeError(error)}` };
    }
    if (claim.outcome === "held-elsewhere" || claim.outcome === "lost-race") {
      return { state: "stopped", displaced: true, message: heldElsewhereMessage(ip, claim) };
    }
    // The claim ended with a read showing the VIP here under a lease it just wrote.
    const checkedAt = this.#options.clock.now();
    const local = await (localStart ?? this.#local("start", ctx));
    if (local.state !== "running") {
      // The cloud points the VIP here but this host cannot serve it: let a peer take it at once.
      const released = await this.#options.mover.release(ip, { signal: ctx.signal });
      return {
        state: "failed",
        message: `${ip} is on this VNIC in the cloud but the local address failed: ${local.message ?? local.state}${released.outcome === "failed" ? `; lease release failed too: ${released.reason}` : ""}`,
      };
    }
    // That read is a cloud check: a monitor reading again at once would spend a GET per VIP (and renew a
    // fresh lease) in the middle of a mass failover. The next check still comes within a third of the lease.
    this.#lastCloudCheck.set(ip, checkedAt);
    const verifiedAt = this.#options.clock.now();
    const moved = appliedAt ?? verifiedAt;
    return {
      state: "running",
      generation: claim.epoch,
      ...this.#hint(ip),
      // The move is in effect from `moved` (traffic follows the cloud); the read-back verifies it.
      phases: { cloudMoveMs: moved - startedAt, verifyMs: verifiedAt - moved },
      message: `${ip} ${claim.outcome} on VNIC ${claim.vnicId} (epoch ${claim.epoch}) and configured locally`,
    };
  }

  async stop(ctx: AgentContext): Promise<AgentResult> {
    const ip = ctx.params.ip ?? "";
    // The local address goes first, so a peer that takes over after the release never overlaps with us.
    const local = await this.#local("stop", ctx);
    this.#lastCloudCheck.delete(ip);
    this.#stopWarming(ip);
    if (local.state !== "stopped") return local;
    if (ip === "") return local;
    const released = await this.#options.mover.release(ip, { signal: ctx.signal });
    if (released.outcome === "failed") {
      this.#options.logger?.warn({ ip, reason: released.reason }, "VIP stopped locally; lease not released");
      return {
        state: "stopped",
        message: `${ip} removed locally; cloud lease not released (${released.reason})`,
      };
    }
    // The release's ETag, for the peer that starts the VIP next: its claim then needs no read first.
    return { state: "stopped", ...this.#hint(ip) };
  }

  async monitor(ctx: AgentContext): Promise<AgentResult> {
    const ip = ctx.params.ip ?? "";
    const local = await this.#local("monitor", ctx);
    if (local.state === "stopped" || local.state === "failed") {
      return { state: "failed", message: `local address ${ip} is gone: ${local.message ?? local.state}` };
    }
    if (local.state !== "running") return local;
    if (!this.#cloudCheckDue(ip)) return { ...local, ...this.#hint(ip) };
    const checked = await this.#cloudCheck(ctx, ip, local);
    return checked.state === "running" ? { ...checked, ...this.#hint(ip) } : checked;
  }

  #hint(ip: string): Pick<AgentResult, "handoverHint"> {
    const hint = this.#options.mover.claimHint?.(ip);
    return hint === undefined ? {} : { handoverHint: hint };
  }

  async probe(ctx: AgentContext): Promise<AgentResult> {
    const ip = ctx.params.ip ?? "";
    const local = await this.#local("probe", ctx);
    if (local.state !== "running") {
      // A standby learns the private IP's OCID now, in the background, so a failover skips that lookup.
      // inspect() never rejects: errors come back as an "unknown" result, which is fine to drop here.
      if (ip !== "") this.#warm(ip);
      return local;
    }
    const seen = await this.#options.mover.inspect(ip, { signal: ctx.signal });
    if (seen.state === "unknown") return { state: "unknown", message: `cloud check unknown: ${seen.reason}` };
    if (seen.state === "held" && seen.ours) {
      this.#lastCloudCheck.set(ip, this.#options.clock.now());
      return {
        state: "running",
        generation: seen.epoch,
        ...this.#hint(ip),
        message: `${ip} is configured here and on this VNIC in the cloud (epoch ${seen.epoch})`,
      };
    }
    // The address is here but the cloud routes it elsewhere (or nowhere): a leftover, not ours to serve.
    const removed = await this.#local("stop", ctx);
    const where =
      seen.state === "held"
        ? `held by ${seen.holderInstanceId ?? seen.holderVnicId ?? "another VNIC"}`
        : "absent from the cloud";
    return {
      state: removed.state === "stopped" ? "stopped" : "failed",
      ...(seen.state === "held" ? { displaced: true } : {}),
      message: `${ip} was configured locally but is ${where}; removed the local address${removed.state === "stopped" ? "" : ` (failed: ${removed.message ?? removed.state})`}`,
    };
  }

  async #cloudCheck(ctx: AgentContext, ip: string, local: AgentResult): Promise<AgentResult> {
    const { mover, clock } = this.#options;
    try {
      // A lease due for renewal is renewed with the ETag last seen, without a read: landing proves the VIP
      // is still here; anything else (a 412) falls through to the read below.
      if (await mover.renewKnown?.(ip, { signal: ctx.signal })) {
        this.#lastCloudCheck.set(ip, clock.now());
        return local;
      }
    } catch (error) {
      return renewalFailed(ctx, error);
    }
    const seen = await mover.inspect(ip, { signal: ctx.signal });
    if (seen.state === "unknown") return { state: "running", message: `cloud check unknown: ${seen.reason}` };
    if (seen.state === "absent") {
      return {
        state: "failed",
        message: `${ip} no longer exists as a private IP in the cloud (deleted outside floatip); a restart recreates it`,
      };
    }
    if (!seen.ours) return this.#displaced(ctx, ip, seen.holderInstanceId ?? seen.holderVnicId, seen.epoch);
    try {
      const renewed = await mover.renew(ip, { signal: ctx.signal, from: seen });
      if (renewed.outcome === "not-holder")
        return this.#displaced(ctx, ip, renewed.holderVnicId, renewed.epoch);
    } catch (error) {
      return renewalFailed(ctx, error);
    }
    this.#lastCloudCheck.set(ip, clock.now());
    return local;
  }

  async #displaced(
    ctx: AgentContext,
    ip: string,
    holder: string | undefined,
    epoch: number,
  ): Promise<AgentResult> {
    const removed = await this.#local("stop", ctx);
    this.#lastCloudCheck.delete(ip);
    this.#options.logger?.warn(
      { ip, holder, epoch },
      "VIP displaced by another holder; local address removed",
    );
    const tail =
      removed.state === "stopped"
        ? ""
        : `; removing the local address failed: ${removed.message ?? removed.state}`;
    return {
      state: removed.state === "stopped" ? "stopped" : "failed",
      displaced: true,
      message: `FLOATIP_E_VIP_HELD_ELSEWHERE: ${ip} is now held by ${holder ?? "another VNIC"} (epoch ${epoch}); this node stepped back${tail}`,
    };
  }

  /**
   * Looks the VIP up in the background until it exists (the holder may create it minutes later), so the
   * mover knows its OCID and tags when a failover brings it here. Ends when found, when the VIP starts or
   * stops here, at close(), or after WARM_GIVE_UP_MS.
   *
   * All VIPs waiting share one round at a time: a lone one is one inspect as before; several are one
   * subnet listing (mover.learn), so 200 VIPs on 15 standbys are not 3000 reads every round.
   */
  #warm(ip: string): void {
    if (this.#closed || this.#warming.has(ip)) return;
    this.#warming.set(ip, this.#options.clock.now());
    this.#warmAdded = true;
    this.#warmRetries = 0;
    if (this.#warmRound) return; // the next round follows it
    this.#scheduleWarmRound(WARM_GATHER_MS);
  }

  /** The next round in `delayMs`, or sooner if one is already due sooner. */
  #scheduleWarmRound(delayMs: number): void {
    const { clock } = this.#options;
    const due = clock.now() + delayMs;
    if (this.#warmTimer !== undefined) {
      if (this.#warmDue <= due) return;
      clock.clearTimeout(this.#warmTimer);
    }
    this.#warmDue = due;
    this.#warmTimer = clock.setTimeout(() => this.#runWarmRound(), delayMs);
  }

  #runWarmRound(): void {
    this.#warmTimer = undefined;
    const { clock, mover } = this.#options;
    const asked = [...this.#warming.keys()];
    if (this.#closed || asked.length === 0) return;
    this.#warmAdded = false;
    const round = new AbortController();
    this.#warmRound = round;
    const signal = AbortSignal.any([round.signal, AbortSignal.timeout(WARM_LOOKUP_TIMEOUT_MS)]);
    // inspect() reports cloud errors as "unknown"; both reject only when aborted: all mean "try again later".
    const lookup: Promise<ReadonlySet<string>> =
      asked.length > 1 && mover.learn
        ? mover.learn(asked, { signal })
        : Promise.all(
            asked.map(async (ip) => ((await mover.inspect(ip, { signal })).state === "held" ? [ip] : [])),
          ).then((found) => new Set(found.flat()));
    void lookup
      .catch(() => new Set<string>())
      .then((found) => {
        if (this.#warmRound !== round) return;
        this.#warmRound = undefined;
        for (const ip of found) this.#warming.delete(ip);
        for (const [ip, since] of this.#warming) {
          if (clock.now() - since >= WARM_GIVE_UP_MS) this.#warming.delete(ip);
        }
        if (this.#closed || this.#warming.size === 0) return;
        if (this.#warmAdded) {
          this.#scheduleWarmRound(WARM_GATHER_MS);
          return;
        }
        const ceiling = Math.min(WARM_MAX_DELAY_MS, WARM_FIRST_DELAY_MS * 2 ** this.#warmRetries);
        this.#warmRetries++;
        // Up to a quarter earlier: standbys that probed together do not all ask the API at the same moment.
        this.#scheduleWarmRound(Math.round(ceiling * (1 - 0.25 * (this.#options.random ?? Math.random)())));
      });
  }

  #stopWarming(ip: string): void {
    this.#warming.delete(ip);
    if (this.#warming.size === 0 && this.#warmTimer !== undefined) {
      this.#options.clock.clearTimeout(this.#warmTimer);
      this.#warmTimer = undefined;
    }
  }

  /** Ends every background look-up; the agent is not used after this. */
  close(): void {
    this.#closed = true;
    this.#warming.clear();
    if (this.#warmTimer !== undefined) this.#options.clock.clearTimeout(this.#warmTimer);
    this.#warmTimer = undefined;
    this.#warmRound?.abort();
    this.#warmRound = undefined;
  }

  /** VIPs still being looked up in the background (for tests and diagnostics). */
  get warmingCount(): number {
    return this.#warming.size;
  }

  #cloudCheckDue(ip: string): boolean {
    const last = this.#lastCloudCheck.get(ip);
    if (last === undefined) return true;
    // Renew well within the lease even if the cloud check interval is configured longer than it.
    const interval = Math.min(
      this.#options.settings.cloudCheckIntervalMs,
      this.#options.settings.leaseMs / 3,
    );
    return this.#options.clock.now() - last >= interval;
  }

  /** The local agent, with a thrown error turned into a result (agents should not throw, but may). */
  async #local(action: "start" | "stop" | "monitor" | "probe", ctx: AgentContext): Promise<AgentResult> {
    try {
      return await this.#options.localAddress[action](ctx);
    } catch (error) {
      return { state: "failed", message: `local address ${action} failed: ${describeError(error)}` };
    }
  }
}

/** A renewal the cloud did not answer: no evidence against the VIP, so it stays running ("unknown"). */
function renewalFailed(ctx: AgentContext, error: unknown): AgentResult {
  if (ctx.signal.aborted) throw error;
  return { state: "running", message: `cloud check unknown: lease renewal failed: ${describeError(error)}` };
}

function heldElsewhereMessage(
  ip: string,
  claim: Extract<ClaimResult, { outcome: "held-elsewhere" | "lost-race" }>,
): string {
  const holder = claim.holderInstanceId ?? claim.holderVnicId ?? "another VNIC";
  if (claim.outcome === "lost-race") {
    return `FLOATIP_E_VIP_HELD_ELSEWHERE: ${ip} was moved to ${holder} (epoch ${claim.epoch}) while this node claimed it; this node stands down`;
  }
  return `FLOATIP_E_VIP_HELD_ELSEWHERE: ${ip} is held by ${holder} (epoch ${claim.epoch}) until ${new Date(claim.leaseUntil).toISOString()}, which displaced this node; it is taken back when that lease ends or is released, or now with claim_mode=force`;
}
