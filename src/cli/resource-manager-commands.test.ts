import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import fc from "fast-check";
import { UsageError } from "./pcs-args.ts";
import {
  banWarning,
  formatConstraints,
  formatDefaults,
  formatProperties,
  parseClearArgs,
  parseColocationArgs,
  parseDefaultsArgs,
  parseGroupAddArgs,
  parseLocationArgs,
  parseMoveArgs,
  parseNameValues,
  parseOrderArgs,
  parsePropertySetArgs,
  parseStandbyArgs,
  parseUpdateArgs,
  registerResourceManagerCommands,
} from "./resource-manager-commands.ts";

const usage = (pattern: RegExp) => (error: unknown) =>
  error instanceof UsageError && pattern.test(error.message);

void test("resource update takes params, ops and meta, and empty values to remove", () => {
  assert.deepEqual(
    parseUpdateArgs(["ip=10.0.0.9", "nic=", "op", "monitor", "interval=5s", "meta", "priority=3"]),
    {
      params: { ip: "10.0.0.9", nic: "" },
      meta: { priority: "3" },
      ops: [{ name: "monitor", intervalMs: 5_000, timeoutMs: 20_000 }],
    },
  );
  assert.throws(() => parseUpdateArgs([]), usage(/nothing to update/));
  assert.throws(() => parseUpdateArgs(["ip"]), usage(/not of the form name=value/));
});

void test("name=value lists keep empty values and reject bare words and empty names", () => {
  assert.deepEqual(parseNameValues(["a=1", "b=", "c=x=y"], "u"), { a: "1", b: "", c: "x=y" });
  assert.throws(() => parseNameValues([], "meta R k=v"), usage(/nothing to set; usage: meta R k=v/));
  assert.throws(() => parseNameValues(["=1"], "u"), usage(/'=1' is not of the form name=value/));
  assert.deepEqual(parsePropertySetArgs(["stonith-enabled=false", "no-quorum-policy="]), {
    "stonith-enabled": "false",
    "no-quorum-policy": "",
  });
  assert.throws(() => parsePropertySetArgs([]), UsageError);
});

void test("resource defaults: list, update, and the deprecated form without 'update'", () => {
  assert.deepEqual(parseDefaultsArgs([]), { action: "list" });
  assert.deepEqual(parseDefaultsArgs(["config"]), { action: "list" });
  assert.deepEqual(parseDefaultsArgs(["update", "resource-stickiness=100"]), {
    action: "update",
    values: { "resource-stickiness": "100" },
    deprecated: false,
  });
  assert.deepEqual(parseDefaultsArgs(["resource-stickiness=100"]), {
    action: "update",
    values: { "resource-stickiness": "100" },
    deprecated: true,
  });
  assert.throws(() => parseDefaultsArgs(["update"]), usage(/nothing to set/));
});

void test("move and ban take an optional node and lifetime in ISO 8601 or floatip form", () => {
  assert.deepEqual(parseMoveArgs(["VIP"], "move"), { id: "VIP" });
  assert.deepEqual(parseMoveArgs(["VIP", "node2", "lifetime=PT10M"], "move"), {
    id: "VIP",
    node: "node2",
    lifetime: "PT10M",
  });
  assert.deepEqual(parseMoveArgs(["VIP", "lifetime=10min"], "ban"), { id: "VIP", lifetime: "10min" });
  assert.throws(() => parseMoveArgs([], "ban"), usage(/resource id is required; usage: resource ban/));
  assert.throws(() => parseMoveArgs(["VIP", "lifetime=soon"], "move"), usage(/invalid lifetime 'soon'/));
  assert.throws(() => parseMoveArgs(["VIP", "n1", "n2"], "move"), usage(/unexpected 'n2'/));
  assert.throws(() => parseMoveArgs(["VIP", "lifetime=1h", "n1"], "move"), usage(/unexpected 'n1'/));
  assert.throws(() => parseMoveArgs(["VIP", "role=x"], "move"), usage(/unknown option 'role=x'/));
  assert.throws(() => parseMoveArgs(["VIP", "lifetime=1h", "lifetime=2h"], "move"), usage(/more than once/));
});

void test("clear takes a resource and an optional node", () => {
  assert.deepEqual(parseClearArgs(["VIP"]), { id: "VIP" });
  assert.deepEqual(parseClearArgs(["VIP", "node1"]), { id: "VIP", node: "node1" });
  assert.throws(() => parseClearArgs([]), UsageError);
  assert.throws(() => parseClearArgs(["a", "b", "c"]), UsageError);
});

void test("group add needs a group and resources and only one of --before/--after", () => {
  assert.deepEqual(parseGroupAddArgs(["web", "VIP", "Check"], { after: "X" }), {
    group: "web",
    resources: ["VIP", "Check"],
    after: "X",
  });
  assert.throws(() => parseGroupAddArgs(["web"], {}), usage(/usage: resource group add/));
  assert.throws(
    () => parseGroupAddArgs(["web", "A"], { before: "B", after: "C" }),
    usage(/both --before and --after/),
  );
});

void test("constraint location: prefers/avoids with scores, remove by id, listing, and bad scores", () => {
  assert.deepEqual(parseLocationArgs(["VIP", "prefers", "node1=50", "node2"]), {
    action: "add",
    resource: "VIP",
    mode: "prefers",
    nodes: [{ node: "node1", score: "50" }, { node: "node2" }],
  });
  assert.deepEqual(parseLocationArgs(["VIP", "avoids", "node1=-INFINITY", "node2="]), {
    action: "add",
    resource: "VIP",
    mode: "avoids",
    nodes: [{ node: "node1", score: "-INFINITY" }, { node: "node2" }],
  });
  assert.deepEqual(parseLocationArgs(["remove", "location-VIP-node1-50"]), {
    action: "remove",
    ids: ["location-VIP-node1-50"],
  });
  // A resource called "remove" still gets a location constraint.
  assert.equal(parseLocationArgs(["remove", "prefers", "node1"]).action, "add");
  assert.deepEqual(parseLocationArgs([]), { action: "list" });
  assert.deepEqual(parseLocationArgs(["config"]), { action: "list" });
  assert.throws(
    () => parseLocationArgs(["VIP", "prefers", "node1=lots"]),
    usage(/^invalid score 'lots', use integer or INFINITY or -INFINITY$/),
  );
  assert.throws(() => parseLocationArgs(["VIP", "prefers"]), usage(/at least one node/));
  assert.throws(() => parseLocationArgs(["VIP", "likes", "node1"]), usage(/usage: constraint location/));
  assert.throws(() => parseLocationArgs(["VIP", "rule", "score=5"]), usage(/rules are not supported/));
  assert.throws(() => parseLocationArgs(["VIP", "prefers", "=5"]), usage(/no node name/));
});

void test("constraint colocation add: roles, score, score= and id=, and remove", () => {
  assert.deepEqual(parseColocationArgs(["add", "A", "with", "B"]), {
    action: "add",
    resource: "A",
    withResource: "B",
  });
  assert.deepEqual(parseColocationArgs(["add", "Started", "A", "with", "Started", "B", "-100", "id=apart"]), {
    action: "add",
    resource: "A",
    withResource: "B",
    score: "-100",
    id: "apart",
  });
  assert.deepEqual(parseColocationArgs(["add", "A", "with", "B", "score=INFINITY"]), {
    action: "add",
    resource: "A",
    withResource: "B",
    score: "INFINITY",
  });
  // "B" right after "with" is the resource even when it is followed by a score.
  assert.deepEqual(parseColocationArgs(["add", "A", "with", "Stopped", "50"]), {
    action: "add",
    resource: "A",
    withResource: "Stopped",
    score: "50",
  });
  assert.deepEqual(parseColocationArgs(["remove", "A", "B"]), {
    action: "remove",
    resource: "A",
    withResource: "B",
  });
  assert.deepEqual(parseColocationArgs([]), { action: "list" });
  assert.throws(
    () => parseColocationArgs(["add", "Promoted", "A", "with", "B"]),
    usage(/role 'Promoted' is not supported/),
  );
  assert.throws(() => parseColocationArgs(["add", "A", "B"]), usage(/usage: constraint colocation add/));
  assert.throws(() => parseColocationArgs(["add", "A", "with"]), UsageError);
  assert.throws(() => parseColocationArgs(["add", "A", "with", "B", "lots"]), usage(/invalid score 'lots'/));
  assert.throws(
    () => parseColocationArgs(["add", "A", "with", "B", "node-attribute=x"]),
    usage(/invalid option 'node-attribute'/),
  );
  assert.throws(() => parseColocationArgs(["remove", "A"]), usage(/colocation remove/));
  assert.throws(() => parseColocationArgs(["bogus"]), UsageError);
});

void test("constraint order: optional start actions, options, remove, and refusals", () => {
  assert.deepEqual(parseOrderArgs(["A", "then", "B"]), { action: "add", first: "A", then: "B", options: [] });
  assert.deepEqual(
    parseOrderArgs(["start", "A", "then", "start", "B", "kind=Optional", "symmetrical=false", "id=o1"]),
    {
      action: "add",
      first: "A",
      then: "B",
      kind: "Optional",
      symmetrical: false,
      id: "o1",
      options: ["kind=Optional", "symmetrical=false", "id=o1"],
    },
  );
  assert.deepEqual(parseOrderArgs(["start", "then", "B"]), {
    action: "add",
    first: "start",
    then: "B",
    options: [],
  });
  assert.deepEqual(parseOrderArgs(["remove", "A", "B"]), { action: "remove", resources: ["A", "B"] });
  assert.deepEqual(parseOrderArgs(["remove", "then", "B"]).action, "add");
  assert.deepEqual(parseOrderArgs(["show"]), { action: "list" });
  assert.throws(() => parseOrderArgs(["stop", "A", "then", "B"]), usage(/action 'stop' is not supported/));
  assert.throws(() => parseOrderArgs(["A", "then", "promote", "B"]), usage(/action 'promote'/));
  assert.throws(() => parseOrderArgs(["A", "B"]), usage(/usage: constraint order/));
  assert.throws(
    () => parseOrderArgs(["A", "then", "B", "kind=Serialize"]),
    usage(/Serialize is not supported/),
  );
  assert.throws(
    () => parseOrderArgs(["A", "then", "B", "kind=mandatory"]),
    usage(/'mandatory' is not a valid kind/),
  );
  assert.throws(() => parseOrderArgs(["A", "then", "B", "symmetrical=maybe"]), usage(/symmetrical value/));
  assert.throws(
    () => parseOrderArgs(["A", "then", "B", "require-all=true"]),
    usage(/invalid option 'require-all'/),
  );
  assert.throws(() => parseOrderArgs(["A", "then", "kind=Optional"]), UsageError);
});

void test("standby takes nodes or --all but not both", () => {
  assert.deepEqual(parseStandbyArgs([], false), { all: false, nodes: [] });
  assert.deepEqual(parseStandbyArgs(["node1"], false), { all: false, nodes: ["node1"] });
  assert.deepEqual(parseStandbyArgs([], true), { all: true, nodes: [] });
  assert.throws(
    () => parseStandbyArgs(["node1"], true),
    usage(/^Cannot specify both --all and a list of nodes\.$/),
  );
});

void test("constraint listing follows pcs 0.10's layout, with ids and expiry under --full", () => {
  const lists = {
    location: [
      { id: "location-VIP-node1-INFINITY", resource: "VIP", node: "node1", score: 1_000_000 },
      { id: "cli-ban-VIP-on-node2", resource: "VIP", node: "node2", score: -1_000_000, expiresMs: 1_000 },
      { id: "location-A-node2-50", resource: "A", node: "node2", score: 50 },
    ],
    colocation: [{ id: "colocation-A-VIP-INFINITY", resource: "A", withResource: "VIP", score: 1_000_000 }],
    order: [
      {
        id: "order-VIP-A-mandatory",
        first: "VIP",
        then: "A",
        kind: "Mandatory" as const,
        symmetrical: false,
      },
    ],
  };
  assert.equal(
    formatConstraints(lists, { full: false, nowMs: 5_000 }),
    [
      "Location Constraints:",
      "  Resource: A",
      "    Enabled on:",
      "      Node: node2 (score:50)",
      "  Resource: VIP",
      "    Enabled on:",
      "      Node: node1 (score:INFINITY)",
      "    Disabled on:",
      "      Node: node2 (score:-INFINITY) (expires:1970-01-01T00:00:01.000Z, expired)",
      "Ordering Constraints:",
      "  start VIP then start A (kind:Mandatory) (non-symmetrical)",
      "Colocation Constraints:",
      "  A with VIP (score:INFINITY)",
    ].join("\n"),
  );
  const full = formatConstraints(lists, { full: true, nowMs: 0 });
  assert.match(full, /Node: node1 \(score:INFINITY\) \(id:location-VIP-node1-INFINITY\)/);
  assert.match(full, /\(expires:1970-01-01T00:00:01\.000Z\) \(id:cli-ban-VIP-on-node2\)/);
  assert.match(
    full,
    /start VIP then start A \(kind:Mandatory\) \(non-symmetrical\) \(id:order-VIP-A-mandatory\)/,
  );
  assert.match(full, / A with VIP \(score:INFINITY\) \(id:colocation-A-VIP-INFINITY\)/);
  assert.equal(
    formatConstraints(lists, { full: false, nowMs: 0, only: "colocation" }),
    "Colocation Constraints:\n  A with VIP (score:INFINITY)",
  );
  assert.equal(
    formatConstraints({ location: [], colocation: [], order: [] }, { full: false, nowMs: 0 }),
    "Location Constraints:\nOrdering Constraints:\nColocation Constraints:",
  );
});

void test("properties, defaults and the ban warning print as pcs does", () => {
  assert.equal(
    formatProperties({ "stonith-enabled": "false", cloud: "oci" }),
    "Cluster Properties:\n cloud: oci\n stonith-enabled: false",
  );
  assert.equal(formatDefaults({}), "No defaults set");
  assert.equal(
    formatDefaults({ "resource-stickiness": "100" }),
    "Meta Attrs: rsc_defaults-meta_attributes\n  resource-stickiness=100",
  );
  assert.match(
    banWarning({ id: "cli-ban-VIP-on-node1", resource: "VIP", node: "node1" }),
    /^Warning: Creating location constraint 'cli-ban-VIP-on-node1' with a score of -INFINITY for resource VIP on node1\.\n\tThis will prevent VIP from running on node1/,
  );
});

void test("registering reuses an existing resource command and adds the pcs verbs", () => {
  const program = new Command("floatip");
  const resource = program.command("resource");
  resource.command("create");
  registerResourceManagerCommands(program, () => ({ socketPath: "/nonexistent" }));
  assert.equal(program.commands.filter((c) => c.name() === "resource").length, 1);
  const names = (c: Command | undefined) => (c?.commands ?? []).map((x) => x.name()).sort();
  assert.deepEqual(names(program.commands.find((c) => c.name() === "resource")), [
    "ban",
    "clear",
    "create",
    "defaults",
    "disable",
    "enable",
    "group",
    "meta",
    "move",
    "ungroup",
    "update",
  ]);
  assert.deepEqual(names(program.commands.find((c) => c.name() === "constraint")), [
    "colocation",
    "config",
    "delete",
    "location",
    "order",
    "remove",
  ]);
  assert.deepEqual(names(program.commands.find((c) => c.name() === "node")), ["standby", "unstandby"]);
  assert.deepEqual(names(program.commands.find((c) => c.name() === "property")), ["config", "set", "unset"]);
});

// -------------------------------------------------------------------------------------------- fuzz

const vocabulary = [
  "A",
  "B",
  "node1",
  "with",
  "then",
  "start",
  "stop",
  "Started",
  "Promoted",
  "prefers",
  "avoids",
  "rule",
  "add",
  "remove",
  "op",
  "monitor",
  "meta",
  "config",
  "update",
  "50",
  "-INFINITY",
  "lots",
  "=",
  "x=",
  "=y",
  "id=c1",
  "kind=Optional",
  "kind=Serialize",
  "symmetrical=no",
  "score=7",
  "lifetime=PT1M",
  "lifetime=never",
  "interval=5s",
  "timeout=x",
  "node1=INFINITY",
  "node2=abc",
  "",
];
const word = fc.oneof(fc.constantFrom(...vocabulary), fc.string({ maxLength: 8 }));
const words = fc.array(word, { maxLength: 8 });

void test("fuzz: every argument parser either parses or throws a UsageError", () => {
  const parsers: ((w: string[]) => unknown)[] = [
    parseUpdateArgs,
    (w) => parseNameValues(w, "u"),
    parseDefaultsArgs,
    (w) => parseMoveArgs(w, "move"),
    (w) => parseMoveArgs(w, "ban"),
    parseClearArgs,
    (w) => parseGroupAddArgs(w, {}),
    (w) => parseGroupAddArgs(w, { before: "A" }),
    parseLocationArgs,
    parseColocationArgs,
    parseOrderArgs,
    parsePropertySetArgs,
    (w) => parseStandbyArgs(w, false),
    (w) => parseStandbyArgs(w, true),
  ];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: parsers.length - 1 }), words, (which, input) => {
      try {
        parsers[which]?.(input);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
      }
    }),
    { numRuns: 3000 },
  );
});
