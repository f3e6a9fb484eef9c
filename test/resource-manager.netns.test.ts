import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { Bed } from "../tools/testbed/bed.ts";
import { createBed } from "../tools/testbed/bed.ts";
import { EmulatedCloud } from "../tools/testbed/cloud-bed.ts";
import { FloatipCluster } from "../tools/testbed/floatip-cluster.ts";
import { startProbe, startResponders } from "../tools/testbed/probe.ts";
import { repoRoot } from "../tools/testbed/repo-paths.ts";

/**
 * The resource manager end to end on the emulated OCI bed: a group of the VIP and an HTTP health check
 * of the service behind it, failing over as one; failback with and without stickiness; standby; and
 * migration-threshold with cleanup.
 */

const VIP = "10.0.0.200";
const PORT = 7000;
const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const httpService = join(repoRoot, "dist/tools/testbed/http-service.js");

interface Web {
  bed: Bed;
  cloud: EmulatedCloud;
  cluster: FloatipCluster;
  services: Map<string, ChildProcess>;
  startService(node: string): Promise<void>;
  stopService(node: string): Promise<void>;
  groupOn(): Promise<string[]>;
}

async function webCluster(t: TestContext, extraMeta: string[] = []): Promise<Web> {
  const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "routed" });
  const parts: { cloud?: EmulatedCloud; cluster?: FloatipCluster } = {};
  t.after(async () => {
    await parts.cluster?.destroy();
    await parts.cloud?.stop();
    await bed.destroy();
  });
  const cloud = (parts.cloud = await EmulatedCloud.start(bed, { latencyMs: 50 }));
  const cluster = (parts.cluster = new FloatipCluster(bed, ["node1", "node2"], cloud.nodeEnv));
  const services = new Map<string, ChildProcess>();
  const startService = async (node: string): Promise<void> => {
    const child = bed.spawnIn(bed.nodeNs(node), process.execPath, [
      httpService,
      "--name",
      node,
      "--port",
      "8080",
    ]);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`http-service on ${node} exited ${code}`)));
    });
    services.set(node, child);
  };
  const stopService = async (node: string): Promise<void> => {
    const child = services.get(node);
    if (!child) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    services.delete(node);
  };
  await startResponders(bed, PORT);
  await startService("node1");
  await startService("node2");
  await cluster.startAll();
  await cluster.setup({
    name: "web",
    password: "web-secret",
  });
  await cluster.createVip({ vip: VIP, monitorInterval: "1s", extra: ["--group", "web"] });
  await cluster.must("node1", [
    "resource",
    "create",
    "Web_Check",
    "floatip:check:http",
    "url=http://127.0.0.1:8080/",
    "timeout=500ms",
    "op",
    "monitor",
    "interval=500ms",
    ...extraMeta,
    "--group",
    "web",
  ]);
  const groupOn = async (): Promise<string[]> => {
    const s = await cluster.status("node1");
    const nodes = new Set(s.resources.flatMap((r) => r.runningOn));
    return s.resources.every(
      (r) => r.runningOn.length === 1 && r.runningOn[0] === s.resources[0]?.runningOn[0],
    )
      ? [...nodes]
      : [];
  };
  await cluster.waitForStatus(
    "node1",
    (s) => s.resources.length === 2 && s.resources.every((r) => r.runningOn.join() === "node1"),
    30_000,
    "the web group on node1",
  );
  return { bed, cloud, cluster, services, startService, stopService, groupOn };
}

void test(
  "the VIP and its HTTP check fail over as one group when the service dies, and the client recovers",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    const web = await webCluster(t);
    const probe = await startProbe(web.bed, VIP, PORT);
    await sleep(300);
    await web.stopService("node1");
    await web.cluster.waitForStatus(
      "node1",
      (s) => s.resources.every((r) => r.runningOn.join() === "node2"),
      30_000,
      "the web group on node2",
    );
    await sleep(500);
    const report = await probe.stop();
    assert.equal(web.cloud.holderOf(VIP), "node2");
    assert.equal(report.lastResponder, "node2");
    t.diagnostic(`client outage ${report.longestOutageMs} ms`);
  },
);

for (const sticky of [true, false]) {
  void test(
    sticky
      ? "with resource-stickiness the group stays on node2 after node1 recovers: no second outage"
      : "without stickiness the group fails back to node1 once node1 recovers",
    { skip: !isRoot, timeout: 120_000 },
    async (t) => {
      const web = await webCluster(t);
      // floatip's setup default is resource-stickiness=1; 0 is Pacemaker's built-in default, which fails back.
      await web.cluster.must("node1", [
        "resource",
        "defaults",
        "update",
        `resource-stickiness=${sticky ? 100 : 0}`,
      ]);
      await web.stopService("node1");
      await web.cluster.waitForStatus(
        "node1",
        (s) => s.resources.every((r) => r.runningOn.join() === "node2"),
        30_000,
        "on node2",
      );
      const probe = await startProbe(web.bed, VIP, PORT);
      await sleep(300);
      await web.startService("node1");
      await web.cluster.must("node1", ["resource", "cleanup"]);
      await sleep(sticky ? 4_000 : 0);
      const expected = sticky ? "node2" : "node1";
      await web.cluster.waitForStatus(
        "node1",
        (s) =>
          s.resources.every((r) => r.runningOn.join() === expected && Object.keys(r.failCounts).length === 0),
        30_000,
        `the group on ${expected} with no fail counts`,
      );
      await sleep(500);
      const report = await probe.stop();
      assert.equal(web.cloud.holderOf(VIP), expected);
      t.diagnostic(`outage while node1 came back: ${report.longestOutageMs} ms`);
      if (sticky) {
        assert.deepEqual(
          report.responders.map((r) => r.node),
          ["node2"],
          "no failback",
        );
        assert.ok(report.longestOutageMs <= 100, `outage ${report.longestOutageMs} ms`);
      } else {
        assert.equal(report.lastResponder, "node1");
      }
    },
  );
}

void test(
  "node standby moves the group away cleanly and unstandby lets it stay where it is",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    const web = await webCluster(t);
    await web.cluster.must("node1", ["resource", "defaults", "update", "resource-stickiness=100"]);
    const probe = await startProbe(web.bed, VIP, PORT);
    await sleep(300);
    await web.cluster.must("node1", ["node", "standby", "node1"]);
    await web.cluster.waitForStatus(
      "node1",
      (s) => s.resources.every((r) => r.runningOn.join() === "node2"),
      30_000,
      "on node2",
    );
    await web.cluster.must("node1", ["node", "unstandby", "node1"]);
    await sleep(2_000);
    const report = await probe.stop();
    const status = await web.cluster.status("node1");
    assert.ok(status.resources.every((r) => r.runningOn.join() === "node2"));
    assert.equal(web.cloud.movesOf(VIP).length, 2, "one planned move");
    t.diagnostic(`standby hand-over outage ${report.longestOutageMs} ms`);
  },
);

void test(
  "migration-threshold=1 keeps a failed group off node1 until resource cleanup",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    const web = await webCluster(t, ["meta", "migration-threshold=1"]);
    await web.stopService("node1");
    await web.cluster.waitForStatus(
      "node1",
      (s) => s.resources.every((r) => r.runningOn.join() === "node2"),
      30_000,
      "on node2",
    );
    await web.startService("node1");
    // node2's service dies too: node1 is still banned by its fail count, so the group has nowhere to go.
    await web.stopService("node2");
    await web.cluster.waitForStatus(
      "node1",
      (s) => s.resources.find((r) => r.id === "Web_Check")?.runningOn.length === 0,
      30_000,
      "Web_Check stopped everywhere",
    );
    await sleep(2_000);
    const banned = await web.cluster.status("node1");
    assert.ok(!banned.resources.some((r) => r.runningOn.includes("node1")), "node1 stays banned");
    await web.cluster.must("node1", ["resource", "cleanup", "Web_Check"]);
    await web.cluster.waitForStatus(
      "node1",
      (s) => s.resources.every((r) => r.runningOn.join() === "node1"),
      30_000,
      "back on node1 after cleanup",
    );
    assert.equal(web.cloud.holderOf(VIP), "node1");
  },
);
