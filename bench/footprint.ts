import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ChildProcess } from "node:child_process";
import { createBed, type Bed } from "../tools/testbed/bed.ts";
import { EmulatedCloud } from "../tools/testbed/cloud-bed.ts";
import { FloatipCluster } from "../tools/testbed/floatip-cluster.ts";
import { repoRoot } from "../tools/testbed/repo-paths.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";
import {
  childCpuTicksFromStat,
  cpuPercentOverall,
  cpuPercents,
  cpuTicksFromStat,
  rssBytesFromStatus,
} from "./lib/proc.ts";
import { parseOrExit } from "./lib/args.ts";
import { markdownTable, ratio, round, roundedLoad, stats, type Stats } from "./lib/stats.ts";
import { goal, updateSummary } from "./lib/summary.ts";
import { createVips, vipAddresses } from "./lib/vips.ts";
import { unitMemoryEnv } from "./lib/unit-env.ts";

/**
 * Footprint bench: idle RSS and CPU of one floatip daemon (the DC, node1) in a 2-node cluster on the
 * emulated cloud bed with 1 and with 200 VIPs (monitor intervals at their defaults, log level info as in
 * production), next to keepalived (unicast VRRP as bench/failover.ts configures it) with 1 and 200
 * virtual addresses. CPU is utime+stime of /proc/PID/stat per sample interval, in % of one core; RSS is
 * VmRSS of /proc/PID/status. keepalived counts its parent and its VRRP child together.
 *
 *   npm run bench:footprint -- [--seconds 60] [--vips 1,200] [--systems floatip,keepalived]
 */

const KEEPALIVED = "/usr/sbin/keepalived";
const NODES = ["node1", "node2"] as const;
const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux x86_64/arm64
const GOAL_RSS_MB = 80;
const GOAL_CPU_PERCENT = 0.5;
const SYSTEMS = ["floatip", "keepalived"] as const;
type System = (typeof SYSTEMS)[number];

const { values } = parseOrExit(
  () =>
    parseArgs({
      options: {
        seconds: { type: "string", default: "60" },
        vips: { type: "string", default: "1,200" },
        systems: { type: "string", default: SYSTEMS.join(",") },
        "settle-seconds": { type: "string", default: "15" },
        "sample-ms": { type: "string", default: "1000" },
        /** NODE_OPTIONS for the floatip daemons, to weigh V8 heap flags (e.g. --max-semi-space-size=2). */
        "node-options": { type: "string", default: "" },
        /** Leave out the memory environment of systemd/floatip.service (GLIBC_TUNABLES), to weigh it. */
        "no-unit-env": { type: "boolean", default: false },
        "results-dir": { type: "string", default: join(repoRoot, "bench/results") },
      },
    }),
  "usage: footprint [--seconds N>=5] [--vips 1,200] [--systems floatip,keepalived] [--settle-seconds N] [--sample-ms N>=100] [--node-options=...] [--no-unit-env]",
);
const seconds = Number(values.seconds);
const settleSeconds = Number(values["settle-seconds"]);
const sampleMs = Number(values["sample-ms"]);
const nodeOptions = values["node-options"] ?? "";
const vipCounts = (values.vips ?? "").split(",").map(Number);
const systems = (values.systems ?? "").split(",").filter((s): s is System => SYSTEMS.includes(s as System));
if (
  !(seconds >= 5) ||
  !(settleSeconds >= 0) ||
  !(sampleMs >= 100) ||
  !systems.length ||
  vipCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 200)
) {
  process.stderr.write(
    "usage: footprint [--seconds N>=5] [--vips 1,200 (1-200 each)] [--systems floatip,keepalived] [--settle-seconds N] [--sample-ms N>=100]\n",
  );
  process.exit(2);
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

interface Sample {
  atMs: number;
  ticks: number;
  childTicks: number;
  rssBytes: number;
}

interface CaseResult {
  system: System;
  vips: number;
  ok: boolean;
  error?: string;
  pids?: number[];
  nodeOptions?: string;
  /** Environment from the systemd unit the daemons ran with (GLIBC_TUNABLES). */
  env?: Record<string, string>;
  seconds?: number;
  samples?: number;
  /** CPU over the whole window, % of one core. */
  cpuPercent?: number;
  /** Per-sample CPU, % of one core. */
  cpu?: Stats;
  /** CPU of the commands the processes ran and reaped in the window (monitors' `ip`, scripts), % of one core. */
  childrenCpuPercent?: number;
  rssMb?: Stats;
  /** The peer daemon (not the DC) over the same window, for floatip. */
  peer?: { cpuPercent?: number; rssMb?: Stats };
  setupS?: number;
}

/** Sums utime+stime and VmRSS over the given processes (keepalived: parent and VRRP child). */
function sample(pids: readonly number[]): Sample {
  let ticks = 0;
  let childTicks = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    ticks += cpuTicksFromStat(stat);
    childTicks += childCpuTicksFromStat(stat);
    rssBytes += rssBytesFromStatus(readFileSync(`/proc/${pid}/status`, "utf8"));
  }
  return { atMs: performance.now(), ticks, childTicks, rssBytes };
}

async function measure(
  groups: readonly (readonly number[])[],
): Promise<
  { cpuPercent?: number; cpu?: Stats; childrenCpuPercent?: number; rssMb?: Stats; samples: number }[]
> {
  const series: Sample[][] = groups.map(() => []);
  const end = performance.now() + seconds * 1000;
  for (;;) {
    groups.forEach((pids, i) => series[i]?.push(sample(pids)));
    if (performance.now() >= end) break;
    await sleep(Math.min(sampleMs, Math.max(0, end - performance.now())));
  }
  return series.map((s) => {
    const overall = cpuPercentOverall(s, TICKS_PER_SECOND);
    const children = cpuPercentOverall(
      s.map((x) => ({ atMs: x.atMs, ticks: x.childTicks })),
      TICKS_PER_SECOND,
    );
    const cpu = stats(cpuPercents(s, TICKS_PER_SECOND), 2);
    const rssMb = stats(
      s.map((x) => x.rssBytes / 2 ** 20),
      1,
    );
    return {
      ...(overall === undefined ? {} : { cpuPercent: round(overall, 3) }),
      ...(cpu ? { cpu } : {}),
      ...(children === undefined ? {} : { childrenCpuPercent: round(children, 3) }),
      ...(rssMb ? { rssMb } : {}),
      samples: s.length,
    };
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The daemon as systemd runs it: the unit's memory environment, unless --no-unit-env weighs it. */
const daemonEnv = values["no-unit-env"]
  ? {}
  : unitMemoryEnv(readFileSync(join(repoRoot, "systemd/floatip.service"), "utf8"));

async function floatipCase(bed: Bed, vipCount: number): Promise<CaseResult> {
  const cloud = await EmulatedCloud.start(bed, { latencyMs: 0 });
  // Production log level: the harness default (debug) would charge the daemon for log lines nobody keeps.
  const cluster = new FloatipCluster(bed, NODES, {
    ...cloud.nodeEnv,
    ...daemonEnv,
    FLOATIP_LOG_LEVEL: "info",
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  });
  try {
    const t0 = Date.now();
    await cluster.startAll();
    await cluster.setup({ name: "footprint", password: "bench-password" });
    const vips = vipAddresses(vipCount);
    await createVips(cluster.socket("node1"), vips);
    await waitUntil(`all ${vipCount} VIPs to be held in the cloud`, 60_000 + vipCount * 500, () =>
      vips.every((ip) => cloud.holderOf(ip) !== null),
    );
    await cluster.waitForStatus(
      "node1",
      (s) =>
        s.resources.filter((r) => r.id.startsWith("VIP_")).length === vipCount &&
        s.resources.filter((r) => r.id.startsWith("VIP_")).every((r) => r.runningOn.length === 1),
      60_000,
      `all ${vipCount} VIPs running`,
    );
    const setupS = round((Date.now() - t0) / 1000, 1);
    log(`  floatip ${vipCount} VIPs: set up in ${setupS} s; settling ${settleSeconds} s`);
    await sleep(settleSeconds * 1000);
    const pids = await Promise.all(NODES.map(async (n) => (await cluster.status(n)).daemon.pid));
    const [dc, peer] = await measure(pids.map((p) => [p]));
    return {
      system: "floatip",
      vips: vipCount,
      ok: true,
      ...(nodeOptions ? { nodeOptions } : {}),
      env: daemonEnv,
      pids,
      seconds,
      samples: dc?.samples ?? 0,
      ...(dc?.cpuPercent === undefined ? {} : { cpuPercent: dc.cpuPercent }),
      ...(dc?.cpu ? { cpu: dc.cpu } : {}),
      ...(dc?.childrenCpuPercent === undefined ? {} : { childrenCpuPercent: dc.childrenCpuPercent }),
      ...(dc?.rssMb ? { rssMb: dc.rssMb } : {}),
      peer: {
        ...(peer?.cpuPercent === undefined ? {} : { cpuPercent: peer.cpuPercent }),
        ...(peer?.rssMb ? { rssMb: peer.rssMb } : {}),
      },
      setupS,
    };
  } catch (error) {
    // A daemon that died says why in its log (the last FLOATIP_E_ line); the API error alone hides it.
    const why = NODES.map((n) => lastErrorLine(cluster.logFile(n)))
      .filter((x) => x !== undefined)
      .join("; ");
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}${why ? ` (daemon log: ${why})` : ""}`,
      { cause: error },
    );
  } finally {
    await cluster.destroy();
    await cloud.stop();
  }
}

function lastErrorLine(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const hits = readFileSync(file, "utf8").match(/FLOATIP_E_[A-Z_]+:[^\n"]*/g);
  return hits?.at(-1)?.slice(0, 240);
}

/** keepalived as bench/failover.ts runs it (unicast VRRP, advert_int 1), with N virtual addresses. */
async function keepalivedCase(bed: Bed, vipCount: number, dir: string): Promise<CaseResult> {
  const children: ChildProcess[] = [];
  const vips = vipAddresses(vipCount);
  try {
    for (const [i, node] of NODES.entries()) {
      const peer = NODES[1 - i] ?? "node2";
      const notify = join(dir, `notify-${node}.sh`);
      // The failover bench's notify script moves the VIP in the cloud; at idle it never runs, so a no-op.
      writeFileSync(notify, "#!/bin/sh\nexit 0\n");
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
          "  virtual_ipaddress {",
          ...vips.map((ip) => `    ${ip}/24 dev eth0`),
          "  }",
          "}",
          "",
        ].join("\n"),
      );
      const child = bed.spawnIn(bed.nodeNs(node), KEEPALIVED, [
        ...["-n", "-l", "-D", "-P", "-f", conf],
        ...["-p", join(dir, `keepalived-${node}.pid`), "-r", join(dir, `vrrp-${node}.pid`)],
      ]);
      child.stdout?.resume();
      child.stderr?.resume();
      children.push(child);
    }
    const t0 = Date.now();
    const pidOf = (file: string): number => Number(readFileSync(join(dir, file), "utf8").trim());
    await waitUntil("keepalived on node1 to write its pid files", 20_000, () =>
      ["keepalived-node1.pid", "vrrp-node1.pid"].every((f) => existsSync(join(dir, f)) && pidOf(f) > 0),
    );
    await waitUntil(`node1 to hold all ${vipCount} addresses`, 30_000, async () => {
      const r = await bed.execIn(bed.nodeNs("node1"), "ip", ["-4", "-o", "addr", "show", "dev", "eth0"]);
      return vips.every((ip) => r.stdout.includes(` ${ip}/24 `));
    });
    const setupS = round((Date.now() - t0) / 1000, 1);
    log(`  keepalived ${vipCount} addresses: master in ${setupS} s; settling ${settleSeconds} s`);
    await sleep(settleSeconds * 1000);
    if (children.some((c) => c.exitCode !== null)) throw new Error("keepalived exited during the bench");
    const pids = [pidOf("keepalived-node1.pid"), pidOf("vrrp-node1.pid")];
    const [m] = await measure([pids]);
    return {
      system: "keepalived",
      vips: vipCount,
      ok: true,
      pids,
      seconds,
      samples: m?.samples ?? 0,
      ...(m?.cpuPercent === undefined ? {} : { cpuPercent: m.cpuPercent }),
      ...(m?.cpu ? { cpu: m.cpu } : {}),
      ...(m?.childrenCpuPercent === undefined ? {} : { childrenCpuPercent: m.childrenCpuPercent }),
      ...(m?.rssMb ? { rssMb: m.rssMb } : {}),
      setupS,
    };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    await sleep(500);
  }
}

let currentCleanup: (() => Promise<void>) | undefined;

async function oneCase(system: System, vipCount: number): Promise<CaseResult> {
  let bed: Bed | undefined;
  const dir = mkdtempSync(join(tmpdir(), "floatip-footprint-"));
  const cleanup = async (): Promise<void> => {
    await bed?.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  currentCleanup = cleanup;
  try {
    bed = await createBed({ nodes: [...NODES], clientSubnet: "same" });
    return system === "floatip" ? await floatipCase(bed, vipCount) : await keepalivedCase(bed, vipCount, dir);
  } catch (error) {
    return {
      system,
      vips: vipCount,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    await cleanup();
    currentCleanup = undefined;
  }
}

function footprintTable(results: readonly CaseResult[]): string {
  const rows = results.map((r) => {
    const ka = results.find((k) => k.system === "keepalived" && k.vips === r.vips && k.ok);
    return [
      r.system,
      String(r.vips),
      r.ok ? "yes" : "FAILED (below)",
      r.cpuPercent === undefined ? "-" : r.cpuPercent.toFixed(3),
      r.cpu ? r.cpu.median.toFixed(2) : "-",
      r.cpu ? r.cpu.max.toFixed(2) : "-",
      r.childrenCpuPercent === undefined ? "-" : r.childrenCpuPercent.toFixed(3),
      r.rssMb ? r.rssMb.median.toFixed(1) : "-",
      r.rssMb ? r.rssMb.max.toFixed(1) : "-",
      r.system === "floatip" ? ratio(r.rssMb?.median, ka?.rssMb?.median, 1) : "-",
      r.system === "floatip"
        ? `${goal(r.rssMb?.max, GOAL_RSS_MB)} / ${goal(r.cpuPercent, GOAL_CPU_PERCENT)}`
        : "-",
    ];
  });
  return markdownTable(
    [
      "system",
      "VIPs",
      "ok",
      "CPU % avg",
      "CPU % median",
      "max",
      "children CPU %",
      "RSS MB median",
      "max",
      "RSS x keepalived",
      "goal RSS<=80 MB / CPU<=0.5 %",
    ],
    rows,
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the bench builds network namespaces and must run as root");
  if (systems.includes("keepalived") && !existsSync(KEEPALIVED)) {
    throw new Error(`${KEEPALIVED} is not installed; run with --systems floatip`);
  }
  process.once("SIGINT", () => void (currentCleanup?.() ?? Promise.resolve()).then(() => process.exit(130)));
  const started = Date.now();
  const loadStart = roundedLoad(loadavg());
  log(`footprint bench: ${systems.join(", ")} x ${vipCounts.join(", ")} VIPs; ${seconds} s each`);
  const results: CaseResult[] = [];
  for (const vipCount of vipCounts) {
    for (const system of systems) {
      const r = await oneCase(system, vipCount);
      results.push(r);
      log(
        r.ok
          ? `  ${system} ${vipCount}: CPU ${r.cpuPercent}% (median ${r.cpu?.median}, max ${r.cpu?.max}), RSS ${r.rssMb?.median} MB (max ${r.rssMb?.max})`
          : `  ${system} ${vipCount}: FAILED ${r.error}`,
      );
    }
  }
  const text = footprintTable(results);
  process.stdout.write(`${text}\n`);
  const meta = {
    date: new Date().toISOString(),
    seconds,
    settleSeconds,
    sampleMs,
    elapsedS: Math.round((Date.now() - started) / 1000),
    loadavg: { start: loadStart, end: roundedLoad(loadavg()) },
    cpus: cpus().length,
    goals: { rssMb: GOAL_RSS_MB, cpuPercent: GOAL_CPU_PERCENT },
  };
  const dir = values["results-dir"] ?? join(repoRoot, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "footprint.json"), `${JSON.stringify({ ...meta, results }, null, 2)}\n`);
  updateSummary(
    join(dir, "summary.md"),
    "footprint",
    [
      "## bench:footprint: idle RSS and CPU",
      "",
      `${meta.date}; ${seconds} s per case after ${settleSeconds} s settling, a sample every ${sampleMs} ms;`,
      "floatip: node1's daemon (the DC) of a 2-node cluster on the emulated cloud, monitors at defaults;",
      "keepalived: parent + VRRP child on the master, unicast VRRP advert_int 1. CPU in % of one core;",
      "children CPU: commands the processes ran and reaped in the window (monitors' `ip`), not in the CPU columns.",
      "",
      text,
      "",
      ...results.filter((r) => !r.ok).map((r) => `- ${r.system} ${r.vips}: ${r.error ?? ""}`),
      ...(nodeOptions ? [`- floatip daemons ran with NODE_OPTIONS=${nodeOptions}`] : []),
      Object.keys(daemonEnv).length
        ? `- floatip daemons ran with the unit's memory environment: ${Object.entries(daemonEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}`
        : "- floatip daemons ran without the unit's memory environment (--no-unit-env)",
      "",
      `Load average ${meta.loadavg.start.join(" / ")} at start, ${meta.loadavg.end.join(" / ")} at end (${meta.cpus} CPUs, shared host).`,
    ].join("\n"),
  );
  log(`done in ${meta.elapsedS} s; wrote ${join(dir, "footprint.json")} and summary.md`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    log(`Error: bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
