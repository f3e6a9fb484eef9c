import assert from "node:assert/strict";
import { test } from "node:test";
import { setProperties } from "./commands.ts";
import { clusterConfigSchema, parseEtcdEndpoints, type ClusterConfig } from "./schema.ts";

const base = (): ClusterConfig =>
  clusterConfigSchema.parse({
    formatVersion: 1,
    name: "c",
    epoch: 1,
    nodes: [{ name: "n1", id: 1, addrs: ["10.0.0.11"] }],
  });

void test("coordination=etcd with endpoints is a valid configuration", () => {
  const draft = base();
  setProperties(draft, {
    coordination: "etcd",
    "etcd-endpoints": "http://10.0.0.5:2379, http://etcd-2:2379",
  });
  const parsed = clusterConfigSchema.safeParse(draft);
  assert.ok(parsed.success);
  assert.deepEqual(parseEtcdEndpoints(draft.properties["etcd-endpoints"] ?? ""), [
    "http://10.0.0.5:2379",
    "http://etcd-2:2379",
  ]);
});

void test("bad values are refused with a one-line reason", () => {
  assert.throws(
    () => setProperties(base(), { coordination: "zookeeper" }),
    (e: Error & { code?: string }) =>
      e.code === "FLOATIP_E_VALUE_INVALID" && /use 'builtin', 'etcd'/.test(e.message),
  );
  for (const bad of ["10.0.0.5:2379", "http://10.0.0.5", "ftp://a:1", "http://a:99999", ","]) {
    assert.throws(
      () => setProperties(base(), { "etcd-endpoints": bad }),
      (e: Error & { code?: string }) =>
        e.code === "FLOATIP_E_VALUE_INVALID" &&
        /etcd client URL/.test(e.message) &&
        !e.message.includes("\n"),
      bad,
    );
  }
});

void test("coordination=etcd without endpoints does not validate", () => {
  const draft = base();
  setProperties(draft, { coordination: "etcd" });
  const parsed = clusterConfigSchema.safeParse(draft);
  assert.equal(parsed.success, false);
  assert.match(JSON.stringify(parsed.error?.issues), /coordination=etcd needs etcd-endpoints/);
});

void test("builtin is accepted and needs nothing else", () => {
  const draft = base();
  setProperties(draft, { coordination: "builtin" });
  assert.ok(clusterConfigSchema.safeParse(draft).success);
});
