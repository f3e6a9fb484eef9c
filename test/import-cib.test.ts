import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { callApi } from "../src/api/client.ts";
import type { StatusSnapshot } from "../src/api/status-types.ts";
import type { ClusterConfig } from "../src/config/schema.ts";
import { LoopbackDaemon } from "../tools/testbed/loopback-daemon.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";

/**
 * `import-cib` against one real daemon on loopback: every kind of thing it applies (fence device, group
 * with meta, move constraint, #uname rule, colocation, order, defaults, properties, alert) ends up in the
 * running configuration as the dry run showed it, and the resources run.
 */

const cib = (name: string) => fileURLToPath(new URL(`../src/config/testdata/cib/${name}`, import.meta.url));
let daemon: LoopbackDaemon;

before(async () => {
  daemon = await LoopbackDaemon.start({ name: "loopback-test" });
});
after(() => daemon.stop());

async function runningConfig(): Promise<ClusterConfig> {
  const status = await callApi<StatusSnapshot>({ socketPath: daemon.socket }, "GET", "/v1/status");
  assert.ok(status.config);
  return status.config;
}

interface Report {
  config: ClusterConfig;
  unconverted: { element: string; id: string; reason: string }[];
  applied: boolean;
  log?: string[];
}

void test("import-cib applies what the dry run shows, and the resources run", async () => {
  const dry = await daemon.cli(["--json", "import-cib", cib("one-node-full.xml"), "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  const planned = (JSON.parse(dry.stdout) as Report).config;
  assert.deepEqual(
    (JSON.parse(dry.stdout) as Report).unconverted.map((u) => u.id),
    ["location-fence_node1-node1--INFINITY"],
  );
  assert.equal((await runningConfig()).resources.length, 0, "the dry run changed nothing");

  const applied = await daemon.cli(["import-cib", cib("one-node-full.xml")]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /Imported into cluster 'loopback-test'/);

  const config = await runningConfig();
  assert.deepEqual(config.stonith, planned.stonith);
  assert.equal(config.stonith[0]?.type, "fence_ipmilan");
  assert.deepEqual(config.groups, planned.groups);
  assert.deepEqual(config.groups[0], {
    id: "app",
    resources: ["app-a", "app-b"],
    meta: { "resource-stickiness": "200" },
  });
  assert.deepEqual(
    config.resources.map((r) => [r.id, r.type, r.meta]),
    planned.resources.map((r) => [r.id, r.type, r.meta]),
  );
  assert.deepEqual(
    config.resources.find((r) => r.id === "app-a")?.ops.find((o) => o.name === "monitor"),
    { name: "monitor", intervalMs: 5000, timeoutMs: 10_000 },
  );
  assert.deepEqual(config.constraints.colocation, planned.constraints.colocation);
  assert.deepEqual(config.constraints.order, planned.constraints.order);
  const locations = (c: ClusterConfig) =>
    c.constraints.location.map((l) => `${l.resource}@${l.node}=${l.score}`).sort();
  assert.deepEqual(locations(config), locations(planned));
  assert.ok(
    config.constraints.location.some((l) => l.id === "cli-prefer-side"),
    "crm_resource's move constraint keeps its id, so `resource clear side` finds it",
  );
  assert.equal(config.properties["stonith-enabled"], "false");
  assert.equal(config.properties["no-quorum-policy"], "ignore");
  assert.equal(config.resourceDefaults["resource-stickiness"], "5");
  assert.deepEqual(config.alerts, planned.alerts);

  await waitUntil("the imported resources run on node1", 20_000, async () => {
    const status = await callApi<StatusSnapshot>({ socketPath: daemon.socket }, "GET", "/v1/status");
    return ["app-a", "app-b", "side"].every(
      (id) => status.resources.find((r) => r.id === id)?.runningOn.join() === "node1",
    );
  });
});

void test("a second import needs --force, which replaces everything", async () => {
  const refused = await daemon.cli(["import-cib", cib("one-node-full.xml")]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^Error: FLOATIP_E_CONFIG_NOT_EMPTY: cluster 'loopback-test' already has/);

  const forced = await daemon.cli(["--json", "import-cib", cib("one-node-full.xml"), "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  const report = JSON.parse(forced.stdout) as Report;
  assert.equal(report.applied, true);
  assert.deepEqual(report.log, ["Removed 3 resources, 1 fence devices and 1 alerts"]);
  const config = await runningConfig();
  assert.equal(config.resources.length, 3);
  assert.equal(config.stonith.length, 1);
  assert.equal(config.constraints.location.length, 2);
});

void test("a CIB of other nodes is refused before anything changes", async () => {
  const epochBefore = (await runningConfig()).epoch;
  const other = await daemon.cli(["import-cib", cib("seed.xml"), "--force"]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /^Error: FLOATIP_E_CIB_NODES_MISMATCH: the CIB's nodes \(node1, node2\)/);
  assert.equal((await runningConfig()).epoch, epochBefore);
});

void test("--corosync-conf gives node addresses to a dry run; unreadable files are one coded line", async () => {
  const dry = await daemon.cli([
    "--json",
    "import-cib",
    cib("oci-patched.xml"),
    "--corosync-conf",
    cib("oci-patched.corosync.conf"),
    "--dry-run",
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  const report = JSON.parse(dry.stdout) as Report;
  assert.deepEqual(
    report.config.nodes.map((n) => [n.name, n.addrs[0]]),
    [
      ["node1", "10.0.0.2"],
      ["node2", "10.0.0.3"],
    ],
  );
  assert.equal(report.applied, false);
  const missing = await daemon.cli([
    "import-cib",
    cib("oci-patched.xml"),
    "--corosync-conf",
    "/nonexistent/corosync.conf",
    "--dry-run",
  ]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    "Error: FLOATIP_E_CIB_READ: cannot read corosync.conf '/nonexistent/corosync.conf' (ENOENT)\n",
  );
});
