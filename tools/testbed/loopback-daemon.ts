import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { floatipMain } from "./repo-paths.ts";

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * One real floatip daemon on loopback for tests that need no root and no namespaces: its own temp state
 * dir and socket, the admin API on a random 127.0.0.1 port, and (unless `configured` is false) a
 * one-node cluster "node1" on 127.0.0.1 with a random heartbeat port, already started.
 */
export class LoopbackDaemon {
  readonly dir = mkdtempSync(join(tmpdir(), "floatip-loopback-"));
  readonly stateDir = join(this.dir, "state");
  readonly socket = join(this.dir, "floatip.sock");
  readonly adminPort = 20000 + Math.floor(Math.random() * 20000);
  private child: ChildProcess | undefined;

  static async start(options: { configured?: boolean; name?: string } = {}): Promise<LoopbackDaemon> {
    const daemon = new LoopbackDaemon();
    await daemon.boot(options.configured ?? true, options.name ?? "loopback-test");
    return daemon;
  }

  /** Runs the floatip CLI against this daemon; `input` goes to its standard input. */
  cli(args: readonly string[], input = ""): Promise<CliOutcome> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [floatipMain, "--socket", this.socket, ...args],
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(input);
    });
  }

  stop(): void {
    this.child?.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async boot(configured: boolean, name: string): Promise<void> {
    mkdirSync(this.stateDir, { mode: 0o700 });
    if (configured) {
      const config = {
        formatVersion: 1,
        name,
        epoch: 1,
        nodes: [{ name: "node1", id: 1, addrs: ["127.0.0.1"] }],
        totem: { tokenMs: 1000, heartbeatIntervalMs: 100, port: this.adminPort + 1 },
      };
      writeFileSync(join(this.stateDir, "cluster.json"), JSON.stringify(config), { mode: 0o600 });
      writeFileSync(join(this.stateDir, "cluster.key"), Buffer.alloc(32, 7), { mode: 0o600 });
    }
    const args = ["daemon", "--state-dir", this.stateDir, "--socket", this.socket];
    args.push("--admin-port", String(this.adminPort), "--admin-address", "127.0.0.1");
    this.child = spawn(process.execPath, [floatipMain, ...args], {
      env: { ...process.env, FLOATIP_NODE_NAME: "node1", FLOATIP_LOG_LEVEL: "warn" },
      stdio: "ignore",
    });
    for (let i = 0; i < 200; i += 1) {
      if ((await this.cli(["status", "--json"])).code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (configured) {
      const started = await this.cli(["cluster", "start"]);
      if (started.code !== 0) throw new Error(`cluster start failed: ${started.stderr}`);
    }
  }
}
