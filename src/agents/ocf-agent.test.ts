import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentContext } from "./agent.ts";
import { mapOcfExit, OcfAgent } from "./ocf-agent.ts";
import { mustRun, NamespaceRegistry } from "../../tools/testbed/netns.ts";

const haveHeartbeat = existsSync("/usr/lib/ocf/resource.d/heartbeat/Dummy");
const isRoot = process.getuid?.() === 0;

function ctx(params: Record<string, string>, signal = AbortSignal.timeout(30_000)): AgentContext {
  return { resourceId: "res1", params, signal };
}

function tempDir(t: { after: (fn: () => void) => void }, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `floatip-ocf-${label}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An OCF root holding one agent `ocf:test:<name>` with the given shell body. */
function fakeAgent(t: { after: (fn: () => void) => void }, name: string, body: string): string {
  const root = tempDir(t, "root");
  mkdirSync(join(root, "resource.d", "test"), { recursive: true });
  const path = join(root, "resource.d", "test", name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return root;
}

void test(
  "Dummy starts, monitors, probes and stops through its real script",
  { skip: !haveHeartbeat && "no resource-agents" },
  async (t) => {
    const state = join(tempDir(t, "dummy"), "dummy.state");
    const agent = new OcfAgent("ocf:heartbeat:Dummy");
    const params = { state };
    assert.equal((await agent.probe(ctx(params))).state, "stopped");
    const started = await agent.start(ctx(params));
    assert.equal(started.state, "running", started.message);
    assert.ok(existsSync(state), "Dummy did not create its state file");
    assert.equal((await agent.monitor(ctx(params))).state, "running");
    assert.equal((await agent.probe(ctx(params))).state, "running");
    assert.equal((await agent.stop(ctx(params))).state, "stopped");
    assert.equal(existsSync(state), false);
    assert.equal((await agent.stop(ctx(params))).state, "stopped", "a second stop must succeed too");
  },
);

void test(
  "Dummy losing its state file shows as not running at the next monitor",
  { skip: !haveHeartbeat && "no resource-agents" },
  async (t) => {
    const state = join(tempDir(t, "dummy"), "dummy.state");
    const agent = new OcfAgent("ocf:heartbeat:Dummy");
    assert.equal((await agent.start(ctx({ state }))).state, "running");
    rmSync(state);
    const result = await agent.monitor(ctx({ state }));
    assert.equal(result.state, "stopped");
    assert.match(result.message ?? "", /^OCF_NOT_RUNNING \(7\)/);
  },
);

void test(
  "validate of an agent loaded with meta-data reports missing and unknown parameters",
  { skip: !haveHeartbeat && "no resource-agents" },
  async () => {
    const agent = await OcfAgent.load("ocf:heartbeat:IPaddr2");
    assert.deepEqual(agent.validate({ ip: "10.0.0.5" }), []);
    const problems = agent.validate({ cidr: "24" });
    assert.match(problems[0] ?? "", /^ip is required by IPaddr2/);
    assert.match(problems[1] ?? "", /^cidr is not a parameter of IPaddr2/);
  },
);

void test("parameter names that cannot be environment variables are refused", async () => {
  const agent = new OcfAgent("ocf:test:Any", { root: "/nonexistent" });
  assert.match(agent.validate({ "bad-name": "x" })[0] ?? "", /^bad-name is not a valid OCF parameter name/);
  const result = await agent.start(ctx({ "bad-name": "x" }));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /^FLOATIP_E_PARAM: bad-name/);
});

void test("the script gets the OCF environment pacemaker-execd would give it", async (t) => {
  const out = join(tempDir(t, "env"), "env.txt");
  const root = fakeAgent(t, "EnvDump", `env > ${out}; exit 0`);
  const agent = new OcfAgent("ocf:test:EnvDump", {
    root,
    timeoutsMs: { monitor: 15_000 },
    monitorIntervalMs: 30_000,
  });
  await agent.monitor(ctx({ ip: "10.0.0.5", nic: "eth0" }));
  const env = Object.fromEntries(
    readFileSync(out, "utf8")
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  assert.equal(env.OCF_ROOT, root);
  assert.equal(env.OCF_FUNCTIONS_DIR, join(root, "lib", "heartbeat"));
  assert.equal(env.OCF_RESOURCE_INSTANCE, "res1");
  assert.equal(env.OCF_RESOURCE_TYPE, "EnvDump");
  assert.equal(env.OCF_RESOURCE_PROVIDER, "test");
  assert.equal(env.OCF_RESKEY_ip, "10.0.0.5");
  assert.equal(env.OCF_RESKEY_nic, "eth0");
  assert.equal(env.OCF_RESKEY_CRM_meta_timeout, "15000");
  assert.equal(env.OCF_RESKEY_CRM_meta_interval, "30000");
  assert.match(env.PATH ?? "", /(^|:)\/usr\/sbin:.*\/sbin(:|$)/);
  await agent.probe(ctx({}));
  assert.match(readFileSync(out, "utf8"), /^OCF_RESKEY_CRM_meta_interval=0$/m);
  await agent.start(ctx({}));
  assert.doesNotMatch(readFileSync(out, "utf8"), /OCF_RESKEY_CRM_meta_interval/);
});

void test("exit codes map to states with the OCF name and the last stderr line", async (t) => {
  const root = fakeAgent(t, "Exit", 'echo "first line" >&2; echo "ERROR: not configured right" >&2; exit 6');
  const result = await new OcfAgent("ocf:test:Exit", { root }).start(ctx({}));
  assert.deepEqual(result, {
    state: "failed",
    message: "OCF_ERR_CONFIGURED (6): ERROR: not configured right",
  });
});

void test("exit code table per operation", () => {
  const cases: [Parameters<typeof mapOcfExit>[0], number, string][] = [
    ["start", 0, "running"],
    ["start", 1, "failed"],
    ["start", 7, "failed"],
    ["stop", 0, "stopped"],
    ["stop", 7, "stopped"],
    ["stop", 1, "failed"],
    ["monitor", 0, "running"],
    ["monitor", 7, "stopped"],
    ["monitor", 8, "running"],
    ["monitor", 9, "failed"],
    ["monitor", 5, "failed"],
    ["probe", 7, "stopped"],
    ["probe", 5, "stopped"],
    ["probe", 1, "failed"],
    ["monitor", 137, "failed"],
  ];
  for (const [op, code, state] of cases)
    assert.equal(mapOcfExit(op, code, "").state, state, `${op} exit ${code}`);
  assert.equal(mapOcfExit("monitor", 2, "").message, "OCF_ERR_ARGS (2)");
  assert.equal(mapOcfExit("monitor", 42, "x").message, "unknown exit code (42): x");
});

void test("a script that hangs is killed with its children at the operation timeout", async (t) => {
  const root = fakeAgent(t, "Hang", "sleep 30; exit 0");
  const began = Date.now();
  const agent = new OcfAgent("ocf:test:Hang", { root, timeoutsMs: { start: 300, monitor: 300 } });
  const start = await agent.start(ctx({}));
  assert.equal(start.state, "failed");
  assert.match(
    start.message ?? "",
    /^FLOATIP_E_OCF_TIMEOUT: ocf:test:Hang start did not finish within 300 ms/,
  );
  assert.equal((await agent.monitor(ctx({}))).state, "unknown");
  assert.ok(Date.now() - began < 3000, `took ${Date.now() - began} ms`);
});

void test("aborting the operation's signal kills the script", async (t) => {
  const root = fakeAgent(t, "Hang", "sleep 30; exit 0");
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const began = Date.now();
  const result = await new OcfAgent("ocf:test:Hang", { root }).stop(ctx({}, controller.signal));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /cancelled/);
  assert.ok(Date.now() - began < 2000);
});

void test("an agent that is not installed fails start and reads as stopped on probe", async () => {
  const agent = new OcfAgent("ocf:test:Missing", { root: "/nonexistent-ocf-root" });
  const start = await agent.start(ctx({}));
  assert.equal(start.state, "failed");
  assert.match(start.message ?? "", /^FLOATIP_E_AGENT_UNKNOWN: cannot run .*Missing \(ENOENT\); install/);
  assert.equal((await agent.probe(ctx({}))).state, "stopped");
});

void test("a type that is not ocf:<provider>:<agent> is refused at construction", () => {
  assert.throws(() => new OcfAgent("ocf:heartbeat:../../../bin/sh"), /FLOATIP_E_AGENT_UNKNOWN/);
});

void test(
  "IPaddr2 puts the address on an interface in a namespace and removes it at stop",
  { skip: (!isRoot && "needs root") || (!haveHeartbeat && "no resource-agents") },
  async (t) => {
    const registry = new NamespaceRegistry();
    registry.registerExitCleanup();
    t.after(() => registry.teardown());
    const ns = await registry.createNamespace("ocf");
    // A veth pair inside the namespace: the dummy link type needs a kernel module containers often lack.
    await mustRun("ip", ["-n", ns, "link", "add", "vip0", "type", "veth", "peer", "name", "vip0p"]);
    await mustRun("ip", ["-n", ns, "addr", "add", "10.99.0.1/24", "dev", "vip0"]);
    await mustRun("ip", ["-n", ns, "link", "set", "vip0p", "up"]);
    await mustRun("ip", ["-n", ns, "link", "set", "vip0", "up"]);
    const agent = new OcfAgent("ocf:heartbeat:IPaddr2", { netns: ns });
    const params = { ip: "10.99.0.50", cidr_netmask: "24", nic: "vip0" };
    const shown = async () => mustRun("ip", ["-n", ns, "-4", "-o", "addr", "show", "dev", "vip0"]);
    assert.equal((await agent.probe(ctx(params))).state, "stopped");
    const started = await agent.start(ctx(params));
    assert.equal(started.state, "running", started.message);
    assert.match(await shown(), /inet 10\.99\.0\.50\/24 /);
    assert.equal((await agent.monitor(ctx(params))).state, "running");
    const stopped = await agent.stop(ctx(params));
    assert.equal(stopped.state, "stopped", stopped.message);
    assert.doesNotMatch(await shown(), /10\.99\.0\.50/);
    assert.equal((await agent.monitor(ctx(params))).state, "stopped");
  },
);
