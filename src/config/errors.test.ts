import { test } from "node:test";
import assert from "node:assert/strict";
import { ClusterKeyError, ConfigError, formatIssuePath, formatZodIssues } from "./errors.ts";
import { clusterConfigSchema } from "./schema.ts";

void test("renders field paths as a user would write them", () => {
  assert.equal(formatIssuePath(["resources", 0, "params", "ip"]), "resources[0].params.ip");
  assert.equal(formatIssuePath(["properties", "stonith-enabled"]), 'properties["stonith-enabled"]');
  assert.equal(formatIssuePath([]), "(document)");
});

void test("gives one line per problem, each naming its field", () => {
  const result = clusterConfigSchema.safeParse({
    formatVersion: 1,
    name: "c",
    epoch: 1,
    nodes: [{ name: "a", id: 1, addrs: ["999.1.1.1", 5] }],
    resources: [{ id: "vip", type: "ocf:heartbeat:IPaddr2", params: { "1bad": "x" } }],
  });
  assert.equal(result.success, false);
  const lines = formatZodIssues(result.error?.issues ?? []).split("\n");
  assert.deepEqual(lines, [
    "nodes[0].addrs[0]: must be an IPv4 address",
    "nodes[0].addrs[1]: must be a string",
    'resources[0].params["1bad"]: has an invalid key: bad name',
  ]);
});

void test("says a required field is missing rather than 'received undefined'", () => {
  const result = clusterConfigSchema.safeParse({ formatVersion: 1, epoch: 1, nodes: [] });
  const text = formatZodIssues(result.error?.issues ?? []);
  assert.match(text, /^name: is missing \(expected string\)$/m);
  assert.match(text, /^nodes: /m);
});

void test("error messages start with their code", () => {
  const configError = new ConfigError("FLOATIP_E_CONFIG_EPOCH", "epoch 3 is old; reload", { field: "epoch" });
  assert.equal(configError.message, "FLOATIP_E_CONFIG_EPOCH: epoch 3 is old; reload");
  assert.equal(configError.field, "epoch");
  assert.ok(configError instanceof Error);
  const keyError = new ClusterKeyError("FLOATIP_E_KEY_MISSING", "no key; create one");
  assert.equal(keyError.code, "FLOATIP_E_KEY_MISSING");
  assert.match(keyError.message, /^FLOATIP_E_KEY_MISSING: /);
});
