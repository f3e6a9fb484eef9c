import { execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { floatipMain } from "./repo-paths.ts";
import type { StatusSnapshot } from "../../src/api/status-types.ts";
import { appendChildOutput } from "./child-log.ts";

/** What the harness needs from a test bed: run processes inside a node's namespace. */
export interface BedLike {
  nodeNs(node: string): string;
  nodeAddr(node: string): string;
  spawnIn(ns: string, cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv }): ChildProcess;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * floatip daemons on the nodes of a test bed, each with its own state dir and admin socket, driven
 * through the real CLI. Every daemon is started through the bed, so the bed's teardown kills it too.
 */
export class FloatipCluster {
  readonly dir: string;
  private readonly daemons = new Map<string, ChildProcess>();

  constructor(
    private readonly bed: BedLike,
    readonly nodes: readonly string[],
    private readonly env: NodeJS.ProcessEnv = {},
    /** Options every daemon of this cluster starts with, e.g. --leave-resources-on-exit. */
    private readonly daemonArgs: readonly string[] = [],
    /** Environment of one node's daemon on top of `env`, e.g. its own libfaketime offset file. */
    private readonly nodeEnv: (node: string) => NodeJS.ProcessEnv = () => ({}),
    /** Name prefix of the temporary dir that holds the state dirs, sockets and logs. */
    dirPrefix = "floatip-bed-",
  ) {
    this.dir = mkdtempSync(join(tmpdir(), dirPrefix));
  }

  socket(node: string): string {
    return join(this.dir, `${node}.sock`);
  }

  logFile(node: string): string {
    return join(this.dir, `${node}.log`);
  }

  async startDaemon(node: string, extraArgs: string[] = []): Promise<void> {
    const child = this.bed.spawnIn(
      this.bed.nodeNs(node),
      process.execPath,
      [
        floatipMain,
        "daemon",
        "--state-dir",
        join(this.dir, node),
        "--socket",
        this.socket(node),
        ...this.daemonArgs,
        ...extraArgs,
      ],
      { env: { ...process.env, FLOATIP_LOG_LEVEL: "debug", ...this.env, ...this.nodeEnv(node) } },
    );
    appendChildOutput(child, this.logFile(node));
    this.daemons.set(node, child);
    // Benches on a busy shared host may need longer (FLOATIP_BED_DAEMON_START_MS); tests keep 10 s.
    const deadline = Date.now() + (Number(process.env["FLOATIP_BED_DAEMON_START_MS"]) || 10_000);
    while (Date.now() < deadline) {
      const r = await this.cli(node, ["status", "--json"]);
      if (!r.stderr.includes("FLOATIP_E_DAEMON_DOWN")) return;
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`daemon on ${node} did not come up; see ${this.logFile(node)}`);
  }

  async startAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.startDaemon(n)));
  }

  /** The environment the node's running daemon actually has (from /proc), to check what it was given. */
  daemonEnvironment(node: string): Record<string, string> {
    const pid = this.daemons.get(node)?.pid;
    if (pid === undefined) throw new Error(`no daemon runs on ${node}`);
    const environ: Record<string, string> = {};
    for (const entry of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
      const eq = entry.indexOf("=");
      if (eq > 0) environ[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return environ;
  }

  /** Kills a daemon like a crash (SIGKILL) or asks it to exit (SIGTERM); resolves when it is gone. */
  async killDaemon(node: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.daemons.get(node);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
    this.daemons.delete(node);
  }

  cli(node: string, args: string[], input?: string): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [floatipMain, "--socket", this.socket(node), ...args],
        { timeout: 120_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(input ?? "");
    });
  }

  /** Runs a CLI command that must succeed. */
  async must(node: string, args: string[], input?: string): Promise<string> {
    const r = await this.cli(node, args, input);
    if (r.code !== 0)
      throw new Error(`floatip ${args.join(" ")} on ${node} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  async status(node: string): Promise<StatusSnapshot> {
    return JSON.parse(await this.must(node, ["status", "--json"])) as StatusSnapshot;
  }

  async waitForStatus(
    node: string,
    predicate: (s: StatusSnapshot) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<StatusSnapshot> {
    const deadline = Date.now() + timeoutMs;
    let last: StatusSnapshot | undefined;
    while (Date.now() < deadline) {
      try {
        last = await this.status(node);
        if (predicate(last)) return last;
      } catch {
        // The daemon may be restarting; keep polling until the deadline.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what} on ${node}; last status: ${JSON.stringify(last?.resources ?? null)} online=${JSON.stringify(last?.online ?? null)}`,
    );
  }

  /** Sets the admin password, authorises the first node to all nodes and creates the cluster (seed steps 7-9). */
  async setup(options: { name: string; password: string; extra?: string[] }): Promise<void> {
    for (const n of this.nodes) await this.must(n, ["passwd", "--stdin"], `${options.password}\n`);
    const first = this.nodes[0] ?? "";
    const nodeArgs = this.nodes.flatMap((n) => [n, `addr=${this.bed.nodeAddr(n)}`]);
    await this.must(first, ["cluster", "auth", ...nodeArgs, "-u", "hacluster", "-p", options.password]);
    await this.must(first, [
      "cluster",
      "setup",
      "--start",
      "--name",
      options.name,
      ...nodeArgs,
      ...(options.extra ?? []),
    ]);
  }

  /**
   * The seed's `resource create Cluster_VIP ocf:heartbeat:IPaddr2 ip=... cidr_netmask=24 op monitor
   * interval=...` (plus `extra` words), run on the first node; resolves once it runs there.
   */
  async createVip(options: {
    vip: string;
    monitorInterval: string;
    extra?: string[];
    timeoutMs?: number;
  }): Promise<void> {
    const first = this.nodes[0] ?? "";
    await this.must(first, [
      "resource",
      "create",
      "Cluster_VIP",
      "ocf:heartbeat:IPaddr2",
      `ip=${options.vip}`,
      "cidr_netmask=24",
      "op",
      "monitor",
      `interval=${options.monitorInterval}`,
      ...(options.extra ?? []),
    ]);
    await this.waitForStatus(
      first,
      (s) => s.resources.find((r) => r.id === "Cluster_VIP")?.runningOn.join() === first,
      options.timeoutMs ?? 30_000,
      `Cluster_VIP started on ${first}`,
    );
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.daemons.keys()].map((n) => this.killDaemon(n, "SIGKILL")));
    // FLOATIP_KEEP_BED_LOGS=1 keeps state dirs and daemon logs for a post-mortem.
    if (process.env["FLOATIP_KEEP_BED_LOGS"] === "1") process.stderr.write(`bed logs kept in ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Waits until the emulated cloud holds `vip` on `node` and that node's daemon runs the (first) resource
 * there: a failover seen from both sides.
 */
export async function waitForFailover(
  cloud: { holderOf(ip: string): string | null },
  cluster: FloatipCluster,
  vip: string,
  node: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (cloud.holderOf(vip) !== node) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${vip} on ${node} in the cloud`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await cluster.waitForStatus(
    node,
    (s) => s.resources[0]?.runningOn.join() === node,
    Math.max(1, deadline - Date.now()),
    `${vip} running on ${node}`,
  );
}
