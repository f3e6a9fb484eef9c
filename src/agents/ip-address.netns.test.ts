import { test } from "node:test";
import assert from "node:assert/strict";
import type { AgentContext } from "./agent.ts";
import { runCommand } from "./command-runner.ts";
import { IpAddressAgent } from "./ip-address.ts";
import { mustRun, NamespaceRegistry } from "../../tools/testbed/netns.ts";

const isRoot = process.getuid?.() === 0;

/** A node namespace with eth0 (10.0.0.11/24) whose veth peer sits in a second namespace, plus a spare eth1. */
async function nodeWithLink(t: { after: (fn: () => Promise<void>) => void }): Promise<{
  node: string;
  peer: string;
  agent: IpAddressAgent;
}> {
  const registry = new NamespaceRegistry();
  t.after(async () => {
    await agent.close();
    await registry.teardown();
  });
  registry.registerExitCleanup();
  const node = await registry.createNamespace("n1");
  const peer = await registry.createNamespace("pe");
  await registry.addVeth({ ns: node, name: "eth0" }, { ns: peer, name: "veth0" });
  await registry.addVeth({ ns: node, name: "eth1" }, { ns: peer, name: "veth1" });
  await mustRun("ip", ["-n", node, "addr", "add", "10.0.0.11/24", "dev", "eth0"]);
  await mustRun("ip", ["-n", node, "addr", "add", "10.0.8.11/24", "dev", "eth1"]);
  await mustRun("ip", ["-n", peer, "addr", "add", "10.0.0.50/24", "dev", "veth0"]);
  const agent = new IpAddressAgent({
    run: (cmd, args, opts) => runCommand("ip", ["netns", "exec", node, cmd, ...args], opts),
  });
  return { node, peer, agent };
}

function ctx(params: Record<string, string>): AgentContext {
  return { resourceId: "vip", params, signal: AbortSignal.timeout(10_000) };
}

async function addressesOn(ns: string, dev: string): Promise<string[]> {
  const shown = JSON.parse(await mustRun("ip", ["-n", ns, "-j", "addr", "show", "dev", dev])) as {
    addr_info: { family: string; local: string; prefixlen: number }[];
  }[];
  return (shown[0]?.addr_info ?? [])
    .filter((a) => a.family === "inet")
    .map((a) => `${a.local}/${a.prefixlen}`);
}

/** An ARP request from the peer: exit 0 only if some host answers for `ip`. */
function arpingFrom(peer: string, ip: string): ReturnType<typeof runCommand> {
  return runCommand("ip", ["netns", "exec", peer, "arping", "-c", "1", "-w", "1", "-I", "veth0", ip], {
    timeoutMs: 5000,
  });
}

/** Carrier changes reach the other end of a veth through the kernel's linkwatch, which batches them up to 1 s. */
async function monitorUntil(agent: IpAddressAgent, params: Record<string, string>, state: string) {
  const deadline = Date.now() + 3000;
  let result = await agent.monitor(ctx(params));
  while (result.state !== state && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    result = await agent.monitor(ctx(params));
  }
  return result;
}

void test(
  "start, probe, monitor and stop are idempotent on a real interface",
  { skip: !isRoot && "needs root" },
  async (t) => {
    const { node, agent } = await nodeWithLink(t);
    const vip = { ip: "10.0.0.100" };
    assert.equal((await agent.probe(ctx(vip))).state, "stopped");
    const started = Date.now();
    const first = await agent.start(ctx(vip));
    assert.equal(first.state, "running", first.message);
    assert.ok(Date.now() - started < 700, "start waited for the gratuitous ARPs");
    assert.equal((await agent.start(ctx(vip))).state, "running");
    assert.deepEqual(await addressesOn(node, "eth0"), ["10.0.0.11/24", "10.0.0.100/24"]);
    assert.equal((await agent.monitor(ctx(vip))).state, "running");
    assert.equal((await agent.probe(ctx(vip))).state, "running");
    assert.equal((await agent.stop(ctx(vip))).state, "stopped");
    assert.equal((await agent.stop(ctx(vip))).state, "stopped");
    assert.deepEqual(await addressesOn(node, "eth0"), ["10.0.0.11/24"]);
    assert.equal((await agent.monitor(ctx(vip))).state, "stopped");
  },
);

void test(
  "the address answers from the peer after start and not after stop",
  { skip: !isRoot && "needs root" },
  async (t) => {
    const { peer, agent } = await nodeWithLink(t);
    await agent.start(ctx({ ip: "10.0.0.100" }));
    const up = await arpingFrom(peer, "10.0.0.100");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    await agent.stop(ctx({ ip: "10.0.0.100" }));
    const down = await arpingFrom(peer, "10.0.0.100");
    assert.notEqual(down.code, 0);
  },
);

void test(
  "monitor reports stopped after someone runs ip addr del",
  { skip: !isRoot && "needs root" },
  async (t) => {
    const { node, agent } = await nodeWithLink(t);
    await agent.start(ctx({ ip: "10.0.0.100", cidr_netmask: "32" }));
    assert.deepEqual(await addressesOn(node, "eth0"), ["10.0.0.11/24", "10.0.0.100/32"]);
    await mustRun("ip", ["-n", node, "addr", "del", "10.0.0.100/32", "dev", "eth0"]);
    assert.equal((await agent.monitor(ctx({ ip: "10.0.0.100", cidr_netmask: "32" }))).state, "stopped");
  },
);

void test(
  "monitor reports stopped while the link is down and running once it is back",
  { skip: !isRoot && "needs root" },
  async (t) => {
    const { peer, agent } = await nodeWithLink(t);
    await agent.start(ctx({ ip: "10.0.0.100" }));
    await mustRun("ip", ["-n", peer, "link", "set", "veth0", "down"]);
    const down = await monitorUntil(agent, { ip: "10.0.0.100" }, "stopped");
    assert.equal(down.state, "stopped");
    assert.match(down.message ?? "", /link is down/);
    await mustRun("ip", ["-n", peer, "link", "set", "veth0", "up"]);
    assert.equal((await monitorUntil(agent, { ip: "10.0.0.100" }, "running")).state, "running");
  },
);

void test(
  "start refuses an address already configured on another interface",
  { skip: !isRoot && "needs root" },
  async (t) => {
    const { node, agent } = await nodeWithLink(t);
    await mustRun("ip", ["-n", node, "addr", "add", "10.0.0.100/32", "dev", "eth1"]);
    const result = await agent.start(ctx({ ip: "10.0.0.100" }));
    assert.equal(result.state, "failed");
    assert.match(result.message ?? "", /^FLOATIP_E_IP_CONFLICT: 10\.0\.0\.100 is configured on eth1/);
    assert.deepEqual(await addressesOn(node, "eth0"), ["10.0.0.11/24"]);
    assert.equal((await agent.probe(ctx({ ip: "10.0.0.100" }))).state, "failed");
    assert.equal((await agent.stop(ctx({ ip: "10.0.0.100" }))).state, "stopped");
    assert.deepEqual(await addressesOn(node, "eth1"), ["10.0.8.11/24"]);
  },
);

void test(
  "start names the missing interface for an address outside every subnet",
  { skip: !isRoot && "needs root" },
  async (t) => {
    const { agent } = await nodeWithLink(t);
    const result = await agent.start(ctx({ ip: "192.168.77.5" }));
    assert.equal(result.state, "failed");
    assert.match(
      result.message ?? "",
      /^FLOATIP_E_NO_INTERFACE: no interface has a subnet containing 192\.168\.77\.5/,
    );
  },
);
