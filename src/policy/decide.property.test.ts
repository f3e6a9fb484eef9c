import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { clusterConfigSchema, type ClusterConfig } from "../config/schema.ts";
import { decide } from "./decide.ts";
import { INFINITY } from "./score.ts";
import type { NodeStatus, PolicyInput, ResourceStatus } from "./types.ts";

const nodeNames = ["node1", "node2", "node3", "node4"];
const resourceIds = ["R1", "R2", "R3", "R4"];
const scores = [-INFINITY, -50, 0, 20, 50, 100, INFINITY];

const resourceStatus: fc.Arbitrary<ResourceStatus> = fc.record(
  {
    state: fc.constantFrom("running", "stopped", "failed", "unknown"),
    failCount: fc.constantFrom(0, 0, 1, 2, INFINITY),
    lastFailureMs: fc.integer({ min: 0, max: 10_000 }),
  },
  { requiredKeys: ["state", "failCount"] },
);

const meta = fc.record(
  {
    "resource-stickiness": fc.constantFrom("0", "50", "100", "INFINITY"),
    "migration-threshold": fc.constantFrom("0", "1", "3", "INFINITY"),
    "failure-timeout": fc.constantFrom("0", "1s", "5s"),
    "target-role": fc.constantFrom("Started", "Stopped"),
  },
  { requiredKeys: [] },
);

/** Small random clusters: up to 4 nodes and 4 resources, with every kind of constraint the schema has. */
const policyInput: fc.Arbitrary<PolicyInput> = fc
  .record({
    nodeCount: fc.integer({ min: 1, max: 4 }),
    resourceCount: fc.integer({ min: 1, max: 4 }),
    standby: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    metas: fc.array(meta, { minLength: 4, maxLength: 4 }),
    defaults: meta,
    grouped: fc.integer({ min: 0, max: 3 }),
    locations: fc.array(
      fc.record({
        resource: fc.constantFrom(...resourceIds, "G"),
        node: fc.constantFrom(...nodeNames),
        score: fc.constantFrom(...scores),
        expiresMs: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
      }),
      { maxLength: 5 },
    ),
    colocations: fc.array(
      fc.record({
        resource: fc.constantFrom(...resourceIds),
        withResource: fc.constantFrom(...resourceIds),
        score: fc.constantFrom(...scores),
      }),
      { maxLength: 3 },
    ),
    orders: fc.array(
      fc.record({
        first: fc.constantFrom(...resourceIds),
        then: fc.constantFrom(...resourceIds),
        kind: fc.constantFrom("Mandatory", "Optional"),
        symmetrical: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
    properties: fc.record(
      {
        "no-quorum-policy": fc.constantFrom("stop", "ignore", "freeze"),
        "stop-all-resources": fc.constantFrom("true", "false", "false", "false"),
        "symmetric-cluster": fc.constantFrom("true", "true", "false"),
      },
      { requiredKeys: [] },
    ),
    online: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    quorate: fc.boolean(),
    probed: fc.array(fc.constantFrom(true, true, true, false), { minLength: 4, maxLength: 4 }),
    statuses: fc.array(
      fc.array(fc.option(resourceStatus, { nil: undefined }), { minLength: 4, maxLength: 4 }),
      {
        minLength: 4,
        maxLength: 4,
      },
    ),
    nowMs: fc.integer({ min: 0, max: 12_000 }),
  })
  .map((g) => {
    const nodes = nodeNames.slice(0, g.nodeCount);
    const resources = resourceIds.slice(0, g.resourceCount);
    const known = (id: string) => resources.includes(id) || (id === "G" && g.grouped >= 2);
    const groupMembers = g.grouped >= 2 ? resources.slice(0, g.grouped) : [];
    const config: ClusterConfig = clusterConfigSchema.parse({
      formatVersion: 1,
      name: "prop",
      epoch: 1,
      nodes: nodes.map((name, i) => ({ name, id: i + 1, addrs: [`10.0.0.${i + 1}`], standby: g.standby[i] })),
      properties: g.properties,
      resourceDefaults: g.defaults,
      resources: resources.map((id, i) => ({ id, type: "ocf:heartbeat:Dummy", meta: g.metas[i] })),
      groups: groupMembers.length >= 2 ? [{ id: "G", resources: groupMembers }] : [],
      constraints: {
        location: g.locations.filter((l) => known(l.resource)).map((l, i) => ({ id: `loc${i}`, ...l })),
        colocation: g.colocations
          .filter((c) => known(c.resource) && known(c.withResource))
          .map((c, i) => ({ id: `col${i}`, ...c })),
        order: g.orders
          .filter((o) => known(o.first) && known(o.then))
          .map((o, i) => ({ id: `ord${i}`, ...o })),
      },
    });
    const online = nodes.filter((_, i) => g.online[i]);
    const status: Record<string, NodeStatus> = {};
    online.forEach((node) => {
      const i = nodes.indexOf(node);
      const records: Record<string, ResourceStatus> = {};
      resources.forEach((id, r) => {
        const record = g.statuses[i]?.[r];
        if (record !== undefined) records[id] = record;
      });
      status[node] = { probed: g.probed[i] ?? true, resources: records };
    });
    return { config, view: { online, quorate: g.quorate }, status, nowMs: g.nowMs };
  });

const stateOf = (input: PolicyInput, node: string, id: string) =>
  input.status[node]?.resources[id]?.state ?? "stopped";

function groupOf(config: ClusterConfig, id: string): string | undefined {
  return config.groups.find((g) => g.resources.includes(id))?.id;
}

const runs = { numRuns: 3000 };

void test("never starts a resource that is running, failed or unknown on any online node", () => {
  fc.assert(
    fc.property(policyInput, (input) => {
      for (const action of decide(input).actions.filter((a) => a.op === "start")) {
        for (const node of input.view.online) {
          assert.equal(stateOf(input, node, action.resource), "stopped", `${action.resource} on ${node}`);
        }
      }
    }),
    runs,
  );
});

void test("never places on an offline or standby node, or one with an active -INFINITY location", () => {
  fc.assert(
    fc.property(policyInput, (input) => {
      const { placement } = decide(input);
      assert.deepEqual(Object.keys(placement).sort(), input.config.resources.map((r) => r.id).sort());
      for (const [id, node] of Object.entries(placement)) {
        if (node === null) continue;
        assert.ok(input.view.online.includes(node), `${id} placed on offline ${node}`);
        assert.ok(
          !input.config.nodes.find((n) => n.name === node)?.standby,
          `${id} placed on standby ${node}`,
        );
        const banned = input.config.constraints.location.some(
          (l) =>
            (l.resource === id || l.resource === groupOf(input.config, id)) &&
            l.node === node &&
            l.score <= -INFINITY &&
            (l.expiresMs === undefined || input.nowMs < l.expiresMs),
        );
        assert.ok(!banned, `${id} placed on ${node} despite -INFINITY`);
      }
    }),
    runs,
  );
});

void test("never stops and starts one resource in the same round, and acts only where it makes sense", () => {
  fc.assert(
    fc.property(policyInput, (input) => {
      const { actions, placement } = decide(input);
      const started = new Set(actions.filter((a) => a.op === "start").map((a) => a.resource));
      const keys = actions.map((a) => `${a.op} ${a.resource} ${a.node}`);
      assert.equal(new Set(keys).size, keys.length, "duplicate action");
      for (const a of actions) {
        if (a.op === "stop") {
          assert.ok(!started.has(a.resource), `${a.resource} stopped and started in one round`);
          assert.ok(
            ["running", "failed"].includes(stateOf(input, a.node, a.resource)),
            `stop of inactive ${a.resource}`,
          );
        } else {
          assert.equal(placement[a.resource], a.node, `${a.resource} started away from its placement`);
          assert.ok(
            input.view.online.every((n) => input.status[n]?.probed === true),
            "start while a node is probing",
          );
        }
      }
    }),
    runs,
  );
});

void test("is deterministic and does not depend on the order of the view's node list", () => {
  fc.assert(
    fc.property(policyInput, (input) => {
      const first = decide(input);
      assert.deepEqual(decide(structuredClone(input)), first);
      const reversed = { ...input, view: { ...input.view, online: [...input.view.online].reverse() } };
      assert.deepEqual(decide(reversed), first);
    }),
    runs,
  );
});
