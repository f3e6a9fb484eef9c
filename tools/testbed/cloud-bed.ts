import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Bed } from "./bed.ts";
import { mustRun } from "./netns.ts";
import { OCI_SETTINGS_ENV } from "../../src/cloud/oci/settings.ts";
import {
  ENDPOINT_OVERRIDES,
  regionEndpointHosts,
  verifyProductionPath,
  type RegionEndpointHosts,
} from "./production-path.ts";
import { emulatorMain } from "./repo-paths.ts";
import { makeTestCa } from "./test-ca.ts";

/** Where the emulator says a VIP is, and when that changed (Date.now() when the event arrived). */
export interface Assignment {
  ip: string;
  node: string | null;
  at: number;
}

export interface CloudOptions {
  /** Latency of every Core API call, as seen from the nodes. */
  latencyMs: number;
  /** Availability domain per node; default AD-1, AD-2, ... in node order. */
  ads?: Record<string, string>;
  rateLimit?: string;
  /** Secondary IPs that exist before the cluster starts, e.g. {"10.0.0.200": "node1"}. */
  existing?: Record<string, string>;
  /**
   * Time from a move's accepted PUT until the cloud shows and routes it (the emulator's --settle-ms): ms,
   * or "MIN-MAX" drawn per move; unset: the emulator's default.
   */
  settleMs?: number | string;
}

/** A power action the emulator carried out on a node's instance (Date.now() when the event arrived). */
export interface PowerEvent {
  node: string;
  action: string;
  state: string;
  at: number;
}

const REGION = "us-ashburn-1";

/**
 * Variables a daemon must not inherit from the test's own environment: endpoint overrides (the bed runs
 * the production path) and proxy settings (a proxy test sets its own).
 */
const NOT_INHERITED = [
  ...ENDPOINT_OVERRIDES,
  OCI_SETTINGS_ENV.auth,
  ...["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"],
  ...["no_proxy", "NO_PROXY"],
] as const;

/**
 * The emulated OCI region of a test bed, reached the way a real instance reaches OCI: the emulator runs in
 * the router namespace and serves instance metadata on http://169.254.169.254, and the region's endpoints
 * (https://auth.us-ashburn-1.oraclecloud.com, https://iaas.us-ashburn-1.oraclecloud.com) over TLS on
 * bed.apiAddr, with a certificate from a CA made for this bed. Each node namespace resolves those names
 * there through its own hosts file; daemons set no endpoint and trust the CA through NODE_EXTRA_CA_CERTS
 * (nodeEnv). The router's route to each VIP follows the emulator's private-IP assignments, as the VCN
 * does. The host-side test talks to the emulator through a unix socket.
 */
export class EmulatedCloud {
  readonly assignments: Assignment[] = [];
  /** Instance power actions (fencing), in the order the emulator carried them out. */
  readonly powerEvents: PowerEvent[] = [];
  /**
   * Called once a START or RESET has brought a node's namespace back, as a real instance's init system
   * would start its services: tests restart the daemon here.
   */
  onPowerOn: ((node: string, action: string) => Promise<void>) | null = null;
  private routeChain: Promise<void> = Promise.resolve();
  private powerChain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly bed: Bed,
    private readonly child: ChildProcess,
    readonly controlSocket: string,
    private readonly dir: string,
    /** The region's endpoint host names, as the SDK derives them. */
    readonly endpoints: RegionEndpointHosts,
    /** PEM file of the bed's CA (NODE_EXTRA_CA_CERTS). */
    readonly caCertFile: string,
    /** The settle time the emulator was started with (undefined: its default). */
    readonly settleMs: number | string | undefined,
  ) {}

  /**
   * The environment of every process that talks to OCI in this bed (daemons, CLI commands, agents): no
   * endpoint override, the bed's CA trusted, and the cloud declared (a bed has no DMI data that says OCI).
   * Unset entries remove what the test's own environment has.
   */
  get nodeEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...this.nodeEnvVariables };
    for (const name of NOT_INHERITED) env[name] = undefined;
    return env;
  }

  /** The variables nodeEnv sets, for an environment built from nothing (`env -i`, an environment file). */
  get nodeEnvVariables(): Record<string, string> {
    return { NODE_EXTRA_CA_CERTS: this.caCertFile, FLOATIP_CLOUD: "oci" };
  }

  static async start(bed: Bed, options: CloudOptions): Promise<EmulatedCloud> {
    const dir = mkdtempSync(join(tmpdir(), "floatip-cloud-"));
    const endpoints = regionEndpointHosts(REGION);
    const secondarySubnet = bed.nodes.some((node) => bed.secondaryVnic(node) !== undefined);
    const seed = {
      region: REGION,
      subnets: [
        { cidr: "10.0.0.0/24", displayName: "ha-subnet", availabilityDomain: null },
        ...(secondarySubnet
          ? [{ cidr: "10.0.2.0/24", displayName: "service-subnet", availabilityDomain: null }]
          : []),
      ],
      instances: bed.nodes.map((node, i) => {
        const second = bed.secondaryVnic(node);
        return {
          displayName: node,
          availabilityDomain: options.ads?.[node] ?? `Uocm:US-ASHBURN-AD-${(i % 3) + 1}`,
          vnics: [
            { subnet: "10.0.0.0/24", privateIp: bed.nodeAddr(node), macAddress: bed.nodeMac(node) },
            ...(second
              ? [{ subnet: second.subnetCidr, privateIp: second.privateIp, macAddress: second.mac }]
              : []),
          ],
        };
      }),
      privateIps: Object.entries(options.existing ?? {}).map(([ipAddress, vnic]) => ({ ipAddress, vnic })),
    };
    const seedFile = join(dir, "seed.json");
    writeFileSync(seedFile, JSON.stringify(seed));
    const ca = await makeTestCa(dir, [endpoints.federation, endpoints.core]);
    // The router resolves them too: a proxy in the bed runs there.
    const hosts = { [endpoints.federation]: bed.apiAddr, [endpoints.core]: bed.apiAddr };
    const nodeNamespaces = bed.nodes.map((node) => bed.nodeNs(node));
    for (const ns of [...nodeNamespaces, bed.routerNs]) bed.writeHosts(ns, hosts);
    await verifyProductionPath({
      namespaces: [...nodeNamespaces, bed.routerNs],
      names: [endpoints.federation, endpoints.core],
      emulatorAddr: bed.apiAddr,
    });
    const controlSocket = join(dir, "control.sock");
    const child = bed.spawnIn(bed.routerNs, process.execPath, [
      emulatorMain,
      "--seed",
      seedFile,
      "--listen",
      `${bed.metadataAddr}:80`,
      ...[
        "--tls-listen",
        `${bed.apiAddr}:443`,
        "--tls-cert",
        ca.serverCertFile,
        "--tls-key",
        ca.serverKeyFile,
      ],
      "--control-socket",
      controlSocket,
      "--latency-ms",
      String(options.latencyMs),
      ...(options.rateLimit ? ["--rate-limit", options.rateLimit] : []),
      ...(options.settleMs === undefined ? [] : ["--settle-ms", String(options.settleMs)]),
    ]);
    const cloud = new EmulatedCloud(
      bed,
      child,
      controlSocket,
      dir,
      endpoints,
      ca.caCertFile,
      options.settleMs,
    );
    await cloud.follow();
    for (const [ip, node] of Object.entries(options.existing ?? {})) await cloud.route(ip, node);
    return cloud;
  }

  /** The node the emulator currently assigns `ip` to (null: nowhere). */
  holderOf(ip: string): string | null {
    return [...this.assignments].reverse().find((a) => a.ip === ip)?.node ?? null;
  }

  movesOf(ip: string): Assignment[] {
    return this.assignments.filter((a) => a.ip === ip);
  }

  /** Faults through the emulator's control API: {latencyMs}, {failNext:{count,status}}, {outageMs}, {permissions}. */
  faults(body: Record<string, unknown>): Promise<unknown> {
    return this.control("POST", "/_emulator/faults", body);
  }

  state(): Promise<unknown> {
    return this.control("GET", "/_emulator/state");
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGKILL");
      await exited;
    }
    await this.routeChain;
    await this.powerChain;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private follow(): Promise<void> {
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: this.child.stdout! });
      let stderr = "";
      this.child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
      this.child.once("exit", (code) => reject(new Error(`emulator exited (${code}): ${stderr.trim()}`)));
      lines.on("line", (line) => {
        let event: Record<string, unknown>;
        try {
          event = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        if (event["ready"] === true) resolve();
        if (event["event"] === "privateIpAssigned") {
          const ip = String(event["ipAddress"]);
          const node = typeof event["instanceName"] === "string" ? event["instanceName"] : null;
          const vnicIp = typeof event["primaryIp"] === "string" ? event["primaryIp"] : undefined;
          this.assignments.push({ ip, node, at: Date.now() });
          void this.route(ip, node, vnicIp);
        }
        if (event["event"] === "instanceAction" && typeof event["instanceName"] === "string") {
          const power = {
            node: event["instanceName"],
            action: String(event["action"]),
            state: String(event["state"]),
            at: Date.now(),
          };
          this.powerEvents.push(power);
          void this.power(power.node, power.action);
        }
      });
    });
  }

  /** Resolves once every power action reported so far has been applied to the namespaces. */
  powerSettled(): Promise<void> {
    return this.powerChain;
  }

  /**
   * What a power action does to the instance's namespace: STOP takes its link down and kills every process
   * in it (the daemon dies with the instance); START brings it back with only its primary address; RESET
   * is both. Applied in event order.
   */
  private power(node: string, action: string): Promise<void> {
    const off = action === "STOP" || action === "SOFTSTOP" || action === "RESET" || action === "SOFTRESET";
    const on = action !== "STOP" && action !== "SOFTSTOP";
    this.powerChain = this.powerChain
      .then(async () => {
        if (off) await this.powerOff(node);
        if (on) {
          await this.powerOn(node);
          await this.onPowerOn?.(node, action);
        }
      })
      .catch((error: unknown) => {
        process.stderr.write(`cloud bed: ${action} of ${node} failed: ${String(error)}\n`);
      });
    return this.powerChain;
  }

  private async powerOff(node: string): Promise<void> {
    const ns = this.bed.nodeNs(node);
    await this.bed.linkDown(node);
    await mustRun("ip", ["-n", ns, "link", "set", "eth0", "down"]);
    const pids = (await mustRun("ip", ["netns", "pids", ns])).split(/\s+/).filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  private async powerOn(node: string): Promise<void> {
    const ns = this.bed.nodeNs(node);
    // A booted instance has only its primary address; secondary IPs are configured again by software.
    await mustRun("ip", ["-n", ns, "addr", "flush", "dev", "eth0"]);
    await mustRun("ip", ["-n", ns, "addr", "add", `${this.bed.nodeAddr(node)}/24`, "dev", "eth0"]);
    await mustRun("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    await mustRun("ip", ["-n", ns, "route", "replace", "default", "via", this.bed.routerAddr]);
    const secondary = this.bed.secondaryVnic(node);
    if (secondary) {
      // As attached by OCI: up, with no address until software adds one again.
      await mustRun("ip", ["-n", ns, "addr", "flush", "dev", secondary.interfaceName]);
      await mustRun("ip", ["-n", ns, "link", "set", secondary.interfaceName, "up"]);
    }
    await this.bed.linkUp(node);
  }

  /** Route changes are applied in event order, so a fast double move cannot end on the wrong node. */
  private route(ip: string, node: string | null, vnicIp?: string): Promise<void> {
    this.routeChain = this.routeChain.then(() => this.bed.routeVip(ip, node, vnicIp)).catch(() => undefined);
    return this.routeChain;
  }

  private control(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? "" : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        { socketPath: this.controlSocket, method, path, headers: { "content-type": "application/json" } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            if ((res.statusCode ?? 500) >= 400) reject(new Error(`emulator control ${path}: ${text}`));
            else resolve(text ? (JSON.parse(text) as unknown) : null);
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }
}
