import assert from "node:assert/strict";
import { test } from "node:test";
import { admitActions, isEmpty, ownerWrites } from "./etcd-ownership.ts";

const owners = (o: Record<string, string>) => new Map(Object.entries(o).map(([r, node]) => [r, { node }]));

void test("the DC writes owners only where the placement changes them", () => {
  const w = ownerWrites({ a: "n1", b: "n2", c: null }, owners({ a: "n1", b: "n1", c: "n3" }), [
    "a",
    "b",
    "c",
  ]);
  assert.deepEqual(w, { put: { b: "n2" }, remove: [] });
  assert.equal(isEmpty(ownerWrites({ a: "n1" }, owners({ a: "n1" }), ["a"])), true);
});

void test("a resource placed nowhere keeps its owner; a deleted resource loses it", () => {
  const w = ownerWrites({ a: null }, owners({ a: "n1", gone: "n2" }), ["a"]);
  assert.deepEqual(w, { put: {}, remove: ["gone"] });
});

void test("frozen: nothing runs, not even stops", () => {
  const out = admitActions({
    self: "n1",
    frozen: true,
    own: [
      { op: "stop", resource: "a", node: "n1" },
      { op: "start", resource: "b", node: "n1" },
    ],
    owners: owners({ b: "n1" }),
    runningHere: ["a"],
    liveNodes: ["n1", "n2"],
  });
  assert.deepEqual(out, []);
});

void test("a start runs only where etcd names this node the owner; stops always run", () => {
  const out = admitActions({
    self: "n1",
    frozen: false,
    own: [
      { op: "start", resource: "a", node: "n1" },
      { op: "start", resource: "b", node: "n1" },
      { op: "start", resource: "c", node: "n1" },
      { op: "stop", resource: "d", node: "n1" },
      { op: "start", resource: "e", node: "n2" },
    ],
    owners: owners({ a: "n1", b: "n2" }),
    runningHere: [],
    liveNodes: ["n1", "n2"],
  });
  assert.deepEqual(out, [
    { op: "start", resource: "a", node: "n1" },
    { op: "stop", resource: "d", node: "n1" },
  ]);
});

void test("running here while another live node owns it: stop; a lost owner does not make us stop", () => {
  const out = admitActions({
    self: "n1",
    frozen: false,
    own: [],
    owners: owners({ a: "n2", b: "n3", c: "n1" }),
    runningHere: ["a", "b", "c", "d"],
    liveNodes: ["n1", "n2"],
  });
  assert.deepEqual(out, [{ op: "stop", resource: "a", node: "n1" }]);
});
