import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../clock/manual-clock.ts";
import { silentLogger } from "../../observability/logger.ts";
import type { LocalInstance } from "./discovery.ts";
import { InMemoryOciApi } from "./in-memory-oci-api.ts";
import { PrivateIpMover } from "./private-ip-mover.ts";
import { readHoldTags } from "./hold-tags.ts";
import { decodeClaimHint } from "./claim-hint.ts";

const SUBNET = "ocid1.subnet.test.app";
const VIP = "10.0.0.100";
const LEASE_MS = 30_000;

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
        primaryPrivateIp: name === "a" ? "10.0.0.11" : "10.0.0.12",
        macAddr: "02:00:17:00:00:01",
        virtualRouterIp: "10.0.0.1",
        nicIndex: 0,
        compartmentId: "ocid1.compartment.test",
      },
    ],
  };
}

function world(options: { stateFileA?: string } = {}) {
  const api = new InMemoryOciApi();
  const clock = new ManualClock(1_700_000_000_000);
  const a = instance("a");
  const b = instance("b");
  for (const node of [a, b]) {
    api.addVnic({ id: node.vnics[0]!.vnicId, subnetId: SUBNET, privateIp: node.vnics[0]!.primaryPrivateIp });
    api.addPrivateIp({
      ipAddress: node.vnics[0]!.primaryPrivateIp,
      vnicId: node.vnics[0]!.vnicId,
      isPrimary: true,
    });
  }
  const mover = (node: LocalInstance, stateFile?: string) =>
    new PrivateIpMover({
      api,
      localInstance: async () => node,
      clock,
      leaseMs: LEASE_MS,
      logger: silentLogger(),
      ...(stateFile ? { stateFile } : {}),
    });
  return { api, clock, a, b, moverA: mover(a, options.stateFileA), moverB: mover(b), mover };
}

void test("creates the VIP on this VNIC with epoch 1 when it does not exist", async () => {
  const { api, clock, a, moverA } = world();
  const result = await moverA.claim(VIP);
  assert.equal(result.outcome, "created");
  const stored = api.byAddress(VIP);
  assert.equal(stored?.vnicId, a.vnics[0]!.vnicId);
  assert.deepEqual(readHoldTags(stored!.freeformTags), {
    epoch: 1,
    holder: a.instanceId,
    leaseUntil: clock.now() + LEASE_MS,
  });
});

void test("moves the VIP from another node with epoch+1, guarded by if-match, and verifies by reading back", async () => {
  const { api, b, moverA, moverB } = world();
  await moverA.claim(VIP);
  api.setPrivateIp(api.byAddress(VIP)!.id, {
    freeformTags: { ...api.byAddress(VIP)!.freeformTags, "cost-center": "42" },
  });
  api.calls.length = 0;
  const result = await moverB.claim(VIP);
  assert.equal(result.outcome, "moved");
  assert.equal(result.outcome === "moved" && result.epoch, 2);
  const stored = api.byAddress(VIP)!;
  assert.equal(stored.vnicId, b.vnics[0]!.vnicId);
  assert.equal(stored.freeformTags["cost-center"], "42", "tags floatip does not own are kept");
  assert.equal(readHoldTags(stored.freeformTags).holder, b.instanceId);
  assert.deepEqual(api.calls.slice(-2), ["UpdatePrivateIp", "GetPrivateIp"], "the move is read back");
});

void test("a claim of a VIP already on this VNIC changes nothing when the lease is fresh", async () => {
  const { api, moverA } = world();
  await moverA.claim(VIP);
  api.calls.length = 0;
  const again = await moverA.claim(VIP);
  assert.equal(again.outcome, "already");
  assert.ok(!api.calls.includes("UpdatePrivateIp"));
});

void test("of two nodes racing for the VIP exactly one wins and the loser stands down", async () => {
  const { api, a, b, moverA, moverB, mover } = world();
  const c = instance("c");
  c.vnics[0]!.vnicId = "ocid1.vnic.test.c";
  api.addVnic({ id: c.vnics[0]!.vnicId, subnetId: SUBNET });
  await mover(c).claim(VIP);
  // B reads, then A moves the VIP before B's write: B's if-match is stale.
  let interleaved = false;
  api.beforeCall = async (operation) => {
    if (operation === "UpdatePrivateIp" && !interleaved) {
      interleaved = true;
      api.beforeCall = undefined;
      const resultA = await moverA.claim(VIP);
      assert.equal(resultA.outcome, "moved");
    }
  };
  const resultB = await moverB.claim(VIP);
  assert.equal(resultB.outcome, "lost-race");
  const stored = api.byAddress(VIP)!;
  assert.equal(stored.vnicId, a.vnics[0]!.vnicId);
  assert.equal(readHoldTags(stored.freeformTags).epoch, 2);
  assert.notEqual(stored.vnicId, b.vnics[0]!.vnicId);
});

void test("a displaced node does not take the VIP back while the new holder's lease runs", async () => {
  const { api, clock, b, moverA, moverB } = world();
  await moverA.claim(VIP); // A holds (epoch 1)
  assert.equal((await moverB.claim(VIP)).outcome, "moved"); // partition: B's side takes over at once
  // A, still alive on its side of the partition, tries to take it back.
  api.calls.length = 0;
  const back = await moverA.claim(VIP);
  assert.equal(back.outcome, "held-elsewhere");
  assert.equal(back.outcome === "held-elsewhere" && back.holderInstanceId, b.instanceId);
  assert.ok(!api.calls.includes("UpdatePrivateIp"), "no second move");
  assert.equal(api.byAddress(VIP)!.vnicId, b.vnics[0]!.vnicId);

  // B keeps renewing while it is alive; A still stays away.
  clock.advance(LEASE_MS / 2);
  assert.equal((await moverB.renew(VIP)).outcome, "renewed");
  clock.advance(LEASE_MS / 2);
  assert.equal((await moverA.claim(VIP)).outcome, "held-elsewhere");

  // B dies: once its lease ends, A takes the VIP.
  clock.advance(LEASE_MS + 1);
  const after = await moverA.claim(VIP);
  assert.equal(after.outcome, "moved");
  assert.equal(after.outcome === "moved" && after.epoch, 3);
});

void test("a displaced node takes the VIP at once after the holder releases it", async () => {
  const { api, a, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.claim(VIP);
  assert.equal((await moverA.claim(VIP)).outcome, "held-elsewhere");
  assert.deepEqual(await moverB.release(VIP), { outcome: "released" });
  assert.equal(api.byAddress(VIP)!.freeformTags["floatip-lease"], "0");
  assert.equal(api.byAddress(VIP)!.vnicId !== undefined, true, "release never unassigns the private IP");
  assert.equal((await moverA.claim(VIP)).outcome, "moved");
  assert.equal(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
});

void test("a displaced node given the holder's hint from before its release reads the cloud and takes the VIP (standby)", async () => {
  const { api, a, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.claim(VIP);
  assert.equal((await moverA.claim(VIP)).outcome, "held-elsewhere");
  const hint = moverB.claimHint(VIP);
  assert.ok(hint, "the holder offers a hint while it holds the VIP");
  // The holder is put in standby: it releases the lease; the gossiped hint still shows the running lease.
  assert.deepEqual(await moverB.release(VIP), { outcome: "released" });
  api.calls.length = 0;
  const result = await moverA.claim(VIP, { hint });
  assert.equal(result.outcome, "moved");
  assert.ok(api.calls.includes("GetPrivateIp") || api.calls.includes("ListPrivateIps"), "read the cloud");
  assert.equal(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
});

void test("an admin force move ignores the displacement rule", async () => {
  const { api, a, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.claim(VIP);
  assert.equal((await moverA.claim(VIP, { mode: "force" })).outcome, "moved");
  assert.equal(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
});

void test("the displacement is remembered across a restart through the state file", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "floatip-mover-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stateFile = join(dir, "oci-mover.json");
  const { a, moverA, moverB, mover } = world({ stateFileA: stateFile });
  await moverA.claim(VIP);
  await moverB.claim(VIP);
  assert.equal((await moverA.inspect(VIP)).state, "held");
  const restartedA = mover(a, stateFile);
  assert.equal((await restartedA.claim(VIP)).outcome, "held-elsewhere");
  assert.match(await readFile(stateFile, "utf8"), /"byEpoch": 2/);
});

void test("inspect tells whether the VIP is ours and who else holds it", async () => {
  const { b, moverA, moverB } = world();
  assert.deepEqual(await moverA.inspect(VIP), { state: "absent" });
  await moverA.claim(VIP);
  const mine = await moverA.inspect(VIP);
  assert.equal(mine.state === "held" && mine.ours, true);
  await moverB.claim(VIP);
  const theirs = await moverA.inspect(VIP);
  assert.equal(theirs.state, "held");
  if (theirs.state !== "held") return;
  assert.equal(theirs.ours, false);
  assert.equal(theirs.displaced, true);
  assert.equal(theirs.holderInstanceId, b.instanceId);
  assert.equal(theirs.epoch, 2);
});

void test("inspect reports unknown, not an answer, when the cloud fails", async () => {
  const { api, moverA } = world();
  api.beforeCall = () => {
    throw new Error("connect ECONNREFUSED");
  };
  const result = await moverA.inspect(VIP);
  assert.equal(result.state, "unknown");
  assert.match(result.state === "unknown" ? result.reason : "", /ECONNREFUSED/);
});

void test("renew writes only when less than two thirds of the lease is left", async () => {
  const { api, clock, moverA } = world();
  await moverA.claim(VIP);
  assert.equal((await moverA.renew(VIP)).outcome, "fresh");
  clock.advance(LEASE_MS / 3 + 1);
  const renewed = await moverA.renew(VIP);
  assert.equal(renewed.outcome, "renewed");
  assert.equal(readHoldTags(api.byAddress(VIP)!.freeformTags).leaseUntil, clock.now() + LEASE_MS);
  assert.equal(readHoldTags(api.byAddress(VIP)!.freeformTags).epoch, 1, "renewal does not change the epoch");
});

void test("a claim whose move fails is an error, never a success", async () => {
  const { api, moverA, moverB } = world();
  await moverB.claim(VIP);
  api.beforeCall = (operation) => {
    if (operation === "UpdatePrivateIp") throw new Error("socket hang up");
  };
  await assert.rejects(moverA.claim(VIP), /socket hang up/);
});

void test("a VIP outside every subnet of this instance is refused with what to do", async () => {
  const { moverA } = world();
  await assert.rejects(moverA.claim("10.9.9.9"), (error: Error) =>
    /^FLOATIP_E_VIP_NOT_IN_SUBNET: 10\.9\.9\.9 is not in subnet 10\.0\.0\.0\/24 .*pick an address inside it$/.test(
      error.message,
    ),
  );
});

void test("the primary private IP of a VNIC cannot be claimed as a VIP", async () => {
  const { moverA } = world();
  await assert.rejects(moverA.claim("10.0.0.12"), /FLOATIP_E_VIP_IS_PRIMARY/);
});

void test("once the cluster is whole again a node forgets it was displaced: a later failover to it is immediate", async () => {
  const { api, a, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.claim(VIP); // a partition moved it to B
  assert.equal((await moverA.claim(VIP)).outcome, "held-elsewhere");
  await moverA.forgetDisplacements(); // the partition healed; then B is lost for real
  const taken = await moverA.claim(VIP);
  assert.equal(taken.outcome, "moved");
  assert.equal(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
});

void test("with the holder's hint a takeover is one guarded write before the read-back, no read first", async () => {
  const { api, b, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.inspect(VIP); // a standby learns the private IP ahead of time
  const hint = moverA.claimHint(VIP);
  assert.ok(hint, "the holder offers a hint");
  assert.equal(moverB.claimHint(VIP), undefined, "a node that does not hold the VIP offers none");
  api.calls.length = 0;
  const result = await moverB.claim(VIP, { hint });
  assert.equal(result.outcome, "moved");
  assert.deepEqual(api.calls, ["UpdatePrivateIp", "GetPrivateIp"]);
  const stored = api.byAddress(VIP)!;
  assert.equal(stored.vnicId, b.vnics[0]!.vnicId);
  assert.deepEqual(readHoldTags(stored.freeformTags).epoch, 2);
});

void test("a node that held the VIP before the peer took it over cleanly still takes it back with the peer's hint in one write", async () => {
  // bench:scale netns: the VIPs were first placed on node1 (before their location constraint), moved to
  // node2, and node1's last view of each was its own release: it ignored node2's hints (three calls per VIP).
  const { api, a, moverA, moverB } = world();
  await moverA.claim(VIP);
  assert.deepEqual(await moverA.release(VIP), { outcome: "released" });
  assert.equal((await moverB.claim(VIP)).outcome, "moved");
  const hint = moverB.claimHint(VIP);
  assert.ok(hint);
  api.calls.length = 0;
  const result = await moverA.claim(VIP, { hint });
  assert.equal(result.outcome, "moved");
  assert.deepEqual(api.calls, ["UpdatePrivateIp", "GetPrivateIp"], "the hinted write, then its read-back");
  assert.equal(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
  assert.equal(readHoldTags(api.byAddress(VIP)!.freeformTags).epoch, 3);
});

void test("a node holding the VIP given a peer's older hint reads first and keeps the VIP, without a blind write", async () => {
  const { api, a, moverA, moverB } = world();
  await moverB.claim(VIP);
  const oldHint = moverB.claimHint(VIP);
  assert.equal((await moverA.claim(VIP)).outcome, "moved");
  api.calls.length = 0;
  const result = await moverA.claim(VIP, { hint: oldHint });
  assert.equal(result.outcome, "already");
  assert.equal(api.calls[0], "GetPrivateIp", "read first: the hint's hold is older than ours");
  assert.equal(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
  assert.equal(
    readHoldTags(api.byAddress(VIP)!.freeformTags).epoch,
    2,
    "no new epoch for a VIP already here",
  );
});

void test("a hint made stale by the holder's lease renewal costs a 412 and the claim still moves the VIP", async () => {
  const { api, b, clock, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.inspect(VIP);
  const hint = moverA.claimHint(VIP);
  clock.advance(LEASE_MS / 2);
  assert.equal((await moverA.renew(VIP)).outcome, "renewed");
  assert.notEqual(moverA.claimHint(VIP), hint, "the renewal changed the ETag the holder reports");
  api.calls.length = 0;
  const result = await moverB.claim(VIP, { hint });
  assert.equal(result.outcome, "moved");
  assert.equal(api.calls[0], "UpdatePrivateIp", "the hinted write was tried first");
  assert.equal(api.byAddress(VIP)!.vnicId, b.vnics[0]!.vnicId);
  assert.equal(readHoldTags(api.byAddress(VIP)!.freeformTags).epoch, 2);
});

void test("a stale hint from an older holder never makes a claim stand down (412 means read, not lost race)", async () => {
  const { api, a, b, mover, moverA, moverB } = world();
  const c = instance("c");
  c.vnics[0]!.vnicId = "ocid1.vnic.test.c";
  api.addVnic({ id: c.vnics[0]!.vnicId, subnetId: SUBNET });
  await moverA.claim(VIP);
  await moverB.inspect(VIP);
  const oldHint = moverA.claimHint(VIP);
  await mover(c).claim(VIP); // c took it over (epoch 2) and then died
  const result = await moverB.claim(VIP, { hint: oldHint });
  assert.equal(result.outcome, "moved");
  assert.equal(api.byAddress(VIP)!.vnicId, b.vnics[0]!.vnicId);
  assert.equal(readHoldTags(api.byAddress(VIP)!.freeformTags).epoch, 3);
  assert.notEqual(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
});

void test("a hint is not used when someone changed the other tags since this node read them (they would be lost)", async () => {
  const { api, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.inspect(VIP);
  api.setPrivateIp(api.byAddress(VIP)!.id, {
    freeformTags: { ...api.byAddress(VIP)!.freeformTags, "cost-center": "42" },
  });
  await moverA.inspect(VIP); // the holder's view now has the new tag
  api.calls.length = 0;
  const result = await moverB.claim(VIP, { hint: moverA.claimHint(VIP) });
  assert.equal(result.outcome, "moved");
  assert.equal(api.calls[0], "GetPrivateIp", "no blind write with tags older than the cloud's");
  assert.equal(api.byAddress(VIP)!.freeformTags["cost-center"], "42");
});

void test("garbage hints are ignored", async () => {
  const { api, b, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.inspect(VIP);
  for (const hint of ["", "x", "1.2.zzzzzzzz.etag", "1.2.abcdef01.", "a.b.c.d"]) {
    api.calls.length = 0;
    await moverB.claim(VIP, { hint });
    assert.notEqual(api.calls[0], "UpdatePrivateIp", hint);
    await moverA.claim(VIP, { mode: "force" });
  }
  assert.notEqual(api.byAddress(VIP)!.vnicId, b.vnics[0]!.vnicId);
});

void test("a move seen while the cluster is whole is not a displacement: a later failover to this node is immediate", async () => {
  const { api, a, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverA.forgetDisplacements(); // every node is a member
  await moverB.claim(VIP); // the coordinator moved it (or a move from before the heal landed)
  const seen = await moverA.inspect(VIP); // A's cloud check notices
  assert.equal(seen.state === "held" && seen.displaced, false);
  const taken = await moverA.claim(VIP); // B is lost for real
  assert.equal(taken.outcome, "moved");
  assert.equal(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
});

void test("after the cluster splits again a displacement counts as before", async () => {
  const { moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverA.forgetDisplacements();
  moverA.clusterPartial();
  await moverB.claim(VIP); // the other side of a partition took it
  assert.equal((await moverA.claim(VIP)).outcome, "held-elsewhere");
});

void test("a claim still running from a partition when the cluster heals stands down instead of taking the VIP back", async () => {
  const { api, b, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.claim(VIP); // the other side of the partition took it while A was cut off
  await moverA.forgetDisplacements(); // the heal arrives while A's start (decided alone) is in flight
  assert.equal((await moverA.claim(VIP)).outcome, "held-elsewhere");
  assert.equal(api.byAddress(VIP)!.vnicId, b.vnics[0]!.vnicId);
});

void test("after a peer is lost the holder rewrites its lease, so a hinted write the peer sent before returning gets 412 and never lands", async () => {
  const { api, a, clock, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.inspect(VIP);
  const hint = moverA.claimHint(VIP);
  assert.ok(hint);
  clock.advance(1_000);
  api.calls.length = 0;
  await moverA.peersLost();
  assert.deepEqual(api.calls, ["UpdatePrivateIp"], "one guarded write per held VIP, no read");
  assert.notEqual(moverA.claimHint(VIP), hint, "the gossiped hint follows the new ETag");
  const tags = readHoldTags(api.byAddress(VIP)!.freeformTags);
  assert.equal(tags.epoch, 1, "same holder, same epoch: only the lease moved");
  assert.equal(tags.leaseUntil, clock.now() + LEASE_MS);
  // The peer's write, sent with the old hint while cut off, arrives late: its if-match fails.
  api.calls.length = 0;
  await assert.rejects(
    api.updatePrivateIp(api.byAddress(VIP)!.id, { vnicId: "ocid1.vnic.test.b" }, decodeClaimHint(hint)!.etag),
    (error: unknown) => error instanceof Error && /412|etag|match/i.test(String(error)),
  );
  assert.equal(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
});

void test("after a peer is lost a released VIP, or one taken meanwhile, is not rewritten", async () => {
  const { api, b, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverA.release(VIP);
  api.calls.length = 0;
  await moverA.peersLost();
  assert.deepEqual(api.calls, [], "a released lease stays released");
  await moverA.claim(VIP);
  await moverB.claim(VIP, { mode: "force" });
  api.calls.length = 0;
  await moverA.peersLost(); // A still believes it holds the VIP: the write gets 412, the read shows B
  assert.equal(api.byAddress(VIP)!.vnicId, b.vnics[0]!.vnicId);
  assert.equal(readHoldTags(api.byAddress(VIP)!.freeformTags).holder, "ocid1.instance.test.b");
});

void test("a release that finds the VIP taken while the cluster is whole does not block a later failover to this node", async () => {
  const { api, a, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.claim(VIP); // moved while A was cut off; A's stop (release) only gets its answer after the heal
  await moverA.forgetDisplacements();
  assert.equal((await moverA.release(VIP)).outcome, "not-holder");
  // B is lost now and the coordinator moves the VIP back to A while B's lease still runs.
  assert.equal((await moverA.claim(VIP)).outcome, "moved");
  assert.equal(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
});

void test("a release writes with the ETag of this node's last write; a VIP changed since is read first and not released", async () => {
  const { api, b, moverA, moverB } = world();
  await moverA.claim(VIP);
  api.calls.length = 0;
  assert.deepEqual(await moverA.release(VIP), { outcome: "released" });
  assert.deepEqual(api.calls, ["UpdatePrivateIp"]);
  assert.equal(api.byAddress(VIP)!.freeformTags["floatip-lease"], "0");
  assert.equal(decodeClaimHint(moverA.claimHint(VIP))?.leaseUntil, 0, "the hint shows the released lease");
  await moverA.claim(VIP);
  await moverB.claim(VIP, { mode: "force" }); // moved behind A's back
  api.calls.length = 0;
  assert.equal((await moverA.release(VIP)).outcome, "not-holder");
  assert.equal(api.calls[0], "UpdatePrivateIp", "the blind write got 412");
  assert.equal(api.byAddress(VIP)!.vnicId, b.vnics[0]!.vnicId);
  assert.notEqual(readHoldTags(api.byAddress(VIP)!.freeformTags).leaseUntil, 0, "B's lease is untouched");
});

void test("a heal forgets the hold of a VIP not running here: a later real failover to this node is immediate", async () => {
  const { api, a, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverB.claim(VIP); // taken while A was cut off; A never saw it (its stop got no answer)
  await moverA.forgetDisplacements([]); // the cluster is whole and the VIP does not run on A
  moverA.clusterPartial(); // now B is lost for real, with its lease still running
  assert.equal((await moverA.claim(VIP)).outcome, "moved");
  assert.equal(api.byAddress(VIP)!.vnicId, a.vnics[0]!.vnicId);
});

void test("a heal keeps the hold of a VIP running here: taken in a later partition, it is not taken back", async () => {
  const { api, b, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverA.forgetDisplacements([VIP]);
  moverA.clusterPartial();
  await moverB.claim(VIP); // the other side of a new partition took it
  assert.equal((await moverA.claim(VIP)).outcome, "held-elsewhere");
  assert.equal(api.byAddress(VIP)!.vnicId, b.vnics[0]!.vnicId);
});

void test("renewKnown renews a due lease with one guarded write and the ETag last seen, no read", async () => {
  const { api, clock, moverA } = world();
  await moverA.claim(VIP);
  api.calls.length = 0;
  clock.advance(LEASE_MS / 3 - 1);
  assert.equal(await moverA.renewKnown(VIP), undefined, "not due yet: a read is the check");
  assert.equal(api.calls.length, 0);
  clock.advance(1);
  const hint = moverA.claimHint(VIP);
  const renewed = await moverA.renewKnown(VIP);
  assert.deepEqual(renewed, { outcome: "renewed", leaseUntil: clock.now() + LEASE_MS, epoch: 1 });
  assert.deepEqual(api.calls, ["UpdatePrivateIp"]);
  assert.equal(readHoldTags(api.byAddress(VIP)!.freeformTags).leaseUntil, clock.now() + LEASE_MS);
  assert.notEqual(moverA.claimHint(VIP), hint, "the hint follows the new ETag");
});

void test("renewKnown never lands on a VIP that changed since (taken, released or unknown): the caller reads", async () => {
  const { api, b, clock, moverA, moverB } = world();
  assert.equal(await moverA.renewKnown(VIP), undefined, "nothing known");
  await moverA.claim(VIP);
  await moverB.claim(VIP);
  clock.advance(LEASE_MS / 2);
  api.calls.length = 0;
  assert.equal(await moverA.renewKnown(VIP), undefined, "412: taken by b since a's last view");
  assert.deepEqual(api.calls, ["UpdatePrivateIp"]);
  assert.equal(api.byAddress(VIP)!.vnicId, b.vnics[0]!.vnicId);
  assert.equal(readHoldTags(api.byAddress(VIP)!.freeformTags).holder, b.instanceId);
  assert.deepEqual(await moverB.release(VIP), { outcome: "released" });
  clock.advance(LEASE_MS / 2);
  api.calls.length = 0;
  assert.equal(await moverB.renewKnown(VIP), undefined, "a released lease is not taken up again blindly");
  assert.equal(api.calls.length, 0);
  assert.equal((await moverA.claim(VIP)).outcome, "moved");
  clock.advance(LEASE_MS / 2);
  api.privateIps.delete(api.byAddress(VIP)!.id); // deleted outside floatip
  assert.equal(await moverA.renewKnown(VIP), undefined, "a 404 is left to the read to report");
});

void test("learn finds many VIPs with one subnet listing and a hinted takeover of one is a single write", async () => {
  const { api, moverA, moverB } = world();
  await moverA.claim(VIP);
  await moverA.claim("10.0.0.101");
  api.calls.length = 0;
  const found = await moverB.learn([VIP, "10.0.0.101", "10.0.0.102", "192.168.9.9"]);
  assert.deepEqual([...found].sort(), [VIP, "10.0.0.101"], "absent and foreign addresses are not found");
  assert.deepEqual(api.calls, ["ListPrivateIps"]);
  api.calls.length = 0;
  const result = await moverB.claim(VIP, { hint: moverA.claimHint(VIP) });
  assert.equal(result.outcome, "moved");
  assert.deepEqual(api.calls, ["UpdatePrivateIp", "GetPrivateIp"], "the hinted write, then its read-back");
  assert.equal(moverB.claimHint("10.0.0.101"), undefined, "a listed copy is never offered as a hint");
});
