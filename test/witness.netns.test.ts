import assert from "node:assert/strict";
import { test } from "node:test";
import type { StatusSnapshot } from "../src/api/status-types.ts";
import { createBed, type Bed } from "../tools/testbed/bed.ts";
import { FloatipCluster } from "../tools/testbed/floatip-cluster.ts";
import { FloatipWitness } from "../tools/testbed/floatip-witness.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";

const VIP = "10.0.0.200";
const PASSWORD = "hacluster-secret";
const isRoot = process.getuid?.() === 0;

async function hasVip(bed: Bed, node: string): Promise<boolean> {
  const out = await bed.execIn(bed.nodeNs(node), "ip", ["-o", "-4", "addr", "show", "dev", "eth0"]);
  return out.stdout.includes(`inet ${VIP}/`);
}

const vipOn = (s: StatusSnapshot): string =>
  s.resources.find((r) => r.id === "Cluster_VIP")?.runningOn.join() ?? "";

/**
 * Two nodes and a witness in a third namespace on the same subnet. The witness namespace is a bed "node"
 * that runs no cluster daemon, so bed.partition can keep it on either side or on both.
 */
void test(
  "wait_for_all holds a lone fresh node; the witness decides 50:50 splits and survives its restart",
  { skip: !isRoot, timeout: 240_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1", "node2", "witness"], clientSubnet: "same" });
    const cluster = new FloatipCluster(bed, ["node1", "node2"]);
    const witness = new FloatipWitness(bed, bed.nodeNs("witness"), bed.nodeAddr("witness"));
    t.after(async () => {
      await witness.destroy();
      await cluster.destroy();
      await bed.destroy();
    });
    await cluster.startAll();
    for (const n of cluster.nodes) await cluster.must(n, ["passwd", "--stdin"], `${PASSWORD}\n`);
    const nodeArgs = cluster.nodes.flatMap((n) => [n, `addr=${bed.nodeAddr(n)}`]);
    await cluster.must("node1", ["cluster", "auth", ...nodeArgs, "-u", "hacluster", "-p", PASSWORD]);
    await cluster.must("node1", ["cluster", "setup", "--name", "witness-test", ...nodeArgs]);

    await t.test("a fresh two-node cluster with one node started does not start the VIP", async () => {
      await cluster.must("node1", ["cluster", "start"]);
      await cluster.must("node1", [
        "resource",
        "create",
        "Cluster_VIP",
        "ocf:heartbeat:IPaddr2",
        `ip=${VIP}`,
        "cidr_netmask=24",
        "op",
        "monitor",
        "interval=5s",
      ]);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const s = await cluster.status("node1");
      assert.equal(vipOn(s), "");
      assert.equal(s.quorate, false);
      assert.equal(s.quorum?.waitingForAll, true);
      assert.equal(await hasVip(bed, "node1"), false);
      const q = await cluster.must("node1", ["quorum", "status"]);
      assert.match(q, /Quorate:\s+No/);
      assert.match(q, /Flags:\s+2Node WaitForAll/);
      assert.match(await cluster.must("node1", ["status"]), /waiting for all nodes \(wait_for_all\)/);
      assert.match(await cluster.must("node1", ["quorum", "config"]), /wait_for_all: 1 \(from two_node\)/);
    });

    await t.test("quorum unblock lets it start; the peer joins later", async () => {
      await cluster.must("node1", ["quorum", "unblock", "--force"]);
      await cluster.waitForStatus("node1", (s) => vipOn(s) === "node1", 15_000, "VIP on node1 after unblock");
      assert.equal(await hasVip(bed, "node1"), true);
      await cluster.must("node1", ["cluster", "start", "node2"]);
      await cluster.waitForStatus("node2", (s) => s.online.length === 2 && s.quorate, 15_000, "node2 joined");
      const again = await cluster.cli("node1", ["quorum", "unblock", "--force"]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^Error: FLOATIP_E_QUORUM_NOT_BLOCKED: /);
    });

    await t.test("the witness is authorised like a node and added as the quorum device", async () => {
      await witness.start(PASSWORD);
      const onWitness = await witness.cli(["status"]);
      assert.match(onWitness.stderr, /^Error: FLOATIP_E_WITNESS_ONLY: /);
      const noAuth = await cluster.cli("node1", ["quorum", "device", "add", "model", "net", "host=witness"]);
      assert.match(noAuth.stderr, /FLOATIP_E_NOT_AUTHORIZED/);
      await cluster.must("node1", [
        "host",
        "auth",
        "witness",
        `addr=${witness.addr}`,
        "-u",
        "hacluster",
        "-p",
        PASSWORD,
      ]);
      await cluster.must("node1", [
        "quorum",
        "device",
        "add",
        "model",
        "net",
        "host=witness",
        "algorithm=ffsplit",
      ]);
      for (const n of cluster.nodes) {
        await cluster.waitForStatus(
          n,
          (s) => s.quorum?.device?.vote === "granted" && s.quorum.expectedVotes === 3,
          15_000,
          `${n} has the witness vote`,
        );
      }
      const q = await cluster.must("node2", ["quorum", "status"]);
      assert.match(q, /Expected votes:\s+3/);
      assert.match(q, /Total votes:\s+3/);
      assert.match(q, /Flags:\s+Quorate Qdevice/);
      assert.match(
        await cluster.must("node1", ["status"]),
        /Quorum device: witness \(net, ffsplit\): vote granted/,
      );
      assert.match(await cluster.must("node1", ["quorum", "device", "status"]), /Vote:\s+ACK/);
      const w = await witness.status();
      assert.deepEqual(
        w.clusters.map((c) => c.cluster),
        ["witness-test"],
      );
      assert.deepEqual(w.clusters[0]?.holder, [1, 2]);
      const again = await cluster.cli("node1", ["quorum", "device", "add", "model", "net", "host=witness"]);
      assert.match(again.stderr, /^Error: FLOATIP_E_QDEVICE_EXISTS: /);
    });

    await t.test(
      "(a) partition node1|node2, both reach the witness: only node1's side stays quorate",
      async () => {
        await bed.partition(["node1"], ["node2"]);
        await cluster.waitForStatus(
          "node2",
          (s) => s.online.length === 1 && !s.quorate,
          15_000,
          "node2 inquorate",
        );
        await cluster.waitForStatus(
          "node1",
          (s) => s.online.length === 1 && s.quorate,
          15_000,
          "node1 quorate alone",
        );
        // Long enough for any wrong start on node2 to show.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        const [s1, s2] = [await cluster.status("node1"), await cluster.status("node2")];
        assert.equal(s1.quorate, true);
        assert.equal(s2.quorate, false);
        assert.equal(s1.quorum?.device?.vote, "granted");
        assert.equal(s2.quorum?.device?.vote, "denied");
        assert.equal(vipOn(s1), "node1");
        assert.equal(await hasVip(bed, "node1"), true);
        assert.equal(await hasVip(bed, "node2"), false);
        const events = JSON.parse(
          `[${(await cluster.must("node2", ["events", "--json", "--type", "quorum"])).trim().split("\n").join(",")}]`,
        ) as { summary: string }[];
        assert.ok(
          events.some((e) => e.summary.startsWith("quorum lost")),
          JSON.stringify(events),
        );
        assert.deepEqual((await witness.status()).clusters[0]?.holder, [1]);
      },
    );

    await t.test(
      "(b) the VIP holder cut off from node2 and the witness: node2 takes over, node1 stops",
      async () => {
        await bed.heal();
        await cluster.waitForStatus("node1", (s) => s.online.length === 2 && s.quorate, 15_000, "healed");
        await cluster.waitForStatus(
          "node2",
          (s) => s.quorum?.device?.vote === "granted",
          15_000,
          "node2 vote back",
        );
        await bed.partition(["node1"], ["node2", "witness"]);
        await cluster.waitForStatus(
          "node2",
          (s) => s.quorate && vipOn(s) === "node2",
          20_000,
          "VIP on node2",
        );
        await waitUntil("node2 holds the address", 10_000, () => hasVip(bed, "node2"));
        await cluster.waitForStatus("node1", (s) => !s.quorate, 15_000, "node1 inquorate");
        await waitUntil("node1 removed the address", 15_000, async () => !(await hasVip(bed, "node1")));
        assert.deepEqual((await witness.status()).clusters[0]?.holder, [2]);
      },
    );

    await t.test(
      "(c) a witness restart: the two nodes keep quorum, and the witness resumes voting",
      async () => {
        await bed.heal();
        for (const n of cluster.nodes) {
          await cluster.waitForStatus(
            n,
            (s) => s.online.length === 2 && s.quorum?.device?.vote === "granted",
            20_000,
            `${n} healed`,
          );
        }
        const holder = vipOn(await cluster.status("node2"));
        await witness.kill("SIGKILL");
        await cluster.waitForStatus("node1", (s) => s.quorum?.device?.vote === "denied", 15_000, "vote gone");
        for (const n of cluster.nodes) {
          const s = await cluster.status(n);
          assert.equal(s.quorate, true, `${n} keeps quorum with 2 of 3 votes`);
          assert.equal(s.quorum?.totalVotes, 2);
        }
        await witness.start();
        for (const n of cluster.nodes) {
          await cluster.waitForStatus(
            n,
            (s) => s.quorum?.device?.vote === "granted",
            20_000,
            `${n} vote back`,
          );
        }
        const w = await witness.status();
        assert.deepEqual(w.clusters[0]?.holder, [1, 2]);
        assert.equal(vipOn(await cluster.status("node1")), holder, "the VIP did not move");
      },
    );

    await t.test("quorum device remove: back to two_node", async () => {
      await cluster.must("node1", ["quorum", "device", "remove"]);
      await cluster.waitForStatus(
        "node2",
        (s) => s.quorum?.device === null && s.quorum.expectedVotes === 2,
        10_000,
        "no device",
      );
      assert.deepEqual((await witness.status()).clusters, []);
    });
  },
);
