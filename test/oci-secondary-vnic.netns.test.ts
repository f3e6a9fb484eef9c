import assert from "node:assert/strict";
import { test } from "node:test";
import { createBed } from "../tools/testbed/bed.ts";
import { EmulatedCloud } from "../tools/testbed/cloud-bed.ts";
import { FloatipCluster, waitForFailover } from "../tools/testbed/floatip-cluster.ts";
import { mustRun } from "../tools/testbed/netns.ts";
import { startProbe, startResponders } from "../tools/testbed/probe.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";

/**
 * A VIP on a secondary VNIC: every node has a second VNIC (eth1) in 10.0.2.0/24, attached as OCI attaches
 * one (up, no address, no routes), and the VIP is in that subnet. The router drops what a node sends from
 * the VIP out of its primary VNIC (as OCI's source check does), so the client is served only if replies
 * leave through eth1. The service answers from the VIP itself, as a service bound to it does.
 */

const VIP = "10.0.2.200";
const PORT = 7000;
const isRoot = process.getuid?.() === 0;

interface RuleLine {
  priority: number;
  src?: string;
  table?: string;
}

async function sourceRulesFor(ns: string, ip: string): Promise<RuleLine[]> {
  const rules = JSON.parse(await mustRun("ip", ["-n", ns, "-j", "rule", "show"])) as RuleLine[];
  return rules.filter((r) => r.src === ip);
}

async function routeFrom(ns: string, to: string, from: string): Promise<string> {
  return (await mustRun("ip", ["-n", ns, "route", "get", to, "from", from])).trim();
}

async function tableRoutes(ns: string, table: string): Promise<string> {
  return (await mustRun("ip", ["-n", ns, "route", "show", "table", table])).trim();
}

void test(
  "a VIP on a secondary VNIC: found by MAC, replies leave through that VNIC, it fails over, and stop removes its rule and table",
  { skip: !isRoot, timeout: 180_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "routed", secondaryVnics: true });
    const parts: { cloud?: EmulatedCloud; cluster?: FloatipCluster } = {};
    t.after(async () => {
      await parts.cluster?.destroy();
      await parts.cloud?.stop();
      await bed.destroy();
    });
    const cloud = (parts.cloud = await EmulatedCloud.start(bed, { latencyMs: 50 }));
    for (const node of bed.nodes) {
      const ns = bed.nodeNs(node);
      // The service binds the VIP before it is here, as services on an HA address are set up to.
      await bed.execIn(ns, "sh", ["-c", "echo 1 > /proc/sys/net/ipv4/ip_nonlocal_bind"]);
      const eth1 = await mustRun("ip", ["-n", ns, "-4", "addr", "show", "dev", "eth1"]);
      assert.doesNotMatch(eth1, /inet /, `${node}'s secondary VNIC starts without an address`);
    }
    const cluster = (parts.cluster = new FloatipCluster(bed, ["node1", "node2"], {
      ...cloud.nodeEnv,
      FLOATIP_OCI_CLOUD_CHECK_INTERVAL_MS: "2000",
      FLOATIP_OCI_LEASE_MS: "6000",
    }));
    await startResponders(bed, PORT, bed.nodes, VIP);
    await cluster.startAll();
    await cluster.setup({ name: "second-vnic", password: "vnic-secret" });
    await cluster.createVip({ vip: VIP, monitorInterval: "1s" });
    assert.equal(cloud.holderOf(VIP), "node1");
    const state = (await cloud.state()) as { privateIps: { ipAddress: string; vnicId: string }[] };
    assert.match(
      state.privateIps.find((p) => p.ipAddress === VIP)?.vnicId ?? "",
      /node1\/1|vnic/,
      "the private IP is on a VNIC",
    );

    const ns1 = bed.nodeNs("node1");
    assert.match(
      await mustRun("ip", ["-n", ns1, "-4", "addr", "show", "dev", "eth1"]),
      /inet 10\.0\.2\.200\/24/,
    );
    const [rule] = await sourceRulesFor(ns1, VIP);
    assert.ok(rule, "a source rule for the VIP");
    assert.equal(rule.priority, 1000);
    const table = rule.table ?? "";
    assert.match(await tableRoutes(ns1, table), /^default via 10\.0\.2\.1 dev eth1/m);
    assert.match(await routeFrom(ns1, bed.clientAddr, VIP), /via 10\.0\.2\.1 dev eth1 table/);

    const probe = await startProbe(bed, VIP, PORT);
    await waitUntil(
      "the client to be answered by node1",
      10_000,
      () => probe.snapshot().lastResponder === "node1",
      50,
    );

    // A network restart that flushes the rule: the monitor puts it back.
    await mustRun("ip", ["-n", ns1, "rule", "del", "from", `${VIP}/32`, "priority", "1000"]);
    await waitUntil(
      "the monitor to restore the source rule",
      10_000,
      async () => (await sourceRulesFor(ns1, VIP)).length === 1,
      100,
    );

    await bed.linkDown("node1");
    await waitForFailover(cloud, cluster, VIP, "node2", 30_000);
    await waitUntil(
      "the client to be answered by node2",
      15_000,
      () => probe.snapshot().lastResponder === "node2",
      50,
    );
    const report = await probe.stop();
    t.diagnostic(`client outage ${report.longestOutageMs} ms over the secondary VNIC`);
    const ns2 = bed.nodeNs("node2");
    assert.match(await routeFrom(ns2, bed.clientAddr, VIP), /via 10\.0\.2\.1 dev eth1 table/);
    const [rule2] = await sourceRulesFor(ns2, VIP);
    const table2 = rule2?.table ?? "";
    assert.ok(table2 !== "");

    await cluster.must("node2", ["resource", "disable", "Cluster_VIP"]);
    await cluster.waitForStatus(
      "node2",
      (s) => s.resources[0]?.runningOn.length === 0,
      30_000,
      "VIP stopped",
    );
    assert.doesNotMatch(
      await mustRun("ip", ["-n", ns2, "-4", "addr", "show", "dev", "eth1"]),
      /10\.0\.2\.200/,
    );
    assert.deepEqual(await sourceRulesFor(ns2, VIP), [], "stop removed the rule");
    assert.equal(await tableRoutes(ns2, table2), "", "and emptied the table");
  },
);
