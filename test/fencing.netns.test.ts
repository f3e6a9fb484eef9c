import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import type { ClusterEvent } from "../src/observability/event-log.ts";
import { createBed, type Bed } from "../tools/testbed/bed.ts";
import { EmulatedCloud } from "../tools/testbed/cloud-bed.ts";
import { FloatipCluster } from "../tools/testbed/floatip-cluster.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";

/**
 * Fencing end to end: two nodes on the emulated OCI region, a fence_oci device, and the emulator's power
 * actions applied to the namespaces by the cloud bed (STOP: link down and every process killed; RESET:
 * the same, then the namespace comes back and the daemon is started again, as systemd would).
 */

const VIP = "10.0.0.200";
const isRoot = process.getuid?.() === 0;

interface Bench {
  bed: Bed;
  cloud: EmulatedCloud;
  cluster: FloatipCluster;
}

async function fencedCluster(t: TestContext, stonithAction: "off" | "reboot"): Promise<Bench> {
  const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "routed" });
  // Registered first, so a failure half-way still tears everything down.
  const parts: { cloud?: EmulatedCloud; cluster?: FloatipCluster } = {};
  t.after(async () => {
    if (parts.cloud) parts.cloud.onPowerOn = null;
    await parts.cluster?.destroy();
    await parts.cloud?.stop();
    await bed.destroy();
  });
  const cloud = (parts.cloud = await EmulatedCloud.start(bed, { latencyMs: 20 }));
  const cluster = (parts.cluster = new FloatipCluster(bed, ["node1", "node2"], {
    ...cloud.nodeEnv,
    FLOATIP_OCI_CLOUD_CHECK_INTERVAL_MS: "2000",
    FLOATIP_OCI_LEASE_MS: "6000",
  }));
  // A started instance runs its daemon again (cluster services start from the state dir's marker).
  cloud.onPowerOn = async (node) => {
    await cluster.startDaemon(node);
  };
  await cluster.startAll();
  await cluster.setup({ name: "fencing-test", password: "fence-secret" });
  await cluster.must("node1", [
    "property",
    "set",
    "stonith-enabled=true",
    `stonith-action=${stonithAction}`,
    "stonith-timeout=20s",
  ]);
  await cluster.must("node1", ["stonith", "create", "OciFence", "fence_oci"]);
  await cluster.createVip({ vip: VIP, monitorInterval: "1s" });
  return { bed, cloud, cluster };
}

async function events(cluster: FloatipCluster, node: string): Promise<ClusterEvent[]> {
  return (await cluster.must(node, ["--json", "events"]))
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as ClusterEvent);
}

/**
 * Whether anything at the node's address answers a TCP connection from the router: an accept or a reset
 * both mean the host is up; silence (timeout, unreachable) means it is not.
 */
async function answers(bed: Bed, node: string): Promise<boolean> {
  const probe = `const s = require("node:net").connect({ host: "${bed.nodeAddr(node)}", port: 2224 });
s.setTimeout(1500, () => process.exit(1));
s.on("connect", () => process.exit(0));
s.on("error", (e) => process.exit(e.code === "ECONNREFUSED" ? 0 : 1));`;
  const r = await bed.execIn(bed.routerNs, process.execPath, ["-e", probe]);
  return r.code === 0;
}

async function instanceState(cloud: EmulatedCloud, node: string): Promise<string | undefined> {
  const state = (await cloud.state()) as { instances: { displayName: string; lifecycleState: string }[] };
  return state.instances.find((i) => i.displayName === node)?.lifecycleState;
}

void test(
  "a node lost with a non-cloud resource is fenced through the cloud before the resource starts elsewhere; the VIP moves at once",
  { skip: !isRoot, timeout: 180_000 },
  async (t) => {
    const { bed, cloud, cluster } = await fencedCluster(t, "off");
    await cluster.must("node1", [
      "resource",
      "create",
      "App",
      "ocf:heartbeat:Dummy",
      "op",
      "monitor",
      "interval=1s",
    ]);
    await cluster.must("node1", ["constraint", "colocation", "add", "App", "with", "Cluster_VIP"]);
    await cluster.waitForStatus(
      "node2",
      (s) => s.resources.find((r) => r.id === "App")?.runningOn.join() === "node1",
      30_000,
      "App on node1",
    );
    const text = await cluster.must("node2", ["status"]);
    assert.match(text, /\n {2}\* OciFence\t\(stonith:fence_oci\):\t Started node1\n/);
    assert.doesNotMatch(text, /No stonith devices/);
    const before = (await events(cluster, "node2")).at(-1)?.seq ?? 0;

    // node1's link goes down: its daemon and App keep running there, unseen, which is what fencing is for.
    await bed.linkDown("node1");
    await waitUntil("the VIP on node2 in the cloud", 20_000, () => cloud.holderOf(VIP) === "node2", 50);
    await cluster.waitForStatus(
      "node2",
      (s) => s.resources.find((r) => r.id === "App")?.runningOn.join() === "node2",
      30_000,
      "App on node2 after the fence",
    );
    assert.deepEqual(
      cloud.powerEvents.map((p) => [p.node, p.action]),
      [["node1", "STOP"]],
    );
    assert.equal(await instanceState(cloud, "node1"), "STOPPED");
    await cloud.powerSettled();
    assert.equal(await answers(bed, "node1"), false, "node1's namespace no longer answers");
    const down = await cluster.cli("node1", ["status"]);
    assert.notEqual(down.code, 0, "node1's daemon is gone with its instance");
    const left = await bed.execIn(bed.routerNs, "ip", ["netns", "pids", bed.nodeNs("node1")]);
    assert.equal(left.stdout.trim(), "", "no process runs in node1's namespace any more");

    const seen = (await events(cluster, "node2")).filter((e) => e.seq > before);
    const seqOf = (what: string, match: (e: ClusterEvent) => boolean) => {
      const found = seen.find(match);
      assert.ok(found, `${what} is in node2's event log`);
      return found.seq;
    };
    const fenced = seqOf(
      "the fence of node1",
      (e) => e.type === "fencing" && e.data["phase"] === "succeeded" && e.data["target"] === "node1",
    );
    const requested = seqOf(
      "the fence request",
      (e) => e.type === "fencing" && e.data["phase"] === "requested" && e.data["node"] === "node1",
    );
    const vipDecision = seqOf(
      "the VIP's start on node2",
      (e) => e.type === "decision" && /start Cluster_VIP on node2/.test(e.summary),
    );
    const appDecision = seqOf(
      "App's start on node2",
      (e) => e.type === "decision" && /start App on node2/.test(e.summary),
    );
    const appStarted = seqOf(
      "App running on node2",
      (e) => e.type === "action" && e.data["resource"] === "App" && e.data["op"] === "start",
    );
    assert.ok(requested < fenced);
    assert.ok(vipDecision < fenced, "the VIP did not wait for the fence");
    assert.ok(fenced < appDecision && appDecision < appStarted, "App started only after node1 was fenced");
    const fence = seen.find((e) => e.seq === fenced);
    assert.equal(fence?.data["device"], "OciFence");
    assert.equal(fence?.data["action"], "off");
    t.diagnostic(`fence: ${fence?.summary ?? ""}`);

    const history = await cluster.must("node2", ["stonith", "history", "node1"]);
    assert.match(history, /^off of node1 successful: delegate=OciFence, origin=node2, reason=policy/m);
    const status = await cluster.status("node2");
    assert.deepEqual(status.fencing?.unclean, []);
    assert.deepEqual(status.fencing?.fenced, ["node1"]);
  },
);

void test(
  "stonith fence by hand: reboot RESETs node2 (it comes back as a new incarnation), --off STOPs it and its namespace stops answering",
  { skip: !isRoot, timeout: 180_000 },
  async (t) => {
    const { bed, cloud, cluster } = await fencedCluster(t, "reboot");
    assert.match(await cluster.must("node1", ["stonith", "list"]), /^fence_oci - /m);
    assert.match(
      await cluster.must("node1", ["stonith", "config"]),
      /^Resource: OciFence \(class=stonith type=fence_oci\)$/m,
    );

    const config = JSON.parse(await cluster.must("node1", ["--json", "stonith", "config", "OciFence"])) as {
      primitives: { id: string; type: string }[];
    };
    assert.deepEqual(
      config.primitives.map((d) => [d.id, d.type]),
      [["OciFence", "fence_oci"]],
    );
    const unknownType = await cluster.cli("node1", ["stonith", "create", "X", "fence_nosuch"]);
    assert.equal(unknownType.code, 1);
    assert.match(
      unknownType.stderr,
      /^Error: FLOATIP_E_STONITH_INVALID: Agent 'fence_nosuch' is not installed/,
    );
    const badMap = await cluster.cli("node1", ["stonith", "create", "X", "fence_oci", "pcmk_host_map=node1"]);
    assert.match(
      badMap.stderr,
      /^Error: FLOATIP_E_STONITH_INVALID: pcmk_host_map entry 'node1' is not node:plug/,
    );
    const taken = await cluster.cli("node1", ["stonith", "create", "Cluster_VIP", "fence_oci"]);
    assert.match(taken.stderr, /^Error: FLOATIP_E_ID_EXISTS: 'Cluster_VIP' already exists/);
    const missing = await cluster.cli("node1", ["stonith", "delete", "Nope"]);
    assert.match(missing.stderr, /^Error: FLOATIP_E_STONITH_UNKNOWN: Resource 'Nope' does not exist/);

    const reboot = await cluster.must("node1", ["stonith", "fence", "node2"]);
    assert.match(reboot, /^Node: node2 fenced \(reboot by OciFence/);
    await waitUntil("node2 powered back on", 20_000, () => cloud.powerEvents.length === 1, 50);
    assert.deepEqual(
      cloud.powerEvents.map((p) => [p.node, p.action]),
      [["node2", "RESET"]],
    );
    await cloud.powerSettled();
    await cluster.waitForStatus("node1", (s) => s.online.includes("node2"), 30_000, "node2 back online");
    assert.equal(await answers(bed, "node2"), true);

    const off = await cluster.must("node1", ["stonith", "fence", "node2", "--off"]);
    assert.match(off, /^Node: node2 fenced \(off by OciFence/);
    assert.equal(await instanceState(cloud, "node2"), "STOPPED");
    await cloud.powerSettled();
    assert.equal(await answers(bed, "node2"), false, "node2's namespace no longer answers");
    await cluster.waitForStatus("node1", (s) => s.offline.includes("node2"), 10_000, "node2 offline");
    const history = await cluster.must("node1", ["stonith", "history"]);
    assert.match(history, /^off of node2 successful: delegate=OciFence, origin=node1, reason=manual/m);
    assert.match(history, /^reboot of node2 successful: delegate=OciFence, origin=node1, reason=manual/m);
    // The node fenced by hand is clean: losing it does not fence it a second time.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(cloud.powerEvents.length, 2);
    const wrong = await cluster.cli("node1", ["stonith", "fence", "node9"]);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /^Error: FLOATIP_E_NODE_UNKNOWN: Node 'node9' does not appear to exist in configuration\n$/,
    );
    t.diagnostic(history);
  },
);
