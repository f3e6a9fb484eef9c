import type { ChildProcess, SpawnOptions } from "node:child_process";
import type { CommandOutcome } from "../../src/agents/command-runner.ts";
import { cleanupStale, mustRun, NamespaceRegistry, type ExecOptions } from "./netns.ts";
import { hostsFileText } from "./production-path.ts";

/**
 * A small VCN on one host: node namespaces on one subnet (10.0.0.0/24, a bridge in the router namespace),
 * a client either on that subnet ("same": VIPs are found by ARP) or behind the router ("routed": the router
 * forwards a VIP only where routeVip says, as OCI follows the private IP's VNIC, not ARP), the instance
 * metadata address 169.254.169.254 on the router, and the address where the region's public endpoints answer
 * (apiAddr, a documentation address that is routed nowhere else).
 *
 * With secondaryVnics, every node also has a second VNIC (eth1) in 10.0.2.0/24, attached as OCI attaches
 * one: the interface is there and up, without an address or routes (OCI does not configure secondary VNICs
 * in the guest). The router delivers to it by its MAC, as the VCN does, and drops what a node sends from an
 * address into the wrong subnet's VNIC (strict reverse-path filter), as OCI's source check does.
 */

export interface BedOptions {
  /** Node names, e.g. ["node1", "node2"]; node i gets 10.0.0.(11 + i). */
  nodes: string[];
  clientSubnet: "same" | "routed";
  /** "fi" + 4 hex digits; default uniquePrefix(). */
  prefix?: string;
  /** A second VNIC per node in 10.0.2.0/24 (eth1), unconfigured in the guest. */
  secondaryVnics?: boolean;
}

/** A node's second VNIC: its primary private IP (not configured in the guest) and MAC. */
export interface SecondaryVnic {
  interfaceName: "eth1";
  privateIp: string;
  mac: string;
  subnetCidr: "10.0.2.0/24";
  virtualRouterIp: "10.0.2.1";
}

export interface Bed {
  readonly prefix: string;
  readonly nodes: readonly string[];
  readonly clientNs: string;
  readonly routerNs: string;
  /** 10.0.0.50 ("same") or 10.0.1.50 ("routed"). */
  readonly clientAddr: string;
  readonly routerAddr: "10.0.0.1";
  readonly metadataAddr: "169.254.169.254";
  /** Where the region's endpoint names (iaas., auth.) are served; on the router, reached by the default route. */
  readonly apiAddr: "192.0.2.10";
  nodeAddr(node: string): string;
  /** The node's second VNIC, or undefined in a bed without secondaryVnics. */
  secondaryVnic(node: string): SecondaryVnic | undefined;
  nodeNs(node: string): string;
  nodeMac(node: string): string;
  /**
   * Where the router sends traffic for `vip`: to `node` (its VNIC whose primary private IP is `vnicIp`,
   * default its first), or nowhere (null).
   */
  routeVip(vip: string, node: string | null, vnicIp?: string): Promise<void>;
  /** Writes the namespace's own /etc/hosts (seen by processes started in it afterwards). */
  writeHosts(ns: string, entries: Readonly<Record<string, string>>): void;
  /** Takes the node's port down on the router side: nothing in or out, as in an AD outage. */
  linkDown(node: string): Promise<void>;
  linkUp(node: string): Promise<void>;
  /** Cuts traffic between the two groups; every node still reaches the router, metadata and client. */
  partition(groupA: string[], groupB: string[]): Promise<void>;
  /** Undoes partition (not linkDown). */
  heal(): Promise<void>;
  execIn(ns: string, cmd: string, args: string[], opts?: ExecOptions): Promise<CommandOutcome>;
  spawnIn(ns: string, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Kills every process started through the bed and deletes its namespaces; safe to call twice. */
  destroy(): Promise<void>;
}

const nodeNamePattern = /^[A-Za-z0-9_]{1,20}$/;
const maxNodes = 38;

function ipv4Pattern(text: string): boolean {
  return /^(\d{1,3})(\.\d{1,3}){3}$/.test(text) && text.split(".").every((octet) => Number(octet) <= 255);
}

export async function createBed(opts: BedOptions): Promise<Bed> {
  if (opts.nodes.length === 0 || opts.nodes.length > maxNodes) {
    throw new Error(`FLOATIP_E_TESTBED: a bed holds 1 to ${maxNodes} nodes, not ${opts.nodes.length}`);
  }
  for (const node of opts.nodes) {
    if (!nodeNamePattern.test(node) || node === "cl" || node === "rt") {
      throw new Error(`FLOATIP_E_TESTBED: node name ${node} must be 1-20 letters, digits or _ and not cl/rt`);
    }
  }
  if (new Set(opts.nodes).size !== opts.nodes.length) {
    throw new Error(`FLOATIP_E_TESTBED: node names must be unique: ${opts.nodes.join(", ")}`);
  }
  // Leftovers of crashed runs would only pile up; removing them is best effort.
  await cleanupStale().catch(() => []);
  const registry = new NamespaceRegistry(opts.prefix);
  registry.registerExitCleanup();
  try {
    return await build(registry, opts);
  } catch (error) {
    await registry.teardown().catch(() => undefined);
    throw error;
  }
}

async function build(registry: NamespaceRegistry, opts: BedOptions): Promise<Bed> {
  const routed = opts.clientSubnet === "routed";
  const rt = await registry.createNamespace("rt");
  const cl = await registry.createNamespace("cl");
  const nodeIndex = new Map(opts.nodes.map((node, i) => [node, i]));
  const nodeNs = new Map<string, string>();
  for (const node of opts.nodes) nodeNs.set(node, await registry.createNamespace(node));

  const ip = (ns: string, ...args: string[]): Promise<string> => mustRun("ip", ["-n", ns, ...args]);
  const sysctl = (ns: string, key: string, value: string): Promise<CommandOutcome> =>
    registry.execIn(ns, "sh", ["-c", `echo ${value} > /proc/sys/${key.replaceAll(".", "/")}`]);
  const addrOf = (i: number): string => `10.0.0.${11 + i}`;
  const macOf = (i: number): string => `02:00:0a:00:00:${(11 + i).toString(16).padStart(2, "0")}`;
  const indexOf = (node: string): number => {
    const i = nodeIndex.get(node);
    if (i === undefined) {
      throw new Error(`FLOATIP_E_TESTBED: no node ${node} in this bed; nodes are ${opts.nodes.join(", ")}`);
    }
    return i;
  };
  const portOf = (node: string): string => `vn${indexOf(node)}`;
  const portsOf = (node: string): string[] =>
    opts.secondaryVnics === true ? [portOf(node), `vs${indexOf(node)}`] : [portOf(node)];
  const secondaryOf = (i: number): SecondaryVnic => ({
    interfaceName: "eth1",
    privateIp: `10.0.2.${11 + i}`,
    mac: `02:00:0a:00:02:${(11 + i).toString(16).padStart(2, "0")}`,
    subnetCidr: "10.0.2.0/24",
    virtualRouterIp: "10.0.2.1",
  });

  await sysctl(rt, "net.ipv4.ip_forward", "1");
  await sysctl(rt, "net.ipv4.conf.all.rp_filter", "0");
  await sysctl(rt, "net.ipv4.conf.default.rp_filter", "0");
  await registry.addBridge(rt, "br0");
  // A bridge without a fixed address takes the lowest MAC of its ports: when a partition swaps the node
  // ports for uplinks, the router's MAC would change under the nodes' ARP caches and one side would lose
  // the router (metadata and cloud API) until its neighbour entry expired.
  await ip(rt, "link", "set", "br0", "address", "02:00:0a:00:00:01");
  await ip(rt, "addr", "add", "169.254.169.254/32", "dev", "lo");
  await ip(rt, "addr", "add", "192.0.2.10/32", "dev", "lo");
  if (routed) {
    // No connected /24 on the router: it must not find VIPs by ARP, only by routes, as the VCN does.
    await ip(rt, "addr", "add", "10.0.0.1/32", "dev", "br0");
    await ip(rt, "route", "add", "unreachable", "10.0.0.0/24");
  } else {
    await ip(rt, "addr", "add", "10.0.0.1/24", "dev", "br0");
  }

  for (const [i, node] of opts.nodes.entries()) {
    const ns = nodeNs.get(node) ?? "";
    await registry.addVeth({ ns: rt, name: `vn${i}` }, { ns, name: "eth0", mac: macOf(i) });
    await registry.enslave(rt, `vn${i}`, "br0");
    await ip(ns, "addr", "add", `${addrOf(i)}/24`, "dev", "eth0");
    await ip(ns, "route", "add", "default", "via", "10.0.0.1");
    if (routed) await ip(rt, "route", "add", `${addrOf(i)}/32`, "dev", "br0");
  }

  if (opts.secondaryVnics === true) {
    await registry.addBridge(rt, "br1");
    await ip(rt, "link", "set", "br1", "address", "02:00:0a:00:02:01");
    // The VCN's source check: what a node sends from an address of the other subnet does not pass.
    for (const bridge of ["br0", "br1"]) await sysctl(rt, `net.ipv4.conf.${bridge}.rp_filter`, "1");
    if (routed) {
      await ip(rt, "addr", "add", "10.0.2.1/32", "dev", "br1");
      await ip(rt, "route", "add", "unreachable", "10.0.2.0/24");
    } else {
      await ip(rt, "addr", "add", "10.0.2.1/24", "dev", "br1");
    }
    for (const [i, node] of opts.nodes.entries()) {
      const ns = nodeNs.get(node) ?? "";
      const vnic = secondaryOf(i);
      await registry.addVeth({ ns: rt, name: `vs${i}` }, { ns, name: vnic.interfaceName, mac: vnic.mac });
      await registry.enslave(rt, `vs${i}`, "br1");
      // The VCN knows every VNIC's MAC; it does not need the guest to answer ARP for the VNIC's address.
      if (routed) await ip(rt, "route", "add", `${vnic.privateIp}/32`, "dev", "br1");
      await ip(rt, "neigh", "replace", vnic.privateIp, "lladdr", vnic.mac, "dev", "br1", "nud", "permanent");
    }
  }

  await registry.addVeth({ ns: rt, name: "vcl" }, { ns: cl, name: "eth0", mac: "02:00:0a:00:00:32" });
  if (routed) {
    await ip(rt, "addr", "add", "10.0.1.1/24", "dev", "vcl");
    await ip(cl, "addr", "add", "10.0.1.50/24", "dev", "eth0");
    await ip(cl, "route", "add", "default", "via", "10.0.1.1");
  } else {
    await registry.enslave(rt, "vcl", "br0");
    await ip(cl, "addr", "add", "10.0.0.50/24", "dev", "eth0");
    await ip(cl, "route", "add", "default", "via", "10.0.0.1");
  }

  let partitionGroups = 0;
  const heal = async (): Promise<void> => {
    // Uplinks go first: br0 forgets the MACs it learned behind them, so no frame is sent into a group
    // bridge that no longer has its nodes.
    for (let k = 0; k < partitionGroups; k++) {
      await ip(rt, "link", "del", `pu${k}`);
      await ip(rt, "link", "del", `pb${k}`);
    }
    partitionGroups = 0;
    for (const node of opts.nodes) await ip(rt, "link", "set", portOf(node), "master", "br0");
  };

  let destroyed = false;
  return {
    prefix: registry.prefix,
    nodes: [...opts.nodes],
    clientNs: cl,
    routerNs: rt,
    clientAddr: routed ? "10.0.1.50" : "10.0.0.50",
    routerAddr: "10.0.0.1",
    metadataAddr: "169.254.169.254",
    apiAddr: "192.0.2.10",
    nodeAddr: (node) => addrOf(indexOf(node)),
    secondaryVnic: (node) => (opts.secondaryVnics === true ? secondaryOf(indexOf(node)) : undefined),
    nodeNs: (node) => `${registry.prefix}-${opts.nodes[indexOf(node)] ?? node}`,
    nodeMac: (node) => macOf(indexOf(node)),
    async routeVip(vip, node, vnicIp) {
      if (!ipv4Pattern(vip)) throw new Error(`FLOATIP_E_TESTBED: ${vip} is not an IPv4 address`);
      if (node === null) {
        await ip(rt, "route", "replace", "unreachable", `${vip}/32`);
        return;
      }
      const i = indexOf(node);
      const secondary = opts.secondaryVnics === true ? secondaryOf(i) : undefined;
      if (vnicIp !== undefined && vnicIp === secondary?.privateIp) {
        await ip(rt, "route", "replace", `${vip}/32`, "via", vnicIp, "dev", "br1", "onlink");
      } else {
        await ip(rt, "route", "replace", `${vip}/32`, "via", addrOf(i), "dev", "br0");
      }
    },
    writeHosts: (ns, entries) => registry.writeEtcFile(ns, "hosts", hostsFileText(entries)),
    // Every port of the node, its secondary VNIC's too: an AD outage takes the whole instance off the network.
    async linkDown(node) {
      for (const port of portsOf(node)) await ip(rt, "link", "set", port, "down");
    },
    async linkUp(node) {
      for (const port of portsOf(node)) await ip(rt, "link", "set", port, "up");
    },
    async partition(groupA, groupB) {
      const seen = new Set<string>();
      for (const node of [...groupA, ...groupB]) {
        indexOf(node);
        if (seen.has(node)) throw new Error(`FLOATIP_E_TESTBED: ${node} is in both partition groups`);
        seen.add(node);
      }
      await heal();
      // Each group gets its own bridge whose uplink into br0 is an isolated port: isolated ports cannot
      // reach each other, only br0 itself (the router) and ports that are not isolated (client, others).
      for (const [k, group] of [groupA, groupB].entries()) {
        await registry.addBridge(rt, `pb${k}`);
        partitionGroups = k + 1;
        await registry.addVeth({ ns: rt, name: `pu${k}` }, { ns: rt, name: `pd${k}` });
        await registry.enslave(rt, `pd${k}`, `pb${k}`);
        await registry.enslave(rt, `pu${k}`, "br0");
        await mustRun("bridge", ["-n", rt, "link", "set", "dev", `pu${k}`, "isolated", "on"]);
        for (const node of group) await registry.enslave(rt, portOf(node), `pb${k}`);
      }
    },
    heal,
    execIn: (ns, cmd, args, execOpts) => registry.execIn(ns, cmd, args, execOpts),
    spawnIn: (ns, cmd, args, spawnOpts) => registry.spawnIn(ns, cmd, args, spawnOpts),
    async destroy() {
      if (destroyed) return;
      await registry.teardown();
      destroyed = true;
    },
  };
}
