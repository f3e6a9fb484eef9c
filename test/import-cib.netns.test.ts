import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { callApi } from "../src/api/client.ts";
import type { StatusSnapshot } from "../src/api/status-types.ts";
import { createBed } from "../tools/testbed/bed.ts";
import { EmulatedCloud } from "../tools/testbed/cloud-bed.ts";
import { FloatipCluster } from "../tools/testbed/floatip-cluster.ts";
import { startProbe, startResponders } from "../tools/testbed/probe.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";

/**
 * `import-cib` end to end: the seed's CIB (pcs cluster cib after the recipe) imported into two fresh
 * nodes of an emulated OCI region sets the cluster up, runs Cluster_VIP as a cloud VIP, and the VIP
 * moves in the cloud when its node is lost.
 */

const VIP = "10.0.0.200";
const PORT = 7000;
const SEED_CIB = fileURLToPath(new URL("../src/config/testdata/cib/seed.xml", import.meta.url));
const isRoot = process.getuid?.() === 0;

void test(
  "the seed's CIB imported into a fresh 2-node cluster runs its VIP in the cloud and fails over on node loss",
  { skip: !isRoot, timeout: 180_000 },
  async (t) => {
    const nodes = ["node1", "node2"];
    const bed = await createBed({ nodes, clientSubnet: "routed" });
    const parts: { cloud?: EmulatedCloud; cluster?: FloatipCluster } = {};
    t.after(async () => {
      await parts.cluster?.destroy();
      await parts.cloud?.stop();
      await bed.destroy();
    });
    const cloud = (parts.cloud = await EmulatedCloud.start(bed, { latencyMs: 50 }));
    const cluster = (parts.cluster = new FloatipCluster(bed, nodes, {
      ...cloud.nodeEnv,
      FLOATIP_OCI_CLOUD_CHECK_INTERVAL_MS: "2000",
      FLOATIP_OCI_LEASE_MS: "6000",
    }));
    await startResponders(bed, PORT);
    await cluster.startAll();
    // Seed steps 7-8 (hacluster's password, cluster auth); setup and resources come from the CIB.
    for (const n of nodes) await cluster.must(n, ["passwd", "--stdin"], "hacluster-secret\n");
    const nodeArgs = nodes.flatMap((n) => [n, `addr=${bed.nodeAddr(n)}`]);
    await cluster.must("node1", [
      "cluster",
      "auth",
      ...nodeArgs,
      "-u",
      "hacluster",
      "-p",
      "hacluster-secret",
    ]);

    const dry = await cluster.must("node1", ["import-cib", SEED_CIB, ...nodeArgs, "--dry-run"]);
    assert.match(dry, /Resource: Cluster_VIP \(ocf:heartbeat:IPaddr2\)/);
    assert.match(dry, /Everything in the CIB was converted\./);
    assert.match(dry, /dry run: nothing was changed/);
    assert.equal((await cluster.status("node1")).configured, false, "a dry run sets nothing up");

    const out = await cluster.must("node1", ["import-cib", SEED_CIB, ...nodeArgs]);
    assert.match(out, /^node2: Succeeded$/m);
    assert.match(out, /Imported into cluster 'vip-failover-test'/);
    assert.match(out, /runs as an OCI VIP/, "converted again with the cloud the new cluster detected");

    const running = await cluster.waitForStatus(
      "node1",
      (s) => s.online.length === 2 && s.resources.find((r) => r.id === "Cluster_VIP")?.runningOn.length === 1,
      30_000,
      "Cluster_VIP running",
    );
    const holder = running.resources.find((r) => r.id === "Cluster_VIP")?.runningOn[0] ?? "";
    await waitUntil(
      "the cloud holds the VIP where the cluster runs it",
      20_000,
      () => cloud.holderOf(VIP) === holder,
    );
    // `status --json` leaves the configuration out; the admin API has it.
    const { config } = await callApi<StatusSnapshot>(
      { socketPath: cluster.socket("node1") },
      "GET",
      "/v1/status",
    );
    assert.ok(config);
    assert.equal(config.name, "vip-failover-test");
    assert.equal(config.properties["cloud"], "oci");
    assert.equal(config.properties["stonith-enabled"], "false");
    assert.deepEqual(config.resources[0]?.params, { cidr_netmask: "24", ip: VIP });
    assert.deepEqual(
      config.resources[0]?.ops.map((o) => [o.name, o.intervalMs, o.timeoutMs]),
      [
        ["start", 0, 60_000],
        ["stop", 0, 60_000],
        ["monitor", 10_000, 20_000],
      ],
    );

    const again = await cluster.cli("node1", ["import-cib", SEED_CIB]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Error: FLOATIP_E_CONFIG_NOT_EMPTY: /);
    const forced = await cluster.cli("node1", ["--json", "import-cib", SEED_CIB, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    const report = JSON.parse(forced.stdout) as { applied: boolean; unconverted: unknown[]; log: string[] };
    assert.equal(report.applied, true);
    assert.deepEqual(report.unconverted, []);
    assert.ok(report.log.includes("Removed 1 resources, 0 fence devices and 0 alerts"));
    const reimported = await cluster.waitForStatus(
      "node1",
      (s) => s.resources.find((r) => r.id === "Cluster_VIP")?.runningOn.length === 1,
      30_000,
      "Cluster_VIP running after the forced re-import",
    );
    const holderNow = reimported.resources.find((r) => r.id === "Cluster_VIP")?.runningOn[0] ?? "";
    await waitUntil("the cloud follows the re-import", 20_000, () => cloud.holderOf(VIP) === holderNow);

    const survivor = nodes.find((n) => n !== holderNow) ?? "";
    const probe = await startProbe(bed, VIP, PORT);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await bed.linkDown(holderNow);
    await waitUntil(
      `the VIP on ${survivor} in the cloud`,
      30_000,
      () => cloud.holderOf(VIP) === survivor,
      50,
    );
    await cluster.waitForStatus(
      survivor,
      (s) => s.resources.find((r) => r.id === "Cluster_VIP")?.runningOn.join() === survivor,
      30_000,
      `Cluster_VIP on ${survivor}`,
    );
    const outage = await probe.stop();
    assert.equal(outage.lastResponder, survivor);
    t.diagnostic(`failover from ${holderNow} to ${survivor}; client outage ${outage.longestOutageMs} ms`);
  },
);
