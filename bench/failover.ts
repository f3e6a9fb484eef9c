import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { writeFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createBed, type Bed } from "../tools/testbed/bed.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";
import { EmulatedCloud, OCI_BED_ENV } from "../tools/testbed/cloud-bed.ts";
import { FloatipCluster } from "../tools/testbed/floatip-cluster.ts";
import { startProbe, startResponders } from "../tools/testbed/probe.ts";
import { floatipMain, repoRoot } from "../tools/testbed/repo-paths.ts";

/**
 * Failover benchmark: node loss (link down of the VIP holder, as in an AD outage) on the routed test bed
 * with the emulated OCI region answering every API call after a fixed latency, client outage measured by
 * the UDP probe (a request every 10 ms from another subnet). Three systems, each on a fresh bed per run:
 *   floatip     the daemons with default settings (cluster setup + resource create, as in the seed)
 *   seed        the seed recipe replayed (bench/seed-replay-node.ts: corosync-timed detection, one CLI
 *               process per cloud call, ip addr add, no verification)
 *   keepalived  keepalived 2.2 unicast VRRP (advert_int 1) with a notify_master script that runs
 *               `floatip oci move <vip>` and adds the address, as operators do today
 *
 *   npm run bench:failover -- [--runs 10] [--latency-ms 300] [--systems floatip,seed,keepalived]
 */

const VIP = "10.0.0.200";
const PORT = 7000;
const NODES = ["node1", "node2"] as const;
const KEEPALIVED = "/usr/sbin/keepalived";
/** A run whose set-up (before the link goes down) fails is retried this often on a fresh bed. */
const SETUP_RETRIES = 2;
const SYSTEMS = ["floatip", "seed", "keepalived"] as const;
type System = (typeof SYSTEMS)[number];

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    "latency-ms": { type: "string", default: "300" },
    systems: { type: "string", default: SYSTEMS.join(",") },
    "results-dir": { type: "string", default: join(repoRoot, "bench/results") },
  },
});
const runs = Number(values.runs);
const latencyMs = Number(values["latency-ms"]);
const systems = (values.systems ?? "").split(",").filter((s): s is System => SYSTEMS.includes(s as System));
if (!Number.isInteger(runs) || runs < 1 || !Number.isFinite(latencyMs) || latencyMs < 0 || !systems.length) {
  process.stderr.write(
    "usage: failover [--runs N>=1] [--latency-ms MS>=0] [--systems floatip,seed,keepalived]\n",
  );
  process.exit(2);
}

interface RunResult {
  system: System;
  run: number;
  ok: boolean;
  error?: string;
  /** Where a failed run stopped: before the link went down (set-up, retried) or during the failover. */
  phase?: "setup" | "failover";
  /** Set-up attempts that failed before this run (a loaded host), retried on a fresh bed. */
  setupRetries?: number;
  /** Longest gap in the client's answers (ms). */
  outageMs?: number;
  /** Link down -> the survivor decided the holder is gone (membership change / notify_master). */
  detectMs?: number;
  /** Detection -> the emulated cloud applied the move (includes CLI start-up for the baselines). */
  cloudMs?: number;
  /** Cloud move applied -> the client is answered again (outage minus link-down-to-move). */
  backMs?: number;
  /** Detection -> the survivor's first request to the emulator (metadata included): process start-up. */
  firstCallMs?: number;
  /** Core API calls (each answered after the set latency) from detection until the move was applied. */
  apiCallsToMove?: number;
  /** Requests of any kind (metadata, federation, Core API) from detection until the move was applied. */
  requestsToMove?: number;
  /** The node whose link went down. */
  holder?: string;
  /** Moves the system made on its own between start-up on node1 and the link going down. */
  movesBeforeDown?: number;
  lastResponder?: string | null;
  cloudMoves?: number;
  answeredByTwo?: number;
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects the JSON lines of a child's stdout and writes everything it prints to `logFile`. */
function follow(child: ChildProcess, logFile: string): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  const out = createWriteStream(logFile, { flags: "a" });
  child.stderr?.pipe(out);
  if (child.stdout) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      out.write(`${line}\n`);
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // keepalived's console log: kept in the file only
      }
    });
  }
  return events;
}

/** One system's way to get the VIP onto node1 and to tell when the survivor detected the loss. */
interface Deployment {
  /** Resolves once node1 holds the VIP (cloud and local address). */
  start(): Promise<void>;
  /** Wall-clock time the survivor decided the holder is gone, if seen. */
  detectedAt(node: string, after: number): number | undefined;
  stop(): Promise<void>;
}

function floatipDeployment(bed: Bed, cloud: EmulatedCloud): Deployment {
  const cluster = new FloatipCluster(bed, NODES, OCI_BED_ENV);
  return {
    async start() {
      await cluster.startAll();
      await cluster.setup({ name: "bench", password: "bench-password" });
      await cluster.createVip({ vip: VIP, monitorInterval: "10s" });
      await waitUntil("the cloud to show the VIP on node1", 10_000, () => cloud.holderOf(VIP) === "node1");
    },
    detectedAt(node, after) {
      // The coordinator's "membership changed" line without the lost node (pino: time in epoch ms).
      const lines = existsSync(cluster.logFile(node)) ? readFileSync(cluster.logFile(node), "utf8") : "";
      for (const line of lines.split("\n")) {
        if (!line.includes('"membership changed"')) continue;
        try {
          const entry = JSON.parse(line) as { time: number; lost?: unknown[] };
          if (entry.time >= after && (entry.lost?.length ?? 0) > 0) return entry.time;
        } catch {
          // a partial line
        }
      }
      return undefined;
    },
    stop: () => cluster.destroy(),
  };
}

function seedDeployment(bed: Bed, cloud: EmulatedCloud, dir: string): Deployment {
  const events = new Map<string, Record<string, unknown>[]>();
  const script = join(repoRoot, "dist/bench/seed-replay-node.js");
  return {
    async start() {
      for (const [i, node] of NODES.entries()) {
        const peer = NODES[1 - i] ?? "node2";
        const child = bed.spawnIn(
          bed.nodeNs(node),
          process.execPath,
          [
            script,
            ...["--name", node, "--self", bed.nodeAddr(node), "--peer", bed.nodeAddr(peer)],
            ...["--vip", VIP, "--cli", floatipMain],
            ...(node === "node1" ? ["--holder"] : []),
          ],
          { env: { ...process.env, ...OCI_BED_ENV } },
        );
        events.set(node, follow(child, join(dir, `seed-${node}.log`)));
      }
      const seen = (node: string, ev: string): boolean =>
        (events.get(node) ?? []).some((e) => e["ev"] === ev);
      await waitUntil("node1 to add the VIP", 20_000, () => seen("node1", "addr-added"));
      await waitUntil("both seed nodes to see each other", 10_000, () =>
        NODES.every((n) => seen(n, "membership")),
      );
      await waitUntil("the cloud to show the VIP on node1", 10_000, () => cloud.holderOf(VIP) === "node1");
    },
    detectedAt(node, after) {
      const e = (events.get(node) ?? []).find(
        (x) => x["ev"] === "membership" && x["lost"] !== undefined && Number(x["at"]) >= after,
      );
      return e === undefined ? undefined : Number(e["at"]);
    },
    async stop() {
      // The bed kills the processes.
    },
  };
}

function keepalivedDeployment(bed: Bed, cloud: EmulatedCloud, dir: string): Deployment {
  const children: ChildProcess[] = [];
  const notifyLog = (node: string): string => join(dir, `notify-${node}.log`);
  const envLines = Object.entries(OCI_BED_ENV)
    .map(([k, v]) => `export ${k}='${v}'`)
    .join("\n");
  return {
    async start() {
      for (const [i, node] of NODES.entries()) {
        const peer = NODES[1 - i] ?? "node2";
        const notify = join(dir, `notify-master-${node}.sh`);
        writeFileSync(
          notify,
          [
            "#!/bin/sh",
            "# notify_master as operators write it: move the secondary IP in the cloud, then add it here.",
            envLines,
            `echo "notify $(date +%s%3N)" >> '${notifyLog(node)}'`,
            `'${process.execPath}' '${floatipMain}' oci move ${VIP} >> '${notifyLog(node)}' 2>&1`,
            `echo "moved $(date +%s%3N) rc=$?" >> '${notifyLog(node)}'`,
            `ip addr add ${VIP}/24 dev eth0`,
            `echo "added $(date +%s%3N) rc=$?" >> '${notifyLog(node)}'`,
            "",
          ].join("\n"),
        );
        chmodSync(notify, 0o700);
        const conf = join(dir, `keepalived-${node}.conf`);
        writeFileSync(
          conf,
          [
            "global_defs {",
            `  router_id ${node}`,
            "  script_user root",
            "}",
            "vrrp_instance VI_1 {",
            `  state ${node === "node1" ? "MASTER" : "BACKUP"}`,
            "  interface eth0",
            "  virtual_router_id 51",
            `  priority ${node === "node1" ? 150 : 100}`,
            "  advert_int 1",
            `  unicast_src_ip ${bed.nodeAddr(node)}`,
            `  unicast_peer {\n    ${bed.nodeAddr(peer)}\n  }`,
            `  notify_master "${notify}"`,
            "}",
            "",
          ].join("\n"),
        );
        const child = bed.spawnIn(bed.nodeNs(node), KEEPALIVED, [
          ...["-n", "-l", "-D", "-P", "-f", conf],
          ...["-p", join(dir, `keepalived-${node}.pid`), "-r", join(dir, `vrrp-${node}.pid`)],
        ]);
        children.push(child);
        follow(child, join(dir, `keepalived-${node}.log`));
      }
      await waitUntil("node1's notify_master to add the VIP", 20_000, () =>
        readText(notifyLog("node1")).includes("added"),
      );
      await waitUntil("the cloud to show the VIP on node1", 10_000, () => cloud.holderOf(VIP) === "node1");
      if (children.some((c) => c.exitCode !== null)) {
        throw new Error(`keepalived exited: ${readText(join(dir, "keepalived-node1.log")).slice(-500)}`);
      }
    },
    detectedAt(node, after) {
      for (const line of readText(notifyLog(node)).split("\n")) {
        const m = /^notify (\d+)/.exec(line);
        if (m && Number(m[1]) >= after) return Number(m[1]);
      }
      return undefined;
    },
    async stop() {
      // SIGTERM first so keepalived stops its VRRP child; the bed's teardown SIGKILLs what is left.
      await Promise.all(
        children.map(async (c) => {
          if (c.exitCode !== null || c.signalCode !== null) return;
          const exited = new Promise((resolve) => c.once("exit", resolve));
          c.kill("SIGTERM");
          await Promise.race([exited, sleep(3000)]);
        }),
      );
    },
  };
}

function readText(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

let currentCleanup: (() => Promise<void>) | undefined;

async function oneRun(system: System, run: number): Promise<RunResult> {
  let bed: Bed | undefined;
  let cloud: EmulatedCloud | undefined;
  let deployment: Deployment | undefined;
  const dir = mkdtempSync(join(tmpdir(), `floatip-bench-${system}-`));
  const cleanup = async (): Promise<void> => {
    await deployment?.stop().catch(() => undefined);
    await cloud?.stop().catch(() => undefined);
    await bed?.destroy();
    if (process.env["FLOATIP_KEEP_BED_LOGS"] === "1") log(`  logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  currentCleanup = cleanup;
  let phase: "setup" | "failover" = "setup";
  let failedHolder = "";
  let failedMovesBefore = 0;
  try {
    bed = await createBed({ nodes: [...NODES], clientSubnet: "routed" });
    cloud = await EmulatedCloud.start(bed, { latencyMs });
    await startResponders(bed, PORT);
    deployment =
      system === "floatip"
        ? floatipDeployment(bed, cloud)
        : system === "seed"
          ? seedDeployment(bed, cloud, dir)
          : keepalivedDeployment(bed, cloud, dir);
    await deployment.start();
    const startedMoves = cloud.movesOf(VIP).length;
    const probe = await startProbe(bed, VIP, PORT);
    await waitUntil(
      "the client to be answered by node1",
      10_000,
      () => probe.snapshot().lastResponder === "node1",
    );
    await sleep(500);
    // The node the cloud and the client agree on right now is the one that goes down: a system that moved
    // the VIP on its own after start-up is measured on the node it chose, and the move is reported.
    const holder = cloud.holderOf(VIP) ?? "";
    const survivor = NODES.find((n) => n !== holder) ?? "";
    if (probe.snapshot().lastResponder !== holder) {
      throw new Error(`the cloud says ${holder} holds the VIP but ${probe.snapshot().lastResponder} answers`);
    }
    const movesBeforeDown = cloud.movesOf(VIP).length - startedMoves;
    const downAt = Date.now();
    phase = "failover";
    failedHolder = holder;
    failedMovesBefore = movesBeforeDown;
    await bed.linkDown(holder);
    await waitUntil(`the client to be answered by ${survivor}`, 45_000, () => {
      const s = probe.snapshot();
      return s.lastResponder === survivor && !s.outages.some((o) => o.open);
    });
    await sleep(300);
    const report = await probe.stop();
    const move = cloud.movesOf(VIP).find((a) => a.at >= downAt && a.node === survivor);
    const detectAt = deployment.detectedAt(survivor, downAt);
    const outageMs = report.longestOutageMs;
    const calls =
      detectAt === undefined || move === undefined ? undefined : await callsBetween(cloud, detectAt, move.at);
    const moveMs = move === undefined ? undefined : move.at - downAt;
    return {
      system,
      run,
      ok: true,
      outageMs,
      ...(detectAt === undefined ? {} : { detectMs: detectAt - downAt }),
      ...(detectAt === undefined || move === undefined ? {} : { cloudMs: move.at - detectAt }),
      ...(moveMs === undefined ? {} : { backMs: round(outageMs - moveMs) }),
      ...(calls ?? {}),
      holder,
      movesBeforeDown,
      lastResponder: report.lastResponder,
      cloudMoves: cloud.movesOf(VIP).filter((a) => a.at >= downAt).length,
      answeredByTwo: report.answeredByTwo,
    };
  } catch (error) {
    const where =
      phase === "failover"
        ? ` (${failedHolder} held the VIP when its link went down; moves by the system itself before: ${failedMovesBefore})`
        : "";
    const message = `${error instanceof Error ? error.message : String(error)}${where}`;
    return { system, run, ok: false, phase, error: message };
  } finally {
    await cleanup();
    currentCleanup = undefined;
  }
}

/** The survivor's requests between detection and the move, from the emulator's request log. */
async function callsBetween(
  cloud: EmulatedCloud,
  from: number,
  to: number,
): Promise<Pick<RunResult, "firstCallMs" | "apiCallsToMove" | "requestsToMove">> {
  const state = (await cloud.state()) as { requestLog?: { time: number; ms: number; path: string }[] };
  // Only the survivor reaches the emulator after the holder's link went down; `time` is when it answered.
  const log = (state.requestLog ?? []).map((e) => ({ ...e, start: e.time - e.ms }));
  const window = log.filter((e) => e.start >= from && e.start <= to);
  const first = window[0];
  return {
    ...(first === undefined ? {} : { firstCallMs: round(first.start - from) }),
    apiCallsToMove: window.filter((e) => e.path.startsWith("/20160918/")).length,
    requestsToMove: window.length,
  };
}

function round(ms: number): number {
  return Math.round(ms);
}

interface Stats {
  n: number;
  min: number;
  median: number;
  max: number;
}

function stats(xs: number[]): Stats | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
  return { n: s.length, min: round(s[0] ?? 0), median: round(median), max: round(s.at(-1) ?? 0) };
}

function summarise(results: RunResult[]) {
  return systems.map((system) => {
    const mine = results.filter((r) => r.system === system);
    const ok = mine.filter((r) => r.ok);
    const pick = (
      key: "outageMs" | "detectMs" | "cloudMs" | "backMs" | "firstCallMs" | "apiCallsToMove",
    ): Stats | undefined => stats(ok.map((r) => r[key]).filter((x): x is number => typeof x === "number"));
    return {
      system,
      runs: mine.length,
      ok: ok.length,
      failed: mine.filter((r) => !r.ok).map((r) => r.error ?? ""),
      movedBeforeDown: ok.filter((r) => (r.movesBeforeDown ?? 0) > 0).map((r) => r.run),
      setupRetries: mine.reduce((n, r) => n + (r.setupRetries ?? 0), 0),
      outage: pick("outageMs"),
      detect: pick("detectMs"),
      cloud: pick("cloudMs"),
      back: pick("backMs"),
      firstCall: pick("firstCallMs"),
      apiCalls: pick("apiCallsToMove"),
    };
  });
}

function table(summary: ReturnType<typeof summarise>): string {
  const floatipMedian = summary.find((s) => s.system === "floatip")?.outage?.median;
  const fmt = (s: Stats | undefined): string => (s === undefined ? "-" : String(s.median));
  const rows = [
    [
      "system",
      "runs ok",
      "outage min",
      "median",
      "max",
      "x floatip",
      "detect",
      "cloud",
      "(1st call",
      "API calls)",
      "back",
    ],
    ...summary.map((s) => [
      s.system,
      `${s.ok}/${s.runs}`,
      s.outage ? String(s.outage.min) : "-",
      fmt(s.outage),
      s.outage ? String(s.outage.max) : "-",
      s.outage && floatipMedian ? (s.outage.median / floatipMedian).toFixed(2) : "-",
      fmt(s.detect),
      fmt(s.cloud),
      fmt(s.firstCall),
      fmt(s.apiCalls),
      fmt(s.back),
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  const line = (r: string[]): string => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(" | ")} |`;
  return [
    line(rows[0] ?? []),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.slice(1).map(line),
  ].join("\n");
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the bench builds network namespaces and must run as root");
  if (systems.includes("keepalived") && !existsSync(KEEPALIVED)) {
    throw new Error(`${KEEPALIVED} is not installed; run with --systems floatip,seed`);
  }
  process.once("SIGINT", () => void (currentCleanup?.() ?? Promise.resolve()).then(() => process.exit(130)));
  const started = Date.now();
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  log(`failover bench: ${runs} runs x ${systems.join(", ")}; API latency ${latencyMs} ms; VIP ${VIP}`);
  const results: RunResult[] = [];
  for (let run = 1; run <= runs; run++) {
    // Interleaved, so slow drift of the host affects every system alike.
    for (const system of systems) {
      const t = Date.now();
      let r = await oneRun(system, run);
      for (let retry = 1; retry <= SETUP_RETRIES && !r.ok && r.phase === "setup"; retry++) {
        log(`  ${system} run ${run}: set-up failed (${r.error}); retrying on a fresh bed`);
        r = { ...(await oneRun(system, run)), setupRetries: retry };
      }
      results.push(r);
      log(
        r.ok
          ? `  ${system} run ${run}: outage ${r.outageMs} ms (detect ${r.detectMs ?? "?"}, cloud ${r.cloudMs ?? "?"}, back ${r.backMs ?? "?"}; 1st call ${r.firstCallMs ?? "?"}, ${r.apiCallsToMove ?? "?"} API calls)${r.movesBeforeDown ? ` (moved by itself ${r.movesBeforeDown}x before the link went down; ${r.holder} went down)` : ""} [${Date.now() - t} ms]`
          : `  ${system} run ${run}: FAILED ${r.error}`,
      );
    }
  }
  const summary = summarise(results);
  const text = table(summary);
  process.stdout.write(`${text}\n`);
  const elapsedS = Math.round((Date.now() - started) / 1000);
  const dir = values["results-dir"] ?? join(repoRoot, "bench/results");
  mkdirSync(dir, { recursive: true });
  const meta = {
    date: new Date().toISOString(),
    latencyMs,
    runsPerSystem: runs,
    vip: VIP,
    probeIntervalMs: 10,
    scenario:
      "link down of the VIP holder (node1 unless the system moved the VIP before) on the routed bed; fresh bed per run",
    elapsedS,
    /** The host is shared: 1/5/15-minute load averages at the start and at the end of the bench. */
    loadavg: { start: loadAtStart, end: loadavg().map((x) => Math.round(x * 100) / 100) },
    cpus: cpus().length,
  };
  writeFileSync(join(dir, "failover.json"), `${JSON.stringify({ ...meta, summary, results }, null, 2)}\n`);
  writeFileSync(join(dir, "failover.md"), markdown(meta, summary, text));
  log(`done in ${elapsedS} s; wrote ${join(dir, "failover.json")} and failover.md`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

function markdown(
  meta: {
    date: string;
    latencyMs: number;
    runsPerSystem: number;
    elapsedS: number;
    loadavg: { start: number[]; end: number[] };
    cpus: number;
  },
  summary: ReturnType<typeof summarise>,
  text: string,
): string {
  const failures = summary.flatMap((s) => s.failed.map((f) => `- ${s.system}: ${f}`));
  const early = summary
    .filter((s) => s.movedBeforeDown.length > 0)
    .map(
      (s) =>
        `- ${s.system} moved the VIP by itself after start-up, before the link went down, in run(s) ${s.movedBeforeDown.join(", ")}; the node holding it then went down instead.`,
    );
  return [
    "# Failover bench: node loss, client outage",
    "",
    `${meta.date}; ${meta.runsPerSystem} runs per system; emulated OCI API latency ${meta.latencyMs} ms per call;`,
    "routed test bed (client in another subnet, the router follows the emulated cloud's private-IP",
    "assignment); the holder's link goes down; a UDP probe sends every 10 ms. Fresh bed per run.",
    "",
    "All times in ms (medians in the phase columns). detect: link down -> the survivor decided",
    "(floatip: membership change; seed: corosync-timed membership; keepalived: notify_master start).",
    "cloud: detect -> the emulated cloud applied the move (CLI start-up included for the baselines);",
    "of it, 1st call: detect -> the survivor's first request to the emulator (metadata included), and",
    "API calls: Core API calls made until the move, each answered after the set latency.",
    "back: outage minus (link down -> move applied): routing and local address after the move.",
    "",
    text,
    "",
    "- floatip: daemons with default settings (`cluster setup`, `resource create ... IPaddr2 ... interval=10s`).",
    "- seed: bench/seed-replay-node.ts (token 3000 + consensus 3600 heartbeat timeout, one",
    "  `floatip oci move` process per move standing in for oci-cli, `ip addr add`, no verification).",
    "- keepalived: 2.2.7 unicast VRRP, advert_int 1, priorities 150/100, notify_master runs",
    "  `floatip oci move` then `ip addr add`.",
    ...(early.length ? ["", ...early] : []),
    ...summary
      .filter((s) => s.setupRetries > 0)
      .map(
        (s) =>
          `- ${s.system}: ${s.setupRetries} set-up attempt(s) failed before the link went down and were retried on a fresh bed.`,
      ),
    ...(failures.length ? ["", "Failed runs:", ...failures] : []),
    "",
    `Whole run: ${meta.elapsedS} s on ${meta.cpus} CPUs shared with other work (load average at start`,
    `${meta.loadavg.start.join(" / ")}, at end ${meta.loadavg.end.join(" / ")}).`,
    "",
  ].join("\n");
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    log(`Error: bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
