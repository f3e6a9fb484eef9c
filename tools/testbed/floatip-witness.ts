import { execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WitnessStatus } from "../../src/api/witness-status.ts";
import { floatipMain } from "./repo-paths.ts";
import type { CliResult } from "./floatip-cluster.ts";
import { appendChildOutput } from "./child-log.ts";

/** What the witness needs from a test bed: a namespace to run in. */
export interface WitnessBed {
  spawnIn(ns: string, cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv }): ChildProcess;
}

/**
 * `floatip witness` in a namespace of a test bed (a third host), with its own state dir and admin
 * socket, driven through the real CLI. Started through the bed, so the bed's teardown kills it too.
 */
export class FloatipWitness {
  readonly dir = mkdtempSync(join(tmpdir(), "floatip-witness-"));
  private child: ChildProcess | null = null;

  constructor(
    private readonly bed: WitnessBed,
    readonly ns: string,
    /** The witness host's address, which nodes authorise (`host auth witness addr=...`). */
    readonly addr: string,
  ) {}

  get socket(): string {
    return join(this.dir, "witness.sock");
  }

  get logFile(): string {
    return join(this.dir, "witness.log");
  }

  /** Starts the witness and sets its admin password (the first time) so nodes can `host auth` it. */
  async start(password?: string): Promise<void> {
    const child = this.bed.spawnIn(
      this.ns,
      process.execPath,
      [floatipMain, "witness", "--socket", this.socket, "--state-dir", join(this.dir, "state")],
      { env: { ...process.env, FLOATIP_LOG_LEVEL: "debug" } },
    );
    appendChildOutput(child, this.logFile);
    this.child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await this.cli(["qdevice", "status", "--json"]);
      if (r.code === 0) break;
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`witness did not come up; see ${this.logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (password !== undefined) await this.must(["passwd", "--stdin"], `${password}\n`);
  }

  /** Kills the witness like a crash (SIGKILL) or asks it to exit; resolves when it is gone. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  }

  cli(args: string[], input?: string): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [floatipMain, "--socket", this.socket, ...args],
        { timeout: 30_000 },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
        },
      );
      child.stdin?.end(input ?? "");
    });
  }

  async must(args: string[], input?: string): Promise<string> {
    const r = await this.cli(args, input);
    if (r.code !== 0)
      throw new Error(`floatip ${args.join(" ")} on the witness failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  async status(): Promise<WitnessStatus> {
    return JSON.parse(await this.must(["--json", "qdevice", "status"])) as WitnessStatus;
  }

  async destroy(): Promise<void> {
    await this.kill();
    if (process.env["FLOATIP_KEEP_BED_LOGS"] === "1")
      process.stderr.write(`witness logs kept in ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
