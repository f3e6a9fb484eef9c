import assert from "node:assert/strict";
import { test } from "node:test";
import { createBed } from "../tools/testbed/bed.ts";
import { EmulatedCloud } from "../tools/testbed/cloud-bed.ts";
import { startProxyInBed, type BedProxy } from "../tools/testbed/connect-proxy.ts";
import { FloatipCluster, waitForFailover } from "../tools/testbed/floatip-cluster.ts";
import { mustRun } from "../tools/testbed/netns.ts";
import { startProbe, startResponders } from "../tools/testbed/probe.ts";

/**
 * Instances without a service gateway: the nodes cannot reach the region's endpoints directly (the route
 * is prohibited in their namespaces), only through an HTTPS proxy named by https_proxy. The daemons'
 * federation and Core calls must go through it by CONNECT; instance metadata must not, although
 * http_proxy names the same proxy and no_proxy does not mention 169.254.169.254.
 */

const VIP = "10.0.0.200";
const PORT = 7000;
const isRoot = process.getuid?.() === 0;

void test(
  "through an HTTPS proxy: federation and Core calls are tunnelled by CONNECT, metadata is not, and a failover works",
  { skip: !isRoot, timeout: 180_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "routed" });
    const parts: { cloud?: EmulatedCloud; cluster?: FloatipCluster; proxy?: BedProxy } = {};
    t.after(async () => {
      await parts.cluster?.destroy();
      await parts.proxy?.stop();
      await parts.cloud?.stop();
      await bed.destroy();
    });
    const cloud = (parts.cloud = await EmulatedCloud.start(bed, { latencyMs: 50 }));
    const { federation, core } = cloud.endpoints;
    const proxy = (parts.proxy = await startProxyInBed(bed, {
      [federation]: bed.apiAddr,
      [core]: bed.apiAddr,
    }));
    for (const node of bed.nodes) {
      await mustRun("ip", ["-n", bed.nodeNs(node), "route", "add", "prohibit", `${bed.apiAddr}/32`]);
    }
    const cluster = (parts.cluster = new FloatipCluster(bed, ["node1", "node2"], {
      ...cloud.nodeEnv,
      https_proxy: proxy.url,
      // What breaks other tools: a plain-HTTP proxy too, and no_proxy without the metadata address.
      http_proxy: proxy.url,
      no_proxy: "localhost,127.0.0.1",
      FLOATIP_OCI_CLOUD_CHECK_INTERVAL_MS: "2000",
      FLOATIP_OCI_LEASE_MS: "6000",
    }));
    await startResponders(bed, PORT);
    await cluster.startAll();
    await cluster.setup({ name: "proxied", password: "proxy-secret" });
    await cluster.createVip({ vip: VIP, monitorInterval: "1s" });
    assert.equal(cloud.holderOf(VIP), "node1");

    const probe = await startProbe(bed, VIP, PORT);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await bed.linkDown("node1");
    await waitForFailover(cloud, cluster, VIP, "node2", 30_000);
    const report = await probe.stop();
    assert.equal(report.lastResponder, "node2");
    t.diagnostic(`client outage through the proxy ${report.longestOutageMs} ms`);

    const seen = (ev: string, target: string, from: string) =>
      proxy.records.some((r) => r.ev === ev && r.target === target && r.from === from);
    for (const node of ["node1", "node2"]) {
      const from = bed.nodeAddr(node);
      assert.ok(seen("connect", `${federation}:443`, from), `${node}'s federation went through the proxy`);
      assert.ok(seen("connect", `${core}:443`, from), `${node}'s Core calls went through the proxy`);
    }
    assert.deepEqual(
      proxy.records.filter((r) => r.ev !== "connect"),
      [],
      "nothing else reached the proxy: no metadata request, no other name",
    );
    assert.ok(!proxy.records.some((r) => r.target.includes(bed.metadataAddr)));
  },
);
