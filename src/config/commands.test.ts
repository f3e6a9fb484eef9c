import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  addColocation,
  addLocation,
  addOrder,
  addToGroup,
  deleteResource,
  ban,
  clear,
  ConfigCommandError,
  disableResources,
  enableResources,
  knownPropertyNames,
  move,
  parseLifetime,
  parseScore,
  removeColocation,
  removeConstraint,
  removeFromGroup,
  removeOrders,
  setMeta,
  setProperties,
  setProperty,
  setResourceDefaults,
  setStandby,
  ungroup,
  unsetProperty,
  updateResource,
} from "./commands.ts";
import { clusterConfigSchema, type ClusterConfig } from "./schema.ts";

const ip = (id: string, addr: string) => ({
  id,
  type: "ocf:heartbeat:IPaddr2",
  params: { ip: addr, cidr_netmask: "24" },
  ops: [{ name: "monitor" as const, intervalMs: 10_000, timeoutMs: 20_000 }],
});

/** Two nodes, three resources (A, B, C), no groups or constraints. */
function config(): ClusterConfig {
  // zod 4 hands out its .default({...}) objects shared between parses; clone so tests stay independent.
  return structuredClone(
    clusterConfigSchema.parse({
      formatVersion: 1,
      name: "c",
      epoch: 1,
      nodes: [
        { name: "node1", id: 1, addrs: ["10.0.0.1"] },
        { name: "node2", id: 2, addrs: ["10.0.0.2"] },
      ],
      resources: [ip("A", "10.0.0.10"), ip("B", "10.0.0.11"), ip("C", "10.0.0.12")],
    }),
  );
}

/** Asserts the command throws ConfigCommandError with this code and message, and left the draft alone. */
function rejects(
  run: (draft: ClusterConfig) => unknown,
  code: string,
  message: RegExp | string,
  draft = config(),
) {
  const before = structuredClone(draft);
  assert.throws(
    () => run(draft),
    (error: unknown) => {
      assert.ok(error instanceof ConfigCommandError, `expected ConfigCommandError, got ${String(error)}`);
      assert.equal(error.code, code);
      if (typeof message === "string") assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    },
  );
  assert.deepEqual(draft, before, "a rejected command must not change the draft");
}

const valid = (draft: ClusterConfig) => clusterConfigSchema.parse({ ...draft, epoch: draft.epoch + 1 });

// ------------------------------------------------------------------------------------------- update

void test("resource update merges params, removes empty ones, replaces ops by name and adds new ones", () => {
  const draft = config();
  updateResource(draft, "A", {
    params: { ip: "10.0.0.99", cidr_netmask: "", nic: "eth0" },
    meta: { "resource-stickiness": "100" },
    ops: [
      { name: "monitor", intervalMs: 5_000, timeoutMs: 15_000 },
      { name: "start", intervalMs: 0, timeoutMs: 30_000 },
    ],
  });
  const a = draft.resources[0];
  assert.deepEqual(a?.params, { ip: "10.0.0.99", nic: "eth0" });
  assert.deepEqual(a?.meta, { "resource-stickiness": "100" });
  assert.deepEqual(a?.ops, [
    { name: "monitor", intervalMs: 5_000, timeoutMs: 15_000 },
    { name: "start", intervalMs: 0, timeoutMs: 30_000 },
  ]);
  valid(draft);
});

void test("resource update rejects unknown resources, bad names, bad meta values and bad timeouts", () => {
  rejects((d) => updateResource(d, "X", {}), "FLOATIP_E_RESOURCE_UNKNOWN", "Resource 'X' does not exist");
  rejects(
    (d) => updateResource(d, "A", { params: { "1ip": "x" } }),
    "FLOATIP_E_NAME_INVALID",
    /invalid option name '1ip'/,
  );
  rejects(
    (d) => updateResource(d, "A", { params: { ip: "1.2.3.4" }, meta: { "resource-stickiness": "lots" } }),
    "FLOATIP_E_VALUE_INVALID",
    /^'lots' is not a valid resource-stickiness value, must be an integer, INFINITY or -INFINITY$/,
  );
  rejects(
    (d) => updateResource(d, "A", { ops: [{ name: "stop", intervalMs: 0, timeoutMs: 5 }] }),
    "FLOATIP_E_VALUE_INVALID",
    /op stop timeout must be between 100 and 3600000 ms/,
  );
  rejects(
    (d) => updateResource(d, "A", { params: { ip: "x".repeat(5000) } }),
    "FLOATIP_E_VALUE_INVALID",
    /longer than 4096/,
  );
});

void test("resource defaults update sets and removes meta defaults and checks known values", () => {
  const draft = config();
  setResourceDefaults(draft, { "resource-stickiness": "100", "migration-threshold": "3" });
  setResourceDefaults(draft, { "migration-threshold": "" });
  assert.deepEqual(draft.resourceDefaults, { "resource-stickiness": "100" });
  valid(draft);
  rejects(
    (d) => setResourceDefaults(d, { "target-role": "Running" }),
    "FLOATIP_E_VALUE_INVALID",
    /^'Running' is not a valid target-role value, use 'Started', 'Stopped'/,
  );
  rejects(
    (d) => setResourceDefaults(d, { "failure-timeout": "soon" }),
    "FLOATIP_E_VALUE_INVALID",
    /'soon' is not a valid failure-timeout value, "soon" is not a duration/,
  );
});

void test("resource meta applies to resources and groups and removes empty values", () => {
  const draft = config();
  addToGroup(draft, "G", ["A", "B"]);
  setMeta(draft, "C", { priority: "10", "failure-timeout": "60s" });
  setMeta(draft, "C", { priority: "" });
  setMeta(draft, "G", { "resource-stickiness": "INFINITY" });
  assert.deepEqual(draft.resources[2]?.meta, { "failure-timeout": "60s" });
  assert.deepEqual(draft.groups[0]?.meta, { "resource-stickiness": "INFINITY" });
  valid(draft);
  rejects(
    (d) => setMeta(d, "nope", { priority: "1" }),
    "FLOATIP_E_RESOURCE_UNKNOWN",
    "Resource 'nope' does not exist",
  );
  rejects(
    (d) => setMeta(d, "A", { "migration-threshold": "-1" }),
    "FLOATIP_E_VALUE_INVALID",
    /migration-threshold value, must not be negative/,
  );
});

void test("disable sets target-role=Stopped and enable sets it back to Started, on resources and groups", () => {
  const draft = config();
  addToGroup(draft, "G", ["A"]);
  disableResources(draft, ["B", "G"]);
  assert.equal(draft.resources[1]?.meta["target-role"], "Stopped");
  assert.equal(draft.groups[0]?.meta["target-role"], "Stopped");
  enableResources(draft, ["G"]);
  assert.equal(draft.groups[0]?.meta["target-role"], "Started");
  valid(draft);
  rejects(
    (d) => disableResources(d, ["B", "Z"]),
    "FLOATIP_E_RESOURCE_UNKNOWN",
    "Resource 'Z' does not exist",
  );
  rejects((d) => enableResources(d, []), "FLOATIP_E_ARGUMENT_INVALID", /specify resource/);
});

// ------------------------------------------------------------------------------------------- groups

void test("group add creates the group, keeps order, and places with --before and --after", () => {
  const draft = config();
  addToGroup(draft, "G", ["B"]);
  addToGroup(draft, "G", ["A"], { before: "B" });
  addToGroup(draft, "G", ["C"], { after: "A" });
  assert.deepEqual(draft.groups, [{ id: "G", resources: ["A", "C", "B"], meta: {} }]);
  addToGroup(draft, "G", ["B"], { before: "A" });
  assert.deepEqual(draft.groups[0]?.resources, ["B", "A", "C"]);
  valid(draft);
});

void test("a resource added to another group leaves its old one; an emptied group goes with its constraints", () => {
  const draft = config();
  addToGroup(draft, "G1", ["A"]);
  addToGroup(draft, "G2", ["B"]);
  addColocation(draft, "G1", "C");
  addLocation(draft, "G1", "prefers", [{ node: "node1" }]);
  const result = addToGroup(draft, "G2", ["A"]);
  assert.deepEqual(draft.groups, [{ id: "G2", resources: ["B", "A"], meta: {} }]);
  assert.deepEqual(result.removedConstraints.sort(), [
    "colocation-G1-C-INFINITY",
    "location-G1-node1-INFINITY",
  ]);
  assert.deepEqual(draft.constraints.colocation, []);
  valid(draft);
});

void test("group add rejects unknown resources, groups as members, id clashes and bad positions", () => {
  rejects((d) => addToGroup(d, "G", ["A", "X"]), "FLOATIP_E_RESOURCE_UNKNOWN", "Resource 'X' does not exist");
  rejects((d) => addToGroup(d, "A", ["B"]), "FLOATIP_E_ID_EXISTS", "'A' already exists");
  rejects(
    (d) => addToGroup(d, "1G", ["B"]),
    "FLOATIP_E_ID_INVALID",
    /'1' is not a valid first character for a group id/,
  );
  rejects((d) => addToGroup(d, "G", []), "FLOATIP_E_ARGUMENT_INVALID", /at least one resource/);
  rejects((d) => addToGroup(d, "G", ["A", "A"]), "FLOATIP_E_ARGUMENT_INVALID", /specified more than once/);
  rejects(
    (d) => addToGroup(d, "G", ["A"], { before: "B" }),
    "FLOATIP_E_GROUP_INVALID",
    "There is no resource 'B' in the group 'G'",
  );
  const withGroup = config();
  addToGroup(withGroup, "G", ["A", "B"]);
  rejects((d) => addToGroup(d, "H", ["G"]), "FLOATIP_E_GROUP_INVALID", /'G' is a group/, withGroup);
  rejects(
    (d) => addToGroup(d, "G", ["C"], { before: "A", after: "B" }),
    "FLOATIP_E_ARGUMENT_INVALID",
    /both --before and --after/,
    withGroup,
  );
  rejects(
    (d) => addToGroup(d, "G", ["A"], { after: "A" }),
    "FLOATIP_E_GROUP_INVALID",
    "Resource 'A' cannot be put after itself",
    withGroup,
  );
});

void test("group remove takes members out, and removing the last member or ungroup deletes the group", () => {
  const draft = config();
  addToGroup(draft, "G", ["A", "B", "C"]);
  removeFromGroup(draft, "G", ["B"]);
  assert.deepEqual(draft.groups[0]?.resources, ["A", "C"]);
  assert.equal(draft.resources.length, 3, "resources stay configured");
  addOrder(draft, "G", "B");
  const result = ungroup(draft, "G");
  assert.deepEqual(draft.groups, []);
  assert.deepEqual(result.removedConstraints, ["order-G-B-mandatory"]);
  valid(draft);
  rejects((d) => removeFromGroup(d, "G", ["A"]), "FLOATIP_E_GROUP_UNKNOWN", "Group 'G' does not exist");
  const grouped = config();
  addToGroup(grouped, "G", ["A"]);
  rejects(
    (d) => removeFromGroup(d, "G", ["B"]),
    "FLOATIP_E_GROUP_INVALID",
    "Resource 'B' is not in group 'G'",
    grouped,
  );
});

// ----------------------------------------------------------------------------------- move, ban, clear

void test("move to a node writes cli-prefer at INFINITY and lifts a ban of that node", () => {
  const draft = config();
  ban(draft, "A", "node2", { nowMs: 0 });
  move(draft, "A", "node2", { nowMs: 1_000, lifetimeMs: 600_000 });
  assert.deepEqual(draft.constraints.location, [
    { id: "cli-prefer-A", resource: "A", node: "node2", score: 1_000_000, expiresMs: 601_000 },
  ]);
  move(draft, "A", "node1", { nowMs: 2_000 });
  assert.deepEqual(draft.constraints.location, [
    { id: "cli-prefer-A", resource: "A", node: "node1", score: 1_000_000 },
  ]);
  valid(draft);
});

void test("move without a node bans the current node; a stopped resource needs a node", () => {
  const draft = config();
  move(draft, "A", "node1", { nowMs: 0 });
  const written = move(draft, "A", undefined, { nowMs: 0, currentNode: "node1" });
  assert.deepEqual(written, { id: "cli-ban-A-on-node1", resource: "A", node: "node1", score: -1_000_000 });
  assert.deepEqual(draft.constraints.location, [
    { id: "cli-ban-A-on-node1", resource: "A", node: "node1", score: -1_000_000 },
  ]);
  valid(draft);
  rejects(
    (d) => move(d, "A", undefined, { nowMs: 0 }),
    "FLOATIP_E_MOVE_NEEDS_NODE",
    "You must specify a node when moving/banning a stopped resource",
  );
  rejects(
    (d) => move(d, "A", "node9", { nowMs: 0 }),
    "FLOATIP_E_NODE_UNKNOWN",
    "Node 'node9' does not appear to exist in configuration",
  );
  rejects(
    (d) => move(d, "Q", "node1", { nowMs: 0 }),
    "FLOATIP_E_RESOURCE_UNKNOWN",
    "Resource 'Q' does not exist",
  );
  rejects(
    (d) => move(d, "A", "node1", { nowMs: 0, lifetimeMs: -5 }),
    "FLOATIP_E_VALUE_INVALID",
    /invalid lifetime/,
  );
});

void test("ban writes cli-ban-R-on-node at -INFINITY, on the current node by default, with a lifetime", () => {
  const draft = config();
  ban(draft, "B", "node1", { nowMs: 5, lifetimeMs: parseLifetime("PT10M") });
  ban(draft, "B", undefined, { nowMs: 5, currentNode: "node2" });
  assert.deepEqual(draft.constraints.location, [
    { id: "cli-ban-B-on-node1", resource: "B", node: "node1", score: -1_000_000, expiresMs: 600_005 },
    { id: "cli-ban-B-on-node2", resource: "B", node: "node2", score: -1_000_000 },
  ]);
  valid(draft);
  rejects((d) => ban(d, "B", undefined, { nowMs: 0 }), "FLOATIP_E_MOVE_NEEDS_NODE", /must specify a node/);
  rejects((d) => ban(d, "B", "nodeX", { nowMs: 0 }), "FLOATIP_E_NODE_UNKNOWN", /nodeX/);
});

void test("clear removes move and ban constraints of the resource, on one node when given, and keeps others", () => {
  const draft = config();
  move(draft, "A", "node1", { nowMs: 0 });
  ban(draft, "A", "node2", { nowMs: 0 });
  ban(draft, "B", "node2", { nowMs: 0 });
  addLocation(draft, "A", "prefers", [{ node: "node2", score: "50" }]);
  assert.deepEqual(clear(draft, "A", "node2"), ["cli-ban-A-on-node2"]);
  assert.deepEqual(clear(draft, "A"), ["cli-prefer-A"]);
  assert.deepEqual(
    draft.constraints.location.map((c) => c.id),
    ["cli-ban-B-on-node2", "location-A-node2-50"],
  );
  assert.deepEqual(clear(draft, "A"), []);
  rejects((d) => clear(d, "Z"), "FLOATIP_E_RESOURCE_UNKNOWN", "Resource 'Z' does not exist");
  rejects((d) => clear(d, "A", "n3"), "FLOATIP_E_NODE_UNKNOWN", /'n3'/);
});

void test("lifetimes take ISO 8601 and floatip forms and reject zero and nonsense", () => {
  assert.equal(parseLifetime("PT10M"), 600_000);
  assert.equal(parseLifetime("10min"), 600_000);
  assert.equal(parseLifetime("P1DT1H"), 90_000_000);
  assert.throws(() => parseLifetime("0"), /must be longer than zero/);
  assert.throws(
    () => parseLifetime("tomorrow"),
    (e: unknown) => e instanceof ConfigCommandError && /invalid lifetime 'tomorrow'/.test(e.message),
  );
});

// -------------------------------------------------------------------------------------- constraints

void test("location prefers and avoids make pcs ids and scores; avoids negates", () => {
  const draft = config();
  const ids = addLocation(draft, "A", "prefers", [{ node: "node1", score: "50" }, { node: "node2" }]);
  assert.deepEqual(ids, ["location-A-node1-50", "location-A-node2-INFINITY"]);
  assert.deepEqual(addLocation(draft, "B", "avoids", [{ node: "node1" }, { node: "node2", score: "-20" }]), [
    "location-B-node1--INFINITY",
    "location-B-node2-20",
  ]);
  assert.deepEqual(
    draft.constraints.location.map((c) => c.score),
    [50, 1_000_000, -1_000_000, 20],
  );
  valid(draft);
});

void test("location rejects unknown nodes and duplicates unless forced, and bad scores always", () => {
  const draft = config();
  addLocation(draft, "A", "prefers", [{ node: "node1" }]);
  rejects(
    (d) => addLocation(d, "A", "prefers", [{ node: "node1" }]),
    "FLOATIP_E_CONSTRAINT_DUPLICATE",
    "duplicate constraint already exists (location-A-node1-INFINITY), use --force to override",
    draft,
  );
  assert.deepEqual(addLocation(draft, "A", "prefers", [{ node: "node1" }], { force: true }), [
    "location-A-node1-INFINITY-1",
  ]);
  rejects((d) => addLocation(d, "A", "prefers", [{ node: "node7" }]), "FLOATIP_E_NODE_UNKNOWN", /node7/);
  assert.deepEqual(addLocation(draft, "A", "prefers", [{ node: "node7" }], { force: true }), [
    "location-A-node7-INFINITY",
  ]);
  rejects(
    (d) => addLocation(d, "A", "prefers", [{ node: "node2", score: "lots" }]),
    "FLOATIP_E_VALUE_INVALID",
    "invalid score 'lots', use integer or INFINITY or -INFINITY",
  );
  rejects((d) => addLocation(d, "A", "prefers", []), "FLOATIP_E_ARGUMENT_INVALID", /at least one node/);
  rejects(
    (d) => addLocation(d, "A", "prefers", [{ node: "bad node" }], { force: true }),
    "FLOATIP_E_NAME_INVALID",
    /bad node/,
  );
  rejects(
    (d) => addLocation(d, "NoSuch", "avoids", [{ node: "node1" }]),
    "FLOATIP_E_RESOURCE_UNKNOWN",
    "Resource 'NoSuch' does not exist",
  );
  valid(draft);
});

void test("colocation add defaults to INFINITY with a pcs id, takes a score and id=, and refuses duplicates", () => {
  const draft = config();
  assert.equal(addColocation(draft, "A", "B"), "colocation-A-B-INFINITY");
  assert.equal(addColocation(draft, "C", "B", { score: "-100", id: "keep_apart" }), "keep_apart");
  assert.deepEqual(draft.constraints.colocation, [
    { id: "colocation-A-B-INFINITY", resource: "A", withResource: "B", score: 1_000_000 },
    { id: "keep_apart", resource: "C", withResource: "B", score: -100 },
  ]);
  valid(draft);
  rejects(
    (d) => addColocation(d, "B", "A"),
    "FLOATIP_E_CONSTRAINT_DUPLICATE",
    /colocation-A-B-INFINITY/,
    draft,
  );
  rejects(
    (d) => addColocation(d, "A", "C", { id: "keep_apart" }),
    "FLOATIP_E_ID_EXISTS",
    "id 'keep_apart' already exists",
    draft,
  );
  rejects(
    (d) => addColocation(d, "A", "C", { id: "A" }),
    "FLOATIP_E_ID_EXISTS",
    "id 'A' already exists",
    draft,
  );
  rejects(
    (d) => addColocation(d, "A", "C", { id: "9x" }),
    "FLOATIP_E_ID_INVALID",
    /'9' is not a valid first character for a constraint id/,
  );
  rejects((d) => addColocation(d, "A", "A"), "FLOATIP_E_ARGUMENT_INVALID", /itself/);
  rejects((d) => addColocation(d, "A", "Q"), "FLOATIP_E_RESOURCE_UNKNOWN", "Resource 'Q' does not exist");
  rejects(
    (d) => addColocation(d, "A", "C", { score: "1.5" }),
    "FLOATIP_E_VALUE_INVALID",
    /invalid score '1.5'/,
  );
});

void test("order add takes kind and symmetrical, makes pcs ids, and refuses Serialize and duplicates", () => {
  const draft = config();
  assert.equal(addOrder(draft, "A", "B"), "order-A-B-mandatory");
  assert.equal(addOrder(draft, "B", "C", { kind: "Optional", symmetrical: false }), "order-B-C-Optional");
  assert.deepEqual(draft.constraints.order[1], {
    id: "order-B-C-Optional",
    first: "B",
    then: "C",
    kind: "Optional",
    symmetrical: false,
  });
  valid(draft);
  rejects((d) => addOrder(d, "A", "B"), "FLOATIP_E_CONSTRAINT_DUPLICATE", /order-A-B-mandatory/, draft);
  rejects(
    (d) => addOrder(d, "A", "C", { kind: "Serialize" }),
    "FLOATIP_E_VALUE_INVALID",
    /'Serialize' is not a valid kind value/,
  );
  rejects((d) => addOrder(d, "A", "A"), "FLOATIP_E_ARGUMENT_INVALID", /itself/);
  rejects((d) => addOrder(d, "X", "A"), "FLOATIP_E_RESOURCE_UNKNOWN", "Resource 'X' does not exist");
});

void test("constraint remove finds any kind by id; the kind-specific and by-resource forms too", () => {
  const draft = config();
  addLocation(draft, "A", "prefers", [{ node: "node1" }]);
  addColocation(draft, "A", "B");
  addOrder(draft, "A", "B");
  addOrder(draft, "C", "B");
  removeConstraint(draft, "colocation-A-B-INFINITY");
  rejects(
    (d) => removeConstraint(d, "order-A-B-mandatory", "location"),
    "FLOATIP_E_CONSTRAINT_UNKNOWN",
    "Unable to find constraint - 'order-A-B-mandatory'",
    draft,
  );
  removeConstraint(draft, "location-A-node1-INFINITY", "location");
  assert.deepEqual(removeOrders(draft, ["C"]), ["order-C-B-mandatory"]);
  assert.deepEqual(draft.constraints, {
    location: [],
    colocation: [],
    order: [{ id: "order-A-B-mandatory", first: "A", then: "B", kind: "Mandatory", symmetrical: true }],
  });
  rejects(
    (d) => removeConstraint(d, "nope"),
    "FLOATIP_E_CONSTRAINT_UNKNOWN",
    "Unable to find constraint - 'nope'",
  );
  rejects(
    (d) => removeOrders(d, ["C"]),
    "FLOATIP_E_CONSTRAINT_UNKNOWN",
    "No matching resources found in ordering list",
    draft,
  );
  addColocation(draft, "B", "A");
  assert.deepEqual(removeColocation(draft, "A", "B"), ["colocation-B-A-INFINITY"]);
  rejects(
    (d) => removeColocation(d, "A", "B"),
    "FLOATIP_E_CONSTRAINT_UNKNOWN",
    /Unable to find colocation constraint/,
    draft,
  );
});

void test("generated ids that would be invalid or too long are refused with a pcs id message", () => {
  const draft = config();
  const long = "R".repeat(120);
  draft.resources.push({ ...ip(long, "10.0.0.50"), meta: {} });
  rejects((d) => addColocation(d, long, "A"), "FLOATIP_E_ID_INVALID", /longer than 128/, draft);
  rejects((d) => ban(d, long, "node1", { nowMs: 0 }), "FLOATIP_E_ID_INVALID", /longer than 128/, draft);
});

// -------------------------------------------------------------------------------- properties, nodes

void test("property set validates known values, unsets on empty, and refuses unknown names unless forced", () => {
  const draft = config();
  setProperty(draft, "no-quorum-policy", "freeze");
  setProperties(draft, { "stonith-enabled": "false", "cluster-recheck-interval": "PT15M" });
  setProperty(draft, "my-own", "x", { force: true });
  setProperty(draft, "no-quorum-policy", "");
  assert.deepEqual(draft.properties, {
    "stonith-enabled": "false",
    "cluster-recheck-interval": "PT15M",
    "my-own": "x",
  });
  valid(draft);
  rejects(
    (d) => setProperty(d, "no-quorum-policy", "panic"),
    "FLOATIP_E_VALUE_INVALID",
    "'panic' is not a valid no-quorum-policy value, use 'stop', 'ignore', 'freeze', 'demote', 'fence', 'suicide'",
  );
  rejects(
    (d) => setProperty(d, "stonith-enabled", "maybe"),
    "FLOATIP_E_VALUE_INVALID",
    /use 'false', 'true'/,
  );
  rejects(
    (d) => setProperty(d, "no-quorum-policy", "panic", { force: true }),
    "FLOATIP_E_VALUE_INVALID",
    /panic/,
  );
  rejects(
    (d) => setProperties(d, { "stonith-enabled": "true", typo: "1" }),
    "FLOATIP_E_PROPERTY_UNKNOWN",
    /^invalid cluster property option 'typo', allowed options are: 'cloud', .*'stonith-enabled'.*, use --force to override$/,
  );
  rejects((d) => setProperty(d, "bad name", "1", { force: true }), "FLOATIP_E_NAME_INVALID", /bad name/);
  assert.ok(knownPropertyNames().includes("symmetric-cluster"));
});

void test("property unset removes a set property and refuses an absent one unless forced", () => {
  const draft = config();
  setProperty(draft, "stonith-enabled", "false");
  unsetProperty(draft, "stonith-enabled");
  assert.deepEqual(draft.properties, {});
  unsetProperty(draft, "stonith-enabled", { force: true });
  rejects(
    (d) => unsetProperty(d, "stonith-enabled"),
    "FLOATIP_E_PROPERTY_UNKNOWN",
    /Cannot remove property 'stonith-enabled'/,
    draft,
  );
});

void test("standby and unstandby mark the named nodes or all, and refuse unknown nodes", () => {
  const draft = config();
  setStandby(draft, ["node2"], true);
  assert.deepEqual(
    draft.nodes.map((n) => n.standby),
    [false, true],
  );
  setStandby(draft, "all", true);
  assert.deepEqual(
    draft.nodes.map((n) => n.standby),
    [true, true],
  );
  setStandby(draft, ["node1"], false);
  assert.deepEqual(
    draft.nodes.map((n) => n.standby),
    [false, true],
  );
  rejects(
    (d) => setStandby(d, ["node1", "node5"], true),
    "FLOATIP_E_NODE_UNKNOWN",
    "Node 'node5' does not appear to exist in configuration",
  );
  rejects((d) => setStandby(d, [], true), "FLOATIP_E_ARGUMENT_INVALID", /node or --all/);
});

void test("scores parse like pcs writes them", () => {
  assert.equal(parseScore("INFINITY"), 1_000_000);
  assert.equal(parseScore("-infinity"), -1_000_000);
  assert.equal(parseScore("+5"), 5);
  assert.equal(parseScore("99999999"), 1_000_000);
  assert.throws(() => parseScore(""), ConfigCommandError);
});

// -------------------------------------------------------------------------------------------- fuzz

const ids = ["A", "B", "C", "G", "H", "node1", "1x", "a b", "x".repeat(130), ""];
const nodes = ["node1", "node2", "node3", "bad node", "-x", ""];
const names = [
  "resource-stickiness",
  "target-role",
  "migration-threshold",
  "failure-timeout",
  "priority",
  "ip",
  "x y",
  "1a",
];
const values = [
  "",
  "100",
  "INFINITY",
  "-INFINITY",
  "Stopped",
  "Started",
  "60s",
  "PT1M",
  "-1",
  "soon",
  "x".repeat(5000),
];
const scores = [undefined, "", "50", "-20", "INFINITY", "-INFINITY", "abc", "1.5"];
const propNames = [
  "no-quorum-policy",
  "stonith-enabled",
  "cloud",
  "cluster-recheck-interval",
  "typo",
  "bad name",
];
const propValues = ["", "stop", "ignore", "true", "false", "oci", "PT5M", "never"];

const id = fc.constantFrom(...ids);
const node = fc.constantFrom(...nodes);
const changes = fc.dictionary(fc.constantFrom(...names), fc.constantFrom(...values), { maxKeys: 3 });
const moveOptions = fc.record({
  nowMs: fc.constantFrom(0, 1_000, -5, 1.5),
  lifetimeMs: fc.option(fc.constantFrom(1, 600_000, 0, -1, Number.MAX_SAFE_INTEGER), { nil: undefined }),
  currentNode: fc.option(node, { nil: undefined }),
});

type Command = (draft: ClusterConfig) => unknown;
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.tuple(id, changes, changes).map(
    ([r, params, meta]): Command =>
      (d) =>
        updateResource(d, r, { params, meta }),
  ),
  changes.map(
    (c): Command =>
      (d) =>
        setResourceDefaults(d, c),
  ),
  fc.tuple(id, changes).map(
    ([r, c]): Command =>
      (d) =>
        setMeta(d, r, c),
  ),
  fc.array(id, { maxLength: 3 }).map(
    (rs): Command =>
      (d) =>
        enableResources(d, rs),
  ),
  fc.array(id, { maxLength: 3 }).map(
    (rs): Command =>
      (d) =>
        disableResources(d, rs),
  ),
  fc
    .tuple(
      id,
      fc.array(id, { maxLength: 3 }),
      fc.option(id, { nil: undefined }),
      fc.option(id, { nil: undefined }),
    )
    .map(
      ([g, rs, before, after]): Command =>
        (d) =>
          addToGroup(d, g, rs, { ...(before ? { before } : {}), ...(after ? { after } : {}) }),
    ),
  fc.tuple(id, fc.array(id, { maxLength: 2 })).map(
    ([g, rs]): Command =>
      (d) =>
        removeFromGroup(d, g, rs),
  ),
  id.map(
    (g): Command =>
      (d) =>
        ungroup(d, g),
  ),
  fc.tuple(id, fc.option(node, { nil: undefined }), moveOptions).map(
    ([r, n, o]): Command =>
      (d) =>
        move(d, r, n, o),
  ),
  fc.tuple(id, fc.option(node, { nil: undefined }), moveOptions).map(
    ([r, n, o]): Command =>
      (d) =>
        ban(d, r, n, o),
  ),
  fc.tuple(id, fc.option(node, { nil: undefined })).map(
    ([r, n]): Command =>
      (d) =>
        clear(d, r, n),
  ),
  fc
    .tuple(
      id,
      fc.constantFrom("prefers" as const, "avoids" as const),
      fc.array(fc.record({ node, score: fc.constantFrom(...scores) }), { maxLength: 3 }),
      fc.boolean(),
    )
    .map(
      ([r, mode, ns, force]): Command =>
        (d) =>
          addLocation(
            d,
            r,
            mode,
            ns.map((n) => (n.score === undefined ? { node: n.node } : { node: n.node, score: n.score })),
            { force },
          ),
    ),
  fc
    .tuple(
      id,
      id,
      fc.option(fc.constantFrom(...scores.filter((s) => s !== undefined)), { nil: undefined }),
      fc.option(id, { nil: undefined }),
      fc.boolean(),
    )
    .map(
      ([a, b, score, cid, force]): Command =>
        (d) =>
          addColocation(d, a, b, {
            ...(score === undefined ? {} : { score }),
            ...(cid === undefined ? {} : { id: cid }),
            force,
          }),
    ),
  fc
    .tuple(
      id,
      id,
      fc.option(fc.constantFrom("Mandatory", "Optional", "Serialize", "mandatory"), { nil: undefined }),
      fc.boolean(),
      fc.option(id, { nil: undefined }),
      fc.boolean(),
    )
    .map(
      ([a, b, kind, symmetrical, oid, force]): Command =>
        (d) =>
          addOrder(d, a, b, {
            ...(kind === undefined ? {} : { kind }),
            symmetrical,
            ...(oid === undefined ? {} : { id: oid }),
            force,
          }),
    ),
  fc
    .tuple(
      fc.constantFrom(
        "location-A-node1-INFINITY",
        "colocation-A-B-INFINITY",
        "order-A-B-mandatory",
        "cli-prefer-A",
        "nope",
      ),
      fc.option(fc.constantFrom("location" as const, "colocation" as const, "order" as const), {
        nil: undefined,
      }),
    )
    .map(
      ([cid, kind]): Command =>
        (d) =>
          removeConstraint(d, cid, kind),
    ),
  fc.tuple(id, id).map(
    ([a, b]): Command =>
      (d) =>
        removeColocation(d, a, b),
  ),
  fc.array(id, { maxLength: 2 }).map(
    (rs): Command =>
      (d) =>
        removeOrders(d, rs),
  ),
  fc.tuple(fc.constantFrom(...propNames), fc.constantFrom(...propValues), fc.boolean()).map(
    ([n, v, force]): Command =>
      (d) =>
        setProperty(d, n, v, { force }),
  ),
  fc.tuple(fc.constantFrom(...propNames), fc.boolean()).map(
    ([n, force]): Command =>
      (d) =>
        unsetProperty(d, n, { force }),
  ),
  fc.tuple(fc.oneof(fc.constant("all" as const), fc.array(node, { maxLength: 2 })), fc.boolean()).map(
    ([ns, on]): Command =>
      (d) =>
        setStandby(d, ns, on),
  ),
);

void test("fuzz: any command sequence either throws ConfigCommandError (draft untouched) or leaves a valid document", () => {
  fc.assert(
    fc.property(fc.array(command, { maxLength: 25 }), (commands) => {
      let doc = config();
      for (const run of commands) {
        const draft = structuredClone(doc);
        try {
          run(draft);
        } catch (error) {
          if (!(error instanceof ConfigCommandError)) throw error;
          assert.deepEqual(draft, doc, `a rejected command changed the draft: ${error.message}`);
          continue;
        }
        doc = clusterConfigSchema.parse({ ...draft, epoch: draft.epoch + 1 });
      }
    }),
    { numRuns: 400 },
  );
});

void test("deleting a grouped, constrained resource drops its group membership, emptied group and constraints", () => {
  const draft = clusterConfigSchema.parse({
    formatVersion: 1,
    name: "c",
    epoch: 1,
    nodes: [
      { name: "node1", id: 1, addrs: ["10.0.0.11"] },
      { name: "node2", id: 2, addrs: ["10.0.0.12"] },
    ],
    resources: [
      { id: "VIP", type: "ocf:heartbeat:IPaddr2", params: { ip: "10.0.0.200" } },
      { id: "Check", type: "floatip:check:http", params: { url: "http://127.0.0.1/" } },
    ],
    groups: [{ id: "web", resources: ["VIP"] }],
    constraints: {
      location: [{ id: "l1", resource: "VIP", node: "node1", score: 50 }],
      colocation: [{ id: "c1", resource: "Check", withResource: "VIP" }],
      order: [{ id: "o1", first: "VIP", then: "Check" }],
    },
  });
  const removed = deleteResource(draft, "VIP");
  assert.deepEqual(removed.sort(), ["c1", "l1", "o1"]);
  assert.deepEqual(draft.groups, []);
  assert.deepEqual(
    draft.resources.map((r) => r.id),
    ["Check"],
  );
  assert.doesNotThrow(() => clusterConfigSchema.parse({ ...draft, epoch: 2 }));
  assert.throws(() => deleteResource(draft, "VIP"), /Resource 'VIP' does not exist/);
});
