import { setTimeout as sleep } from "node:timers/promises";
import { isIpv4, netmaskPrefixLength, subnetContains } from "../config/ipv4.ts";
import type { AgentContext, AgentResult, ResourceAgent } from "./agent.ts";
import { CommandError, runCommand } from "./command-runner.ts";

/**
 * Native replacement for ocf:heartbeat:IPaddr2 (IPv4): puts the address on the interface whose subnet holds
 * it, announces it with gratuitous ARP, and reports it running only while that interface is up.
 */

export type IpAddressErrorCode =
  | "FLOATIP_E_NO_INTERFACE"
  | "FLOATIP_E_NO_NETMASK"
  | "FLOATIP_E_IP_CONFLICT"
  | "FLOATIP_E_LINK_DOWN"
  | "FLOATIP_E_COMMAND"
  | "FLOATIP_E_PARAM";

export interface IpAddressAgentOptions {
  /** Runs `ip` and `arping`; replaced in unit tests, or to run inside a network namespace. */
  run?: typeof runCommand;
  /** Send gratuitous ARP after start (default true). */
  garp?: boolean;
  /** Per-command timeout (default 5000 ms). */
  commandTimeoutMs?: number;
  /**
   * Monitors share interface reads: at most one `ip -j addr show` per this many ms serves all of them
   * (default 1000; 0 gives every monitor its own read). Starts, stops and probes read on their own.
   */
  checkReadSpacingMs?: number;
  /** Monotonic milliseconds, for the spacing above (default performance.now). */
  now?: () => number;
}

/** One IPv4 address as `ip -j addr show` reports it. */
export interface InterfaceAddress {
  local: string;
  prefixlen: number;
}

/** One interface as `ip -j addr show` reports it, reduced to what the agent decides on. */
export interface InterfaceView {
  name: string;
  up: boolean;
  addresses: InterfaceAddress[];
}

interface IpAddressParams {
  ip: string;
  cidrNetmask?: number;
  nic?: string;
  arpCount: number;
  arpIntervalMs: number;
}

/** Where the address belongs on this host, derived from params and the current interfaces. */
interface Placement {
  nic: string;
  prefix: number;
}

class AgentFailure extends Error {
  constructor(
    readonly code: IpAddressErrorCode,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

// Linux IFNAMSIZ is 16 including the terminating NUL; '/', ':' and whitespace are refused by the kernel or ip.
const interfaceNamePattern = /^[^\s/:]{1,15}$/;

/** Accepts a prefix length ("24") or, as IPaddr2 does, a dotted netmask ("255.255.255.0"). */
function parseNetmask(text: string): number | undefined {
  if (/^\d{1,2}$/.test(text)) {
    const prefix = Number(text);
    return prefix >= 1 && prefix <= 32 ? prefix : undefined;
  }
  return netmaskPrefixLength(text);
}

function parseCount(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined || text === "") return fallback;
  return /^\d{1,6}$/.test(text) ? Number(text) : undefined;
}

export function validateIpAddressParams(params: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const ip = params.ip;
  if (ip === undefined || ip === "")
    problems.push("ip is required; set ip=<IPv4 address>, e.g. ip=10.0.0.100");
  else if (!isIpv4(ip)) problems.push(`ip=${ip} is not an IPv4 address; use dotted form, e.g. 10.0.0.100`);
  const netmask = params.cidr_netmask;
  if (netmask !== undefined && netmask !== "" && parseNetmask(netmask) === undefined) {
    problems.push(`cidr_netmask=${netmask} is not a prefix length 1-32 or a netmask; e.g. cidr_netmask=24`);
  }
  const nic = params.nic;
  if (nic !== undefined && nic !== "" && (!interfaceNamePattern.test(nic) || nic === "." || nic === "..")) {
    problems.push(
      `nic=${nic} is not an interface name (1-15 characters, no spaces, '/' or ':'); e.g. nic=eth0`,
    );
  }
  if (parseCount(params.arp_count, 5) === undefined) {
    problems.push(
      `arp_count=${params.arp_count ?? ""} is not a whole number; e.g. arp_count=5 (0 turns ARP off)`,
    );
  }
  if (parseCount(params.arp_interval, 200) === undefined) {
    problems.push(
      `arp_interval=${params.arp_interval ?? ""} is not a whole number of milliseconds; e.g. 200`,
    );
  }
  return problems;
}

function parseParams(params: Readonly<Record<string, string>>): IpAddressParams {
  const problems = validateIpAddressParams(params);
  if (problems.length > 0) throw new AgentFailure("FLOATIP_E_PARAM", problems.join("; "));
  const netmask = params.cidr_netmask;
  const nic = params.nic;
  return {
    ip: params.ip ?? "",
    ...(netmask !== undefined && netmask !== "" ? { cidrNetmask: parseNetmask(netmask) } : {}),
    ...(nic !== undefined && nic !== "" ? { nic } : {}),
    arpCount: parseCount(params.arp_count, 5) ?? 5,
    arpIntervalMs: parseCount(params.arp_interval, 200) ?? 200,
  };
}

/** Reads `ip -j addr show` output; tolerant of fields it does not use. */
export function parseInterfaces(json: string): InterfaceView[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new AgentFailure(
      "FLOATIP_E_COMMAND",
      "ip -j addr show printed something that is not JSON; is iproute2 too old?",
    );
  }
  if (!Array.isArray(data)) return [];
  const views: InterfaceView[] = [];
  for (const entry of data as unknown[]) {
    if (typeof entry !== "object" || entry === null) continue;
    const link = entry as { ifname?: unknown; flags?: unknown; operstate?: unknown; addr_info?: unknown };
    if (typeof link.ifname !== "string") continue;
    const flags = Array.isArray(link.flags) ? (link.flags as unknown[]) : [];
    // As IPaddr2's check_link_status: an admin-down link, or one whose carrier/lower layer is down, does not serve.
    const up =
      flags.includes("UP") &&
      !flags.includes("NO-CARRIER") &&
      link.operstate !== "DOWN" &&
      link.operstate !== "LOWERLAYERDOWN";
    const addresses: InterfaceAddress[] = [];
    for (const info of Array.isArray(link.addr_info) ? (link.addr_info as unknown[]) : []) {
      const a = info as { family?: unknown; local?: unknown; prefixlen?: unknown };
      if (a.family === "inet" && typeof a.local === "string" && typeof a.prefixlen === "number") {
        addresses.push({ local: a.local, prefixlen: a.prefixlen });
      }
    }
    views.push({ name: link.ifname, up, addresses });
  }
  return views;
}

/**
 * The interface for `ip`: the named one, or the one whose own subnet (not counting the VIP itself) contains
 * it, most specific first, as the kernel would route to it. The prefix comes from cidr_netmask or that subnet.
 */
export function findPlacement(params: IpAddressParams, views: readonly InterfaceView[]): Placement {
  let best: { nic: string; prefix: number } | undefined;
  for (const view of views) {
    if (params.nic !== undefined && view.name !== params.nic) continue;
    for (const addr of view.addresses) {
      if (addr.local === params.ip) continue;
      if (!subnetContains(addr.local, addr.prefixlen, params.ip)) continue;
      if (best === undefined || addr.prefixlen > best.prefix)
        best = { nic: view.name, prefix: addr.prefixlen };
    }
  }
  if (params.nic !== undefined) {
    if (!views.some((view) => view.name === params.nic)) {
      throw new AgentFailure("FLOATIP_E_NO_INTERFACE", `interface ${params.nic} does not exist; fix nic=`);
    }
    const prefix = params.cidrNetmask ?? best?.prefix;
    if (prefix === undefined) {
      throw new AgentFailure(
        "FLOATIP_E_NO_NETMASK",
        `interface ${params.nic} has no subnet containing ${params.ip}; set cidr_netmask=...`,
      );
    }
    return { nic: params.nic, prefix };
  }
  if (best === undefined) {
    throw new AgentFailure(
      "FLOATIP_E_NO_INTERFACE",
      `no interface has a subnet containing ${params.ip}; set nic=...`,
    );
  }
  return { nic: best.nic, prefix: params.cidrNetmask ?? best.prefix };
}

/** Every interface entry that carries `ip`, whatever its prefix. */
function holdersOf(ip: string, views: readonly InterfaceView[]): { view: InterfaceView; prefix: number }[] {
  const holders: { view: InterfaceView; prefix: number }[] = [];
  for (const view of views) {
    for (const addr of view.addresses) if (addr.local === ip) holders.push({ view, prefix: addr.prefixlen });
  }
  return holders;
}

type Presence =
  | { kind: "absent"; placement: Placement | undefined }
  | { kind: "served"; placement: Placement; up: boolean }
  | { kind: "conflict"; detail: string };

export function assessPresence(params: IpAddressParams, views: readonly InterfaceView[]): Presence {
  const holders = holdersOf(params.ip, views);
  if (holders.length === 0) {
    let placement: Placement | undefined;
    try {
      placement = findPlacement(params, views);
    } catch {
      placement = undefined;
    }
    return { kind: "absent", placement };
  }
  const placement = findPlacement(params, views);
  const wrong = holders.filter((h) => h.view.name !== placement.nic || h.prefix !== placement.prefix);
  const right = holders.find((h) => h.view.name === placement.nic && h.prefix === placement.prefix);
  if (wrong.length > 0) {
    const where = wrong.map((h) => `${h.view.name} as /${h.prefix}`).join(", ");
    return {
      kind: "conflict",
      detail: `${params.ip} is configured on ${where} but belongs on ${placement.nic} as /${placement.prefix}; remove it there (ip addr del) or fix nic/cidr_netmask`,
    };
  }
  return { kind: "served", placement, up: right?.view.up ?? false };
}

interface GarpTask {
  controller: AbortController;
  done: Promise<void>;
}

export class IpAddressAgent implements ResourceAgent {
  private readonly run: typeof runCommand;
  private readonly garp: boolean;
  private readonly commandTimeoutMs: number;
  /** Background gratuitous ARP per address; kept so stop and close can cancel and await it. */
  private readonly garpTasks = new Map<string, GarpTask>();
  private readonly checkReadSpacingMs: number;
  private readonly now: () => number;
  /** When the last shared read for checks started (-Infinity: none yet). */
  private lastCheckReadAtMs = -Infinity;
  /** A shared read that has not started yet: every check that joins it asked before it starts. */
  private pendingCheckRead: Promise<InterfaceView[]> | undefined;

  constructor(options: IpAddressAgentOptions = {}) {
    this.run = options.run ?? runCommand;
    this.garp = options.garp ?? true;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 5000;
    this.checkReadSpacingMs = options.checkReadSpacingMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
  }

  validate(params: Readonly<Record<string, string>>): string[] {
    return validateIpAddressParams(params);
  }

  async start(ctx: AgentContext): Promise<AgentResult> {
    return this.guard(ctx, "failed", async (params) => {
      const views = await this.readInterfaces(ctx.signal);
      const before = assessPresence(params, views);
      if (before.kind === "conflict") throw new AgentFailure("FLOATIP_E_IP_CONFLICT", before.detail);
      if (before.kind === "served") return this.servedResult(params, before.placement, before.up);
      // Absent: findPlacement throws the precise reason when there is nowhere to put it.
      const placement = before.placement ?? findPlacement(params, views);
      const add = await this.ip(
        ["addr", "add", `${params.ip}/${placement.prefix}`, "dev", placement.nic],
        ctx.signal,
      );
      // "File exists" means someone added it between our read and our add: the re-read below decides.
      if (add.code !== 0 && !/File exists/.test(add.stderr)) {
        throw new AgentFailure(
          "FLOATIP_E_COMMAND",
          `ip addr add ${params.ip}/${placement.prefix} dev ${placement.nic} failed: ${add.stderr.trim()}`,
        );
      }
      const after = assessPresence(params, await this.readInterfaces(ctx.signal));
      if (after.kind === "conflict") throw new AgentFailure("FLOATIP_E_IP_CONFLICT", after.detail);
      if (after.kind === "absent") {
        throw new AgentFailure(
          "FLOATIP_E_COMMAND",
          `${params.ip} is not on ${placement.nic} after ip addr add; check for a network manager removing it`,
        );
      }
      if (after.up) this.announce(params, after.placement.nic);
      return this.servedResult(params, after.placement, after.up);
    });
  }

  async stop(ctx: AgentContext): Promise<AgentResult> {
    return this.guard(ctx, "failed", async (params) => {
      await this.cancelGarp(params.ip);
      const holders = holdersOf(params.ip, await this.readInterfaces(ctx.signal));
      for (const holder of holders) {
        const del = await this.ip(
          ["addr", "del", `${params.ip}/${holder.prefix}`, "dev", holder.view.name],
          ctx.signal,
        );
        // "Cannot assign requested address" means it is already gone, which is what stop wants.
        if (del.code !== 0 && !/Cannot assign requested address/.test(del.stderr)) {
          throw new AgentFailure(
            "FLOATIP_E_COMMAND",
            `ip addr del ${params.ip}/${holder.prefix} dev ${holder.view.name} failed: ${del.stderr.trim()}`,
          );
        }
      }
      const left = holdersOf(params.ip, await this.readInterfaces(ctx.signal));
      if (left.length > 0) {
        throw new AgentFailure(
          "FLOATIP_E_COMMAND",
          `${params.ip} is still on ${left.map((h) => h.view.name).join(", ")} after ip addr del; check for a network manager re-adding it`,
        );
      }
      return {
        state: "stopped",
        message: holders.length > 0 ? `removed ${params.ip}` : `${params.ip} was not configured`,
      };
    });
  }

  async monitor(ctx: AgentContext): Promise<AgentResult> {
    return this.check(ctx, (signal) => this.readInterfacesForMonitor(signal));
  }

  /**
   * Reads on its own: probes are rare (daemon start, a new resource, after a membership change) and the
   * coordinator waits for them before it starts anything, so they must not wait for a shared read.
   */
  async probe(ctx: AgentContext): Promise<AgentResult> {
    return this.check(ctx, (signal) => this.readInterfaces(signal));
  }

  /** Cancels background gratuitous ARP for every address; call on daemon shutdown. */
  async close(): Promise<void> {
    await Promise.all([...this.garpTasks.keys()].map((ip) => this.cancelGarp(ip)));
  }

  private async check(
    ctx: AgentContext,
    read: (signal: AbortSignal) => Promise<InterfaceView[]>,
  ): Promise<AgentResult> {
    // A monitor that cannot run `ip` has no evidence either way: "unknown", not "failed".
    return this.guard(ctx, "unknown", async (params) => {
      const presence = assessPresence(params, await read(ctx.signal));
      if (presence.kind === "conflict")
        return { state: "failed", message: `FLOATIP_E_IP_CONFLICT: ${presence.detail}` };
      if (presence.kind === "absent") return { state: "stopped", message: `${params.ip} is not configured` };
      if (!presence.up) {
        return {
          state: "stopped",
          message: `${params.ip} is on ${presence.placement.nic} but the link is down, so it is not served`,
        };
      }
      return {
        state: "running",
        message: `${params.ip}/${presence.placement.prefix} on ${presence.placement.nic}`,
      };
    });
  }

  private servedResult(params: IpAddressParams, placement: Placement, up: boolean): AgentResult {
    if (!up) {
      return {
        state: "failed",
        message: `FLOATIP_E_LINK_DOWN: ${params.ip} is on ${placement.nic} but the link is down; bring ${placement.nic} up or move the resource`,
      };
    }
    return { state: "running", message: `${params.ip}/${placement.prefix} on ${placement.nic}` };
  }

  /** Turns thrown failures into results: agents report, they do not throw. */
  private async guard(
    ctx: AgentContext,
    onCommandError: "failed" | "unknown",
    body: (params: IpAddressParams) => Promise<AgentResult>,
  ): Promise<AgentResult> {
    try {
      return await body(parseParams(ctx.params));
    } catch (error) {
      if (error instanceof AgentFailure) {
        const state = error.code === "FLOATIP_E_COMMAND" ? onCommandError : "failed";
        return { state, message: error.message };
      }
      const message = error instanceof Error ? error.message : String(error);
      return { state: onCommandError, message: `${ctx.resourceId}: ${message}` };
    }
  }

  private async ip(
    args: string[],
    signal: AbortSignal,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return this.run("ip", args, { timeoutMs: this.commandTimeoutMs, signal });
  }

  private async readInterfaces(signal: AbortSignal): Promise<InterfaceView[]> {
    const shown = await this.ip(["-j", "addr", "show"], signal);
    if (shown.code !== 0) {
      throw new AgentFailure("FLOATIP_E_COMMAND", `ip -j addr show failed: ${shown.stderr.trim()}`);
    }
    return parseInterfaces(shown.stdout);
  }

  /**
   * Interfaces for a monitor. 200 VIPs monitored every 10 s were 20 `ip` spawns a second; now monitors
   * share one read, at most one per checkReadSpacingMs. A monitor never gets a read that started before
   * it asked, so its answer is never older than the monitor itself (an address removed by hand and
   * checked at once is seen gone); the price is waiting up to the spacing when a read just started.
   */
  private async readInterfacesForMonitor(signal: AbortSignal): Promise<InterfaceView[]> {
    if (this.checkReadSpacingMs <= 0) return this.readInterfaces(signal);
    if (this.pendingCheckRead === undefined) {
      const now = this.now();
      const waitMs = this.lastCheckReadAtMs + this.checkReadSpacingMs - now;
      if (waitMs <= 0) {
        // Nothing read lately: this check reads at once, on its own (later ones cannot join a started read).
        this.lastCheckReadAtMs = now;
        return this.readInterfaces(signal);
      }
      const result = this.sharedCheckRead(waitMs);
      this.pendingCheckRead = result;
      // If every check waiting for it was cancelled, nobody awaits a failure: it is not unhandled.
      result.catch(() => undefined);
    }
    return abortable(this.pendingCheckRead, signal);
  }

  /** Reads after waitMs for every check that joined meanwhile; from the start on, new checks wait for the next. */
  private async sharedCheckRead(waitMs: number): Promise<InterfaceView[]> {
    await sleep(waitMs);
    this.pendingCheckRead = undefined;
    this.lastCheckReadAtMs = this.now();
    // No single check's signal: one cancelled check must not fail the others; the command timeout bounds it.
    return this.readInterfaces(new AbortController().signal);
  }

  /**
   * Sends arp_count gratuitous ARPs arp_interval apart, the first at once. iputils arping lingers ~1 s after
   * its single packet, so every packet is its own process and start does not wait for any of them.
   */
  private announce(params: IpAddressParams, nic: string): void {
    if (!this.garp || params.arpCount === 0) return;
    const previous = this.garpTasks.get(params.ip);
    previous?.controller.abort();
    const controller = new AbortController();
    const done = this.sendGarps(params, nic, controller.signal, previous?.done);
    this.garpTasks.set(params.ip, { controller, done });
  }

  private async sendGarps(
    params: IpAddressParams,
    nic: string,
    signal: AbortSignal,
    previous: Promise<void> | undefined,
  ): Promise<void> {
    const sends: Promise<unknown>[] = [];
    try {
      for (let i = 0; i < params.arpCount && !signal.aborted; i++) {
        if (i > 0) await sleep(params.arpIntervalMs, undefined, { signal });
        sends.push(
          this.run("arping", ["-U", "-c", "1", "-I", nic, params.ip], { timeoutMs: 3000, signal }).catch(
            () => undefined,
          ),
        );
      }
    } catch {
      // aborted while sleeping: stop announcing
    }
    // GARP is best effort, like IPaddr2's background send_arp; failures must not fail the resource.
    await Promise.all([...sends, previous]);
  }

  private async cancelGarp(ip: string): Promise<void> {
    const task = this.garpTasks.get(ip);
    if (task === undefined) return;
    task.controller.abort();
    await task.done;
    if (this.garpTasks.get(ip) === task) this.garpTasks.delete(ip);
  }
}

/** The shared read's outcome, or FLOATIP_E_COMMAND_ABORTED as soon as this check is cancelled. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const cancelled = (): CommandError =>
    new CommandError(
      "FLOATIP_E_COMMAND_ABORTED",
      "ip -j addr show was cancelled while waiting for a shared read",
    );
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error as Error);
      },
    );
  });
}
