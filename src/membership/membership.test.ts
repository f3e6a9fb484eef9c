import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../clock/manual-clock.ts";
import { MemoryNetwork } from "./memory-transport.ts";
import { Membership, type MembershipPeer, type MembershipView, type PayloadEvent } from "./membership.ts";
import { encodePacket, packetKey } from "./packet.ts";
import { wrapWithEcho } from "./rtt-echo.ts";
import { seededRandom } from "./seeded-random.ts";
import { MembershipError } from "./errors.ts";
import { DEFAULT_HEARTBEAT_COPIES, DEFAULT_TOKEN_MS, heartbeatIntervalFor } from "../config/schema.ts";
import type { Transport } from "./transport.ts";

const key = Buffer.alloc(32, 0x5a);
const TOKEN = DEFAULT_TOKEN_MS;
const INTERVAL = heartbeatIntervalFor(TOKEN);
const COPIES = DEFAULT_HEARTBEAT_COPIES;
const nodes: MembershipPeer[] = [
  { id: 1, name: "node1", addrs: ["10.0.0.1"] },
  { id: 2, name: "node2", addrs: ["10.0.0.2"] },
  { id: 3, name: "node3", addrs: ["10.0.0.3"] },
];

interface Running {
  membership: Membership;
  views: { at: number; view: MembershipView }[];
  payloads: PayloadEvent[];
  kill(): Promise<void>;
}

function startNode(
  network: MemoryNetwork,
  clock: ManualClock,
  id: number,
  incarnation?: bigint,
  timings: { tokenMs: number; heartbeatIntervalMs: number; heartbeatCopies?: number } = {
    tokenMs: TOKEN,
    heartbeatIntervalMs: INTERVAL,
    heartbeatCopies: COPIES,
  },
  wrap: (transport: Transport) => Transport = (t) => t,
): Running {
  const self = nodes.find((n) => n.id === id);
  assert.ok(self);
  const transport = wrap(network.transport(self.addrs[0] ?? ""));
  const membership = new Membership({
    self,
    peers: nodes,
    key,
    clusterName: "prod",
    ...timings,
    transport,
    clock,
    ...(incarnation === undefined ? {} : { incarnation }),
  });
  const running: Running = {
    membership,
    views: [],
    payloads: [],
    kill: async () => {
      membership.stop();
      await transport.close();
    },
  };
  membership.on("view", (view) => running.views.push({ at: clock.now(), view }));
  membership.on("payload", (event) => running.payloads.push(event));
  return running;
}

function cluster(opts: { loss?: number; seed?: number } = {}) {
  const clock = new ManualClock(1_000_000);
  const network = new MemoryNetwork({ clock, random: seededRandom(opts.seed ?? 1) });
  for (const a of nodes) {
    for (const b of nodes) if (a !== b) network.setLoss(a.addrs[0] ?? "", b.addrs[0] ?? "", opts.loss ?? 0);
  }
  const running = nodes.map((n) => startNode(network, clock, n.id));
  return { clock, network, running };
}

function at(running: Running[], index: number): Running {
  const node = running[index];
  assert.ok(node);
  return node;
}

void test("three nodes see each other alive within one heartbeat interval of starting", () => {
  const { clock, running } = cluster();
  clock.advance(INTERVAL);
  for (const node of running) assert.deepEqual(node.membership.aliveNodes(), [1, 2, 3]);
  const first = at(running, 0).views;
  assert.deepEqual(first.at(-1)?.view.alive, [1, 2, 3]);
  assert.deepEqual(first.flatMap((v) => v.view.joined).sort(), [2, 3]);
  for (const node of running) node.membership.stop();
});

void test("a killed node is reported lost by the others within tokenMs plus one interval, not earlier than tokenMs minus one", async () => {
  const { clock, running } = cluster();
  clock.advance(5_000);
  const killedAt = clock.now();
  await at(running, 2).kill();
  clock.advance(TOKEN + INTERVAL);
  for (const survivor of running.slice(0, 2)) {
    const loss = survivor.views.find((v) => v.view.lost.includes(3));
    assert.ok(loss, "node 3 reported lost");
    assert.ok(loss.at - killedAt <= TOKEN + INTERVAL, `lost after ${loss.at - killedAt} ms`);
    assert.ok(loss.at - killedAt >= TOKEN - INTERVAL, `lost too early: ${loss.at - killedAt} ms`);
    assert.deepEqual(loss.view.alive, [1, 2]);
  }
  for (const node of running.slice(0, 2)) node.membership.stop();
});

void test("a silent peer is lost at its deadline (last heard + token), not at the next heartbeat tick after it", async () => {
  // An interval that does not divide the token: a loss seen only at ticks would come up to 300 ms late.
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({ clock });
  const [a, b] = [1, 2].map((id) =>
    startNode(network, clock, id, undefined, { tokenMs: 1000, heartbeatIntervalMs: 300 }),
  );
  assert.ok(a && b);
  clock.advance(2_000);
  await b.kill();
  const lastHeard = a.membership.stats().peers[2];
  assert.ok(typeof lastHeard === "number");
  clock.advance(2_000);
  const loss = a.views.find((v) => v.view.lost.includes(2));
  assert.equal(loss?.at, lastHeard + 1000);
  a.membership.stop();
});

void test("no false loss at 5% random packet loss over a simulated 10 minutes with default timings", () => {
  const { clock, network, running } = cluster({ loss: 0.05, seed: 20240601 });
  clock.advance(TOKEN);
  for (const node of running) assert.deepEqual(node.membership.aliveNodes(), [1, 2, 3]);
  const viewsAfterStart = running.map((n) => n.views.length);
  clock.advance(10 * 60_000);
  running.forEach((node, i) => {
    assert.equal(node.views.length, viewsAfterStart[i], `node ${i + 1} saw a membership change under loss`);
    assert.deepEqual(node.membership.aliveNodes(), [1, 2, 3]);
  });
  const stats = network.stats();
  // The simulation really dropped packets, about one in twenty.
  assert.ok(
    stats.droppedByLoss / stats.sent > 0.04 && stats.droppedByLoss / stats.sent < 0.06,
    JSON.stringify(stats),
  );
  for (const node of running) node.membership.stop();
});

void test("a partition splits the views and healing it joins them again", () => {
  const { clock, network, running } = cluster();
  clock.advance(1_000);
  network.partition(["10.0.0.1"], ["10.0.0.2", "10.0.0.3"]);
  clock.advance(TOKEN + INTERVAL);
  assert.deepEqual(at(running, 0).membership.aliveNodes(), [1]);
  assert.deepEqual(at(running, 1).membership.aliveNodes(), [2, 3]);
  assert.deepEqual(at(running, 2).membership.aliveNodes(), [2, 3]);
  assert.deepEqual(at(running, 0).views.at(-1)?.view.lost, [2, 3]);
  network.heal();
  clock.advance(INTERVAL + 1);
  for (const node of running) assert.deepEqual(node.membership.aliveNodes(), [1, 2, 3]);
  assert.deepEqual(at(running, 1).views.at(-1)?.view.joined, [1]);
  for (const node of running) node.membership.stop();
});

void test("a node restarted faster than the token is reported restarted, not lost", async () => {
  const { clock, network, running } = cluster();
  clock.advance(2_000);
  const oldIncarnation = at(running, 2).membership.incarnation;
  await at(running, 2).kill();
  clock.advance(300);
  const reborn = startNode(network, clock, 3);
  assert.ok(reborn.membership.incarnation > oldIncarnation);
  clock.advance(INTERVAL + 1);
  for (const survivor of running.slice(0, 2)) {
    assert.deepEqual(survivor.views.at(-1)?.view, { alive: [1, 2, 3], joined: [], lost: [], restarted: [3] });
  }
  for (const node of [...running.slice(0, 2), reborn]) node.membership.stop();
});

void test("heartbeats lost on one link are counted for that peer only, and a restart is not counted as loss", async () => {
  const { clock, network, running } = cluster();
  clock.advance(1_000);
  network.setLoss("10.0.0.2", "10.0.0.1", 1);
  clock.advance(5 * INTERVAL);
  network.setLoss("10.0.0.2", "10.0.0.1", 0);
  // sendNow rounds in between count too: every round carries one sequence number to every peer.
  at(running, 1).membership.sendNow();
  clock.advance(INTERVAL * 2);
  const dropped = network.stats().droppedByLoss;
  assert.ok(dropped >= 5, `dropped ${dropped}`);
  // Both copies of a round were dropped: a round lost is COPIES datagrams.
  assert.deepEqual(at(running, 0).membership.stats().lost, { 2: dropped / COPIES, 3: 0 });
  assert.deepEqual(at(running, 2).membership.stats().lost, { 1: 0, 2: 0 });

  await at(running, 2).kill();
  clock.advance(300);
  const reborn = startNode(network, clock, 3);
  clock.advance(INTERVAL * 3);
  assert.equal(at(running, 0).membership.stats().lost[3], 0, "the old life's silence is not loss");
  for (const node of [...running.slice(0, 2), reborn]) node.membership.stop();
});

void test("payloads reach every peer, and sendNow spreads a new payload without waiting an interval", () => {
  const { clock, running } = cluster();
  clock.advance(INTERVAL * 3 + 50);
  const node1 = at(running, 0);
  node1.membership.setPayload(new TextEncoder().encode("dc=1"));
  node1.membership.sendNow();
  clock.advance(1);
  for (const peer of running.slice(1)) {
    const last = peer.payloads.filter((p) => p.nodeId === 1).at(-1);
    assert.equal(new TextDecoder().decode(last?.payload), "dc=1");
    assert.equal(last?.incarnation, node1.membership.incarnation);
  }
  for (const node of running) node.membership.stop();
});

void test("removing a live peer with updatePeers reports it lost at once and stops sending to it", () => {
  const { clock, running } = cluster();
  clock.advance(500);
  const node1 = at(running, 0);
  node1.membership.updatePeers(nodes.filter((n) => n.id !== 3));
  assert.deepEqual(node1.views.at(-1)?.view, { alive: [1, 2], joined: [], lost: [3], restarted: [] });
  clock.advance(500);
  assert.deepEqual(node1.membership.aliveNodes(), [1, 2], "packets from a removed peer are not accepted");
  assert.ok(node1.membership.stats().rejected.unknownSender > 0);
  assert.deepEqual(Object.keys(node1.membership.stats().peers), ["2"]);
  for (const node of running) node.membership.stop();
});

void test("rejects a forged packet, a replayed packet and a truncated packet, drops a copy, and counts each in stats", () => {
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({ clock });
  const node1 = startNode(network, clock, 1);
  // The attacker sits at node2's address, so only the packet contents can give it away.
  const wire = network.transport("10.0.0.2");
  const send = (bytes: Uint8Array) => {
    wire.send("10.0.0.1", bytes);
    clock.advance(1);
  };
  const genuine = encodePacket(packetKey(key, "prod"), {
    sender: 2,
    incarnation: 77n,
    seq: 1n,
    payload: wrapWithEcho(0, [], Uint8Array.of(1)),
  });
  const next = encodePacket(packetKey(key, "prod"), {
    sender: 2,
    incarnation: 77n,
    seq: 2n,
    payload: wrapWithEcho(0, [], Uint8Array.of(2)),
  });
  const forged = encodePacket(packetKey(Buffer.alloc(32, 0x11), "prod"), {
    sender: 2,
    incarnation: 78n,
    seq: 1n,
    payload: wrapWithEcho(0, [], Uint8Array.of(9)),
  });

  send(forged);
  assert.deepEqual(node1.membership.aliveNodes(), [1], "a forged heartbeat does not make node2 alive");
  send(genuine);
  send(genuine); // the same bytes again at once: a copy of the round, dropped unread
  send(next);
  send(genuine); // an older round: the replay guard's
  send(genuine.subarray(0, 40));

  const stats = node1.membership.stats();
  assert.equal(stats.rejected.badMac, 1);
  assert.equal(stats.duplicates, 1);
  assert.equal(stats.rejected.replay, 1);
  assert.equal(stats.rejected.truncated, 1);
  assert.equal(stats.received, 6);
  assert.equal(stats.accepted, 2);
  assert.deepEqual(
    node1.payloads.map((p) => [...p.payload]),
    [[1], [2]],
  );
  assert.deepEqual(node1.membership.aliveNodes(), [1, 2]);
  node1.membership.stop();
});

void test("packets from an unconfigured node id, from a wrong source address or carrying our own id are rejected", () => {
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({ clock });
  const node1 = startNode(network, clock, 1);
  const k = packetKey(key, "prod");
  const packet = (sender: number) =>
    encodePacket(k, { sender, incarnation: 1n, seq: 1n, payload: new Uint8Array() });
  network.transport("10.0.0.9").send("10.0.0.1", packet(9));
  network.transport("10.0.0.8").send("10.0.0.1", packet(2));
  network.transport("10.0.0.3").send("10.0.0.1", packet(1));
  clock.advance(1);
  const { rejected, accepted } = node1.membership.stats();
  assert.equal(rejected.unknownSender, 1);
  assert.equal(rejected.badSource, 1);
  assert.equal(rejected.ownId, 1);
  assert.equal(accepted, 0);
  assert.deepEqual(node1.membership.aliveNodes(), [1]);
  node1.membership.stop();
});

void test("a heartbeat of another cluster sharing the key is ignored and counted as wrongCluster", () => {
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({ clock });
  const node1 = startNode(network, clock, 1);
  const other = encodePacket(packetKey(key, "staging"), {
    sender: 2,
    incarnation: 1n,
    seq: 1n,
    payload: new Uint8Array(),
  });
  network.transport("10.0.0.2").send("10.0.0.1", other);
  clock.advance(1);
  assert.equal(node1.membership.stats().rejected.wrongCluster, 1);
  assert.deepEqual(node1.membership.aliveNodes(), [1]);
  node1.membership.stop();
});

void test("stop() cancels every timer and the node falls silent", () => {
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({ clock });
  const node1 = startNode(network, clock, 1);
  clock.advance(1_000);
  const sent = node1.membership.stats().sent;
  const rounds = 1 + 1_000 / INTERVAL;
  assert.equal(
    sent,
    rounds * 2 * COPIES,
    "the immediate round and one per interval, copies to each of two peers",
  );
  node1.membership.stop();
  clock.advance(1_000);
  assert.equal(clock.pendingTimers, 0, "only the last packets in flight were left, and they are delivered");
  assert.equal(node1.membership.stats().sent, sent);
});

void test("bad timings, copies outside 1-4, duplicate node ids and oversized payloads are refused with codes", () => {
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({ clock });
  const base = {
    self: { id: 1, name: "node1" },
    peers: nodes,
    key,
    clusterName: "prod",
    tokenMs: TOKEN,
    heartbeatIntervalMs: INTERVAL,
    clock,
  };
  const isCode = (code: string) => (err: unknown) => err instanceof MembershipError && err.code === code;
  assert.throws(
    () => new Membership({ ...base, heartbeatIntervalMs: 600, transport: network.transport("a") }),
    isCode("FLOATIP_E_MEMBERSHIP_CONFIG"),
  );
  for (const heartbeatCopies of [0, 5, 1.5, Number.NaN]) {
    assert.throws(
      () =>
        new Membership({
          ...base,
          heartbeatCopies,
          transport: network.transport(`copies ${heartbeatCopies}`),
        }),
      isCode("FLOATIP_E_MEMBERSHIP_CONFIG"),
    );
  }
  assert.throws(
    () =>
      new Membership({
        ...base,
        peers: [...nodes, { id: 2, name: "dup", addrs: ["10.0.0.7"] }],
        transport: network.transport("b"),
      }),
    isCode("FLOATIP_E_MEMBERSHIP_CONFIG"),
  );
  assert.throws(
    () => new Membership({ ...base, key: Buffer.alloc(31), transport: network.transport("c") }),
    isCode("FLOATIP_E_CLUSTER_KEY_LENGTH"),
  );
  const ok = new Membership({ ...base, transport: network.transport("d") });
  assert.throws(() => ok.setPayload(new Uint8Array(60_001)), isCode("FLOATIP_E_HEARTBEAT_PAYLOAD_TOO_LARGE"));
  ok.stop();
});

void test("heartbeats measure the round-trip time to each peer on the sender's own clock", () => {
  const clock = new ManualClock(1_000);
  const network = new MemoryNetwork({ clock, latencyMs: 3 });
  const a = startNode(network, clock, 1);
  const b = startNode(network, clock, 2);
  clock.advance(500);
  const rtt = a.membership.stats().rttMs[2];
  assert.ok(rtt !== null && rtt !== undefined, "measured");
  assert.ok(Math.abs(rtt - 6) <= 1, `about two 3 ms hops, got ${rtt}`);
  a.membership.stop();
  b.membership.stop();
});

/** Drops the first datagram of every pair this node sends: each round then arrives as its second copy only. */
function dropFirstCopies(transport: Transport): Transport {
  let n = 0;
  return {
    send: (addr, payload, port) => {
      if (n++ % 2 === 1) transport.send(addr, payload, port);
    },
    onMessage: (handler) => transport.onMessage(handler),
    close: () => transport.close(),
  };
}

void test("each round goes out as copies; the receiver takes the first and drops the others unread", () => {
  const { clock, running } = cluster();
  clock.advance(10 * INTERVAL + 1); // past the tick at 10 intervals, so every round sent has arrived
  const [node1, node2] = [at(running, 0), at(running, 1)];
  const s1 = node1.membership.stats();
  const rounds = s1.received / (2 * COPIES);
  assert.ok(rounds >= 10, `rounds ${rounds}`);
  assert.equal(s1.sent, rounds * 2 * COPIES);
  assert.equal(s1.accepted, rounds * 2, "one accepted per round and peer");
  assert.equal(s1.duplicates, rounds * 2 * (COPIES - 1));
  assert.equal(s1.rejected.replay, 0, "a copy is not a replay");
  assert.deepEqual(s1.lost, { 2: 0, 3: 0 });
  assert.equal(node1.payloads.filter((p) => p.nodeId === 2).length, rounds, "one payload event per round");
  assert.equal(node2.membership.stats().duplicates, rounds * 2 * (COPIES - 1));
  for (const node of running) node.membership.stop();
});

void test("a round whose first copy is lost is taken from its second; a single-copy peer is understood too", () => {
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({ clock });
  const a = startNode(network, clock, 1);
  const b = startNode(
    network,
    clock,
    2,
    undefined,
    { tokenMs: TOKEN, heartbeatIntervalMs: INTERVAL, heartbeatCopies: 2 },
    dropFirstCopies,
  );
  const c = startNode(network, clock, 3, undefined, {
    tokenMs: TOKEN,
    heartbeatIntervalMs: INTERVAL,
    heartbeatCopies: 1,
  });
  clock.advance(20 * TOKEN);
  assert.deepEqual(a.membership.aliveNodes(), [1, 2, 3]);
  assert.equal(a.views.flatMap((v) => v.view.lost).length, 0, "no loss");
  const s = a.membership.stats();
  assert.deepEqual(s.lost, { 2: 0, 3: 0 }, "no round missing");
  assert.equal(s.duplicates, 0, "b's first copies never came, c sends one");
  assert.ok(a.payloads.filter((p) => p.nodeId === 2).length >= (20 * TOKEN) / INTERVAL);
  assert.ok(c.membership.stats().duplicates > 0, "the single-copy node drops a's copies too");
  for (const node of [a, b, c]) node.membership.stop();
});

void test("a copy of an accepted heartbeat from another address is not a duplicate but a bad source", () => {
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({ clock });
  let captured: Uint8Array | undefined;
  const a = startNode(network, clock, 1);
  startNode(network, clock, 2, undefined, undefined, (t) => ({
    send: (addr, payload, port) => {
      if (addr === "10.0.0.1") captured = payload;
      t.send(addr, payload, port);
    },
    onMessage: (handler) => t.onMessage(handler),
    close: () => t.close(),
  }));
  clock.advance(INTERVAL / 2);
  assert.ok(captured);
  const before = a.membership.stats();
  network.transport("10.0.0.9").send("10.0.0.1", captured);
  clock.advance(1);
  const after = a.membership.stats();
  assert.equal(after.duplicates, before.duplicates);
  assert.equal(after.rejected.badSource, before.rejected.badSource + 1);
  a.membership.stop();
});

void test("while every peer is heard, no deadline timer is pending: the idle node wakes only to send and receive", () => {
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({ clock });
  const a = startNode(network, clock, 1);
  const b = startNode(network, clock, 2);
  clock.advance(10 * TOKEN + INTERVAL / 2); // between ticks: nothing in flight
  assert.equal(clock.pendingTimers, 2, "the two heartbeat intervals only");
  assert.deepEqual(a.membership.aliveNodes(), [1, 2]);
  b.membership.stop();
  clock.advance(TOKEN);
  assert.deepEqual(a.views.at(-1)?.view.lost, [2], "a silent peer is still found");
  a.membership.stop();
});
