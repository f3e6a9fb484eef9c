import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Bed } from "./bed.ts";
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
  private routeChain: Promise<void> = Promise.resolve();

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
      });
    });
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
