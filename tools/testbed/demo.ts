import { Command, InvalidArgumentError } from "commander";
import { createBed, type Bed } from "./bed.ts";
import { EmulatedCloud } from "./cloud-bed.ts";
import { FloatipCluster } from "./floatip-cluster.ts";
import { startProbe, startResponders } from "./probe.ts";
import { endpointOverridesIn } from "./production-path.ts";

/**
 * The seed scenario end to end on one host: two nodes in two availability domains of an emulated OCI
 * region, the recipe's commands with `floatip` for `pcs` (no OCIDs typed, no console step), a client in
 * another subnet measuring the outage while node1's link goes down (an AD outage). The daemons run the
 * production path: no endpoint set, the region's endpoints derived by the SDK and reached over verified TLS.
 *
 *   npm run demo [-- --settle-ms 5000] [-- --api-latency-ms 300]
 */

const VIP = "10.0.0.200";
const PORT = 7000;

function nonNegativeMs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 60_000) {
    throw new InvalidArgumentError(`expected whole milliseconds from 0 to 60000, got ${value}`);
  }
  return n;
}

/** A settle time in ms, or a range "MIN-MAX" the emulator draws from per move. */
function settleTime(value: string): number | string {
  const range = /^(\d{1,5})-(\d{1,5})$/.exec(value.trim());
  if (range === null) return nonNegativeMs(value);
  const [min, max] = [nonNegativeMs(range[1] ?? ""), nonNegativeMs(range[2] ?? "")];
  if (min > max) throw new InvalidArgumentError(`expected MIN-MAX with MIN <= MAX, got ${value}`);
  return `${min}-${max}`;
}

function demoOptions(): { apiLatencyMs: number; settleMs: number | string | undefined } {
  const env = (name: string): number | undefined => {
    const text = process.env[name]?.trim();
    return text ? nonNegativeMs(text) : undefined;
  };
  const envSettle = process.env["FLOATIP_DEMO_SETTLE_MS"]?.trim();
  const program = new Command()
    .name("npm run demo --")
    .description("The seed's Pacemaker recipe done by floatip on an emulated OCI region, with a failover")
    .option("--api-latency-ms <ms>", "latency of every OCI API call (default 300)", nonNegativeMs)
    .option(
      "--settle-ms <ms|min-max>",
      "time a move takes to show in reads and routing after its PUT answered, or a range drawn per move (default: the emulator's)",
      settleTime,
    )
    .parse(process.argv);
  const opts = program.opts<{ apiLatencyMs?: number; settleMs?: number | string }>();
  return {
    apiLatencyMs: opts.apiLatencyMs ?? env("FLOATIP_DEMO_API_LATENCY_MS") ?? 300,
    settleMs: opts.settleMs ?? (envSettle ? settleTime(envSettle) : undefined),
  };
}

/** What the emulator reports about its settle time, in words. */
function describeSettle(requested: number | string | undefined, state: unknown): string {
  if (requested !== undefined) {
    return typeof requested === "number" ? `${requested} ms` : `${requested} ms (drawn per move)`;
  }
  const settle = (state as { realism?: { settle?: { minMs?: unknown; maxMs?: unknown } } } | null)?.realism
    ?.settle;
  if (typeof settle?.minMs !== "number" || typeof settle.maxMs !== "number")
    return "0 ms (this emulator applies moves at once)";
  if (settle.minMs === settle.maxMs) return `${settle.minMs} ms (the emulator's default)`;
  return `${settle.minMs}-${settle.maxMs} ms, drawn per move (the emulator's default)`;
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function shell(node: string, args: string[]): void {
  say(`\n[${node}]# floatip ${args.join(" ")}`);
}

async function run(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error("the demo builds network namespaces and must run as root");
  }
  const { apiLatencyMs, settleMs } = demoOptions();
  let bed: Bed | undefined;
  let cloud: EmulatedCloud | undefined;
  let cluster: FloatipCluster | undefined;
  const cleanup = async (): Promise<void> => {
    await cluster?.destroy();
    await cloud?.stop();
    await bed?.destroy();
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    say("floatip demo: the seed's Pacemaker recipe, done by floatip on an emulated OCI region");
    say(`- two nodes in two ADs on a regional subnet 10.0.0.0/24, a client in 10.0.1.0/24`);
    say(`- the emulated OCI API answers every call after ${apiLatencyMs} ms (a realistic round trip)`);
    bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "routed" });
    cloud = await EmulatedCloud.start(bed, {
      latencyMs: apiLatencyMs,
      ...(settleMs === undefined ? {} : { settleMs }),
    });
    const settle = describeSettle(settleMs, await cloud.state());
    say(
      `- a move shows in reads and routing ${settle === "0 ms" ? "at once" : `after a settle time of ${settle}`}`,
    );
    say(
      `- production path: no endpoint configured; the SDK reads the region from instance metadata (http://${bed.metadataAddr}) and calls https://${cloud.endpoints.federation} and https://${cloud.endpoints.core}, TLS verified against this bed's CA`,
    );
    cluster = new FloatipCluster(bed, ["node1", "node2"], cloud.nodeEnv);
    await startResponders(bed, PORT);
    await cluster.startAll();
    const overrides = cluster.nodes.flatMap((n) => endpointOverridesIn(cluster!.daemonEnvironment(n)));
    if (overrides.length > 0) throw new Error(`a daemon has an endpoint override: ${overrides.join(", ")}`);
    const addrs = { node1: bed.nodeAddr("node1"), node2: bed.nodeAddr("node2") };

    shell("node1+node2", ["passwd"]);
    for (const n of cluster.nodes) await cluster.must(n, ["passwd", "--stdin"], "demo-password\n");
    const nodeArgs = ["node1", `addr=${addrs.node1}`, "node2", `addr=${addrs.node2}`];
    const auth = ["cluster", "auth", ...nodeArgs, "-u", "hacluster", "-p", "demo-password"];
    shell(
      "node1",
      auth.map((a) => (a === "demo-password" ? "********" : a)),
    );
    say((await cluster.must("node1", auth)).trimEnd());
    const setup = ["cluster", "setup", "--start", "--name", "vip-failover-test", ...nodeArgs];
    shell("node1", setup);
    say((await cluster.must("node1", setup)).trimEnd());
    const create = [
      "resource",
      "create",
      "Cluster_VIP",
      "ocf:heartbeat:IPaddr2",
      `ip=${VIP}`,
      "cidr_netmask=24",
      "op",
      "monitor",
      "interval=10s",
    ];
    shell("node1", create);
    await cluster.must("node1", create);
    await cluster.waitForStatus(
      "node1",
      (s) => s.resources[0]?.runningOn.length === 1,
      30_000,
      "Cluster_VIP started",
    );
    shell("node1", ["status"]);
    say((await cluster.must("node1", ["status"])).trimEnd());
    say(`\nthe emulated cloud says ${VIP} is on: ${cloud.holderOf(VIP) ?? "nowhere"}`);

    const probe = await startProbe(bed, VIP, PORT);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const holder = (await cluster.status("node1")).resources[0]?.runningOn[0] ?? "node1";
    const survivor = holder === "node1" ? "node2" : "node1";
    say(`\n*** ${holder}'s link goes down (its AD is lost) while the client sends a request every 10 ms ***`);
    const downAt = Date.now();
    await bed.linkDown(holder);
    await cluster.waitForStatus(
      survivor,
      (s) => s.resources[0]?.runningOn.join() === survivor && s.offline.includes(holder),
      30_000,
      `Cluster_VIP on ${survivor}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const report = await probe.stop();
    shell(survivor, ["status"]);
    say((await cluster.must(survivor, ["status"])).trimEnd());
    const move = cloud.movesOf(VIP).at(-1);
    const movedAfter =
      move && move.at >= downAt ? ` (moved ${move.at - downAt} ms after the link went down)` : "";
    say(`\nthe emulated cloud says ${VIP} is on: ${cloud.holderOf(VIP) ?? "nowhere"}${movedAfter}`);
    say(`client: answered by ${report.firstResponder} before, ${report.lastResponder} after`);
    say(
      `client: longest outage ${report.longestOutageMs.toFixed(0)} ms (${report.answered}/${report.sent} requests answered)`,
    );
    if (report.lastResponder !== survivor) throw new Error(`the client is not served by ${survivor}`);
    say(`\nsettle time used: ${settle}`);
    say(`outage seen by the client: ${report.longestOutageMs.toFixed(0)} ms`);
    say(
      `ran the production path: no FLOATIP_OCI_* endpoint in either daemon's environment, endpoints https://${cloud.endpoints.core} and https://${cloud.endpoints.federation} over verified TLS`,
    );
  } finally {
    await cleanup();
  }
}

run().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`Error: demo failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
