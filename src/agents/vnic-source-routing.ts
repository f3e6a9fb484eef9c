import { runCommand } from "./command-runner.ts";

/**
 * Source-based routing for a VIP on a secondary VNIC. OCI does not configure secondary VNICs in the guest,
 * and the main routing table sends every reply out of the primary VNIC, where OCI's source check drops a
 * packet whose source address belongs to another VNIC. So replies from the VIP must leave through its own
 * VNIC: a rule `from VIP lookup T` and a table T (per interface) with the VNIC's subnet on link and a
 * default route via the subnet's virtual router, as Oracle's oci-network-config does for a VNIC's own
 * address. Tables are numbered TABLE_BASE + the interface's index, outside the 10-254 range that
 * oci-network-config allocates from; the rule's priority puts it before every rule added without one.
 */

export const TABLE_BASE = 21_000;
export const RULE_PRIORITY = 1_000;

export type Run = typeof runCommand;

export class SourceRoutingError extends Error {
  constructor(
    readonly code: "FLOATIP_E_NO_INTERFACE" | "FLOATIP_E_COMMAND",
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** An interface as `ip -j link show` reports it. */
export interface LinkView {
  index: number;
  name: string;
  mac: string;
  up: boolean;
}

/** Where a VIP of a secondary VNIC lives on this host. */
export interface VnicRoute {
  ip: string;
  interfaceName: string;
  interfaceIndex: number;
  /** The VNIC's subnet, e.g. 10.0.2.0/24. */
  subnetCidr: string;
  /** The subnet's virtual router (metadata virtualRouterIp), e.g. 10.0.2.1. */
  gateway: string;
}

export function tableFor(interfaceIndex: number): number {
  return TABLE_BASE + interfaceIndex;
}

function parseJsonArray(text: string, what: string): unknown[] {
  try {
    const data: unknown = JSON.parse(text === "" ? "[]" : text);
    return Array.isArray(data) ? data : [];
  } catch {
    throw new SourceRoutingError("FLOATIP_E_COMMAND", `${what} printed something that is not JSON`);
  }
}

/** Reads `ip -j link show`. */
export function parseLinks(json: string): LinkView[] {
  const links: LinkView[] = [];
  for (const entry of parseJsonArray(json, "ip -j link show")) {
    const link = entry as { ifindex?: unknown; ifname?: unknown; address?: unknown; flags?: unknown };
    if (typeof link.ifindex !== "number" || typeof link.ifname !== "string") continue;
    const flags = Array.isArray(link.flags) ? (link.flags as unknown[]) : [];
    links.push({
      index: link.ifindex,
      name: link.ifname,
      mac: typeof link.address === "string" ? link.address.toLowerCase() : "",
      up: flags.includes("UP"),
    });
  }
  return links;
}

/** A rule of `ip -j rule show`, reduced to what floatip's own rules have. */
export interface RuleView {
  priority: number;
  src: string | undefined;
  srclen: number | undefined;
  table: string;
}

export function parseRules(json: string): RuleView[] {
  return parseJsonArray(json, "ip -j rule show").flatMap((entry) => {
    const rule = entry as { priority?: unknown; src?: unknown; srclen?: unknown; table?: unknown };
    if (typeof rule.priority !== "number") return [];
    return [
      {
        priority: rule.priority,
        src: typeof rule.src === "string" ? rule.src : undefined,
        srclen: typeof rule.srclen === "number" ? rule.srclen : undefined,
        table: typeof rule.table === "string" ? rule.table : String(rule.table ?? ""),
      },
    ];
  });
}

/** floatip's rules for `ip`: from ip/32, at RULE_PRIORITY, into one of its tables. */
export function rulesFor(ip: string, rules: readonly RuleView[]): RuleView[] {
  return rules.filter(
    (r) =>
      r.priority === RULE_PRIORITY &&
      r.src === ip &&
      (r.srclen === undefined || r.srclen === 32) &&
      Number(r.table) >= TABLE_BASE,
  );
}

/** A route of `ip -j route show table T`. */
interface RouteView {
  dst: string;
  gateway: string | undefined;
  dev: string | undefined;
}

function parseRoutes(json: string): RouteView[] {
  return parseJsonArray(json, "ip -j route show").flatMap((entry) => {
    const route = entry as { dst?: unknown; gateway?: unknown; dev?: unknown };
    if (typeof route.dst !== "string") return [];
    return [
      {
        dst: route.dst,
        gateway: typeof route.gateway === "string" ? route.gateway : undefined,
        dev: typeof route.dev === "string" ? route.dev : undefined,
      },
    ];
  });
}

/** Runs `ip` for the source routing of secondary-VNIC VIPs; every step is idempotent. */
export class VnicSourceRouting {
  constructor(
    private readonly run: Run = runCommand,
    private readonly timeoutMs = 5000,
  ) {}

  /** The interface with `mac` (the VNIC's MAC from instance metadata). */
  async interfaceWithMac(mac: string, signal: AbortSignal): Promise<LinkView> {
    const links = parseLinks(await this.must(["-j", "link", "show"], signal));
    const found = links.find((link) => link.mac === mac.toLowerCase());
    if (found === undefined) {
      throw new SourceRoutingError(
        "FLOATIP_E_NO_INTERFACE",
        `no interface has MAC ${mac.toLowerCase()}; is the VNIC attached to this instance (and its driver loaded)?`,
      );
    }
    return found;
  }

  /** A freshly attached VNIC's interface may be down: bring it up (never taken down again by floatip). */
  async ensureUp(link: LinkView, signal: AbortSignal): Promise<void> {
    if (!link.up) await this.must(["link", "set", "dev", link.name, "up"], signal);
  }

  /** Table routes, then the rule: from then on, replies from the VIP leave through its VNIC. */
  async add(route: VnicRoute, signal: AbortSignal): Promise<void> {
    const table = String(tableFor(route.interfaceIndex));
    await this.must(
      ["route", "replace", route.subnetCidr, "dev", route.interfaceName, "table", table],
      signal,
    );
    await this.must(
      ["route", "replace", "default", "via", route.gateway, "dev", route.interfaceName, "table", table],
      signal,
    );
    const present = rulesFor(route.ip, await this.rules(signal));
    for (const stale of present.filter((r) => r.table !== table))
      await this.deleteRule(route.ip, stale, signal);
    if (!present.some((r) => r.table === table)) {
      await this.must(
        ["rule", "add", "from", `${route.ip}/32`, "lookup", table, "priority", String(RULE_PRIORITY)],
        signal,
      );
    }
  }

  /** Whether the rule and the table's default route are in place for `route`. */
  async inPlace(route: VnicRoute, signal: AbortSignal): Promise<boolean> {
    const table = String(tableFor(route.interfaceIndex));
    if (!rulesFor(route.ip, await this.rules(signal)).some((r) => r.table === table)) return false;
    const routes = parseRoutes(await this.must(["-j", "route", "show", "table", table], signal));
    return routes.some(
      (r) => r.dst === "default" && r.gateway === route.gateway && r.dev === route.interfaceName,
    );
  }

  /**
   * Removes floatip's rules for `ip`, and each of their tables that no other floatip rule uses. Needs no
   * metadata: what to remove is read from the kernel. Returns how many rules it removed.
   */
  async remove(ip: string, signal: AbortSignal): Promise<number> {
    const mine = rulesFor(ip, await this.rules(signal));
    for (const rule of mine) await this.deleteRule(ip, rule, signal);
    if (mine.length === 0) return 0;
    const left = await this.rules(signal);
    const stillUsed = new Set(
      left.filter((r) => r.priority === RULE_PRIORITY && Number(r.table) >= TABLE_BASE).map((r) => r.table),
    );
    for (const table of new Set(mine.map((r) => r.table))) {
      if (!stillUsed.has(table)) await this.must(["route", "flush", "table", table], signal);
    }
    return mine.length;
  }

  private async rules(signal: AbortSignal): Promise<RuleView[]> {
    return parseRules(await this.must(["-j", "rule", "show"], signal));
  }

  private async deleteRule(ip: string, rule: RuleView, signal: AbortSignal): Promise<void> {
    const out = await this.run(
      "ip",
      ["rule", "del", "from", `${ip}/32`, "lookup", rule.table, "priority", String(rule.priority)],
      { timeoutMs: this.timeoutMs, signal },
    );
    // Gone already (removed by someone else between the read and here): what stop wants.
    if (out.code !== 0 && !/No such file or directory/.test(out.stderr)) {
      throw new SourceRoutingError(
        "FLOATIP_E_COMMAND",
        `ip rule del from ${ip} failed: ${out.stderr.trim()}`,
      );
    }
  }

  private async must(args: string[], signal: AbortSignal): Promise<string> {
    const out = await this.run("ip", args, { timeoutMs: this.timeoutMs, signal });
    if (out.code !== 0) {
      throw new SourceRoutingError("FLOATIP_E_COMMAND", `ip ${args.join(" ")} failed: ${out.stderr.trim()}`);
    }
    return out.stdout;
  }
}
