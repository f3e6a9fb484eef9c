import assert from "node:assert/strict";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { createBed, type Bed } from "../tools/testbed/bed.ts";
import { FloatipCluster } from "../tools/testbed/floatip-cluster.ts";
import { startProbe, startResponders } from "../tools/testbed/probe.ts";

const VIP = "10.0.0.200";
const PORT = 7000;
const isRoot = process.getuid?.() === 0;
const SAMPLE_ALERT = "/usr/share/pacemaker/alerts/alert_file.sh.sample";

async function seedCluster(
  t: { after(fn: () => Promise<void>): void },
  setupArgs: string[] = [],
  daemonArgs: string[] = [],
): Promise<{ bed: Bed; cluster: FloatipCluster }> {
  const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "same" });
  const cluster = new FloatipCluster(bed, ["node1", "node2"], {}, daemonArgs);
  t.after(async () => {
    await cluster.destroy();
    await bed.destroy();
  });
  await startResponders(bed, PORT);
  await cluster.startAll();
  await cluster.setup({ name: "vip-failover-test", password: "hacluster-secret", extra: setupArgs });
  await cluster.createVip({ vip: VIP, monitorInterval: "10s" });
  return { bed, cluster };
}

void test(
  "the VIP moves to node2 when node1's link goes down, and status shows it",
  { skip: !isRoot, timeout: 90_000 },
  async (t) => {
    const { bed, cluster } = await seedCluster(t);
    const probe = await startProbe(bed, VIP, PORT);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await bed.linkDown("node1");
    await cluster.waitForStatus(
      "node2",
      (s) => s.resources[0]?.runningOn.join() === "node2" && s.offline.includes("node1"),
      10_000,
      "Cluster_VIP started on node2",
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const report = await probe.stop();
    const text = await cluster.must("node2", ["status"]);
    assert.match(text, /OFFLINE: \[ node1 \]/);
    assert.match(text, /Online: \[ node2 \]/);
    assert.match(text, /Cluster_VIP\s+\(ocf::heartbeat:IPaddr2\):\s+Started node2/);
    assert.equal(report.firstResponder, "node1");
    assert.equal(report.lastResponder, "node2");
    t.diagnostic(`client outage ${report.longestOutageMs} ms`);
    assert.ok(report.longestOutageMs < 5_000, `outage ${report.longestOutageMs} ms`);
  },
);

async function restartKeepsVip(
  t: TestContext,
  how: "SIGKILL" | "SIGTERM",
  setupArgs: string[],
): Promise<void> {
  // A planned restart (a package upgrade) runs daemons with --leave-resources-on-exit.
  const { bed, cluster } = await seedCluster(
    t,
    setupArgs,
    how === "SIGTERM" ? ["--leave-resources-on-exit"] : [],
  );
  const probe = await startProbe(bed, VIP, PORT);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await cluster.killDaemon("node1", how);
  await cluster.startDaemon("node1");
  await cluster.waitForStatus(
    "node2",
    (s) => s.online.length === 2 && s.resources[0]?.runningOn.join() === "node1",
    10_000,
    "node1 back with the VIP",
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const report = await probe.stop();
  const status = await cluster.status("node2");
  assert.deepEqual(status.resources[0]?.runningOn, ["node1"]);
  assert.equal(report.lastResponder, "node1");
  assert.deepEqual(
    report.responders.map((r) => r.node),
    ["node1"],
    "the VIP never answered from another node",
  );
  t.diagnostic(`longest client outage ${report.longestOutageMs} ms`);
  assert.ok(report.longestOutageMs <= 100, `outage ${report.longestOutageMs} ms`);
}

void test(
  "a planned daemon restart (SIGTERM, --leave-resources-on-exit) re-attaches without moving the VIP",
  { skip: !isRoot, timeout: 90_000 },
  async (t) => {
    await restartKeepsVip(t, "SIGTERM", []);
  },
);

void test(
  "a daemon crash (SIGKILL) and restart within the token re-attaches without moving the VIP",
  { skip: !isRoot, timeout: 90_000 },
  async (t) => {
    // corosync's default token (3 s): a crashed daemon that is back within it keeps its VIP.
    await restartKeepsVip(t, "SIGKILL", ["--token", "3000"]);
  },
);

void test(
  "a VIP removed by hand is noticed at once and restored, long before the 10 s monitor",
  { skip: !isRoot, timeout: 90_000 },
  async (t) => {
    const { bed, cluster } = await seedCluster(t);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const removedAt = Date.now();
    const del = await bed.execIn(bed.nodeNs("node1"), "ip", ["addr", "del", `${VIP}/24`, "dev", "eth0"]);
    assert.equal(del.code, 0, del.stderr);
    let restoredAfter = -1;
    while (Date.now() - removedAt < 8_000) {
      const show = await bed.execIn(bed.nodeNs("node1"), "ip", ["-o", "addr", "show", "dev", "eth0"]);
      if (show.stdout.includes(`${VIP}/24`)) {
        restoredAfter = Date.now() - removedAt;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    t.diagnostic(`restored after ${restoredAfter} ms`);
    assert.ok(restoredAfter >= 0 && restoredAfter < 5_000, `restored after ${restoredAfter} ms`);
    const status = await cluster.status("node1");
    assert.equal(status.resources[0]?.failCounts["node1"], 1, "the loss is counted as a failure");
  },
);

void test(
  "a clean daemon stop hands the VIP to node2 before node1 leaves",
  { skip: !isRoot, timeout: 90_000 },
  async (t) => {
    const { bed, cluster } = await seedCluster(t);
    const probe = await startProbe(bed, VIP, PORT);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await cluster.killDaemon("node1", "SIGTERM");
    await cluster.waitForStatus(
      "node2",
      (s) => s.resources[0]?.runningOn.join() === "node2",
      10_000,
      "VIP on node2",
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const report = await probe.stop();
    assert.equal(report.lastResponder, "node2");
    t.diagnostic(`hand-over outage ${report.longestOutageMs} ms`);
    // A hand-over must not wait for the failure-detection timeout (1 s).
    assert.ok(report.longestOutageMs < 1_000, `outage ${report.longestOutageMs} ms`);
  },
);

void test(
  "commands run on node2 change the whole cluster: a resource created there appears on node1, and node2 can stop node1",
  { skip: !isRoot, timeout: 90_000 },
  async (t) => {
    const { cluster } = await seedCluster(t);
    await cluster.must("node2", [
      "resource",
      "create",
      "Second_VIP",
      "ocf:heartbeat:IPaddr2",
      "ip=10.0.0.201",
      "cidr_netmask=24",
    ]);
    await cluster.waitForStatus(
      "node1",
      (s) => s.resources.some((r) => r.id === "Second_VIP" && r.runningOn.length === 1),
      10_000,
      "Second_VIP known and running on node1's view",
    );
    // node2 holds tokens for node1 since setup distributed them: it can stop node1's cluster services.
    const out = await cluster.must("node2", ["cluster", "stop", "node1"]);
    assert.match(out, /node1: Stopping Cluster\.\.\./);
    const status = await cluster.waitForStatus(
      "node2",
      (s) => s.offline.includes("node1") && s.resources.every((r) => r.runningOn.join() === "node2"),
      15_000,
      "everything on node2 after node1 stopped",
    );
    assert.equal(status.resources.length, 2);
  },
);

void test(
  "Pacemaker's sample file alert agent, set up with alert create, receives the failover events",
  { skip: !isRoot || !existsSync(SAMPLE_ALERT), timeout: 90_000 },
  async (t) => {
    const { bed, cluster } = await seedCluster(t);
    const dir = mkdtempSync(join(tmpdir(), "floatip-alert-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const agent = join(dir, "alert_file.sh");
    copyFileSync(SAMPLE_ALERT, agent);
    chmodSync(agent, 0o755);
    const output = join(dir, "alerts.log");
    writeFileSync(output, "");
    await cluster.must("node1", ["alert", "create", `path=${agent}`, "id=file_alert"]);
    await cluster.must("node1", ["alert", "recipient", "add", "file_alert", `value=${output}`]);
    await cluster.waitForStatus("node2", (s) => (s.configEpoch ?? 0) >= 4, 10_000, "the alert reached node2");
    await bed.linkDown("node1");
    await cluster.waitForStatus(
      "node2",
      (s) => s.resources[0]?.runningOn.join() === "node2",
      10_000,
      "VIP on node2",
    );
    const deadline = Date.now() + 10_000;
    let text = "";
    while (Date.now() < deadline) {
      text = readFileSync(output, "utf8");
      if (
        /Node 'node1' is now 'lost'/.test(text) &&
        /Resource operation 'start' for 'Cluster_VIP' on 'node2': ok/.test(text)
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.diagnostic(text.trim());
    assert.match(text, /Node 'node1' is now 'lost'/);
    assert.match(text, /Resource operation 'start' for 'Cluster_VIP' on 'node2': ok/);
  },
);
