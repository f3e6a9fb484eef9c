import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { Etcd3 } from "etcd3";
import type { AgentContext, AgentResult, ResourceAgent } from "../src/agents/agent.ts";
import { systemClock } from "../src/clock/system-clock.ts";
import { clusterConfigSchema, type ClusterConfig } from "../src/config/schema.ts";
import { ClusterNode, peersOf } from "../src/coordinator/cluster-node.ts";
import { EtcdCoordination } from "../src/coordinator/etcd-coordination.ts";
import { LocalExecutor } from "../src/coordinator/local-executor.ts";
import { EtcdMembers } from "../src/membership/etcd-members.ts";
import { EtcdSession } from "../src/membership/etcd-session.ts";
import { EventLog } from "../src/observability/event-log.ts";
import { createLogger } from "../src/observability/logger.ts";
import { ETCD_BINARY, startLoopbackEtcd, type EtcdMember } from "../tools/testbed/etcd-server.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";

/**
 * etcd coordination against a real etcd (Debian's etcd-server) on a random loopback address: sessions,
 * membership, the election and guarded owner writes, then whole ClusterNodes moving resources when a
 * node's lease runs out, and freezing while etcd is down.
 */

/** Debian's etcd-server (CI installs it); without it there is nothing real to test against. */
const noEtcd = existsSync(ETCD_BINARY)
  ? false
  : `${ETCD_BINARY} is not installed (apt-get install etcd-server)`;
const logger = createLogger({ name: "etcd-test", level: process.env["FLOATIP_LOG_LEVEL"] ?? "silent" });
let etcd: EtcdMember;
let clusterSeq = 0;

before(async () => {
  if (!noEtcd) etcd = await startLoopbackEtcd();
});
after(async () => {
  await etcd?.stop();
});

interface Stack {
  name: string;
  session: EtcdSession;
  members: EtcdMembers;
  coordination: EtcdCoordination;
  events: EventLog;
}

const stacks: Stack[] = [];
after(async () => {
  for (const s of stacks) {
    s.members.stop();
    await s.session.close({ revoke: false }).catch(() => undefined);
  }
});

function stack(cluster: string, name: string, id: number, peers: { id: number; name: string }[]): Stack {
  const events = new EventLog({ node: () => name, now: () => Date.now() });
  const session = new EtcdSession({
    endpoints: [etcd.clientUrl],
    cluster,
    node: name,
    ttlSeconds: 2,
    clock: systemClock,
    logger,
  });
  const members = new EtcdMembers({ self: { id, name }, peers, session, clock: systemClock });
  const coordination = new EtcdCoordination({
    session,
    selfName: name,
    endpoints: [etcd.clientUrl],
    clock: systemClock,
    logger,
    events,
  });
  const s = { name, session, members, coordination, events };
  stacks.push(s);
  return s;
}

const peerList = [
  { id: 1, name: "n1" },
  { id: 2, name: "n2" },
  { id: 3, name: "n3" },
];

void test(
  "members, the DC election and owner writes guarded by leadership, on a real etcd",
  { skip: noEtcd },
  async () => {
    const cluster = `t${process.pid}-${clusterSeq++}`;
    const views = new Map<string, number[]>();
    const all = peerList.map((p) => {
      const s = stack(cluster, p.name, p.id, peerList);
      s.members.on("view", (v) => views.set(p.name, v.alive));
      return s;
    });
    const [a, b, c] = all as [Stack, Stack, Stack];
    a.session.start();
    await waitUntil(
      "n1 unfrozen and DC",
      10_000,
      () => a.coordination.frozen() === null && a.coordination.dc() === "n1",
    );
    b.session.start();
    c.session.start();
    for (const s of all) s.members.sendNow();
    await waitUntil("every node sees all three", 10_000, () =>
      all.every((s) => s.coordination.frozen() === null && views.get(s.name)?.join() === "1,2,3"),
    );
    assert.deepEqual(
      all.map((s) => s.coordination.dc()),
      ["n1", "n1", "n1"],
      "the first candidate leads",
    );
    // The same keys as etcd3's own Election: its reader names the same leader.
    const client = new Etcd3({ hosts: [etcd.clientUrl] });
    try {
      assert.equal(await client.namespace(`/floatip/${cluster}/`).election("dc").leader(), "n1");

      const guardA = a.session.electionKey;
      const guardB = b.session.electionKey;
      assert.ok(guardA && guardB);
      const owner = a.session.keys.owner("vip1");
      assert.equal((await a.session.guardedWrite(guardA, { [owner]: "n2" }, [])).written, true);
      // n2's guard holds for n2's own key, but n2 is not the leader: the coordinator refuses to write for it.
      b.coordination.publishPlacement({ vip1: "n3" }, ["vip1"]);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await client.get(owner).string(), "n2", "a non-leader writes no owners");

      // A clean stop revokes the lease: n1's member and election keys go at once, another node leads.
      await a.session.close({ revoke: true });
      a.members.stop();
      await waitUntil(
        "one new leader and n1 gone",
        5_000,
        () =>
          b.coordination.dc() !== "n1" &&
          b.coordination.dc() !== null &&
          c.coordination.dc() === b.coordination.dc() &&
          [b, c].every((s) => views.get(s.name)?.join() === "2,3"),
      );
      const leader = b.coordination.dc() === "n2" ? b : c;
      const follower = leader === b ? c : b;
      // A deposed leader's guard no longer matches anything.
      assert.equal((await leader.session.guardedWrite(guardA, { [owner]: "n3" }, [])).written, false);
      follower.coordination.publishPlacement({ vip1: "n1" }, ["vip1"]);
      leader.coordination.publishPlacement({ vip1: "n3" }, ["vip1"]);
      await waitUntil(
        "the new DC's owner write",
        5_000,
        async () => (await client.get(owner).string()) === "n3",
      );
      await waitUntil("seen by every node", 5_000, () =>
        [b, c].every((s) => s.coordination.status().owners["vip1"]?.node === "n3"),
      );
    } finally {
      client.close();
    }
  },
);

/** A resource "in the cloud": one holder at a time, like a VIP's VNIC. */
class FakeCloud {
  readonly holder = new Map<string, string | null>();
  readonly calls: string[] = [];
  agentFor(node: string): ResourceAgent {
    const { holder, calls } = this;
    const result = (ctx: AgentContext): AgentResult => {
      const h = holder.get(ctx.resourceId) ?? null;
      if (h === node) return { state: "running" };
      return h === null
        ? { state: "stopped" }
        : { state: "stopped", displaced: true, message: `held by ${h}` };
    };
    return {
      async start(ctx) {
        calls.push(`start ${ctx.resourceId} ${node}`);
        holder.set(ctx.resourceId, node);
        return { state: "running" };
      },
      async stop(ctx) {
        calls.push(`stop ${ctx.resourceId} ${node}`);
        if (holder.get(ctx.resourceId) === node) holder.set(ctx.resourceId, null);
        return { state: "stopped" };
      },
      monitor: async (ctx) => result(ctx),
      probe: async (ctx) => {
        const r = result(ctx);
        return r.displaced ? { state: "stopped" } : r;
      },
      validate: () => [],
    };
  }
}

function config(cluster: string, resources: string[]): ClusterConfig {
  return clusterConfigSchema.parse({
    formatVersion: 1,
    name: cluster,
    epoch: 1,
    nodes: peerList.map((p) => ({ name: p.name, id: p.id, addrs: ["127.0.0.1"] })),
    properties: { coordination: "etcd", "etcd-endpoints": etcd.clientUrl },
    resourceDefaults: { "resource-stickiness": "100" },
    // Spread the resources over the nodes whichever starts first, so a node other than the DC holds some.
    constraints: {
      location: resources.map((id, i) => ({
        id: `prefer-${id}`,
        resource: id,
        node: peerList[i % peerList.length]?.name ?? "n1",
        score: 50,
      })),
    },
    resources: resources.map((id) => ({
      id,
      type: "ocf:heartbeat:Dummy",
      ops: [{ name: "monitor", intervalMs: 300, timeoutMs: 2000 }],
    })),
  });
}

interface RunningNode extends Stack {
  node: ClusterNode;
  executor: LocalExecutor;
}

function startNode(cluster: string, cfg: ClusterConfig, cloud: FakeCloud, name: string): RunningNode {
  const id = peerList.find((p) => p.name === name)?.id ?? 0;
  const s = stack(cluster, name, id, peersOf(cfg, name));
  let node: ClusterNode | null = null;
  const executor = new LocalExecutor({
    resolveAgent: () => cloud.agentFor(name),
    clock: systemClock,
    logger,
    events: { onChange: () => node?.refresh() },
  });
  node = new ClusterNode({
    selfName: name,
    config: cfg,
    membership: s.members,
    executor,
    clock: systemClock,
    logger,
    events: s.events,
    coordination: s.coordination,
    adoptConfig: () => false,
  });
  s.session.start();
  return { ...s, node, executor };
}

const settled = (nodes: RunningNode[], cloud: FakeCloud, resources: string[]) => () =>
  nodes.every((n) => n.coordination.frozen() === null) &&
  resources.every((r) => {
    const holder = cloud.holder.get(r) ?? null;
    const owners = nodes[0]?.coordination.status().owners ?? {};
    const running = nodes.filter((n) => n.node.view().reports[n.name]?.resources[r]?.state === "running");
    return (
      holder !== null && owners[r]?.node === holder && running.length === 1 && running[0]?.name === holder
    );
  });

void test(
  "ClusterNodes on etcd: owners follow placement, a node whose lease runs out loses its resources, a frozen node does nothing",
  { skip: noEtcd },
  async () => {
    const cluster = `t${process.pid}-${clusterSeq++}`;
    const resources = ["r1", "r2", "r3", "r4", "r5", "r6"];
    const cfg = config(cluster, resources);
    const cloud = new FakeCloud();
    const nodes = peerList.map((p) => startNode(cluster, cfg, cloud, p.name));
    try {
      await waitUntil(
        "every resource runs once, where etcd names its owner",
        20_000,
        settled(nodes, cloud, resources),
        50,
      );
      const before = nodes[0]?.coordination.status().owners ?? {};
      const victim = nodes.find(
        (n) => n.name !== nodes[0]?.coordination.dc() && Object.values(before).some((o) => o.node === n.name),
      );
      assert.ok(victim, "a non-DC node holds something");
      const lostResources = resources.filter((r) => before[r]?.node === victim.name);

      // A crash: the node stops renewing without revoking; etcd expires its lease after the TTL (2 s).
      const crashedAt = Date.now();
      victim.members.stop();
      await victim.executor.close();
      await victim.session.close({ revoke: false });
      const survivors = nodes.filter((n) => n !== victim);
      await waitUntil(
        "the lost node's resources run on survivors",
        15_000,
        () =>
          lostResources.every((r) => ![null, victim.name].includes(cloud.holder.get(r) ?? null)) &&
          settled(survivors, cloud, resources)(),
        50,
      );
      const tookMs = Date.now() - crashedAt;
      assert.ok(tookMs >= 1_500, `not before the lease could expire (${tookMs} ms)`);
      const afterOwners = survivors[0]?.coordination.status().owners ?? {};
      for (const r of lostResources) {
        assert.ok(
          BigInt(afterOwners[r]?.revision ?? "0") > BigInt(before[r]?.revision ?? "0"),
          "the owner revision grows",
        );
      }
      for (const r of resources.filter((x) => !lostResources.includes(x))) {
        assert.equal(afterOwners[r]?.node, before[r]?.node, `${r} did not move without a failure`);
      }

      // etcd down: every node freezes, nothing starts or stops, and all thaw when etcd is back.
      const callsBefore = cloud.calls.length;
      const holders = JSON.stringify([...cloud.holder]);
      await etcd.kill();
      await waitUntil(
        "survivors frozen",
        5_000,
        () => survivors.every((n) => n.coordination.frozen() !== null),
        20,
      );
      const status = survivors[0]?.node.view();
      assert.equal(status?.quorate, false);
      assert.match(status?.coordination?.frozen?.reason ?? "", /etcd unreachable/);
      assert.ok(
        survivors[0]?.events.since(0, ["quorum"]).some((e) => e.summary.startsWith("frozen:")),
        "the freeze is an event",
      );
      // Resources report running all along; monitors keep running but no start or stop is issued.
      await new Promise((r) => setTimeout(r, 3_000));
      assert.equal(
        cloud.calls.length,
        callsBefore,
        `no start or stop while frozen: ${cloud.calls.slice(callsBefore).join(", ")}`,
      );
      await etcd.restart();
      await waitUntil(
        "survivors unfrozen",
        20_000,
        () => survivors.every((n) => n.coordination.frozen() === null),
        50,
      );
      await waitUntil("settled again", 20_000, settled(survivors, cloud, resources), 50);
      assert.equal(JSON.stringify([...cloud.holder]), holders, "nothing moved across the etcd outage");
      assert.ok(survivors[0]?.events.since(0, ["quorum"]).some((e) => e.summary.startsWith("unfrozen:")));
    } finally {
      for (const n of nodes) {
        n.members.stop();
        await n.executor.close();
      }
    }
  },
);
