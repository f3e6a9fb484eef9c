import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./repo-paths.ts";
import { createInterface } from "node:readline";
import type { Bed } from "./bed.ts";

/**
 * Client-side availability probe: probe-cli.ts runs in the client namespace and streams what it sent and
 * what came back; ProbeRecorder turns that stream into a report (outages, who answered, switches).
 */

export type ProbeEvent =
  | { ev: "start"; ms: number }
  | { ev: "sent"; seq: number; ms: number }
  | { ev: "reply"; seq: number; node: string; from: string; ms: number }
  | { ev: "end"; ms: number };

export interface ProbeOutage {
  /** Send time of the last answered request before the gap (ms since the probe started). */
  startMs: number;
  /** Send time of the first answered request after it, or, for an outage still going on, the latest time seen. */
  endMs: number;
  ms: number;
  /** True while no request after the gap has been answered yet. */
  open?: boolean;
}

export interface ProbeReport {
  sent: number;
  answered: number;
  longestOutageMs: number;
  outages: ProbeOutage[];
  /** Each change of the answering node, in request order. */
  responders: { node: string; fromMs: number }[];
  firstResponder: string | null;
  lastResponder: string | null;
  /** Requests answered by more than one node: both held the VIP at once. */
  answeredByTwo: number;
}

/** Pure: events in, report out. Unanswered requests younger than graceMs are in flight, not lost. */
export class ProbeRecorder {
  private readonly sentAt = new Map<number, number>();
  private readonly repliers = new Map<number, string[]>();
  private latestMs = 0;
  private maxSeq = 0;

  constructor(private readonly graceMs = 100) {}

  record(event: ProbeEvent): void {
    this.latestMs = Math.max(this.latestMs, event.ms);
    if (event.ev === "sent") {
      this.sentAt.set(event.seq, event.ms);
      this.maxSeq = Math.max(this.maxSeq, event.seq);
    } else if (event.ev === "reply") {
      const nodes = this.repliers.get(event.seq) ?? [];
      if (!nodes.includes(event.node)) nodes.push(event.node);
      this.repliers.set(event.seq, nodes);
    }
  }

  report(): ProbeReport {
    const answeredSeqs = [...this.repliers.keys()]
      .filter((seq) => this.sentAt.has(seq))
      .sort((a, b) => a - b);
    const outages: ProbeOutage[] = [];
    const responders: { node: string; fromMs: number }[] = [];
    let answeredByTwo = 0;
    let previous: number | undefined;
    for (const seq of answeredSeqs) {
      const ms = this.sentAt.get(seq) ?? 0;
      const nodes = this.repliers.get(seq) ?? [];
      if (nodes.length > 1) answeredByTwo += 1;
      const node = nodes[0] ?? "";
      if (responders.at(-1)?.node !== node) responders.push({ node, fromMs: ms });
      if (previous !== undefined && seq - previous > 1) {
        const startMs = this.sentAt.get(previous) ?? 0;
        outages.push({ startMs, endMs: ms, ms: round(ms - startMs) });
      }
      previous = seq;
    }
    if (previous !== undefined) {
      const lostTail = [...this.sentAt.entries()].some(
        ([seq, ms]) => seq > (previous ?? 0) && this.latestMs - ms > this.graceMs,
      );
      if (lostTail) {
        const startMs = this.sentAt.get(previous) ?? 0;
        outages.push({ startMs, endMs: this.latestMs, ms: round(this.latestMs - startMs), open: true });
      }
    }
    return {
      sent: this.sentAt.size,
      answered: answeredSeqs.length,
      longestOutageMs: outages.reduce((max, o) => Math.max(max, o.ms), 0),
      outages,
      responders,
      firstResponder: responders[0]?.node ?? null,
      lastResponder: responders.at(-1)?.node ?? null,
      answeredByTwo,
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export interface RunningProbe {
  /** Stops sending, waits for late replies, and returns the final report. */
  stop(): Promise<ProbeReport>;
  /** The report so far, without stopping. */
  snapshot(): ProbeReport;
}

// The compiled helper programs (npm test and the demo build first): starting them through tsx costs
// CPU at the very moments a test measures failover timing.
const probeCli = join(repoRoot, "dist/tools/testbed/probe-cli.js");
const responderCli = join(repoRoot, "dist/tools/testbed/responder.js");

/** Waits for the first stdout JSON line that satisfies `ready`, or fails on exit/timeout. */
function waitForLine(
  child: ChildProcess,
  what: string,
  ready: (line: unknown) => boolean,
  timeoutMs: number,
) {
  return new Promise<void>((resolve, reject) => {
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    const lines = createInterface({ input: child.stdout! });
    const done = (error?: Error): void => {
      clearTimeout(timer);
      lines.off("line", onLine);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve();
    };
    const onLine = (line: string): void => {
      try {
        if (ready(JSON.parse(line))) done();
      } catch {
        // not JSON: ignore
      }
    };
    const onExit = (code: number | null): void =>
      done(new Error(`FLOATIP_E_TESTBED: ${what} exited (${code}) before it was ready: ${stderr.trim()}`));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      done(new Error(`FLOATIP_E_TESTBED: ${what} was not ready within ${timeoutMs} ms: ${stderr.trim()}`));
    }, timeoutMs);
    lines.on("line", onLine);
    child.once("exit", onExit);
  });
}

/** Starts probe-cli in the client namespace, sending to vip:port every intervalMs (default 10). */
export async function startProbe(
  bed: Bed,
  vip: string,
  port: number,
  opts: { intervalMs?: number; graceMs?: number } = {},
): Promise<RunningProbe> {
  const graceMs = opts.graceMs ?? 100;
  const child = bed.spawnIn(
    bed.clientNs,
    process.execPath,
    [
      probeCli,
      "--vip",
      vip,
      "--port",
      String(port),
      "--interval-ms",
      String(opts.intervalMs ?? 10),
      "--grace-ms",
      String(graceMs),
    ],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
  );
  const recorder = new ProbeRecorder(graceMs);
  const lines = createInterface({ input: child.stdout! });
  lines.on("line", (line) => {
    try {
      recorder.record(JSON.parse(line) as ProbeEvent);
    } catch {
      // a partial line on kill: nothing to record
    }
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const linesClosed = new Promise<void>((resolve) => lines.once("close", () => resolve()));
  await waitForLine(child, "probe", (line) => (line as { ev?: string }).ev === "start", 15_000);
  let final: Promise<ProbeReport> | undefined;
  return {
    snapshot: () => recorder.report(),
    stop() {
      final ??= (async () => {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), graceMs + 3000);
        await exited;
        await linesClosed;
        clearTimeout(killer);
        return recorder.report();
      })();
      return final;
    },
  };
}

export interface RunningResponders {
  stop(): Promise<void>;
}

/**
 * Starts responder.ts in the namespace of every node (or of `nodes`), named after the node; waits until all
 * listen. With `bind`, each listens on that address only (the namespace needs net.ipv4.ip_nonlocal_bind=1
 * where it is not configured yet).
 */
export async function startResponders(
  bed: Bed,
  port: number,
  nodes: readonly string[] = bed.nodes,
  bind?: string,
) {
  const children = nodes.map((node) => startResponderIn(bed, bed.nodeNs(node), node, port, bind));
  await Promise.all(children.map((c) => c.ready));
  return {
    async stop() {
      await Promise.all(children.map((c) => c.stop()));
    },
  } satisfies RunningResponders;
}

/** Starts one responder answering as `name` inside namespace `ns` (e.g. the router, for metadata checks). */
export function startResponderIn(bed: Bed, ns: string, name: string, port: number, bind?: string) {
  const args = ["--name", name, "--port", String(port), ...(bind === undefined ? [] : ["--bind", bind])];
  const child = bed.spawnIn(ns, process.execPath, [responderCli, ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    ready: waitForLine(
      child,
      `responder ${name}`,
      (line) => (line as { listening?: number }).listening === port,
      15_000,
    ),
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}
