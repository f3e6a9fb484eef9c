import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { LoopbackDaemon } from "../tools/testbed/loopback-daemon.ts";

/**
 * The admin API and the pcs-style CLI against one real daemon on loopback (no root, no namespaces):
 * configuration commands are validated against the agents and the schema, and say what is wrong.
 */

let daemon: LoopbackDaemon | undefined;
const floatip = (...args: string[]) => {
  if (!daemon) throw new Error("daemon not started");
  return daemon.cli(args);
};

before(async () => {
  daemon = await LoopbackDaemon.start({ name: "api-test" });
});

after(() => daemon?.stop());

void test("resource create refuses an unknown agent and bad parameters, naming them", async () => {
  const unknown = await floatip("resource", "create", "X", "ocf:heartbeat:NoSuchAgent");
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /^Error: FLOATIP_E_AGENT_UNKNOWN: Agent 'ocf:heartbeat:NoSuchAgent' is not installed/,
  );
  const badIp = await floatip("resource", "create", "V", "ocf:heartbeat:IPaddr2", "ip=10.0.0.999");
  assert.match(badIp.stderr, /FLOATIP_E_PARAM_INVALID: ip=10\.0\.0\.999 is not an IPv4 address/);
  const badUrl = await floatip("resource", "create", "H", "floatip:check:http", "url=ftp://x");
  assert.match(badUrl.stderr, /FLOATIP_E_PARAM_INVALID: url=/);
});

void test("resource update checks the merged parameters against the agent before storing them", async () => {
  assert.equal(
    (await floatip("resource", "create", "Check", "floatip:check:tcp", "host=127.0.0.1", "port=9")).code,
    0,
  );
  const epoch = async () =>
    (JSON.parse((await floatip("status", "--json")).stdout) as { configEpoch: number }).configEpoch;
  const before = await epoch();
  const bad = await floatip("resource", "update", "Check", "port=99999");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /FLOATIP_E_PARAM_INVALID: .*port/);
  assert.equal(await epoch(), before, "nothing was stored");
  assert.equal((await floatip("resource", "update", "Check", "port=10")).code, 0);
  assert.equal(await epoch(), before + 1);
});

void test("groups, constraints and delete keep the configuration valid", async () => {
  assert.equal(
    (
      await floatip(
        "resource",
        "create",
        "A",
        "floatip:check:tcp",
        "host=127.0.0.1",
        "port=9",
        "--group",
        "g",
      )
    ).code,
    0,
  );
  assert.equal(
    (
      await floatip(
        "resource",
        "create",
        "B",
        "floatip:check:tcp",
        "host=127.0.0.1",
        "port=9",
        "--group",
        "g",
      )
    ).code,
    0,
  );
  assert.equal((await floatip("constraint", "location", "g", "prefers", "node1=50")).code, 0);
  const listed = await floatip("constraint");
  assert.match(listed.stdout, /Resource: g\n\s+Enabled on:\n\s+Node: node1 \(score:50\)/);
  const deleted = await floatip("resource", "delete", "A");
  assert.equal(deleted.code, 0, deleted.stderr);
  const deletedLast = await floatip("resource", "delete", "B");
  assert.equal(deletedLast.code, 0, deletedLast.stderr);
  assert.match(
    deletedLast.stdout,
    /Removing Constraint - location-g-node1-50/,
    "the emptied group's constraint goes too",
  );
  const missing = await floatip("resource", "delete", "B");
  assert.match(missing.stderr, /Resource 'B' does not exist/);
});

void test("properties are validated by the schema and unknown ones are refused", async () => {
  const bad = await floatip("property", "set", "no-quorum-policy=sometimes");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no-quorum-policy/);
  const unknown = await floatip("property", "set", "frobnicate=1");
  assert.equal(unknown.code, 1);
  assert.equal((await floatip("property", "set", "no-quorum-policy=freeze")).code, 0);
});
