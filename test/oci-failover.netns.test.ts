import assert from "node:assert/strict";
import { request } from "node:http";
import { test, type TestContext } from "node:test";
import { createBed, type Bed } from "../tools/testbed/bed.ts";
import { EmulatedCloud } from "../tools/testbed/cloud-bed.ts";
import { FloatipCluster } from "../tools/testbed/floatip-cluster.ts";
import { startProbe, startResponders } from "../tools/testbed/probe.ts";
import { endpointOverridesIn } from "../tools/testbed/production-path.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";

/**
 * The cloud move end to end: two nodes in two ADs of an emulated OCI region, the client in another
 * subnet, the router following the emulator's private-IP assignment (not ARP), daemons moving the VIP
 * through the real SDK on the production path (no endpoint set: the region's endpoints over verified TLS).
 * Cloud checks and leases are shortened so that partition scenarios fit a test.
 */

const VIP = "10.0.0.200";
const PORT = 7000;
const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Bench {
  bed: Bed;
  cloud: EmulatedCloud;
  cluster: FloatipCluster;
}

async function ociCluster(t: TestContext, latencyMs = 50, daemonArgs: string[] = []): Promise<Bench> {
  const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "routed" });
  // Registered before anything else is started, so a failure half-way still tears everything down.
  const parts: { cloud?: EmulatedCloud; cluster?: FloatipCluster } = {};
  t.after(async () => {
    await parts.cluster?.destroy();
    await parts.cloud?.stop();
    await bed.destroy();
  });
  const cloud = (parts.cloud = await EmulatedCloud.start(bed, { latencyMs }));
  const cluster = (parts.cluster = new FloatipCluster(
    bed,
    ["node1", "node2"],
    {
      ...cloud.nodeEnv,
      FLOATIP_OCI_CLOUD_CHECK_INTERVAL_MS: "2000",
      FLOATIP_OCI_LEASE_MS: "6000",
    },
    daemonArgs,
  ));
  await startResponders(bed, PORT);
  await cluster.startAll();
  for (const node of cluster.nodes) {
    const environment = cluster.daemonEnvironment(node);
    assert.deepEqual(endpointOverridesIn(environment), [], `no endpoint override in ${node}'s daemon`);
    assert.equal(
      environment["NODE_EXTRA_CA_CERTS"],
      cloud.caCertFile,
      "the bed's CA is trusted the standard way",
    );
  }
  await cluster.setup({ name: "vip-failover-test", password: "oci-secret" });
  await cluster.createVip({ vip: VIP, monitorInterval: "1s" });
  assert.equal(cloud.holderOf(VIP), "node1", "the cloud holds the VIP where the cluster runs it");
  return { bed, cloud, cluster };
}

async function failoverUnder(
  t: TestContext,
  faults: Record<string, unknown>,
  timeoutMs: number,
): Promise<Bench> {
  const bench = await ociCluster(t);
  const { bed, cloud, cluster } = bench;
  const probe = await startProbe(bed, VIP, PORT);
  await sleep(300);
  await cloud.faults(faults);
  await bed.linkDown("node1");
  await waitUntil("the VIP on node2 in the cloud", timeoutMs, () => cloud.holderOf(VIP) === "node2", 50);
  await cluster.waitForStatus(
    "node2",
    (s) => s.resources[0]?.runningOn.join() === "node2",
    timeoutMs,
    "VIP on node2",
  );
  await sleep(500);
  const report = await probe.stop();
  assert.equal(report.lastResponder, "node2");
  assert.equal(cloud.movesOf(VIP).length, 2, "created once on node1, moved once to node2");
  const status = await cluster.status("node2");
  assert.equal(status.resources[0]?.failedOn.length, 0);
  t.diagnostic(`client outage ${report.longestOutageMs} ms`);
  return bench;
}

void test(
  "node loss moves the VIP in the cloud, the client in another subnet recovers, and the failover is recorded with its phases",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    const { cluster } = await failoverUnder(t, {}, 20_000);
    const lines = (await cluster.must("node2", ["--json", "events", "--type", "failover,cloud-call"]))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    const failover = lines.find((e) => e.type === "failover");
    assert.ok(failover, "a failover event on the coordinator");
    assert.equal(failover.data["from"], "node1");
    assert.equal(failover.data["to"], "node2");
    for (const phase of ["detectMs", "decideMs", "startMs", "totalMs", "cloudMoveMs", "verifyMs"]) {
      assert.equal(typeof failover.data[phase], "number", phase);
    }
    assert.ok((failover.data["detectMs"] as number) >= 900, "detection takes about the token (1 s)");
    const move = lines.find(
      (e) => e.type === "cloud-call" && String(e.data["op"]).toLowerCase() === "updateprivateip",
    );
    assert.ok(move, "the cloud move is an event");
    assert.match(String(move.data["opcRequestId"]), /.+/, "with its opc-request-id");
    t.diagnostic(`failover phases: ${JSON.stringify(failover.data)}`);
    // What a Prometheus scrape of node2 (the coordinator that saw it through) shows afterwards.
    const metrics = await new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: cluster.socket("node2"), path: "/metrics" }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end();
    });
    assert.match(metrics, /^floatip_failovers_total\{resource="Cluster_VIP",cause="node-lost"\} 1$/m);
    assert.match(metrics, /^floatip_failover_duration_seconds_count\{[^}]*\} 1$/m);
    assert.match(metrics, /^floatip_failover_duration_seconds_sum\{[^}]*\} [1-9]/m);
  },
);

void test(
  "a failover through a slow API (2 s per call) ends with the VIP on node2",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    await failoverUnder(t, { latencyMs: 2_000 }, 40_000);
  },
);

void test(
  "a failover through a burst of 429 TooManyRequests ends with the VIP on node2",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    await failoverUnder(t, { failNext: { count: 6, status: 429 } }, 30_000);
  },
);

void test(
  "a 30 s API outage during a failover ends with the VIP on node2, moved once",
  { skip: !isRoot, timeout: 180_000 },
  async (t) => {
    await failoverUnder(t, { outageMs: 30_000 }, 75_000);
  },
);

void test(
  "a partition with both nodes alive leaves one cloud holder and moves the VIP at most once",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    const { bed, cloud, cluster } = await ociCluster(t);
    await bed.partition(["node1"], ["node2"]);
    const samples: (string | null)[] = [];
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      samples.push(cloud.holderOf(VIP));
      await sleep(50);
    }
    assert.ok(
      samples.every((h) => h !== null),
      "the VIP always has exactly one cloud holder",
    );
    assert.ok(cloud.movesOf(VIP).length <= 2, `moves: ${JSON.stringify(cloud.movesOf(VIP))}`);
    await bed.heal();
    // The cluster converges on one copy, where the cloud holds it (a move still in flight may land first).
    await cluster.waitForStatus(
      "node1",
      (s) => s.online.length === 2 && s.resources[0]?.runningOn.join() === cloud.holderOf(VIP),
      20_000,
      "one copy, on the cloud holder",
    );
    await sleep(3_000);
    assert.ok(
      cloud.movesOf(VIP).length <= 2,
      `at most one move in all, no ping-pong after the heal: ${JSON.stringify(cloud.movesOf(VIP))}`,
    );
    const holder = cloud.holderOf(VIP);
    const status = await cluster.status("node2");
    assert.deepEqual(status.resources[0]?.runningOn, [holder]);
    t.diagnostic(`holder after heal: ${holder}; cloud moves: ${cloud.movesOf(VIP).length - 1}`);
  },
);

void test(
  "a planned daemon restart on the holder re-attaches: no cloud move, no outage",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    const { bed, cloud, cluster } = await ociCluster(t, 50, ["--leave-resources-on-exit"]);
    const probe = await startProbe(bed, VIP, PORT);
    await sleep(300);
    await cluster.killDaemon("node1", "SIGTERM");
    await cluster.startDaemon("node1");
    await cluster.waitForStatus(
      "node2",
      (s) => s.online.length === 2 && s.resources[0]?.runningOn.join() === "node1",
      20_000,
      "re-attached",
    );
    await sleep(3_000);
    const report = await probe.stop();
    assert.equal(cloud.movesOf(VIP).length, 1, "only the initial creation");
    assert.deepEqual(
      report.responders.map((r) => r.node),
      ["node1"],
    );
    t.diagnostic(`longest outage ${report.longestOutageMs} ms`);
  },
);

void test(
  "cloud errors in monitor's cloud check do not fail the resource or move it",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    const { cloud, cluster } = await ociCluster(t);
    await cloud.faults({ outageMs: 8_000 });
    // Cloud checks run every 2 s: several of them meet the outage.
    await sleep(10_000);
    const status = await cluster.status("node1");
    assert.deepEqual(status.resources[0]?.runningOn, ["node1"]);
    assert.deepEqual(status.resources[0]?.failCounts, {});
    assert.equal(cloud.movesOf(VIP).length, 1);
  },
);
