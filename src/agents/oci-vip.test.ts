import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../clock/manual-clock.ts";
import { silentLogger } from "../observability/logger.ts";
import type { LocalInstance } from "../cloud/oci/discovery.ts";
import { InMemoryOciApi } from "../cloud/oci/in-memory-oci-api.ts";
import { PrivateIpMover } from "../cloud/oci/private-ip-mover.ts";
import { readHoldTags } from "../cloud/oci/hold-tags.ts";
import type { AgentContext, AgentResult, ResourceAgent } from "./agent.ts";
import { OciVipAgent } from "./oci-vip.ts";
import { systemClock } from "../clock/system-clock.ts";
import { emulatedNode, startTestEmulator, TEST_VIP } from "../cloud/oci/testing/emulated-cloud.ts";

const SUBNET = "ocid1.subnet.test.app";
const VIP = "10.0.0.100";
const LEASE_MS = 30_000;
const CLOUD_CHECK_MS = 9_000;

/** The host side in memory: which addresses are configured; start can be made to fail. */
class FakeLocalAddress implements ResourceAgent {
  readonly present = new Set<string>();
  failStart = false;
  calls: string[] = [];

  validate(): string[] {
    return [];
  }
  async start(ctx: AgentContext): Promise<AgentResult> {
    this.calls.push("start");
    if (this.failStart) return { state: "failed", message: "FLOATIP_E_NO_INTERFACE: no interface" };
    this.present.add(ctx.params.ip ?? "");
    return { state: "running" };
  }
  async stop(ctx: AgentContext): Promise<AgentResult> {
    this.calls.push("stop");
    this.present.delete(ctx.params.ip ?? "");
    return { state: "stopped" };
  }
  async monitor(ctx: AgentContext): Promise<AgentResult> {
    this.calls.push("monitor");
    return { state: this.present.has(ctx.params.ip ?? "") ? "running" : "stopped" };
  }
  async probe(ctx: AgentContext): Promise<AgentResult> {
    return this.monitor(ctx);
  }
}

function instance(name: string): LocalInstance {
  return {
    instanceId: `ocid1.instance.test.${name}`,
    displayName: name,
    region: "us-phoenix-1",
    availabilityDomain: "AD-1",
    compartmentId: "ocid1.compartment.test",
    vnics: [
      {
        vnicId: `ocid1.vnic.test.${name}`,
        subnetId: SUBNET,
        subnetCidr: "10.0.0.0/24",
        primaryPrivateIp: "",
        macAddr: "",
        virtualRouterIp: "10.0.0.1",
        nicIndex: 0,
        compartmentId: "ocid1.compartment.test",
      },
    ],
  };
}

function cluster() {
  const api = new InMemoryOciApi();
  const clock = new ManualClock(1_700_000_000_000);
  const node = (name: string) => {
    const local = instance(name);
    api.addVnic({ id: local.vnics[0]!.vnicId, subnetId: SUBNET });
    const mover = new PrivateIpMover({
      api,
      localInstance: async () => local,
      clock,
      leaseMs: LEASE_MS,
      logger: silentLogger(),
    });
    const address = new FakeLocalAddress();
    const agent = new OciVipAgent({
      mover,
      localAddress: address,
      clock,
      settings: { cloudCheckIntervalMs: CLOUD_CHECK_MS, leaseMs: LEASE_MS },
      // Warm-up retries at the top of their spread, so tests know when each one comes.
      random: () => 0,
    });
    return { local, mover, address, agent };
  };
  return { api, clock, a: node("a"), b: node("b") };
}

/** A node's mover and address under an agent whose configured cloud check interval exceeds the lease. */
function agentCheckingEvery2Min(
  node: { mover: PrivateIpMover; address: FakeLocalAddress },
  clock: ManualClock,
): OciVipAgent {
  return new OciVipAgent({
    mover: node.mover,
    localAddress: node.address,
    clock,
    settings: { cloudCheckIntervalMs: 120_000, leaseMs: LEASE_MS },
  });
}

function ctx(params: Record<string, string> = { ip: VIP, cidr_netmask: "24" }): AgentContext {
  return { resourceId: "vip", params, signal: new AbortController().signal };
}

void test("start moves the VIP in the cloud, then configures it locally, and is running only then", async () => {
  const { api, a } = cluster();
  const result = await a.agent.start(ctx());
  assert.equal(result.state, "running");
  assert.equal(api.byAddress(VIP)?.vnicId, a.local.vnics[0]!.vnicId);
  assert.ok(a.address.present.has(VIP));
});

void test("a start reports the cloud epoch as its generation, so the newest holder wins after a partition", async () => {
  const { a, b } = cluster();
  const first = await a.agent.start(ctx());
  const second = await b.agent.start(ctx());
  assert.equal(first.state, "running");
  assert.equal(second.state, "running");
  assert.ok((second.generation ?? 0) > (first.generation ?? 0), `${second.generation} > ${first.generation}`);
  assert.equal(typeof second.phases?.["cloudMoveMs"], "number", "the start reports its cloud move time");
  assert.equal(typeof second.phases?.["verifyMs"], "number", "and its verify time");
});

void test("a node stopped before it noticed it was displaced still does not take the VIP back", async () => {
  const { a, b } = cluster();
  await a.agent.start(ctx());
  await b.agent.start(ctx()); // the other side of a partition took it
  assert.equal((await a.agent.stop(ctx())).state, "stopped");
  await b.mover.renew(VIP); // the holder is alive
  const again = await a.agent.start(ctx());
  assert.equal(again.state, "stopped");
  assert.equal(again.displaced, true);
  assert.ok(!a.address.present.has(VIP));
});

void test("start of a displaced node reports FLOATIP_E_VIP_HELD_ELSEWHERE as stopped and adds no address", async () => {
  const { clock, a, b } = cluster();
  await a.agent.start(ctx());
  await b.agent.start(ctx());
  clock.advance(CLOUD_CHECK_MS); // A's next cloud check
  assert.equal((await a.agent.monitor(ctx())).state, "stopped"); // A sees it was displaced
  const again = await a.agent.start(ctx());
  assert.equal(again.state, "stopped");
  assert.equal(again.displaced, true);
  assert.match(
    again.message ?? "",
    /^FLOATIP_E_VIP_HELD_ELSEWHERE: 10\.0\.0\.100 is held by ocid1\.instance\.test\.b/,
  );
  assert.ok(!a.address.present.has(VIP));
});

void test("start reports unknown (retryable, not a ban) without touching the host when the cloud cannot be reached", async () => {
  const { api, a } = cluster();
  api.beforeCall = () => {
    throw new Error("connect ECONNREFUSED 127.0.0.1:1");
  };
  const result = await a.agent.start(ctx());
  assert.equal(result.state, "unknown");
  assert.match(result.message ?? "", /ECONNREFUSED/);
  assert.deepEqual(a.address.calls, []);
});

void test("start fails and releases the lease when the local address cannot be configured", async () => {
  const { api, a } = cluster();
  a.address.failStart = true;
  const result = await a.agent.start(ctx());
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /FLOATIP_E_NO_INTERFACE/);
  assert.equal(readHoldTags(api.byAddress(VIP)!.freeformTags).leaseUntil, 0);
});

void test("monitor checks the host every time and the cloud an interval after the start's verified claim", async () => {
  const { api, clock, a } = cluster();
  await a.agent.start(ctx());
  api.calls.length = 0;
  // The claim's read-back was the cloud check: a mass failover must not read every moved VIP again.
  assert.equal((await a.agent.monitor(ctx())).state, "running");
  clock.advance(CLOUD_CHECK_MS - 1);
  assert.equal((await a.agent.monitor(ctx())).state, "running");
  assert.equal(api.calls.length, 0, "no cloud call inside the interval after the start");
  clock.advance(1);
  await a.agent.monitor(ctx());
  assert.ok(api.calls.length > 0, "the cloud is asked once the interval has passed");
  api.calls.length = 0;
  clock.advance(CLOUD_CHECK_MS - 1);
  await a.agent.monitor(ctx());
  assert.equal(api.calls.length, 0, "no cloud call inside the interval after a monitor's check");
  clock.advance(1);
  await a.agent.monitor(ctx());
  assert.ok(api.calls.length > 0);
  assert.equal(a.address.calls.filter((call) => call === "monitor").length, 5);
});

void test("after a start, monitors renew the lease before a third of it has passed, not later", async () => {
  const { api, clock, a } = cluster();
  const slow = agentCheckingEvery2Min(a, clock);
  await slow.start(ctx());
  const written = readHoldTags(api.byAddress(VIP)!.freeformTags).leaseUntil;
  clock.advance(LEASE_MS / 3);
  api.calls.length = 0;
  assert.equal((await slow.monitor(ctx())).state, "running");
  assert.deepEqual(
    api.calls,
    ["UpdatePrivateIp"],
    "renewed at a third of the lease (the write is the check)",
  );
  assert.ok(readHoldTags(api.byAddress(VIP)!.freeformTags).leaseUntil > written);
});

void test("monitor stays running with 'cloud check unknown' on a cloud error while the address is here", async () => {
  const { api, clock, a } = cluster();
  await a.agent.start(ctx());
  clock.advance(CLOUD_CHECK_MS); // the next cloud check is due
  api.beforeCall = () => {
    throw new Error("Failed retrieving certificates from localhost");
  };
  const result = await a.agent.monitor(ctx());
  assert.equal(result.state, "running");
  assert.match(result.message ?? "", /^cloud check unknown: .*Failed retrieving certificates/);
  assert.ok(a.address.present.has(VIP));
});

void test("monitor removes the address and reports stopped when the cloud shows another holder", async () => {
  const { clock, a, b } = cluster();
  await a.agent.start(ctx());
  await b.agent.start(ctx());
  clock.advance(CLOUD_CHECK_MS);
  const result = await a.agent.monitor(ctx());
  assert.equal(result.state, "stopped");
  assert.equal(result.displaced, true);
  assert.match(
    result.message ?? "",
    /^FLOATIP_E_VIP_HELD_ELSEWHERE: 10\.0\.0\.100 is now held by ocid1\.instance\.test\.b \(epoch 2\)/,
  );
  assert.ok(!a.address.present.has(VIP));
});

void test("monitor fails when the local address is gone", async () => {
  const { a } = cluster();
  await a.agent.start(ctx());
  a.address.present.clear();
  const result = await a.agent.monitor(ctx());
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /local address 10\.0\.0\.100 is gone/);
});

void test("monitor keeps the lease renewed even when the cloud interval is longer than the lease", async () => {
  const { api, clock, a } = cluster();
  const slow = agentCheckingEvery2Min(a, clock);
  await slow.start(ctx());
  await slow.monitor(ctx());
  for (let second = 0; second < 120; second++) {
    clock.advance(1000);
    assert.equal((await slow.monitor(ctx())).state, "running");
    assert.ok(
      readHoldTags(api.byAddress(VIP)!.freeformTags).leaseUntil > clock.now(),
      `lease valid at ${second}s`,
    );
  }
});

void test("probe re-attaches to a VIP that is here and ours, without moving it", async () => {
  const { api, a } = cluster();
  await a.agent.start(ctx());
  api.calls.length = 0;
  const restarted = new OciVipAgent({
    mover: a.mover,
    localAddress: a.address,
    clock: new ManualClock(1_700_000_000_000),
    settings: { cloudCheckIntervalMs: CLOUD_CHECK_MS, leaseMs: LEASE_MS },
  });
  assert.equal((await restarted.probe(ctx())).state, "running");
  assert.ok(!api.calls.includes("UpdatePrivateIp"));
});

void test("probe removes a leftover address the cloud routes elsewhere", async () => {
  const { a, b } = cluster();
  await a.agent.start(ctx());
  await b.agent.start(ctx());
  const result = await a.agent.probe(ctx());
  assert.equal(result.state, "stopped");
  assert.ok(!a.address.present.has(VIP));
});

void test("probe says unknown on a cloud error and stopped when the address is not here", async () => {
  const { api, a } = cluster();
  assert.equal((await a.agent.probe(ctx())).state, "stopped");
  await a.agent.start(ctx());
  api.beforeCall = () => {
    throw new Error("503 ServiceUnavailable");
  };
  const result = await a.agent.probe(ctx());
  assert.equal(result.state, "unknown");
  assert.ok(a.address.present.has(VIP), "nothing removed on a cloud error");
});

void test("stop removes the address and ends the lease but leaves the private IP assigned", async () => {
  const { api, a } = cluster();
  await a.agent.start(ctx());
  assert.equal((await a.agent.stop(ctx())).state, "stopped");
  assert.ok(!a.address.present.has(VIP));
  const stored = api.byAddress(VIP)!;
  assert.equal(stored.vnicId, a.local.vnics[0]!.vnicId);
  assert.equal(stored.freeformTags["floatip-lease"], "0");
});

void test("validate accepts IPaddr2 parameters and claim_mode, and rejects bad ones with a fix", () => {
  const { a } = cluster();
  assert.deepEqual(a.agent.validate({ ip: VIP, cidr_netmask: "24", nic: "eth0", claim_mode: "force" }), []);
  const problems = a.agent.validate({ ip: "10.0.0", claim_mode: "always" });
  assert.equal(problems.length, 2);
  assert.match(problems.join("\n"), /claim_mode=always is not valid; use normal \(default\) or force/);
});

void test("against the emulator: monitor through a cloud outage stays running with the address in place", async (t) => {
  const emulator = await startTestEmulator();
  const node = emulatedNode(emulator, "node1");
  t.after(async () => {
    node.close();
    await emulator.close();
  });
  const address = new FakeLocalAddress();
  const agent = new OciVipAgent({
    mover: node.mover,
    localAddress: address,
    clock: systemClock,
    settings: { cloudCheckIntervalMs: 1, leaseMs: LEASE_MS },
  });
  assert.equal((await agent.start(ctx({ ip: TEST_VIP }))).state, "running");
  assert.equal((await agent.monitor(ctx({ ip: TEST_VIP }))).state, "running");
  emulator.faults.outage(60_000);
  await new Promise((resolve) => setTimeout(resolve, 5)); // let the 1 ms cloud check interval pass
  const during = await agent.monitor(ctx({ ip: TEST_VIP }));
  assert.equal(during.state, "running");
  assert.match(
    during.message ?? "",
    /^cloud check unknown: FLOATIP_E_OCI_API: GetPrivateIp: 503 ServiceUnavailable/,
  );
  assert.ok(address.present.has(TEST_VIP));
  emulator.faults.outage(null);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const requestsBefore = emulator.state.requestLog.length;
  const after = await agent.monitor(ctx({ ip: TEST_VIP }));
  assert.equal(after.state, "running");
  assert.equal(after.message, undefined, "the cloud check is no longer unknown");
  const asked = emulator.state.requestLog.slice(requestsBefore);
  assert.ok(
    asked.some((entry) => entry.method === "GET" && entry.status === 200),
    "the cloud was asked again",
  );
});

void test("a standby's probe learns the VIP's OCID in the background, so its failover skips the lookup", async () => {
  const { api, clock, a, b } = cluster();
  // b probes before a has created the VIP: the background lookup retries until it exists.
  assert.equal((await b.agent.probe(ctx())).state, "stopped");
  await a.agent.start(ctx());
  await clock.advanceAsync(1_000);
  await new Promise((resolve) => setImmediate(resolve));
  const before = api.calls.length;
  const taken = await b.agent.start(ctx());
  assert.equal(taken.state, "running");
  const failoverCalls = api.calls.slice(before);
  assert.ok(!failoverCalls.includes("ListPrivateIps"), `failover calls: ${failoverCalls.join(", ")}`);
  assert.equal(failoverCalls[0], "GetPrivateIp");
  assert.ok(b.address.present.has(VIP));
});

void test("the holder's hint travels through the agents: a takeover with it writes before it reads", async () => {
  const { api, clock, a, b } = cluster();
  const started = await a.agent.start(ctx());
  assert.ok(started.handoverHint, "a start reports a handover hint");
  const monitored = await a.agent.monitor(ctx());
  assert.equal(monitored.state, "running");
  assert.ok(monitored.handoverHint, "so does a healthy monitor");
  await b.agent.probe(ctx()); // the standby warms up
  await clock.advanceAsync(100); // probes asked for within 100 ms share a look-up
  await new Promise((resolve) => setImmediate(resolve));
  api.calls.length = 0;
  const takeover = await b.agent.start({ ...ctx(), peerHint: monitored.handoverHint });
  assert.equal(takeover.state, "running");
  assert.equal(api.calls[0], "UpdatePrivateIp");
  assert.equal(api.byAddress(VIP)?.vnicId, b.local.vnics[0]!.vnicId);
});

void test("a hand-over after a stop (a failed service) costs one write on each side: the release with the ETag it last wrote, the claim with the release's hint", async () => {
  const { api, clock, a, b } = cluster();
  await a.agent.start(ctx());
  await a.agent.monitor(ctx());
  await b.agent.probe(ctx()); // the standby warms up
  await clock.advanceAsync(100); // probes asked for within 100 ms share a look-up
  await new Promise((resolve) => setImmediate(resolve));
  api.calls.length = 0;
  const stopped = await a.agent.stop(ctx());
  assert.equal(stopped.state, "stopped");
  assert.deepEqual(api.calls, ["UpdatePrivateIp"], "the release writes without reading first");
  assert.ok(stopped.handoverHint, "the stop hands over the released lease's version");
  api.calls.length = 0;
  const takeover = await b.agent.start({ ...ctx(), peerHint: stopped.handoverHint });
  assert.equal(takeover.state, "running");
  assert.equal(api.calls[0], "UpdatePrivateIp");
  assert.equal(
    api.calls.filter((call) => call === "UpdatePrivateIp").length,
    1,
    `calls: ${api.calls.join(", ")}`,
  );
  assert.equal(api.byAddress(VIP)?.vnicId, b.local.vnics[0]!.vnicId);
});

/** Advances the clock a second at a time, letting the look-ups it triggers finish. */
async function advanceSeconds(clock: ManualClock, seconds: number): Promise<void> {
  for (let s = 0; s < seconds; s++) {
    await clock.advanceAsync(1_000);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

void test("a standby keeps looking for a VIP the holder creates minutes later, then stops asking", async () => {
  const { api, clock, a, b } = cluster();
  assert.equal((await b.agent.probe(ctx())).state, "stopped");
  // 16 nodes with 200 VIPs took 49 s to set up: the holder creates this one after 3 minutes.
  await advanceSeconds(clock, 180);
  const lookups = api.calls.filter((call) => call === "ListPrivateIps").length;
  assert.ok(lookups >= 12 && lookups <= 20, `backed off: ${lookups} look-ups in 3 minutes`);
  assert.equal(b.agent.warmingCount, 1, "still looking after 3 minutes");
  await a.agent.start(ctx());
  await advanceSeconds(clock, 15);
  assert.equal(b.agent.warmingCount, 0, "found within the longest retry delay");
  const afterFound = api.calls.length;
  await advanceSeconds(clock, 60);
  assert.equal(api.calls.length, afterFound, "no look-up once found");
  const taken = await b.agent.start(ctx());
  assert.equal(taken.state, "running");
  assert.ok(!api.calls.slice(afterFound).includes("ListPrivateIps"), "the failover skips the lookup");
});

void test("a standby's warm-up gives up after a quarter of an hour and never runs twice for one VIP", async () => {
  const { api, clock, b } = cluster();
  await b.agent.probe(ctx());
  await b.agent.probe(ctx()); // a re-probe (resource cleanup) while the first look-up still runs
  await advanceSeconds(clock, 4);
  // One warm-up: look-ups at 0, 1 and 3 s (two would have made six).
  assert.equal(api.calls.filter((call) => call === "ListPrivateIps").length, 3);
  await advanceSeconds(clock, 15 * 60);
  assert.equal(b.agent.warmingCount, 0);
  const calls = api.calls.length;
  await advanceSeconds(clock, 120);
  assert.equal(api.calls.length, calls, "no look-up after giving up");
  assert.equal(clock.pendingTimers, 0, "no timer left behind");
});

void test("a standby's warm-up ends when the VIP starts here or the agent closes, leaving no timer", async () => {
  const { api, clock, b } = cluster();
  await b.agent.probe(ctx());
  await b.agent.probe(ctx({ ip: "10.0.0.101", cidr_netmask: "24" }));
  await advanceSeconds(clock, 2);
  assert.equal(b.agent.warmingCount, 2);
  assert.equal((await b.agent.start(ctx())).state, "running"); // creates 10.0.0.100 here
  assert.equal(b.agent.warmingCount, 1, "the started VIP is no longer looked up");
  b.agent.close();
  assert.equal(b.agent.warmingCount, 0);
  const calls = api.calls.length;
  await advanceSeconds(clock, 120);
  assert.equal(api.calls.length, calls, "nothing asked after close");
  assert.equal(clock.pendingTimers, 0, "no timer left behind");
  await b.agent.probe(ctx({ ip: "10.0.0.102", cidr_netmask: "24" }));
  assert.equal(b.agent.warmingCount, 0, "a closed agent starts no warm-up");
});

void test("a check due for renewal is one guarded write; when the VIP was taken meanwhile it reads and steps back", async () => {
  const { api, clock, a, b } = cluster();
  await a.agent.start(ctx());
  clock.advance(LEASE_MS / 3);
  api.calls.length = 0;
  assert.equal((await a.agent.monitor(ctx())).state, "running");
  assert.deepEqual(api.calls, ["UpdatePrivateIp"], "no read before the renewal");
  await b.agent.start(ctx()); // the other side of a partition takes it
  clock.advance(LEASE_MS / 3);
  api.calls.length = 0;
  const result = await a.agent.monitor(ctx());
  assert.equal(result.state, "stopped");
  assert.equal(result.displaced, true);
  assert.equal(api.calls[0], "UpdatePrivateIp", "the guarded write was tried");
  assert.ok(api.calls.includes("GetPrivateIp"), "and its 412 made the check read");
  assert.equal(api.byAddress(VIP)?.vnicId, b.local.vnics[0]!.vnicId, "the write never landed");
  assert.ok(!a.address.present.has(VIP));
});

void test("a standby warming up many VIPs asks one subnet listing per round, not a read per VIP", async () => {
  const { api, clock, a, b } = cluster();
  const ips = Array.from({ length: 20 }, (_, i) => `10.0.0.${100 + i}`);
  for (const ip of ips) await b.agent.probe(ctx({ ip, cidr_netmask: "24" }));
  await advanceSeconds(clock, 15);
  assert.ok(api.calls.length < ips.length, `${api.calls.length} calls in 15 s: ${api.calls.join(", ")}`);
  api.calls.length = 0;
  await advanceSeconds(clock, 45);
  // Rounds at about 30, 45 and 60 s, one listing each (a read per VIP would be 60 calls).
  assert.deepEqual(api.calls, ["ListPrivateIps", "ListPrivateIps", "ListPrivateIps"]);
  assert.equal(b.agent.warmingCount, 20);
  const hints = new Map<string, string | undefined>();
  for (const ip of ips) hints.set(ip, (await a.agent.start(ctx({ ip, cidr_netmask: "24" }))).handoverHint);
  await advanceSeconds(clock, 15);
  assert.equal(b.agent.warmingCount, 0, "all found by the next listing");
  const vip = ips[5]!;
  api.calls.length = 0;
  const taken = await b.agent.start({ ...ctx({ ip: vip, cidr_netmask: "24" }), peerHint: hints.get(vip) });
  assert.equal(taken.state, "running");
  assert.equal(api.calls[0], "UpdatePrivateIp", `the takeover writes first: ${api.calls.join(", ")}`);
  assert.ok(!api.calls.includes("ListPrivateIps"));
});

void test("with a mover that cannot list many VIPs at once, a warm-up round reads each VIP it waits for", async () => {
  const { clock, a, b } = cluster();
  const agent = new OciVipAgent({
    mover: {
      claim: (...args) => b.mover.claim(...args),
      release: (...args) => b.mover.release(...args),
      inspect: (...args) => b.mover.inspect(...args),
      renew: (...args) => b.mover.renew(...args),
    },
    localAddress: b.address,
    clock,
    settings: { cloudCheckIntervalMs: CLOUD_CHECK_MS, leaseMs: LEASE_MS },
    random: () => 0,
  });
  const ips = ["10.0.0.100", "10.0.0.101", "10.0.0.102"];
  for (const ip of ips) await agent.probe(ctx({ ip, cidr_netmask: "24" }));
  for (const ip of ips) await a.agent.start(ctx({ ip, cidr_netmask: "24" }));
  await advanceSeconds(clock, 2);
  assert.equal(agent.warmingCount, 0, "every VIP found, not only the first");
  agent.close();
});
