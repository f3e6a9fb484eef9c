import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { writeFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createBed, type Bed } from "../tools/testbed/bed.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";
import { EmulatedCloud } from "../tools/testbed/cloud-bed.ts";
import { FloatipCluster } from "../tools/testbed/floatip-cluster.ts";
import { startProbe, startResponderIn } from "../tools/testbed/probe.ts";
import { appendChildOutput } from "../tools/testbed/child-log.ts";
import { floatipMain, repoRoot } from "../tools/testbed/repo-paths.ts";
import { parseOrExit } from "./lib/args.ts";
import {
  DEFAULT_HEARTBEAT_COPIES,
  DEFAULT_TOKEN_MS,
  heartbeatIntervalFor,
  nodeLossGoalLines,
  parseTokenMs,
} from "./lib/failover-goals.ts";
import { markdownTable, ratio, stats as statsOf, type Stats } from "./lib/stats.ts";
import { updateSummary } from "./lib/summary.ts";

/**
 * Failover benchmark on the routed test bed with the emulated OCI region answering every API call after a
 * fixed latency, client outage measured by the UDP probe (a request every 10 ms from another subnet).
 * Scenarios (--scenario, default all three):
 *   node-loss        the holder's link goes down (an AD outage)
 *   kill-9           the holder's HA daemon is killed with SIGKILL (floatip daemon; the seed stand-in, i.e.
 *                    corosync gone on that node; keepalived's processes); the service keeps running there
 *   service-failure  the application on the holder dies (its UDP responder, which the probe talks to, and
 *                    its HTTP service, which the HA stack checks): floatip floatip:check:http (interval 2s)
 *                    in a group with the VIP; seed: the service checked at the recipe's 10 s monitor
 *                    interval; keepalived: a vrrp_script (curl, interval 2, fall 1) in track_script
 * Three systems, each on a fresh bed per run:
 *   floatip     the daemons with default settings (cluster setup + resource create, as in the seed)
 *   seed        the seed recipe replayed (bench/seed-replay-node.ts: corosync-timed detection, one CLI
 *               process per cloud call, ip addr add, no verification)
 *   keepalived  keepalived 2.2 unicast VRRP (advert_int 1) with a notify_master script that runs
 *               `floatip oci move <vip>` and adds the address, as operators do today
 *
 *   npm run bench:failover -- [--runs 10] [--latency-ms 300] [--systems floatip,seed,keepalived]
 *                             [--scenario node-loss,kill-9,service-failure] [--token-ms T] [--out NAME]
 * --token-ms T  floatip tuned: `cluster setup --token T` (failure-detection timeout T ms, a heartbeat round
 *               every T / 5 ms, at least 20, two copies each); default: floatip's defaults (token 1000, round 200)
 * --idle-jitter-ms J  adds a uniform random 0..J ms to each run's idle time (default 0): with J = the
 *               monitor interval (10000) the failure falls at any point of the lease renewal cycle, not
 *               always at the same one (30 s of idle is three renewals: it hit one in flight in 2 of 6 runs)
 * --idle-ms MS  how long the cluster idles between start-up and the failure (default 500): a move or a
 *               peer loss in it is a false detection, the safety check for a short token
 * --out NAME    results in bench/results/NAME.json and NAME.md and the summary section bench:NAME
 *               (default failover)
 */

const VIP = "10.0.0.200";
const PORT = 7000;
const NODES = ["node1", "node2"] as const;
const KEEPALIVED = "/usr/sbin/keepalived";
/** A run whose set-up (before the link goes down) fails is retried this often on a fresh bed. */
const SETUP_RETRIES = 2;
const SYSTEMS = ["floatip", "seed", "keepalived"] as const;
type System = (typeof SYSTEMS)[number];
const SCENARIOS = ["node-loss", "kill-9", "service-failure"] as const;
type Scenario = (typeof SCENARIOS)[number];
const HTTP_PORT = 8080;
const httpServiceMain = join(repoRoot, "dist/tools/testbed/http-service.js");

const USAGE =
  "usage: failover [--runs N>=1] [--latency-ms MS>=0] [--systems floatip,seed,keepalived] [--scenario node-loss,kill-9,service-failure] [--token-ms T (200-60000; floatip tuned)] [--idle-ms MS>=0] [--idle-jitter-ms J>=0] [--settle-ms MS>=0] [--out NAME]";
const { values } = parseOrExit(
  () =>
    parseArgs({
      options: {
        runs: { type: "string", default: "10" },
        "latency-ms": { type: "string", default: "300" },
        systems: { type: "string", default: SYSTEMS.join(",") },
        scenario: { type: "string", default: SCENARIOS.join(",") },
        "token-ms": { type: "string" },
        out: { type: "string", default: "failover" },
        "idle-ms": { type: "string", default: "500" },
        "idle-jitter-ms": { type: "string", default: "0" },
        /** The emulator's settle time (a move's PUT answered, routing and reads follow later); unset: its default. */
        "settle-ms": { type: "string" },
        "results-dir": { type: "string", default: join(repoRoot, "bench/results") },
      },
    }),
  USAGE,
);
/** floatip's detection timeout: undefined = the defaults, as the seed's commands leave them. */
const tunedTokenMs = parseOrExit(() => parseTokenMs(values["token-ms"]), USAGE);
const tokenMs = tunedTokenMs ?? DEFAULT_TOKEN_MS;
const outName = values.out ?? "failover";
const idleMs = Number(values["idle-ms"]);
const idleJitterMs = Number(values["idle-jitter-ms"]);
const runs = Number(values.runs);
const latencyMs = Number(values["latency-ms"]);
const settleMs = values["settle-ms"] === undefined ? undefined : Number(values["settle-ms"]);
const systems = (values.systems ?? "").split(",").filter((s): s is System => SYSTEMS.includes(s as System));
const scenarioWords = (values.scenario ?? "").split(",");
const scenarios = SCENARIOS.filter((s) => scenarioWords.includes(s));
if (
  !Number.isInteger(runs) ||
  runs < 1 ||
  !Number.isFinite(latencyMs) ||
  latencyMs < 0 ||
  !systems.length ||
  !scenarios.length ||
  scenarioWords.some((w) => !SCENARIOS.includes(w as Scenario)) ||
  !/^[A-Za-z0-9_.-]+$/.test(outName) ||
  !Number.isInteger(idleMs) ||
  idleMs < 0 ||
  !Number.isInteger(idleJitterMs) ||
  idleJitterMs < 0 ||
  (settleMs !== undefined && !(Number.isInteger(settleMs) && settleMs >= 0))
) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

interface RunResult {
  system: System;
  scenario: Scenario;
  run: number;
  ok: boolean;
  error?: string;
  /** Where a failed run stopped: before the link went down (set-up, retried) or during the failover. */
  phase?: "setup" | "failover";
  /** Set-up attempts that failed before this run (a loaded host), retried on a fresh bed. */
  setupRetries?: number;
  /** Longest gap in the client's answers (ms). */
  outageMs?: number;
  /** Failure injected -> the emulated cloud applied the move to the survivor. */
  moveMs?: number;
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
  /** Those Core API calls as "METHOD status path-kind" (e.g. "PUT 412 privateIps"), to profile the cloud phase. */
  apiCallTrace?: string[];
  /** The node whose link went down. */
  holder?: string;
  /** Moves the system made on its own between start-up on node1 and the link going down. */
  movesBeforeDown?: number;
  /** floatip: membership changes that lost a peer, on either node, between start-up and the failure. */
  lossesBeforeDown?: number;
  /** Idle time of this run between start-up and the failure (--idle-ms plus its jitter). */
  idleMs?: number;
  /** Link down minus the start of the last Core API write before it (the holder's lease renewal). */
  lastWriteBeforeDownMs?: number;
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
  appendChildOutput(child, logFile);
  if (child.stdout) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // keepalived's console log: kept in the file only
      }
    });
  }
  return events;
}

/** One system's way to get the VIP onto node1 and to tell when the failure was noticed. */
interface Deployment {
  /** Resolves once node1 holds the VIP (cloud and local address). */
  start(): Promise<void>;
  /**
   * Wall-clock time the failure was noticed, if seen: for node loss and kill -9 the survivor's decision
   * that the holder is gone; for a service failure the holder's failed check (keepalived: the survivor's
   * notify_master, the first trace it leaves).
   */
  detectedAt(survivor: string, holder: string, after: number): number | undefined;
  /** Peer losses the nodes declared in [from, to) while every node was up: false detections. */
  lossesBetween?(from: number, to: number): number;
  /** kill -9 of the HA stack on `node`. */
  crash(node: string): Promise<void>;
  stop(): Promise<void>;
}

/** The first pino line of `file` at or after `after` (epoch ms) that `match` accepts. */
function firstLogTime(file: string, after: number, match: (entry: Record<string, unknown>) => boolean) {
  for (const line of readText(file).split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (Number(entry["time"]) >= after && match(entry)) return Number(entry["time"]);
    } catch {
      // a partial line
    }
  }
  return undefined;
}

function floatipDeployment(bed: Bed, cloud: EmulatedCloud, scenario: Scenario): Deployment {
  const cluster = new FloatipCluster(bed, NODES, cloud.nodeEnv);
  return {
    async start() {
      await cluster.startAll();
      await cluster.setup({
        name: "bench",
        password: "bench-password",
        ...(tunedTokenMs === undefined ? {} : { extra: ["--token", String(tunedTokenMs)] }),
      });
      if (scenario === "service-failure") {
        // The README's recipe: the VIP and the check of the service behind it fail over together.
        await cluster.createVip({ vip: VIP, monitorInterval: "10s", extra: ["--group", "web"] });
        await cluster.must("node1", [
          ...["resource", "create", "Web_Check", "floatip:check:http"],
          ...[`url=http://127.0.0.1:${HTTP_PORT}/`, "op", "monitor", "interval=2s", "--group", "web"],
        ]);
        await cluster.waitForStatus(
          "node1",
          (s) => s.resources.find((r) => r.id === "Web_Check")?.runningOn.join() === "node1",
          30_000,
          "Web_Check running on node1",
        );
      } else {
        await cluster.createVip({ vip: VIP, monitorInterval: "10s" });
      }
      await waitUntil("the cloud to show the VIP on node1", 10_000, () => cloud.holderOf(VIP) === "node1");
    },
    detectedAt(survivor, holder, after) {
      if (scenario === "service-failure") {
        // The executor's warning when the check fails on the holder.
        return firstLogTime(cluster.logFile(holder), after, (e) => e["msg"] === "Web_Check failed");
      }
      // The coordinator's "membership changed" line without the lost node (pino: time in epoch ms).
      return firstLogTime(
        cluster.logFile(survivor),
        after,
        (e) => e["msg"] === "membership changed" && Array.isArray(e["lost"]) && e["lost"].length > 0,
      );
    },
    lossesBetween(from, to) {
      let n = 0;
      for (const node of NODES) {
        for (const line of readText(cluster.logFile(node)).split("\n")) {
          if (!line.startsWith("{")) continue;
          try {
            const e = JSON.parse(line) as Record<string, unknown>;
            const t = Number(e["time"]);
            const lost = e["lost"];
            if (
              t >= from &&
              t < to &&
              e["msg"] === "membership changed" &&
              Array.isArray(lost) &&
              lost.length
            )
              n++;
          } catch {
            // a partial line
          }
        }
      }
      return n;
    },
    crash: (node) => cluster.killDaemon(node, "SIGKILL"),
    stop: () => cluster.destroy(),
  };
}

function seedDeployment(bed: Bed, cloud: EmulatedCloud, dir: string, scenario: Scenario): Deployment {
  const events = new Map<string, Record<string, unknown>[]>();
  const children = new Map<string, ChildProcess>();
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
            ...(scenario === "service-failure" ? ["--service-url", `http://127.0.0.1:${HTTP_PORT}/`] : []),
          ],
          { env: { ...process.env, ...cloud.nodeEnv } },
        );
        children.set(node, child);
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
    detectedAt(survivor, holder, after) {
      const e =
        scenario === "service-failure"
          ? (events.get(holder) ?? []).find((x) => x["ev"] === "monitor-failed" && Number(x["at"]) >= after)
          : (events.get(survivor) ?? []).find(
              (x) => x["ev"] === "membership" && x["lost"] !== undefined && Number(x["at"]) >= after,
            );
      return e === undefined ? undefined : Number(e["at"]);
    },
    async crash(node) {
      const child = children.get(node);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      // The bed kills the processes.
    },
  };
}

function keepalivedDeployment(bed: Bed, cloud: EmulatedCloud, dir: string, scenario: Scenario): Deployment {
  const children: ChildProcess[] = [];
  const notifyLog = (node: string): string => join(dir, `notify-${node}.log`);
  const envLines = Object.entries(cloud.nodeEnvVariables)
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
            ...(scenario === "service-failure"
              ? [
                  // The usual service check: FAULT state (priority 0 advert) as soon as the check fails.
                  "vrrp_script chk_http {",
                  `  script "/usr/bin/curl -sf -m 1 -o /dev/null http://127.0.0.1:${HTTP_PORT}/"`,
                  "  interval 2",
                  "  fall 1",
                  "  rise 1",
                  "}",
                ]
              : []),
            "vrrp_instance VI_1 {",
            `  state ${node === "node1" ? "MASTER" : "BACKUP"}`,
            "  interface eth0",
            "  virtual_router_id 51",
            `  priority ${node === "node1" ? 150 : 100}`,
            "  advert_int 1",
            `  unicast_src_ip ${bed.nodeAddr(node)}`,
            `  unicast_peer {\n    ${bed.nodeAddr(peer)}\n  }`,
            `  notify_master "${notify}"`,
            ...(scenario === "service-failure" ? ["  track_script {", "    chk_http", "  }"] : []),
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
    detectedAt(node, _holder, after) {
      for (const line of readText(notifyLog(node)).split("\n")) {
        const m = /^notify (\d+)/.exec(line);
        if (m && Number(m[1]) >= after) return Number(m[1]);
      }
      return undefined;
    },
    async crash(node) {
      // The parent and its VRRP child, as a crash of the whole service; by their pid files, never by name.
      for (const file of [`keepalived-${node}.pid`, `vrrp-${node}.pid`]) {
        const pid = Number(readText(join(dir, file)).trim());
        if (pid > 0) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
      await waitUntil(`keepalived on ${node} to die`, 5_000, () =>
        [`keepalived-${node}.pid`, `vrrp-${node}.pid`].every((f) => {
          const pid = Number(readText(join(dir, f)).trim());
          return (
            !(pid > 0) || !existsSync(`/proc/${pid}/stat`) || /\) Z /.test(readText(`/proc/${pid}/stat`))
          );
        }),
      );
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

/** The application on one node: the UDP responder the probe talks to, and the HTTP service the HA checks. */
interface NodeService {
  kill(): Promise<void>;
}

async function startService(bed: Bed, node: string, withHttp: boolean): Promise<NodeService> {
  const responder = startResponderIn(bed, bed.nodeNs(node), node, PORT);
  await responder.ready;
  let http: ChildProcess | undefined;
  if (withHttp) {
    const child = bed.spawnIn(bed.nodeNs(node), process.execPath, [
      httpServiceMain,
      "--name",
      node,
      "--port",
      String(HTTP_PORT),
    ]);
    http = child;
    const out = follow(child, "/dev/null");
    await waitUntil(`the HTTP service on ${node}`, 15_000, () => out.some((e) => e["listening"] === true));
  }
  return {
    async kill() {
      await Promise.all(
        [responder.child, http].map(async (c) => {
          if (!c || c.exitCode !== null || c.signalCode !== null) return;
          const exited = new Promise((resolve) => c.once("exit", resolve));
          c.kill("SIGKILL");
          await exited;
        }),
      );
    },
  };
}

async function oneRun(system: System, scenario: Scenario, run: number): Promise<RunResult> {
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
    cloud = await EmulatedCloud.start(bed, { latencyMs, ...(settleMs === undefined ? {} : { settleMs }) });
    const b = bed;
    const services = new Map<string, NodeService>(
      await Promise.all(
        NODES.map(async (n) => [n, await startService(b, n, scenario === "service-failure")] as const),
      ),
    );
    deployment =
      system === "floatip"
        ? floatipDeployment(bed, cloud, scenario)
        : system === "seed"
          ? seedDeployment(bed, cloud, dir, scenario)
          : keepalivedDeployment(bed, cloud, dir, scenario);
    await deployment.start();
    const startedAt = Date.now();
    const startedMoves = cloud.movesOf(VIP).length;
    const probe = await startProbe(bed, VIP, PORT);
    await waitUntil(
      "the client to be answered by node1",
      10_000,
      () => probe.snapshot().lastResponder === "node1",
    );
    // Idle before the failure: the window in which a short token could declare a live peer lost.
    const idle = idleMs + Math.floor(Math.random() * idleJitterMs);
    await sleep(idle);
    // The node the cloud and the client agree on right now is the one that fails: a system that moved
    // the VIP on its own after start-up is measured on the node it chose, and the move is reported.
    const holder = cloud.holderOf(VIP) ?? "";
    const survivor = NODES.find((n) => n !== holder) ?? "";
    if (probe.snapshot().lastResponder !== holder) {
      throw new Error(`the cloud says ${holder} holds the VIP but ${probe.snapshot().lastResponder} answers`);
    }
    const movesBeforeDown = cloud.movesOf(VIP).length - startedMoves;
    const downAt = Date.now();
    const lossesBeforeDown = deployment.lossesBetween?.(startedAt, downAt);
    phase = "failover";
    failedHolder = holder;
    failedMovesBefore = movesBeforeDown;
    if (scenario === "node-loss") await bed.linkDown(holder);
    else if (scenario === "kill-9") await deployment.crash(holder);
    else await services.get(holder)?.kill();
    await waitUntil(`the client to be answered by ${survivor}`, 45_000, () => {
      const s = probe.snapshot();
      return s.lastResponder === survivor && !s.outages.some((o) => o.open);
    });
    await sleep(300);
    const report = await probe.stop();
    const move = cloud.movesOf(VIP).find((a) => a.at >= downAt && a.node === survivor);
    const detectAt = deployment.detectedAt(survivor, holder, downAt);
    const outageMs = report.longestOutageMs;
    const calls =
      detectAt === undefined || move === undefined ? undefined : await callsBetween(cloud, detectAt, move.at);
    const moveMs = move === undefined ? undefined : move.at - downAt;
    return {
      system,
      scenario,
      run,
      ok: true,
      outageMs,
      ...(moveMs === undefined ? {} : { moveMs }),
      ...(detectAt === undefined ? {} : { detectMs: detectAt - downAt }),
      ...(detectAt === undefined || move === undefined ? {} : { cloudMs: move.at - detectAt }),
      ...(moveMs === undefined ? {} : { backMs: round(outageMs - moveMs) }),
      ...(calls ?? {}),
      holder,
      movesBeforeDown,
      ...(lossesBeforeDown === undefined ? {} : { lossesBeforeDown }),
      idleMs: idle,
      ...(await lastWriteBefore(cloud, downAt)),
      lastResponder: report.lastResponder,
      cloudMoves: cloud.movesOf(VIP).filter((a) => a.at >= downAt).length,
      answeredByTwo: report.answeredByTwo,
    };
  } catch (error) {
    const where =
      phase === "failover"
        ? ` (${failedHolder} held the VIP when it failed; moves by the system itself before: ${failedMovesBefore})`
        : "";
    const message = `${error instanceof Error ? error.message : String(error)}${where}`;
    return { system, scenario, run, ok: false, phase, error: message };
  } finally {
    await cleanup();
    currentCleanup = undefined;
  }
}

/** The last Core API write that started before `at`: a renewal in flight leaves the holder's hint stale. */
async function lastWriteBefore(
  cloud: EmulatedCloud,
  at: number,
): Promise<Pick<RunResult, "lastWriteBeforeDownMs">> {
  const state = (await cloud.state()) as {
    requestLog?: { time: number; ms: number; method?: string; path: string }[];
  };
  const writes = (state.requestLog ?? [])
    .filter((e) => e.path.startsWith("/20160918/") && e.method === "PUT" && e.time - e.ms < at)
    .map((e) => e.time - e.ms);
  const last = writes.at(-1);
  return last === undefined ? {} : { lastWriteBeforeDownMs: round(at - last) };
}

/** The survivor's requests between detection and the move, from the emulator's request log. */
async function callsBetween(
  cloud: EmulatedCloud,
  from: number,
  to: number,
): Promise<Pick<RunResult, "firstCallMs" | "apiCallsToMove" | "requestsToMove" | "apiCallTrace">> {
  const state = (await cloud.state()) as {
    requestLog?: { time: number; ms: number; path: string; method?: string; status?: number }[];
  };
  // Only the survivor reaches the emulator after the holder's link went down; `time` is when it answered.
  const log = (state.requestLog ?? []).map((e) => ({ ...e, start: e.time - e.ms }));
  const window = log.filter((e) => e.start >= from && e.start <= to);
  const first = window[0];
  return {
    ...(first === undefined ? {} : { firstCallMs: round(first.start - from) }),
    apiCallsToMove: window.filter((e) => e.path.startsWith("/20160918/")).length,
    requestsToMove: window.length,
    apiCallTrace: window
      .filter((e) => e.path.startsWith("/20160918/"))
      // The resource kind only: OCIDs and query strings would make every run's trace differ.
      .map((e) => `${e.method ?? "?"} ${e.status ?? "?"} ${e.path.split("?")[0]?.split("/")[2] ?? ""}`),
  };
}

function round(ms: number): number {
  return Math.round(ms);
}

const stats = (xs: number[]): Stats | undefined => statsOf(xs);

function summarise(results: RunResult[]) {
  return scenarios.flatMap((scenario) =>
    systems.map((system) => {
      const mine = results.filter((r) => r.system === system && r.scenario === scenario);
      const ok = mine.filter((r) => r.ok);
      const pick = (
        key: "outageMs" | "moveMs" | "detectMs" | "cloudMs" | "backMs" | "firstCallMs" | "apiCallsToMove",
      ): Stats | undefined => stats(ok.map((r) => r[key]).filter((x): x is number => typeof x === "number"));
      return {
        scenario,
        system,
        runs: mine.length,
        ok: ok.length,
        failed: mine.filter((r) => !r.ok).map((r) => r.error ?? ""),
        movedBeforeDown: ok.filter((r) => (r.movesBeforeDown ?? 0) > 0).map((r) => r.run),
        lostPeerBeforeDown: ok.filter((r) => (r.lossesBeforeDown ?? 0) > 0).map((r) => r.run),
        setupRetries: mine.reduce((n, r) => n + (r.setupRetries ?? 0), 0),
        outage: pick("outageMs"),
        move: pick("moveMs"),
        detect: pick("detectMs"),
        cloud: pick("cloudMs"),
        back: scenario === "kill-9" ? undefined : pick("backMs"),
        firstCall: pick("firstCallMs"),
        apiCalls: pick("apiCallsToMove"),
      };
    }),
  );
}

type Summary = ReturnType<typeof summarise>;

/** One table per scenario; ratios to floatip's median of the same scenario. */
function table(summary: Summary, scenario: Scenario): string {
  const mine = summary.filter((s) => s.scenario === scenario);
  const floatip = mine.find((s) => s.system === "floatip");
  const fmt = (s: Stats | undefined): string => (s === undefined ? "-" : String(s.median));
  return markdownTable(
    [
      "system",
      "runs ok",
      "outage min",
      "median",
      "max",
      "x floatip",
      "move median",
      "x floatip",
      "detect",
      "cloud",
      "(1st call",
      "API calls)",
      "back",
    ],
    mine.map((s) => [
      s.system,
      `${s.ok}/${s.runs}`,
      s.outage ? String(s.outage.min) : "-",
      fmt(s.outage),
      s.outage ? String(s.outage.max) : "-",
      ratio(s.outage?.median, floatip?.outage?.median),
      fmt(s.move),
      ratio(s.move?.median, floatip?.move?.median),
      fmt(s.detect),
      fmt(s.cloud),
      fmt(s.firstCall),
      fmt(s.apiCalls),
      fmt(s.back),
    ]),
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the bench builds network namespaces and must run as root");
  if (systems.includes("keepalived") && !existsSync(KEEPALIVED)) {
    throw new Error(`${KEEPALIVED} is not installed; run with --systems floatip,seed`);
  }
  process.once("SIGINT", () => void (currentCleanup?.() ?? Promise.resolve()).then(() => process.exit(130)));
  const started = Date.now();
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  log(
    `failover bench: ${runs} runs x ${systems.join(", ")} x ${scenarios.join(", ")}; API latency ${latencyMs} ms; settle ${settleMs === undefined ? "emulator default" : `${settleMs} ms`}; production path (HTTPS, no endpoint override); VIP ${VIP}; floatip token ${tokenMs} ms, heartbeat ${heartbeatIntervalFor(tokenMs)} ms${tunedTokenMs === undefined ? " (defaults)" : " (tuned)"}; load average ${loadAtStart.join(" / ")}`,
  );
  const results: RunResult[] = [];
  for (const scenario of scenarios) {
    for (let run = 1; run <= runs; run++) {
      // Interleaved, so slow drift of the host affects every system alike.
      for (const system of systems) {
        const t = Date.now();
        let r = await oneRun(system, scenario, run);
        for (let retry = 1; retry <= SETUP_RETRIES && !r.ok && r.phase === "setup"; retry++) {
          log(`  ${scenario} ${system} run ${run}: set-up failed (${r.error}); retrying on a fresh bed`);
          r = { ...(await oneRun(system, scenario, run)), setupRetries: retry };
        }
        results.push(r);
        log(
          r.ok
            ? `  ${scenario} ${system} run ${run}: outage ${r.outageMs} ms, moved after ${r.moveMs ?? "?"} (detect ${r.detectMs ?? "?"}, cloud ${r.cloudMs ?? "?"}, back ${r.backMs ?? "?"}; 1st call ${r.firstCallMs ?? "?"}, ${r.apiCallsToMove ?? "?"} API calls)${r.movesBeforeDown ? ` (moved by itself ${r.movesBeforeDown}x before the failure; ${r.holder} failed)` : ""}${r.lossesBeforeDown ? ` (${r.lossesBeforeDown} false peer loss(es) before the failure)` : ""} [${Date.now() - t} ms]`
            : `  ${scenario} ${system} run ${run}: FAILED ${r.error}`,
        );
      }
    }
  }
  const summary = summarise(results);
  const tables = scenarios.map((sc) => `### ${sc}\n\n${table(summary, sc)}`);
  process.stdout.write(`${tables.join("\n\n")}\n`);
  const elapsedS = Math.round((Date.now() - started) / 1000);
  const dir = values["results-dir"] ?? join(repoRoot, "bench/results");
  mkdirSync(dir, { recursive: true });
  const meta = {
    date: new Date().toISOString(),
    latencyMs,
    runsPerSystem: runs,
    vip: VIP,
    probeIntervalMs: 10,
    idleMs,
    idleJitterMs,
    /** floatip's failure detection: tuned = `cluster setup --token`, otherwise the defaults. */
    floatip: {
      tuned: tunedTokenMs !== undefined,
      tokenMs,
      heartbeatIntervalMs: heartbeatIntervalFor(tokenMs),
      heartbeatCopies: DEFAULT_HEARTBEAT_COPIES,
    },
    scenarios,
    elapsedS,
    /** The host is shared: 1/5/15-minute load averages at the start and at the end of the bench. */
    loadavg: { start: loadAtStart, end: loadavg().map((x) => Math.round(x * 100) / 100) },
    cpus: cpus().length,
  };
  writeFileSync(join(dir, `${outName}.json`), `${JSON.stringify({ ...meta, summary, results }, null, 2)}\n`);
  writeFileSync(join(dir, `${outName}.md`), markdown(meta, summary, tables));
  updateSummary(join(dir, "summary.md"), outName, summaryMarkdown(meta, summary));
  log(`done in ${elapsedS} s; wrote ${join(dir, `${outName}.json`)}, ${outName}.md and summary.md`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

type Meta = {
  date: string;
  latencyMs: number;
  idleMs: number;
  idleJitterMs: number;
  floatip: { tuned: boolean; tokenMs: number; heartbeatIntervalMs: number; heartbeatCopies: number };
  runsPerSystem: number;
  elapsedS: number;
  loadavg: { start: number[]; end: number[] };
  cpus: number;
};

function goalLines(meta: Meta, summary: Summary): string[] {
  const median = (system: System) =>
    summary.find((x) => x.scenario === "node-loss" && x.system === system)?.outage?.median;
  return nodeLossGoalLines(
    { floatip: median("floatip"), seed: median("seed"), keepalived: median("keepalived") },
    { tokenMs: meta.floatip.tokenMs, latencyMs: meta.latencyMs, tuned: meta.floatip.tuned },
  );
}

/** The line that says how floatip was set up, for the reports. */
function floatipSetting(meta: Meta): string {
  const t = meta.floatip;
  return t.tuned
    ? `floatip tuned: \`cluster setup --token ${t.tokenMs}\` (detection timeout ${t.tokenMs} ms, ${heartbeatText(t)})`
    : `floatip at its defaults (token ${t.tokenMs} ms, ${heartbeatText(t)})`;
}

function heartbeatText(t: Meta["floatip"]): string {
  return `a heartbeat round every ${t.heartbeatIntervalMs} ms, ${t.heartbeatCopies} copies each`;
}

function summaryMarkdown(meta: Meta, summary: Summary): string {
  const rows = summary.map((s) => {
    const f = summary.find((x) => x.scenario === s.scenario && x.system === "floatip");
    return [
      s.scenario,
      s.system,
      `${s.ok}/${s.runs}`,
      s.outage ? String(s.outage.median) : "-",
      ratio(s.outage?.median, f?.outage?.median),
      s.move ? String(s.move.median) : "-",
      ratio(s.move?.median, f?.move?.median),
    ];
  });
  // floatip's spread, phases and idle false detections: what a tuned run is read for.
  const floatipLines = summary
    .filter((s) => s.system === "floatip" && s.outage !== undefined)
    .map(
      (s) =>
        `- floatip ${s.scenario}: outage min ${s.outage?.min} / median ${s.outage?.median} / max ${s.outage?.max} ms; phase medians detect ${s.detect?.median ?? "-"}, cloud ${s.cloud?.median ?? "-"} (${s.apiCalls?.median ?? "-"} API call(s)), back ${s.back?.median ?? "-"}; idle ${meta.idleMs}${meta.idleJitterMs ? ` + 0..${meta.idleJitterMs}` : ""} ms before each failure: moves in ${s.movedBeforeDown.length}, a live peer declared lost in ${s.lostPeerBeforeDown.length} of ${s.ok} runs`,
    );
  return [
    `## bench:failover${outName === "failover" ? "" : ` (${outName})`}: client outage and takeover`,
    "",
    `${meta.date}; ${meta.runsPerSystem} runs per system and scenario; API latency ${meta.latencyMs} ms; medians in ms`,
    `(details and phases in ${outName}.md). move = failure -> the VIP moved in the cloud. ${floatipSetting(meta)}.`,
    "",
    markdownTable(["scenario", "system", "runs ok", "outage", "x floatip", "move", "x floatip"], rows),
    "",
    ...floatipLines,
    ...goalLines(meta, summary),
    "",
    `Load average ${meta.loadavg.start.join(" / ")} at start, ${meta.loadavg.end.join(" / ")} at end (${meta.cpus} CPUs, shared host).`,
  ].join("\n");
}

function markdown(meta: Meta, summary: Summary, tables: string[]): string {
  const failures = summary.flatMap((s) => s.failed.map((f) => `- ${s.scenario} ${s.system}: ${f}`));
  const early = summary
    .filter((s) => s.movedBeforeDown.length > 0)
    .map(
      (s) =>
        `- ${s.scenario} ${s.system} moved the VIP by itself after start-up, before the failure, in run(s) ${s.movedBeforeDown.join(", ")}; the node holding it then failed instead.`,
    );
  return [
    "# Failover bench: client outage per failure scenario",
    "",
    `${meta.date}; ${meta.runsPerSystem} runs per system and scenario; emulated OCI API latency ${meta.latencyMs} ms per call;`,
    "routed test bed (client in another subnet, the router follows the emulated cloud's private-IP",
    "assignment); a UDP probe sends every 10 ms. Fresh bed per run.",
    `${floatipSetting(meta)}.`,
    "",
    "Scenarios: node-loss = the holder's link goes down; kill-9 = SIGKILL of the holder's HA daemon (floatip",
    "daemon; the seed stand-in, i.e. corosync gone; keepalived parent and VRRP child), the application keeps",
    "running there, so the outage is only the switch-over gap; service-failure = the application on the",
    "holder dies (UDP responder + HTTP service): floatip `floatip:check:http` interval 2s in a group with the",
    "VIP; seed: the service checked every 10 s (the recipe's monitor interval) and moved to the peer at the",
    "first failure (kinder than Pacemaker's default restart in place); keepalived: `vrrp_script` curl,",
    "interval 2, fall 1, in `track_script`.",
    "",
    "All times in ms (medians in the phase columns). outage: longest gap in the client's answers. move:",
    "failure -> the emulated cloud applied the move to the survivor. detect: failure -> noticed (node-loss",
    "and kill-9: the survivor's membership change / notify_master; service-failure: the holder's failed",
    "check, for keepalived the survivor's notify_master). cloud: detect -> move applied (CLI start-up",
    "included for the baselines); of it, 1st call: detect -> first request to the emulator and API calls:",
    "Core API calls until the move. back: outage minus (failure -> move): routing and local address.",
    "",
    ...tables.flatMap((t) => [t, ""]),
    ...goalLines(meta, summary),
    "",
    meta.floatip.tuned
      ? `- floatip: daemons set up with \`cluster setup --token ${meta.floatip.tokenMs}\` (detection timeout ${meta.floatip.tokenMs} ms, ${heartbeatText(meta.floatip)}), \`resource create ... IPaddr2 ... interval=10s\`.`
      : `- floatip: daemons with default settings (\`cluster setup\`: token ${meta.floatip.tokenMs} ms, ${heartbeatText(meta.floatip)}; \`resource create ... IPaddr2 ... interval=10s\`).`,
    ...(systems.includes("seed")
      ? [
          "- seed: bench/seed-replay-node.ts (token 3000 + consensus 3600 heartbeat timeout, one",
          "  `floatip oci move` process per move standing in for oci-cli, `ip addr add`, no verification).",
        ]
      : []),
    ...(systems.includes("keepalived")
      ? [
          "- keepalived: 2.2.7 unicast VRRP, advert_int 1, priorities 150/100, notify_master runs",
          "  `floatip oci move` then `ip addr add`.",
        ]
      : []),
    ...(early.length ? ["", ...early] : []),
    // A move or a lost peer before the failure is a false detection: the safety check for a short token.
    ...summary.map(
      (s) =>
        `- ${s.scenario} ${s.system}: idle ${meta.idleMs}${meta.idleJitterMs ? ` + 0..${meta.idleJitterMs} (random)` : ""} ms between start-up and the failure; moves by the system itself in ${s.movedBeforeDown.length} of ${s.ok} completed runs${s.system === "floatip" ? `, a live peer declared lost in ${s.lostPeerBeforeDown.length}` : ""}.`,
    ),
    ...summary
      .filter((s) => s.setupRetries > 0)
      .map(
        (s) =>
          `- ${s.scenario} ${s.system}: ${s.setupRetries} set-up attempt(s) failed before the failure and were retried on a fresh bed.`,
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
