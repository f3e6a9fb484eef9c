import { vnicForIp, type LocalInstance } from "../cloud/oci/discovery.ts";
import { describeError } from "../cloud/oci/errors.ts";
import { formatIpv4, parseIpv4Cidr } from "../config/ipv4.ts";
import type { AgentContext, AgentResult, ResourceAgent } from "./agent.ts";
import { SourceRoutingError, VnicSourceRouting, tableFor, type VnicRoute } from "./vnic-source-routing.ts";

/**
 * The local address of a cloud VIP, wherever its VNIC is. A VIP in the primary VNIC's subnet is handed to
 * the address agent unchanged. A VIP in a secondary VNIC's subnet goes on the interface with that VNIC's
 * MAC (from instance metadata), as /prefix of the VNIC's subnet, with source-based routing so replies
 * leave through that VNIC (vnic-source-routing.ts); stop removes both.
 *
 * What floatip does not do for a secondary VNIC: add the VNIC's own primary private IP to the interface,
 * or routes for other traffic. The VIP needs neither (OCI delivers to the VNIC by its MAC, and the table
 * reaches the subnet's virtual router on link), and they belong to the host's network configuration
 * (Oracle's oci-network-config or the distribution's), which floatip must not take away on stop. It does
 * bring the interface up if it is down, as a freshly attached VNIC may be, and leaves it up.
 */

export interface SecondaryVnicAddressOptions {
  /** The address agent (IpAddressAgent): ip addr add/del and gratuitous ARP. */
  inner: ResourceAgent;
  /** This instance's VNICs, from metadata (cached after the first discovery). */
  localInstance: (signal?: AbortSignal) => Promise<LocalInstance>;
  routing?: VnicSourceRouting;
}

/** Where a VIP goes on this host, when its VNIC is a secondary one. */
interface SecondaryPlacement {
  route: VnicRoute;
  prefix: number;
  vnicId: string;
}

export class SecondaryVnicAddress implements ResourceAgent {
  readonly #inner: ResourceAgent;
  readonly #localInstance: SecondaryVnicAddressOptions["localInstance"];
  readonly #routing: VnicSourceRouting;

  constructor(options: SecondaryVnicAddressOptions) {
    this.#inner = options.inner;
    this.#localInstance = options.localInstance;
    this.#routing = options.routing ?? new VnicSourceRouting();
  }

  validate(params: Readonly<Record<string, string>>): string[] {
    return this.#inner.validate(params);
  }

  async start(ctx: AgentContext): Promise<AgentResult> {
    let placement: SecondaryPlacement | undefined;
    try {
      placement = await this.#placement(ctx, { bringUp: true });
      if (placement === undefined) return await this.#inner.start(ctx);
      // Routing first: the moment the address answers, its replies already leave through its own VNIC.
      await this.#routing.add(placement.route, ctx.signal);
    } catch (error) {
      return failure(error, "failed");
    }
    const started = await this.#inner.start(withPlacement(ctx, placement));
    if (started.state !== "running") return started;
    return { ...started, message: `${started.message ?? ctx.params.ip ?? ""}${routedVia(placement)}` };
  }

  async stop(ctx: AgentContext): Promise<AgentResult> {
    // Needs no metadata: the address and floatip's rules for it are found on the host.
    const stopped = await this.#inner.stop(ctx);
    const ip = ctx.params.ip ?? "";
    if (ip === "") return stopped;
    try {
      const removed = await this.#routing.remove(ip, ctx.signal);
      if (removed === 0 || stopped.state !== "stopped") return stopped;
      return {
        ...stopped,
        message: `${stopped.message ?? ""}; removed its source routing`.replace(/^; /, ""),
      };
    } catch (error) {
      return failure(error, "failed");
    }
  }

  monitor(ctx: AgentContext): Promise<AgentResult> {
    return this.#check(ctx, "monitor");
  }

  probe(ctx: AgentContext): Promise<AgentResult> {
    return this.#check(ctx, "probe");
  }

  async #check(ctx: AgentContext, action: "monitor" | "probe"): Promise<AgentResult> {
    let placement: SecondaryPlacement | undefined;
    try {
      placement = await this.#placement(ctx, { bringUp: false });
    } catch (error) {
      // Metadata or `ip` could not be read: no evidence about the VIP either way.
      return failure(error, "unknown");
    }
    if (placement === undefined) return this.#inner[action](ctx);
    const seen = await this.#inner[action](withPlacement(ctx, placement));
    try {
      if (seen.state !== "running") {
        // Not served here: a rule left by a crash would only steer a later holder's stray packets.
        if (action === "probe") await this.#routing.remove(placement.route.ip, ctx.signal);
        return seen;
      }
      if (await this.#routing.inPlace(placement.route, ctx.signal)) return seen;
      // Someone flushed the rules or the table (a network restart): replies would leave the wrong VNIC.
      await this.#routing.add(placement.route, ctx.signal);
      return { ...seen, message: `${seen.message ?? ""}; source routing was missing and is restored` };
    } catch (error) {
      return failure(error, "unknown");
    }
  }

  /** undefined for a VIP of the primary VNIC; throws when the VNIC's interface is not on this host. */
  async #placement(ctx: AgentContext, opts: { bringUp: boolean }): Promise<SecondaryPlacement | undefined> {
    const ip = ctx.params.ip ?? "";
    const instance = await this.#localInstance(ctx.signal);
    const vnic = vnicForIp(instance, ip);
    if (vnic.vnicId === instance.vnics[0]?.vnicId) return undefined;
    const cidr = parseIpv4Cidr(vnic.subnetCidr);
    if (cidr === undefined || vnic.virtualRouterIp === "") {
      throw new SourceRoutingError(
        "FLOATIP_E_NO_INTERFACE",
        `instance metadata gives VNIC ${vnic.vnicId} no usable subnet (${vnic.subnetCidr || "none"}) or virtual router (${vnic.virtualRouterIp || "none"})`,
      );
    }
    const link = await this.#routing.interfaceWithMac(vnic.macAddr, ctx.signal);
    const pinned = ctx.params.nic;
    if (pinned !== undefined && pinned !== "" && pinned !== link.name) {
      throw new SourceRoutingError(
        "FLOATIP_E_NO_INTERFACE",
        `nic=${pinned}, but ${ip} belongs to VNIC ${vnic.vnicId} (subnet ${vnic.subnetCidr}), which is ${link.name} (MAC ${link.mac}); remove nic= or set nic=${link.name}`,
      );
    }
    if (opts.bringUp) await this.#routing.ensureUp(link, ctx.signal);
    return {
      vnicId: vnic.vnicId,
      prefix: cidr.prefixLength,
      route: {
        ip,
        interfaceName: link.name,
        interfaceIndex: link.index,
        subnetCidr: `${formatIpv4(cidr.network)}/${cidr.prefixLength}`,
        gateway: vnic.virtualRouterIp,
      },
    };
  }
}

/** The address agent's parameters for a secondary VNIC: its interface, and its subnet's prefix by default. */
function withPlacement(ctx: AgentContext, placement: SecondaryPlacement): AgentContext {
  const netmask = ctx.params.cidr_netmask;
  return {
    ...ctx,
    params: {
      ...ctx.params,
      nic: placement.route.interfaceName,
      cidr_netmask: netmask !== undefined && netmask !== "" ? netmask : String(placement.prefix),
    },
  };
}

function routedVia(placement: SecondaryPlacement): string {
  const { route } = placement;
  return ` (secondary VNIC ${placement.vnicId}; replies via ${route.gateway} dev ${route.interfaceName}, table ${tableFor(route.interfaceIndex)})`;
}

function failure(error: unknown, state: "failed" | "unknown"): AgentResult {
  if (error instanceof SourceRoutingError) {
    return { state: error.code === "FLOATIP_E_COMMAND" ? state : "failed", message: error.message };
  }
  return { state, message: describeError(error) };
}
