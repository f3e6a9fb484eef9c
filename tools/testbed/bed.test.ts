import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { runCommand } from "../../src/agents/command-runner.ts";
import { IpAddressAgent } from "../../src/agents/ip-address.ts";
import type { AgentContext } from "../../src/agents/agent.ts";
import { createBed, type Bed } from "./bed.ts";
import { listNamespaces } from "./netns.ts";
import { startProbe, startResponderIn, startResponders } from "./probe.ts";

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && "needs root";
const VIP = "10.0.0.200";
const PORT = 7000;

function agentOn(bed: Bed, node: string, garp = true): IpAddressAgent {
  const ns = bed.nodeNs(node);
  return new IpAddressAgent({
    garp,
    run: (cmd, args, opts) => runCommand("ip", ["netns", "exec", ns, cmd, ...args], opts),
  });
}

function ctx(params: Record<string, string>): AgentContext {
  return { resourceId: "vip", params, signal: AbortSignal.timeout(10_000) };
}

/** Sends one UDP datagram from inside `ns` and says whether `host` answered within 1 s. */
async function udpAnswers(bed: Bed, ns: string, host: string, port: number): Promise<boolean> {
  const script = `const s=require("dgram").createSocket("udp4");s.on("message",()=>process.exit(0));
    s.send("1",${port},${JSON.stringify(host)});setTimeout(()=>process.exit(1),1000);`;
  const out = await bed.execIn(ns, process.execPath, ["-e", script], { timeoutMs: 5000 });
  return out.code === 0;
}

async function neighbourMacAfterContact(bed: Bed, ns: string): Promise<string | undefined> {
  await udpAnswers(bed, ns, "10.0.0.1", PORT);
  return neighbourMac(bed, ns, "10.0.0.1");
}

async function neighbourMac(bed: Bed, ns: string, ip: string): Promise<string | undefined> {
  const out = await bed.execIn(ns, "ip", ["-j", "neigh", "show", ip]);
  const entries = JSON.parse(out.stdout || "[]") as { lladdr?: string }[];
  return entries[0]?.lladdr;
}

void test(
  "same subnet: the client follows the VIP to node2 by gratuitous ARP and the probe measures the gap",
  { skip, timeout: 60_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "same" });
    const [a1, a2] = [agentOn(bed, "node1"), agentOn(bed, "node2")];
    t.after(async () => {
      await Promise.all([a1.close(), a2.close()]);
      await bed.destroy();
    });
    await startResponders(bed, PORT);
    assert.equal((await a1.start(ctx({ ip: VIP }))).state, "running");
    const probe = await startProbe(bed, VIP, PORT);
    await sleep(300);
    assert.equal(probe.snapshot().lastResponder, "node1");
    assert.equal(await neighbourMac(bed, bed.clientNs, VIP), bed.nodeMac("node1"));

    assert.equal((await a1.stop(ctx({ ip: VIP }))).state, "stopped");
    await sleep(200);
    assert.equal((await a2.start(ctx({ ip: VIP }))).state, "running");
    await sleep(300);
    assert.equal(
      await neighbourMac(bed, bed.clientNs, VIP),
      bed.nodeMac("node2"),
      "GARP did not update the client",
    );
    const report = await probe.stop();
    t.diagnostic(JSON.stringify({ ...report, outages: report.outages.slice(0, 3) }));
    assert.equal(report.firstResponder, "node1");
    assert.equal(report.lastResponder, "node2");
    assert.deepEqual(
      report.responders.map((r) => r.node),
      ["node1", "node2"],
    );
    assert.ok(
      report.longestOutageMs >= 180 && report.longestOutageMs < 1000,
      `outage ${report.longestOutageMs} ms`,
    );
    assert.equal(report.answeredByTwo, 0);
  },
);

void test(
  "routed client: the router follows routeVip, not ARP, and a stale route means an outage",
  { skip, timeout: 60_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "routed" });
    const [a1, a2] = [agentOn(bed, "node1", false), agentOn(bed, "node2", false)];
    t.after(async () => {
      await Promise.all([a1.close(), a2.close()]);
      await bed.destroy();
    });
    await startResponders(bed, PORT);
    await a1.start(ctx({ ip: VIP }));
    const probe = await startProbe(bed, VIP, PORT);
    await sleep(200);
    assert.equal(
      probe.snapshot().answered,
      0,
      "the router reached the VIP before any route said where it is",
    );
    await bed.routeVip(VIP, "node1");
    await sleep(300);
    assert.equal(probe.snapshot().lastResponder, "node1");

    await a1.stop(ctx({ ip: VIP }));
    await a2.start(ctx({ ip: VIP }));
    await sleep(400);
    const stale = probe.snapshot();
    assert.equal(stale.lastResponder, "node1", "node2 answered although the route still points at node1");
    assert.equal(stale.outages.at(-1)?.open, true);

    await bed.routeVip(VIP, "node2");
    await sleep(300);
    await bed.routeVip(VIP, null);
    await sleep(300);
    const report = await probe.stop();
    assert.deepEqual(
      report.responders.map((r) => r.node),
      ["node1", "node2"],
    );
    assert.ok(report.longestOutageMs >= 350, `outage ${report.longestOutageMs} ms`);
    assert.equal(report.outages.at(-1)?.open, true, "an unreachable route did not stop the traffic");
  },
);

void test(
  "linkDown cuts a node off in both directions and linkUp restores it",
  { skip, timeout: 60_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "same" });
    const a1 = agentOn(bed, "node1");
    t.after(async () => {
      await a1.close();
      await bed.destroy();
    });
    await startResponders(bed, PORT);
    await a1.start(ctx({ ip: VIP }));
    const probe = await startProbe(bed, VIP, PORT);
    await sleep(200);
    await bed.linkDown("node1");
    await sleep(400);
    assert.equal(probe.snapshot().outages.at(-1)?.open, true);
    assert.equal(await udpAnswers(bed, bed.nodeNs("node1"), "10.0.0.12", PORT), false);
    assert.equal(await udpAnswers(bed, bed.nodeNs("node2"), "10.0.0.11", PORT), false);
    await bed.linkUp("node1");
    await sleep(1500);
    const report = await probe.stop();
    assert.equal(report.outages.at(-1)?.open, undefined, "traffic did not come back after linkUp");
    assert.ok(report.longestOutageMs >= 350);
    assert.equal(await udpAnswers(bed, bed.nodeNs("node2"), "10.0.0.11", PORT), true);
  },
);

void test(
  "partition splits node groups while every node still reaches the router and metadata address",
  { skip, timeout: 60_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1", "node2", "node3"], clientSubnet: "same" });
    t.after(() => bed.destroy());
    await startResponders(bed, PORT);
    await startResponderIn(bed, bed.routerNs, "rt", PORT).ready;
    const ns = (node: string): string => bed.nodeNs(node);
    assert.equal(await udpAnswers(bed, ns("node1"), "10.0.0.12", PORT), true);
    // Every node has the router in its ARP cache, as running daemons do: the partition must not change
    // the router's MAC under them.
    const routerMac = await neighbourMacAfterContact(bed, ns("node1"));
    for (const node of bed.nodes) assert.equal(await udpAnswers(bed, ns(node), "10.0.0.1", PORT), true);

    await bed.partition(["node1"], ["node2", "node3"]);
    assert.equal(
      (await bed.execIn(bed.routerNs, "cat", ["/sys/class/net/br0/address"])).stdout.trim(),
      routerMac,
      "the router's MAC changed with the partition",
    );
    const reach = async (from: string, to: string): Promise<boolean> => udpAnswers(bed, ns(from), to, PORT);
    const [n1n2, n1n3, n3n1, n2n3, n3n2] = await Promise.all([
      reach("node1", "10.0.0.12"),
      reach("node1", "10.0.0.13"),
      reach("node3", "10.0.0.11"),
      reach("node2", "10.0.0.13"),
      reach("node3", "10.0.0.12"),
    ]);
    assert.deepEqual(
      { n1n2, n1n3, n3n1, n2n3, n3n2 },
      { n1n2: false, n1n3: false, n3n1: false, n2n3: true, n3n2: true },
    );
    for (const node of bed.nodes) {
      assert.equal(await reach(node, "10.0.0.1"), true, `${node} lost the router`);
      assert.equal(await reach(node, "169.254.169.254"), true, `${node} lost the metadata address`);
      assert.equal(
        await udpAnswers(bed, bed.clientNs, bed.nodeAddr(node), PORT),
        true,
        `client lost ${node}`,
      );
    }

    await bed.heal();
    // Neighbour entries that failed during the partition are resolved again by the next packets (daemons
    // send every 100 ms); allow a few tries, as they would.
    const reachSoon = async (from: string, to: string): Promise<boolean> => {
      for (let attempt = 0; attempt < 3; attempt++) if (await reach(from, to)) return true;
      return false;
    };
    assert.equal(await reachSoon("node1", "10.0.0.12"), true, "heal did not restore node1 <-> node2");
    assert.equal(await reachSoon("node3", "10.0.0.11"), true, "heal did not restore node3 <-> node1");
  },
);

void test(
  "destroy removes every namespace and process of the bed and can be called twice",
  { skip, timeout: 60_000 },
  async () => {
    const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "routed" });
    try {
      await startResponders(bed, PORT);
      const probe = await startProbe(bed, "10.0.0.11", PORT);
      await sleep(100);
      assert.ok(probe.snapshot().answered > 0);
      const pids = await pidsOfBed(bed);
      assert.ok(pids.length >= 3, `expected responders and probe, found ${pids.join(",")}`);
      await bed.destroy();
      await bed.destroy();
      assert.deepEqual(
        (await listNamespaces()).filter((n) => n.startsWith(`${bed.prefix}-`)),
        [],
      );
      for (const pid of pids) assert.throws(() => process.kill(pid, 0), `process ${pid} survived destroy`);
    } finally {
      await bed.destroy();
    }
  },
);

async function pidsOfBed(bed: Bed): Promise<number[]> {
  const pids: number[] = [];
  for (const ns of [bed.clientNs, bed.routerNs, ...bed.nodes.map((n) => bed.nodeNs(n))]) {
    const out = await runCommand("ip", ["netns", "pids", ns], { timeoutMs: 5000 });
    pids.push(
      ...out.stdout
        .split(/\s+/)
        .filter((p) => /^\d+$/.test(p))
        .map(Number),
    );
  }
  return pids;
}
