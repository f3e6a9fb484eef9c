import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCommand } from "../src/agents/command-runner.ts";
import { createBed, type Bed } from "../tools/testbed/bed.ts";
import { EmulatedCloud } from "../tools/testbed/cloud-bed.ts";
import { waitUntil } from "../tools/testbed/wait-until.ts";
import { repoRoot } from "../tools/testbed/repo-paths.ts";

/**
 * ocf:floatip:oci-vip, installed by `floatip install-agents`, run the way Pacemaker runs agents (a bare
 * environment, OCF_* variables) inside node namespaces of a bed whose cloud is the OCI emulator: first
 * resource-agents' own ocf-tester, then the cloud-specific promises one by one.
 */

const VIP = "10.0.0.200";
const isRoot = process.getuid?.() === 0;
const hasTools =
  existsSync("/usr/sbin/ocf-tester") && existsSync("/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs");

interface AgentRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The bed cloud's environment (no endpoint override, its CA trusted), once it has started. */
let cloudEnv: Record<string, string> = {};

function agentEnv(
  params: Record<string, string>,
  meta: { timeoutMs?: number; intervalMs?: number } = {},
): string[] {
  return [
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    "OCF_ROOT=/usr/lib/ocf",
    "OCF_RESOURCE_INSTANCE=vip",
    // The host's /etc/default/floatip (if any) must not leak in; the bed's settings come from here.
    "FLOATIP_ENV_FILE=/nonexistent",
    "FLOATIP_LOG_LEVEL=silent",
    ...Object.entries(cloudEnv).map(([k, v]) => `${k}=${v}`),
    `OCF_RESKEY_CRM_meta_timeout=${meta.timeoutMs ?? 20_000}`,
    `OCF_RESKEY_CRM_meta_interval=${meta.intervalMs ?? 10_000}`,
    ...Object.entries(params).map(([k, v]) => `OCF_RESKEY_${k}=${v}`),
  ];
}

async function runAgent(
  bed: Bed,
  node: string,
  agent: string,
  action: string,
  params: Record<string, string> = { ip: VIP, cidr_netmask: "24" },
  meta: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<AgentRun> {
  const started = Date.now();
  const out = await bed.execIn(bed.nodeNs(node), "env", ["-i", ...agentEnv(params, meta), agent, action], {
    timeoutMs: (meta.timeoutMs ?? 20_000) + 10_000,
  });
  return { code: out.code ?? -1, stdout: out.stdout, stderr: out.stderr, ms: Date.now() - started };
}

async function localAddresses(bed: Bed, node: string): Promise<string> {
  return (await bed.execIn(bed.nodeNs(node), "ip", ["-o", "-4", "addr", "show", "dev", "eth0"])).stdout;
}

interface EmulatorPrivateIp {
  ipAddress: string;
  vnicId: string | null;
}

async function privateIpsOf(cloud: EmulatedCloud, ip: string): Promise<EmulatorPrivateIp[]> {
  const state = (await cloud.state()) as { privateIps: EmulatorPrivateIp[] };
  return state.privateIps.filter((p) => p.ipAddress === ip);
}

/** Installs the agent with the real CLI into a scratch prefix readable by `nobody` (ocf-tester checks). */
async function install(prefix: string): Promise<string> {
  chmodSync(prefix, 0o755);
  const out = await runCommand(
    process.execPath,
    [join(repoRoot, "bin/floatip.mjs"), "--json", "install-agents", "--prefix", prefix],
    { timeoutMs: 30_000 },
  );
  assert.equal(out.code, 0, out.stderr);
  const report = JSON.parse(out.stdout) as { files: { agent: string; target: string; action: string }[] };
  const agent = report.files.find((f) => f.agent === "ocf:floatip:oci-vip");
  assert.equal(agent?.action, "installed");
  return agent.target;
}

void test(
  "ocf:floatip:oci-vip passes resource-agents' ocf-tester against the emulated cloud, and keeps its cloud promises",
  { skip: !isRoot || !hasTools, timeout: 300_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1", "node2"], clientSubnet: "routed" });
    const parts: { cloud?: EmulatedCloud; prefix?: string } = {};
    t.after(async () => {
      await parts.cloud?.stop();
      await bed.destroy();
      if (parts.prefix) rmSync(parts.prefix, { recursive: true, force: true });
    });
    const cloud = (parts.cloud = await EmulatedCloud.start(bed, { latencyMs: 20 }));
    cloudEnv = cloud.nodeEnvVariables;
    // Registered for clean-up before anything can fail.
    const prefix = (parts.prefix = mkdtempSync(join(tmpdir(), "floatip-ocfvip-")));
    const agent = await install(prefix);

    await t.test("ocf-tester passes", async () => {
      const out = await bed.execIn(
        bed.nodeNs("node1"),
        "env",
        [
          ...agentEnv({}).filter((v) => !v.startsWith("OCF_RESKEY_")),
          "ocf-tester",
          "-n",
          "vip",
          "-o",
          `ip=${VIP}`,
          "-o",
          "cidr_netmask=24",
          agent,
        ],
        { timeoutMs: 240_000 },
      );
      assert.equal(out.code, 0, `ocf-tester failed:\n${out.stdout}\n${out.stderr}`);
      assert.match(out.stdout, /passed all tests/);
      assert.equal(cloud.holderOf(VIP), "node1", "ocf-tester's starts moved the VIP to node1 in the cloud");
      assert.doesNotMatch(await localAddresses(bed, "node1"), /10\.0\.0\.200/, "ocf-tester ends stopped");
    });

    await t.test("a probe of a stopped VIP says not running; validation refuses bad parameters", async () => {
      assert.equal((await runAgent(bed, "node2", agent, "monitor", undefined, { intervalMs: 0 })).code, 7);
      assert.equal((await runAgent(bed, "node2", agent, "validate-all", { ip: "10.0.0.300" })).code, 6);
      assert.equal(
        (await runAgent(bed, "node2", agent, "validate-all", { ip: VIP, cidr_netmask: "40" })).code,
        6,
      );
      assert.equal(
        (await runAgent(bed, "node2", agent, "validate-all", { ip: VIP, nic: "nosuch0" })).code,
        6,
      );
      // The VIP is outside every subnet of the instance: a configuration error, not a cloud outage.
      const outside = await runAgent(bed, "node2", agent, "start", {
        ip: "10.9.0.5",
        nic: "eth0",
        cidr_netmask: "32",
      });
      assert.equal(outside.code, 6, outside.stderr);
      assert.match(outside.stderr, /FLOATIP_E_VIP_NOT_IN_SUBNET/);
      assert.equal((await runAgent(bed, "node2", agent, "promote")).code, 3);
    });

    await t.test("start moves the VIP to this node in the cloud and configures it locally", async () => {
      const started = await runAgent(bed, "node2", agent, "start", { ip: VIP });
      assert.equal(started.code, 0, started.stderr);
      assert.equal(cloud.holderOf(VIP), "node2");
      // nic and cidr_netmask discovered from eth0's 10.0.0.0/24.
      assert.match(await localAddresses(bed, "node2"), /inet 10\.0\.0\.200\/24 /);
      assert.equal((await runAgent(bed, "node2", agent, "monitor")).code, 0);
    });

    await t.test(
      "monitor during a cloud outage retries and reports running while the address is here",
      async () => {
        await cloud.faults({ outageMs: 60_000 });
        try {
          const seen = await runAgent(bed, "node2", agent, "monitor", undefined, { timeoutMs: 12_000 });
          assert.equal(seen.code, 0, seen.stderr);
          // Unknown is retried until the operation's time is nearly used up, not given up after one try.
          assert.ok(seen.ms >= 6_000, `monitor returned after ${seen.ms} ms`);
          assert.match(seen.stderr, /unknown/);
          assert.equal(cloud.holderOf(VIP), "node2", "no move");
        } finally {
          await cloud.faults({ outageMs: null });
        }
      },
    );

    await t.test("a floatip that cannot run (bare exit 1, no report) is no evidence either", async () => {
      // As during an upgrade: the baked-in CLI entry fails before it can say anything.
      const broken = join(prefix, "broken-floatip.mjs");
      writeFileSync(broken, "process.stderr.write('Error: Cannot find module\\n'); process.exit(1);\n");
      const brokenAgent = join(prefix, "oci-vip-broken");
      writeFileSync(
        brokenAgent,
        readFileSync(agent, "utf8").replace(/^FLOATIP_MAIN=.*$/m, `FLOATIP_MAIN="${broken}"`),
        { mode: 0o755 },
      );
      const seen = await runAgent(bed, "node2", brokenAgent, "monitor", undefined, { timeoutMs: 8_000 });
      assert.equal(seen.code, 0, seen.stderr);
      assert.match(seen.stderr, /floatip exited 1: Error: Cannot find module/);
    });

    await t.test(
      "monitor says not running (7) once another node took the VIP, and drops the address",
      async () => {
        assert.equal((await runAgent(bed, "node1", agent, "start")).code, 0);
        assert.equal(cloud.holderOf(VIP), "node1");
        const seen = await runAgent(bed, "node2", agent, "monitor");
        assert.equal(seen.code, 7, seen.stderr);
        assert.match(seen.stderr, /held by ocid1\.instance\./);
        assert.doesNotMatch(await localAddresses(bed, "node2"), /10\.0\.0\.200/);
        assert.equal(cloud.holderOf(VIP), "node1", "monitor never moves the VIP");
      },
    );

    await t.test("start retries a cloud outage within its timeout instead of failing at once", async () => {
      assert.equal((await runAgent(bed, "node1", agent, "stop")).code, 0);
      // The outage lasts until the start has met it (a fixed outage may end before a CLI on a loaded host
      // makes its first Core call), and 5 s more: longer than one `floatip oci move` retries by itself.
      await cloud.faults({ outageMs: 60_000 });
      const since = Date.now();
      const starting = runAgent(bed, "node2", agent, "start", undefined, { timeoutMs: 40_000 });
      try {
        await waitUntil(
          "the start to meet the outage",
          30_000,
          async () => {
            const { requestLog } = (await cloud.state()) as {
              requestLog: { status: number; path: string; time: number }[];
            };
            return requestLog.some(
              (r) => r.status === 503 && r.path.startsWith("/20160918/") && r.time >= since,
            );
          },
          100,
        );
        await new Promise((resolve) => setTimeout(resolve, 5_000));
      } finally {
        await cloud.faults({ outageMs: null });
      }
      const started = await starting;
      assert.equal(started.code, 0, started.stderr);
      assert.match(started.stderr, /cloud move of 10\.0\.0\.200 failed, retrying/);
      assert.equal(cloud.holderOf(VIP), "node2");
      // And back to node1 for the next steps.
      assert.equal((await runAgent(bed, "node2", agent, "stop")).code, 0);
      assert.equal((await runAgent(bed, "node1", agent, "start")).code, 0);
      assert.equal(cloud.holderOf(VIP), "node1");
    });

    await t.test(
      "a start that outlasts a cloud outage fails (1) without touching the local address",
      async () => {
        assert.equal((await runAgent(bed, "node2", agent, "stop")).code, 0);
        await cloud.faults({ outageMs: 60_000 });
        try {
          const started = await runAgent(bed, "node2", agent, "start", undefined, { timeoutMs: 10_000 });
          assert.equal(started.code, 1, started.stderr);
          assert.match(started.stderr, /did not succeed before the start timeout/);
          assert.ok(started.ms < 10_000, `answered within the operation timeout (${started.ms} ms)`);
          assert.doesNotMatch(await localAddresses(bed, "node2"), /10\.0\.0\.200/);
        } finally {
          await cloud.faults({ outageMs: null });
        }
        assert.equal(cloud.holderOf(VIP), "node1");
      },
    );

    await t.test("monitor says not running (7) when the local address is gone", async () => {
      await bed.execIn(bed.nodeNs("node1"), "ip", ["addr", "del", `${VIP}/24`, "dev", "eth0"]);
      assert.equal((await runAgent(bed, "node1", agent, "monitor")).code, 7);
      assert.equal((await runAgent(bed, "node1", agent, "start")).code, 0, "a restart brings it back");
    });

    await t.test("stop removes the local address but never deletes the private IP", async () => {
      const stopped = await runAgent(bed, "node1", agent, "stop");
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.doesNotMatch(await localAddresses(bed, "node1"), /10\.0\.0\.200/);
      const pips = await privateIpsOf(cloud, VIP);
      assert.equal(pips.length, 1, "the private IP still exists");
      assert.ok(pips[0]?.vnicId, "and is still assigned to a VNIC");
      assert.equal(cloud.holderOf(VIP), "node1");
      // Stopping also works during an outage: it never needs the cloud.
      await cloud.faults({ outageMs: 30_000 });
      try {
        assert.equal((await runAgent(bed, "node1", agent, "stop")).code, 0);
      } finally {
        await cloud.faults({ outageMs: null });
      }
    });
  },
);
