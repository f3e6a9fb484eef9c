import assert from "node:assert/strict";
import { test } from "node:test";
import { etcdKeys, EtcdMirror, leaderOf, membersOf, ownersOf, type KeyValue } from "./etcd-mirror.ts";

const keys = etcdKeys("web");
const kv = (key: string, value: string, create: number, mod = create, lease = "0"): KeyValue => ({
  key,
  value: Buffer.from(value),
  createRevision: BigInt(create),
  modRevision: BigInt(mod),
  lease,
});

void test("key layout is per cluster and election keys are named after the lease, as etcd3's Campaign does", () => {
  assert.equal(keys.member("node1"), "/floatip/web/members/node1");
  assert.equal(keys.owner("vip1"), "/floatip/web/owner/vip1");
  assert.equal(keys.election("7287565352511019781"), "/floatip/web/election/dc/7287565352511019781");
  assert.ok(keys.election("255").startsWith(keys.electionPrefix));
});

void test("members, leader (lowest create revision) and owners are derived from the mirror", () => {
  const m = new EtcdMirror();
  m.reset(
    [
      kv(keys.member("node1"), "r1", 5, 9, "100"),
      kv(keys.member("node2"), "r2", 6, 6, "200"),
      kv(`${keys.electionPrefix}c8`, "node2", 8, 8, "200"),
      kv(`${keys.electionPrefix}64`, "node1", 7, 7, "100"),
      kv(keys.owner("vip1"), "node2", 10),
      kv("/floatip/other/members/x", "no", 3),
    ],
    10n,
  );
  assert.deepEqual([...membersOf(m, keys).keys()].sort(), ["node1", "node2"]);
  assert.equal(membersOf(m, keys).get("node1")?.lease, "100");
  assert.deepEqual(leaderOf(m, keys), { name: "node1", key: `${keys.electionPrefix}64`, createRevision: 7n });
  assert.deepEqual(ownersOf(m, keys).get("vip1"), { node: "node2", revision: 10n });
});

void test("no candidates: no leader", () => {
  assert.equal(leaderOf(new EtcdMirror(), keys), null);
});

void test("watch events at or below the full read's revision are ignored; newer ones apply in order", () => {
  const m = new EtcdMirror();
  m.reset([kv(keys.member("node1"), "old", 5, 5, "1")], 12n);
  assert.equal(m.put(kv(keys.member("node1"), "stale", 5, 11, "1")), false, "covered by the read");
  assert.equal(m.delete(keys.member("node1"), 12n), false, "covered by the read");
  assert.equal(m.put(kv(keys.member("node1"), "new", 5, 13, "1")), true);
  assert.equal(membersOf(m, keys).get("node1")?.report.toString(), "new");
  assert.equal(m.delete(keys.member("node1"), 14n), true);
  assert.equal(membersOf(m, keys).size, 0);
  assert.equal(m.revision, 14n);
});

void test("a full read reports whether anything changed", () => {
  const m = new EtcdMirror();
  const read = [kv(keys.member("node1"), "a", 5, 5, "1")];
  assert.equal(m.reset(read, 5n), true);
  assert.equal(m.reset(read, 6n), false);
  assert.equal(m.reset([kv(keys.member("node1"), "b", 5, 7, "1")], 7n), true);
  assert.equal(m.reset([], 8n), true);
});
