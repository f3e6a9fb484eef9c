import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createBed } from "../tools/testbed/bed.ts";
import { FloatipCluster } from "../tools/testbed/floatip-cluster.ts";

/** Real OCF scripts from Debian's resource-agents, run by floatip daemons in network namespaces. */

const isRoot = process.getuid?.() === 0;
const hasAgents = existsSync("/usr/lib/ocf/resource.d/heartbeat/Dummy");

void test(
  "the real ocf:heartbeat:Dummy and ocf:heartbeat:IPaddr2 start, are monitored, fail, recover and stop under floatip",
  { skip: !isRoot || !hasAgents, timeout: 120_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "same" });
    const cluster = new FloatipCluster(bed, ["node1", "node2"]);
    t.after(async () => {
      await cluster.destroy();
      await bed.destroy();
    });
    await cluster.startAll();
    await cluster.setup({
      name: "ocf-test",
      password: "ocf-secret",
    });
    await cluster.must("node1", [
      "resource",
      "create",
      "D1",
      "ocf:heartbeat:Dummy",
      "op",
      "monitor",
      "interval=1s",
    ]);
    await cluster.must("node1", [
      "resource",
      "create",
      "VIP2",
      "ocf:heartbeat:IPaddr2",
      "ip=10.0.0.201",
      "cidr_netmask=24",
      "op",
      "monitor",
      "interval=1s",
      "meta",
      "floatip-use-script=true",
    ]);
    const both = (s: Awaited<ReturnType<FloatipCluster["status"]>>) =>
      s.resources.every((r) => r.runningOn.length === 1 && r.failedOn.length === 0);
    const started = await cluster.waitForStatus("node1", both, 30_000, "both started");
    const dummyNode = started.resources.find((r) => r.id === "D1")?.runningOn[0] ?? "";
    const vipNode = started.resources.find((r) => r.id === "VIP2")?.runningOn[0] ?? "";
    // Dummy's state file lives in that node's own HA_RSCTMP, beside its admin socket.
    const stateFile = join(`${cluster.socket(dummyNode)}.rsctmp`, "Dummy-D1.state");
    assert.ok(existsSync(stateFile), `${stateFile} exists while D1 runs`);
    const shown = await bed.execIn(bed.nodeNs(vipNode), "ip", ["-o", "addr", "show"]);
    assert.match(shown.stdout, /10\.0\.0\.201\/24/, "the IPaddr2 script configured the address");

    // Failures: Dummy's state file vanishes, the VIP is removed by hand; monitors (exit 7) catch both.
    rmSync(stateFile);
    await bed.execIn(bed.nodeNs(vipNode), "ip", ["addr", "del", "10.0.0.201/24", "dev", "eth0"]);
    const recovered = await cluster.waitForStatus(
      "node1",
      (s) => both(s) && s.resources.every((r) => (Object.values(r.failCounts)[0] ?? 0) >= 1),
      30_000,
      "both failures counted and recovered",
    );
    assert.deepEqual(
      recovered.resources.map((r) => Object.values(r.failCounts).reduce((a, b) => a + b, 0)),
      [1, 1],
    );

    await cluster.must("node1", ["resource", "delete", "D1"]);
    await cluster.must("node1", ["resource", "delete", "VIP2"]);
    await cluster.waitForStatus("node1", (s) => s.resources.length === 0, 10_000, "deleted");
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && existsSync(stateFile)) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!existsSync(stateFile), "stop removed Dummy's state file");
    const after = await bed.execIn(bed.nodeNs(vipNode), "ip", ["-o", "addr", "show"]);
    assert.doesNotMatch(after.stdout, /10\.0\.0\.201\//, "stop removed the address");
  },
);
