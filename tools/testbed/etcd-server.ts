import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Real etcd members (Debian's etcd-server, /usr/bin/etcd) for tests: one on loopback, or several in the
 * namespaces of a test bed. Every member has its own temporary data dir, removed by stop(), and is killed
 * by stop() (and, when started through a bed, by the bed's teardown too).
 */

export const ETCD_BINARY = process.env["FLOATIP_ETCD_BINARY"] ?? "/usr/bin/etcd";

export interface EtcdMemberSpec {
  name: string;
  /** The address clients and peers use, e.g. 127.0.0.7 or 10.0.0.30. */
  host: string;
  clientPort: number;
  peerPort: number;
}

/** Spawns a process; a bed passes its own spawnIn so the process runs in a namespace. */
export type Spawner = (cmd: string, args: string[]) => ChildProcess;

export class EtcdMember {
  private output = "";
  private child: ChildProcess;
  private probe: (() => Promise<boolean>) | undefined;
  private constructor(
    readonly spec: EtcdMemberSpec,
    child: ChildProcess,
    readonly dataDir: string,
    private readonly relaunch: () => ChildProcess,
  ) {
    this.child = child;
    this.follow();
  }

  private follow(): void {
    this.child.stdout?.on("data", (c: Buffer) => this.keep(c));
    this.child.stderr?.on("data", (c: Buffer) => this.keep(c));
  }

  /** Starts a killed member again on its data dir (its leases and keys survive, as after a crash). */
  async restart(): Promise<void> {
    await this.kill();
    this.child = this.relaunch();
    this.follow();
    await this.waitReady(15_000, this.probe);
  }

  get clientUrl(): string {
    return `http://${this.spec.host}:${this.spec.clientPort}`;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines etcd printed, for failure messages. */
  get log(): string {
    return this.output;
  }

  static start(spec: EtcdMemberSpec, cluster: readonly EtcdMemberSpec[], spawner: Spawner): EtcdMember {
    // On tmpfs where there is one: etcd fsyncs every write, and a slow disk on a busy test host would
    // stall its answers (and so the leases) for longer than a short test TTL.
    const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
    const dataDir = mkdtempSync(join(base, `floatip-etcd-${spec.name}-`));
    const peerUrl = (s: EtcdMemberSpec) => `http://${s.host}:${s.peerPort}`;
    const args = [
      "--name",
      spec.name,
      "--data-dir",
      dataDir,
      "--listen-client-urls",
      `http://${spec.host}:${spec.clientPort}`,
      "--advertise-client-urls",
      `http://${spec.host}:${spec.clientPort}`,
      "--listen-peer-urls",
      peerUrl(spec),
      "--initial-advertise-peer-urls",
      peerUrl(spec),
      "--initial-cluster",
      cluster.map((s) => `${s.name}=${peerUrl(s)}`).join(","),
      "--initial-cluster-state",
      "new",
      "--initial-cluster-token",
      `floatip-test-${process.pid}`,
      "--logger",
      "zap",
      "--log-level",
      "warn",
      // Test hosts are busy: a leader that misses a 1 s election timeout stalls every lease renewal while a
      // new one is elected. (etcd's shortest lease TTL becomes 1.5 x 2.5 s; tests use 4 s.)
      "--heartbeat-interval",
      "250",
      "--election-timeout",
      "2500",
    ];
    const launch = () => spawner(ETCD_BINARY, args);
    return new EtcdMember(spec, launch(), dataDir, launch);
  }

  /**
   * Resolves once the member answers: by default once its client port accepts connections (loopback);
   * a bed passes a probe that runs inside a namespace.
   */
  async waitReady(timeoutMs = 15_000, probe: () => Promise<boolean> = () => this.portOpen()): Promise<void> {
    this.probe = probe;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`etcd ${this.spec.name} exited: ${this.output.slice(-2000)}`);
      if (await probe()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`etcd ${this.spec.name} did not open ${this.clientUrl}: ${this.output.slice(-2000)}`);
  }

  /** kill -9, like a crashed member; resolves when the process is gone. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private keep(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-8000);
  }

  private portOpen(): Promise<boolean> {
    // Only usable where the test process can reach the member (loopback); beds check through etcd itself.
    return new Promise((resolve) => {
      const socket = connect({ host: this.spec.host, port: this.spec.clientPort });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  }
}

/** A single etcd on a random 127.0.0.x address and random ports, for integration tests on loopback. */
export async function startLoopbackEtcd(): Promise<EtcdMember> {
  const host = `127.0.${1 + Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
  const base = 20_000 + Math.floor(Math.random() * 20_000);
  const spec = { name: "solo", host, clientPort: base, peerPort: base + 1 };
  const member = EtcdMember.start(spec, [spec], (cmd, args) =>
    spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] }),
  );
  try {
    await member.waitReady();
  } catch (error) {
    await member.stop();
    throw error;
  }
  return member;
}
