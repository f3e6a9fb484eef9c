import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { runCommand, type CommandOutcome } from "../../src/agents/command-runner.ts";

/**
 * Building blocks of the network-namespace test bed: namespaces, veths and bridges on this host, with a
 * registry of everything created so teardown removes it all even after an exception, and a record file
 * per prefix so a later run can remove what a crashed run left behind (and nothing else).
 */

export const recordDir = "/tmp/floatip-beds";
/** `ip netns exec NAME` bind-mounts each file in /etc/netns/NAME over the same name in /etc. */
export const netnsEtcDir = "/etc/netns";
const stalePattern = /^(fi[0-9a-f]{4})-/;
const defaultTimeoutMs = 10_000;

/** "fi" + 4 random hex digits: the namespace-name prefix that keeps parallel test beds apart. */
export function uniquePrefix(): string {
  return `fi${randomBytes(2).toString("hex")}`;
}

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Runs a command that must succeed; the error names the command and its stderr. */
export async function mustRun(cmd: string, args: string[], opts: ExecOptions = {}): Promise<string> {
  const out = await runCommand(cmd, args, withTimeout(opts));
  if (out.code !== 0) {
    throw new Error(`FLOATIP_E_TESTBED: ${cmd} ${args.join(" ")} exited ${out.code}: ${out.stderr.trim()}`);
  }
  return out.stdout;
}

function withTimeout(opts: ExecOptions): { timeoutMs: number; signal?: AbortSignal } {
  return { timeoutMs: opts.timeoutMs ?? defaultTimeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) };
}

/** Runs `cmd args` inside namespace `ns`; resolves with the exit code like runCommand. */
export function execIn(
  ns: string,
  cmd: string,
  args: string[],
  opts: ExecOptions = {},
): Promise<CommandOutcome> {
  return runCommand("ip", ["netns", "exec", ns, cmd, ...args], withTimeout(opts));
}

export async function createNamespace(name: string): Promise<void> {
  await mustRun("ip", ["netns", "add", name]);
  await mustRun("ip", ["-n", name, "link", "set", "lo", "up"]);
}

export async function listNamespaces(): Promise<string[]> {
  const out = await runCommand("ip", ["netns", "list"], { timeoutMs: defaultTimeoutMs });
  return out.stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name !== "");
}

async function pidsIn(ns: string): Promise<number[]> {
  const out = await runCommand("ip", ["netns", "pids", ns], { timeoutMs: defaultTimeoutMs });
  if (out.code !== 0) return [];
  return out.stdout
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Kills every process inside `ns`, waits for them to go, then deletes it. Missing namespaces are fine. */
export async function deleteNamespace(name: string): Promise<void> {
  if (!(await listNamespaces()).includes(name)) return;
  for (let attempt = 0; attempt < 40; attempt++) {
    const pids = await pidsIn(name);
    if (pids.length === 0) break;
    for (const pid of pids) killQuietly(pid, "SIGKILL");
    await sleep(25);
  }
  const out = await runCommand("ip", ["netns", "del", name], { timeoutMs: defaultTimeoutMs });
  if (out.code !== 0 && !/No such file/.test(out.stderr)) {
    throw new Error(`FLOATIP_E_TESTBED: ip netns del ${name} failed: ${out.stderr.trim()}`);
  }
  removeEtcFiles(name);
}

/** Removes /etc/netns/NAME (the namespace's own /etc files); bed namespace names only. */
function removeEtcFiles(name: string): void {
  if (stalePattern.test(name)) rmSync(`${netnsEtcDir}/${name}`, { recursive: true, force: true });
}

function deleteNamespaceSync(name: string): void {
  try {
    const pids = execFileSync("ip", ["netns", "pids", name], { encoding: "utf8", timeout: 5000 });
    for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) killQuietly(Number(pid), "SIGKILL");
  } catch {
    // namespace may already be gone
  }
  try {
    execFileSync("ip", ["netns", "del", name], { stdio: "ignore", timeout: 5000 });
  } catch {
    // already gone
  }
  removeEtcFiles(name);
}

/** Start time of a process in clock ticks since boot, so a recycled pid is not mistaken for its creator. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22; the command name (field 2) may contain spaces, so count from its closing parenthesis.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

interface BedRecord {
  pid: number;
  startTime: string | undefined;
  namespaces: string[];
}

function recordPath(prefix: string): string {
  return `${recordDir}/${prefix}.json`;
}

function readRecord(prefix: string): BedRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(prefix), "utf8")) as BedRecord;
  } catch {
    return undefined;
  }
}

function creatorAlive(record: BedRecord): boolean {
  const start = processStartTime(record.pid);
  return start !== undefined && start === record.startTime;
}

/**
 * Deletes namespaces named `^fi[0-9a-f]{4}-` whose record file names a creating process that is gone. A
 * namespace without a record file is left alone: it may belong to someone else's test.
 */
export async function cleanupStale(): Promise<string[]> {
  const removed: string[] = [];
  const byPrefix = new Map<string, string[]>();
  for (const ns of await listNamespaces()) {
    const prefix = stalePattern.exec(ns)?.[1];
    if (prefix !== undefined) byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), ns]);
  }
  let recordFiles: string[] = [];
  try {
    recordFiles = readdirSync(recordDir).filter((f) => /^fi[0-9a-f]{4}\.json$/.test(f));
  } catch {
    // no records yet
  }
  for (const file of recordFiles) {
    const prefix = file.slice(0, -".json".length);
    if (!byPrefix.has(prefix)) byPrefix.set(prefix, []);
  }
  for (const [prefix, namespaces] of byPrefix) {
    const record = readRecord(prefix);
    if (record === undefined || creatorAlive(record)) continue;
    for (const ns of namespaces) {
      await deleteNamespace(ns);
      removed.push(ns);
    }
    // A crash between `ip netns del` and removing its /etc files leaves those behind.
    for (const ns of record.namespaces) removeEtcFiles(ns);
    rmSync(recordPath(prefix), { force: true });
  }
  return removed;
}

export interface VethEnd {
  ns: string;
  name: string;
  mac?: string;
}

/**
 * Everything one test bed created under one prefix: namespaces and the processes started in them. Teardown
 * (async or, from an exit handler, sync) removes all of it and is safe to call more than once.
 */
export class NamespaceRegistry {
  readonly prefix: string;
  private readonly namespaces = new Set<string>();
  private readonly children = new Set<ChildProcess>();
  private exitHooks: (() => void) | undefined;

  constructor(prefix: string = uniquePrefix()) {
    if (!/^fi[0-9a-f]{4}$/.test(prefix)) {
      throw new Error(`FLOATIP_E_TESTBED: prefix ${prefix} must be "fi" + 4 hex digits; use uniquePrefix()`);
    }
    this.prefix = prefix;
  }

  /** Creates `${prefix}-${suffix}`; the record file is written first so a crash right after leaves a trace. */
  async createNamespace(suffix: string): Promise<string> {
    const name = `${this.prefix}-${suffix}`;
    this.namespaces.add(name);
    this.writeRecord();
    await createNamespace(name);
    return name;
  }

  /** Creates a veth pair with `a` in a.ns and `b` in b.ns, both up. */
  async addVeth(a: VethEnd, b: VethEnd): Promise<void> {
    await mustRun("ip", [
      "-n",
      a.ns,
      "link",
      "add",
      a.name,
      "type",
      "veth",
      "peer",
      "name",
      b.name,
      "netns",
      b.ns,
    ]);
    for (const end of [a, b]) {
      if (end.mac !== undefined)
        await mustRun("ip", ["-n", end.ns, "link", "set", end.name, "address", end.mac]);
      await mustRun("ip", ["-n", end.ns, "link", "set", end.name, "up"]);
    }
  }

  async addBridge(ns: string, name: string): Promise<void> {
    await mustRun("ip", ["-n", ns, "link", "add", name, "type", "bridge"]);
    await mustRun("ip", ["-n", ns, "link", "set", name, "up"]);
  }

  /**
   * Writes /etc/netns/NS/FILE, which processes started in `ns` afterwards see as /etc/FILE (only for files
   * that exist in /etc, such as hosts). Removed with the namespace.
   */
  writeEtcFile(ns: string, file: "hosts", content: string): void {
    if (!this.namespaces.has(ns)) throw new Error(`FLOATIP_E_TESTBED: ${ns} is not a namespace of this bed`);
    mkdirSync(`${netnsEtcDir}/${ns}`, { recursive: true, mode: 0o755 });
    writeFileSync(`${netnsEtcDir}/${ns}/${file}`, content, { mode: 0o644 });
  }

  async enslave(ns: string, port: string, bridge: string): Promise<void> {
    await mustRun("ip", ["-n", ns, "link", "set", port, "master", bridge]);
  }

  execIn(ns: string, cmd: string, args: string[], opts: ExecOptions = {}): Promise<CommandOutcome> {
    return execIn(ns, cmd, args, opts);
  }

  /** Starts a process in `ns`; it is killed on teardown. `ip netns exec` execs in place, so the pid is the command's. */
  spawnIn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      ...opts,
    });
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    // A spawn failure must not crash the test process; the caller sees it as an exit.
    child.once("error", () => this.children.delete(child));
    return child;
  }

  /** Kills every tracked process and deletes every namespace of this prefix, then the record file. */
  async teardown(): Promise<void> {
    for (const child of this.children) if (child.pid !== undefined) killQuietly(child.pid, "SIGKILL");
    this.children.clear();
    const failures: string[] = [];
    for (const ns of this.namespaces) {
      try {
        await deleteNamespace(ns);
        this.namespaces.delete(ns);
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
      }
    }
    if (failures.length > 0) throw new Error(failures.join("; "));
    rmSync(recordPath(this.prefix), { force: true });
    this.removeExitHooks();
  }

  /** The same as teardown, synchronously, for process exit and signal handlers. */
  teardownSync(): void {
    for (const child of this.children) if (child.pid !== undefined) killQuietly(child.pid, "SIGKILL");
    this.children.clear();
    for (const ns of this.namespaces) deleteNamespaceSync(ns);
    this.namespaces.clear();
    rmSync(recordPath(this.prefix), { force: true });
    this.removeExitHooks();
  }

  /** Tears down on process exit and on SIGINT/SIGTERM (then exits as the signal would have). */
  registerExitCleanup(): void {
    if (this.exitHooks !== undefined) return;
    const onExit = (): void => this.teardownSync();
    const onSignal = (signal: NodeJS.Signals): void => {
      this.teardownSync();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on("exit", onExit);
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    this.exitHooks = () => {
      process.off("exit", onExit);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
  }

  private removeExitHooks(): void {
    this.exitHooks?.();
    this.exitHooks = undefined;
  }

  private writeRecord(): void {
    mkdirSync(recordDir, { recursive: true });
    const record: BedRecord = {
      pid: process.pid,
      startTime: processStartTime(process.pid),
      namespaces: [...this.namespaces],
    };
    writeFileSync(recordPath(this.prefix), JSON.stringify(record));
  }
}
