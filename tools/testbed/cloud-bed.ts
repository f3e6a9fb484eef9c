import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Bed } from "./bed.ts";
import { mustRun } from "./netns.ts";
import { emulatorMain } from "./repo-paths.ts";

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
}

/** A power action the emulator carried out on a node's instance (Date.now() when the event arrived). */
export interface PowerEvent {
  node: string;
  action: string;
  state: string;
  at: number;
}

/** Environment that points a daemon's OCI layer at the emulator inside the bed (never the real cloud). */
export const OCI_BED_ENV = {
  FLOATIP_OCI_METADATA_URL: "http://169.254.169.254/opc/v2/",
  FLOATIP_OCI_FEDERATION_ENDPOINT: "http://169.254.169.254",
  FLOATIP_OCI_ENDPOINT: "http://169.254.169.254",
};

/**
 * The emulated OCI region of a test bed: the emulator runs in the router namespace on 169.254.169.254
 * (metadata, federation and Core API), and the router's route to each VIP follows the emulator's
 * private-IP assignments, as the VCN does. The host-side test talks to it through a unix socket.
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
    private readonly nodeByInstance: Map<string, string>,
  ) {}

  static async start(bed: Bed, options: CloudOptions): Promise<EmulatedCloud> {
    const dir = mkdtempSync(join(tmpdir(), "floatip-cloud-"));
    const seed = {
      region: "us-ashburn-1",
      subnets: [{ cidr: "10.0.0.0/24", displayName: "ha-subnet", availabilityDomain: null }],
      instances: bed.nodes.map((node, i) => ({
        displayName: node,
        availabilityDomain: options.ads?.[node] ?? `Uocm:US-ASHBURN-AD-${(i % 3) + 1}`,
        vnics: [{ subnet: "10.0.0.0/24", privateIp: bed.nodeAddr(node), macAddress: bed.nodeMac(node) }],
      })),
      privateIps: Object.entries(options.existing ?? {}).map(([ipAddress, vnic]) => ({ ipAddress, vnic })),
    };
    const seedFile = join(dir, "seed.json");
    writeFileSync(seedFile, JSON.stringify(seed));
    const controlSocket = join(dir, "control.sock");
    const child = bed.spawnIn(bed.routerNs, process.execPath, [
      emulatorMain,
      "--seed",
      seedFile,
      "--listen",
      "169.254.169.254:80",
      "--control-socket",
      controlSocket,
      "--latency-ms",
      String(options.latencyMs),
      ...(options.rateLimit ? ["--rate-limit", options.rateLimit] : []),
    ]);
    const cloud = new EmulatedCloud(bed, child, controlSocket, dir, new Map());
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
          this.assignments.push({ ip, node, at: Date.now() });
          void this.route(ip, node);
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
    await this.bed.linkUp(node);
  }

  /** Route changes are applied in event order, so a fast double move cannot end on the wrong node. */
  private route(ip: string, node: string | null): Promise<void> {
    this.routeChain = this.routeChain.then(() => this.bed.routeVip(ip, node)).catch(() => undefined);
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
