import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../clock/manual-clock.ts";
import { silentLogger } from "../../observability/logger.ts";
import type { LocalInstance } from "./discovery.ts";
import { readHoldTags } from "./hold-tags.ts";
import { InMemoryOciApi } from "./in-memory-oci-api.ts";
import { PrivateIpMover } from "./private-ip-mover.ts";
import { VnicReadBatcher } from "./verify-batch.ts";

const SUBNET = "ocid1.subnet.test.app";
const OURS = "ocid1.vnic.test.a";
const THEIRS = "ocid1.vnic.test.b";

/** An API whose calls wait until the test lets them go, so reads can pile up behind one in flight. */
function heldApi() {
  const api = new InMemoryOciApi();
  api.addVnic({ id: OURS, subnetId: SUBNET });
  api.addVnic({ id: THEIRS, subnetId: SUBNET });
  const gates: (() => void)[] = [];
  let holding = true;
  api.beforeCall = () => (holding ? new Promise<void>((resolve) => gates.push(resolve)) : undefined);
  const release = async (): Promise<void> => {
    for (const open of gates.splice(0)) open();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    api,
    release,
    stopHolding: () => {
      holding = false;
      return release();
    },
  };
}

void test("a lone read-back is the same GetPrivateIp as before, with its ETag", async () => {
  const { api, stopHolding } = heldApi();
  const id = api.addPrivateIp({ ipAddress: "10.0.0.100", vnicId: OURS });
  await stopHolding();
  const read = await new VnicReadBatcher(api).read(OURS, id);
  assert.deepEqual(api.calls, ["GetPrivateIp"]);
  assert.equal(read?.value.vnicId, OURS);
  assert.ok(read?.etag, "a lone read keeps the ETag");
});

void test("read-backs asked while one is on its way share one ListPrivateIps of the VNIC", async () => {
  const { api, stopHolding } = heldApi();
  const ids = Array.from({ length: 6 }, (_, i) =>
    api.addPrivateIp({ ipAddress: `10.0.0.${100 + i}`, vnicId: i === 5 ? THEIRS : OURS }),
  );
  const batcher = new VnicReadBatcher(api);
  const first = batcher.read(OURS, ids[0]!);
  assert.deepEqual(api.calls, ["GetPrivateIp"], "the first read goes at once, alone");
  // Five more while the first is on its way: they must not take its answer (it may predate their writes).
  const later = ids.slice(1).map((id) => batcher.read(OURS, id));
  await stopHolding();
  const [one, ...rest] = await Promise.all([first, ...later]);
  assert.deepEqual(api.calls, ["GetPrivateIp", "ListPrivateIps"]);
  assert.equal(one?.value.id, ids[0]);
  assert.deepEqual(
    rest.map((r) => r?.value.id),
    [ids[1], ids[2], ids[3], ids[4], undefined],
    "each reader gets its own private IP; one on another VNIC is not listed",
  );
  assert.ok(
    rest.every((r) => r === undefined || r.etag === undefined),
    "listed copies carry no ETag",
  );
});

void test("a reader that gives up is answered at once; the others still get theirs; a failed list fails its readers only", async () => {
  const { api, release } = heldApi();
  const ids = [1, 2, 3, 4].map((i) => api.addPrivateIp({ ipAddress: `10.0.0.${100 + i}`, vnicId: OURS }));
  const batcher = new VnicReadBatcher(api);
  const first = batcher.read(OURS, ids[0]!);
  const abort = new AbortController();
  const gaveUp = batcher.read(OURS, ids[1]!, abort.signal);
  const stays = batcher.read(OURS, ids[2]!);
  abort.abort();
  await assert.rejects(gaveUp, { name: "AbortError" });
  await release(); // the first read returns; the list for the one still waiting goes out
  await release();
  assert.equal((await first)?.value.id, ids[0]);
  assert.equal((await stays)?.value.id, ids[2], "alone after the other gave up: a GET");
  assert.deepEqual(api.calls, ["GetPrivateIp", "GetPrivateIp"]);
  api.beforeCall = (operation) => {
    if (operation === "ListPrivateIps") throw new Error("list failed");
  };
  const x = batcher.read(OURS, ids[0]!);
  const y = [batcher.read(OURS, ids[1]!), batcher.read(OURS, ids[2]!)];
  await x;
  await Promise.all(y.map((p) => assert.rejects(p, /list failed/)));
  api.beforeCall = undefined;
  assert.equal((await batcher.read(OURS, ids[3]!))?.value.id, ids[3], "the next read works");
});

function instance(name: string, vnicId: string, ip: string): LocalInstance {
  return {
    instanceId: `ocid1.instance.test.${name}`,
    displayName: name,
    region: "us-phoenix-1",
    availabilityDomain: "AD-1",
    compartmentId: "ocid1.compartment.test",
    vnics: [
      {
        vnicId,
        subnetId: SUBNET,
        subnetCidr: "10.0.0.0/24",
        primaryPrivateIp: ip,
        macAddr: "02:00:17:00:00:01",
        virtualRouterIp: "10.0.0.1",
        nicIndex: 0,
        compartmentId: "ocid1.compartment.test",
      },
    ],
  };
}

void test("N concurrent claims of a node are verified with fewer than 2N calls, each still read back", async () => {
  const api = new InMemoryOciApi();
  api.addVnic({ id: OURS, subnetId: SUBNET });
  api.addVnic({ id: THEIRS, subnetId: SUBNET });
  const clock = new ManualClock(1_700_000_000_000);
  const mover = (node: LocalInstance) =>
    new PrivateIpMover({
      api,
      localInstance: async () => node,
      clock,
      leaseMs: 30_000,
      logger: silentLogger(),
    });
  const b = mover(instance("b", THEIRS, "10.0.0.12"));
  const vips = Array.from({ length: 20 }, (_, i) => `10.0.0.${100 + i}`);
  for (const vip of vips) await b.claim(vip);
  const a = mover(instance("a", OURS, "10.0.0.11"));
  // Warm up as a standby does (it learns each private IP's OCID), then take all at once with the holder's
  // gossiped hints, as after a node loss: one write each, no read first.
  for (const vip of vips) await a.inspect(vip);
  const hints = vips.map((vip) => b.claimHint(vip));
  api.calls.length = 0;
  // Every call waits a tick, as a real one would, so the claims overlap.
  api.beforeCall = () => new Promise((resolve) => setImmediate(resolve));
  const results = await Promise.all(vips.map((vip, i) => a.claim(vip, { hint: hints[i]! })));
  assert.ok(results.every((r) => r.outcome === "moved"));
  const writes = api.calls.filter((c) => c === "UpdatePrivateIp").length;
  const reads = api.calls.length - writes;
  assert.equal(writes, vips.length);
  assert.ok(api.calls.length < 2 * vips.length, `calls: ${api.calls.length} for ${vips.length} claims`);
  assert.ok(api.calls.includes("ListPrivateIps"), "read back by listing our VNIC");
  assert.ok(reads <= 3, `${reads} reads: ${api.calls.join(" ")}`);
  for (const vip of vips) {
    const stored = api.byAddress(vip)!;
    assert.equal(stored.vnicId, OURS);
    assert.equal(readHoldTags(stored.freeformTags).epoch, 2);
  }
  // The ETag of each write is kept for the holder's hint even when the read-back was a list.
  assert.ok(vips.every((vip) => a.claimHint(vip) !== undefined));
});

void test("a listed read-back that shows another node's newer epoch on our VNIC is a lost race, not a success", async () => {
  const { api, release } = heldApi();
  const clock = new ManualClock(1_700_000_000_000);
  const a = new PrivateIpMover({
    api,
    localInstance: async () => instance("a", OURS, "10.0.0.11"),
    clock,
    leaseMs: 30_000,
    logger: silentLogger(),
  });
  const ids = [0, 1].map((i) => api.addPrivateIp({ ipAddress: `10.0.0.${100 + i}`, vnicId: THEIRS }));
  const claims = ["10.0.0.100", "10.0.0.101"].map((vip) => a.claim(vip));
  for (let i = 0; i < 20 && api.calls.filter((c) => c === "UpdatePrivateIp").length < 2; i++) await release();
  await release();
  // Both writes landed; while the read-backs are held, someone else stamps a newer epoch on one.
  api.setPrivateIp(ids[1]!, {
    freeformTags: { ...api.privateIps.get(ids[1]!)!.freeformTags, "floatip-epoch": "9" },
  });
  api.beforeCall = undefined;
  await release();
  const [kept, lost] = await Promise.all(claims);
  assert.equal(kept?.outcome, "moved");
  assert.equal(lost?.outcome, "lost-race");
});
