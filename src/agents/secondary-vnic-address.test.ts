import assert from "node:assert/strict";
import { test } from "node:test";
import type { LocalInstance } from "../cloud/oci/discovery.ts";
import type { AgentContext, AgentResult, ResourceAgent } from "./agent.ts";
import type { CommandOutcome } from "./command-runner.ts";
import { SecondaryVnicAddress } from "./secondary-vnic-address.ts";
import { RULE_PRIORITY, TABLE_BASE, VnicSourceRouting } from "./vnic-source-routing.ts";

/** The parts of the kernel `ip` shows and changes here: links, policy rules, routing tables. */
class FakeIp {
  readonly commands: string[] = [];
  links = [
    { ifindex: 2, ifname: "eth0", address: "02:00:17:00:00:01", flags: ["BROADCAST", "UP", "LOWER_UP"] },
    { ifindex: 3, ifname: "eth1", address: "02:00:17:00:00:02", flags: ["BROADCAST"] },
  ];
  rules: { priority: number; src?: string; srclen?: number; table: string }[] = [
    { priority: 0, table: "local" },
    { priority: 32766, table: "main" },
  ];
  tables = new Map<string, string[]>();

  run = (cmd: string, args: string[]): Promise<CommandOutcome> => {
    const line = args.join(" ");
    this.commands.push(`${cmd} ${line}`);
    const ok = (stdout = ""): Promise<CommandOutcome> => Promise.resolve({ code: 0, stdout, stderr: "" });
    let m: RegExpExecArray | null;
    if (line === "-j link show") return ok(JSON.stringify(this.links));
    if (line === "-j rule show") return ok(JSON.stringify(this.rules));
    if ((m = /^link set dev (\S+) up$/.exec(line))) {
      const link = this.links.find((l) => l.ifname === m![1]);
      if (link && !link.flags.includes("UP")) link.flags.push("UP");
      return ok();
    }
    if ((m = /^route replace (.+) table (\d+)$/.exec(line))) {
      const routes = (this.tables.get(m[2]!) ?? []).filter((r) => r.split(" ")[0] !== m![1]!.split(" ")[0]);
      this.tables.set(m[2]!, [...routes, m[1]!]);
      return ok();
    }
    if ((m = /^-j route show table (\d+)$/.exec(line))) {
      const routes = (this.tables.get(m[1]!) ?? []).map((r) => {
        const [dst, ...rest] = r.split(" ");
        const gateway = /via (\S+)/.exec(rest.join(" "))?.[1];
        const dev = /dev (\S+)/.exec(rest.join(" "))?.[1];
        return { dst, ...(gateway ? { gateway } : {}), dev };
      });
      return ok(JSON.stringify(routes));
    }
    if ((m = /^route flush table (\d+)$/.exec(line))) {
      this.tables.delete(m[1]!);
      return ok();
    }
    if ((m = /^rule add from (\S+)\/32 lookup (\d+) priority (\d+)$/.exec(line))) {
      this.rules.push({ priority: Number(m[3]), src: m[1]!, srclen: 32, table: m[2]! });
      this.rules.sort((a, b) => a.priority - b.priority);
      return ok();
    }
    if ((m = /^rule del from (\S+)\/32 lookup (\d+) priority (\d+)$/.exec(line))) {
      const before = this.rules.length;
      this.rules = this.rules.filter(
        (r) => !(r.src === m![1] && r.table === m![2] && r.priority === Number(m![3])),
      );
      return before === this.rules.length
        ? Promise.resolve({ code: 2, stdout: "", stderr: "RTNETLINK answers: No such file or directory" })
        : ok();
    }
    return Promise.resolve({ code: 1, stdout: "", stderr: `fake ip: no support for ${line}` });
  };
}

class RecordingAgent implements ResourceAgent {
  readonly calls: { action: string; params: Readonly<Record<string, string>> }[] = [];
  answer: AgentResult = { state: "running", message: "10.0.2.200/24 on eth1" };
  constructor(private readonly log: string[]) {}
  private record(action: string, ctx: AgentContext): Promise<AgentResult> {
    this.calls.push({ action, params: ctx.params });
    this.log.push(`address ${action}`);
    return Promise.resolve(action === "stop" ? { state: "stopped", message: "removed" } : this.answer);
  }
  start = (ctx: AgentContext) => this.record("start", ctx);
  stop = (ctx: AgentContext) => this.record("stop", ctx);
  monitor = (ctx: AgentContext) => this.record("monitor", ctx);
  probe = (ctx: AgentContext) => this.record("probe", ctx);
  validate = () => [];
}

const instance: LocalInstance = {
  instanceId: "ocid1.instance.oc1..node1",
  displayName: "node1",
  region: "us-ashburn-1",
  availabilityDomain: "AD-1",
  compartmentId: "ocid1.compartment.oc1..c",
  vnics: [
    {
      vnicId: "ocid1.vnic.oc1..primary",
      subnetId: "ocid1.subnet.oc1..a",
      subnetCidr: "10.0.0.0/24",
      primaryPrivateIp: "10.0.0.11",
      macAddr: "02:00:17:00:00:01",
      virtualRouterIp: "10.0.0.1",
      nicIndex: 0,
      compartmentId: "ocid1.compartment.oc1..c",
    },
    {
      vnicId: "ocid1.vnic.oc1..second",
      subnetId: "ocid1.subnet.oc1..b",
      subnetCidr: "10.0.2.0/24",
      primaryPrivateIp: "10.0.2.11",
      macAddr: "02:00:17:00:00:02",
      virtualRouterIp: "10.0.2.1",
      nicIndex: 0,
      compartmentId: "ocid1.compartment.oc1..c",
    },
  ],
};

function setup(discover: () => Promise<LocalInstance> = () => Promise.resolve(instance)) {
  const ip = new FakeIp();
  const inner = new RecordingAgent(ip.commands);
  const agent = new SecondaryVnicAddress({
    inner,
    localInstance: discover,
    routing: new VnicSourceRouting(ip.run),
  });
  const ctx = (params: Record<string, string>): AgentContext => ({
    resourceId: "vip",
    params,
    signal: new AbortController().signal,
  });
  return { ip, inner, agent, ctx };
}

const table = String(TABLE_BASE + 3);

void test("a VIP of the primary VNIC goes to the address agent unchanged, with no routing commands", async () => {
  const { ip, inner, agent, ctx } = setup();
  assert.equal((await agent.start(ctx({ ip: "10.0.0.200", cidr_netmask: "24" }))).state, "running");
  assert.deepEqual(inner.calls, [{ action: "start", params: { ip: "10.0.0.200", cidr_netmask: "24" } }]);
  assert.deepEqual(ip.commands, ["address start"]);
});

void test("a VIP of a secondary VNIC goes on the interface with its MAC, brought up, with a source rule and table", async () => {
  const { ip, inner, agent, ctx } = setup();
  const result = await agent.start(ctx({ ip: "10.0.2.200" }));
  assert.equal(result.state, "running");
  assert.match(
    result.message ?? "",
    /secondary VNIC ocid1\.vnic\.oc1\.\.second; replies via 10\.0\.2\.1 dev eth1, table 21003/,
  );
  assert.ok(ip.links[1]?.flags.includes("UP"), "the freshly attached interface is brought up");
  assert.deepEqual(ip.tables.get(table), ["10.0.2.0/24 dev eth1", "default via 10.0.2.1 dev eth1"]);
  assert.deepEqual(
    ip.rules.filter((r) => r.src === "10.0.2.200"),
    [{ priority: RULE_PRIORITY, src: "10.0.2.200", srclen: 32, table }],
  );
  assert.deepEqual(inner.calls, [
    { action: "start", params: { ip: "10.0.2.200", nic: "eth1", cidr_netmask: "24" } },
  ]);
  const ruleAt = ip.commands.findIndex((c) => c.startsWith("ip rule add"));
  assert.ok(
    ruleAt >= 0 && ruleAt < ip.commands.indexOf("address start"),
    "the rule is there before the address",
  );
  await agent.start(ctx({ ip: "10.0.2.200" }));
  assert.equal(
    ip.rules.filter((r) => r.src === "10.0.2.200").length,
    1,
    "a second start adds no second rule",
  );
});

void test("the operator's cidr_netmask is kept; a nic= that is not the VNIC's interface is refused with the right one", async () => {
  const { inner, agent, ctx } = setup();
  await agent.start(ctx({ ip: "10.0.2.200", cidr_netmask: "25" }));
  assert.equal(inner.calls[0]?.params["cidr_netmask"], "25");
  const wrong = await agent.start(ctx({ ip: "10.0.2.200", nic: "eth0" }));
  assert.equal(wrong.state, "failed");
  assert.match(
    wrong.message ?? "",
    /FLOATIP_E_NO_INTERFACE: nic=eth0, but 10\.0\.2\.200 belongs to VNIC .* which is eth1 .*set nic=eth1/,
  );
});

void test("a secondary VNIC whose interface is missing fails the start with what to check", async () => {
  const { ip, agent, ctx } = setup();
  ip.links = ip.links.slice(0, 1);
  const result = await agent.start(ctx({ ip: "10.0.2.200" }));
  assert.equal(result.state, "failed");
  assert.match(
    result.message ?? "",
    /FLOATIP_E_NO_INTERFACE: no interface has MAC 02:00:17:00:00:02; is the VNIC attached/,
  );
});

void test("stop removes the address, then the rule, and the table once no other VIP uses it", async () => {
  const { ip, agent, ctx, inner } = setup();
  await agent.start(ctx({ ip: "10.0.2.200" }));
  await agent.start(ctx({ ip: "10.0.2.201" }));
  const first = await agent.stop(ctx({ ip: "10.0.2.200" }));
  assert.equal(first.state, "stopped");
  assert.match(first.message ?? "", /removed its source routing/);
  assert.deepEqual(
    ip.rules.filter((r) => r.src === "10.0.2.200"),
    [],
  );
  assert.ok(ip.tables.has(table), "10.0.2.201 still uses the table");
  await agent.stop(ctx({ ip: "10.0.2.201" }));
  assert.equal(ip.tables.has(table), false, "the last one's stop empties it");
  assert.deepEqual(
    inner.calls.filter((c) => c.action === "stop").map((c) => c.params["ip"]),
    ["10.0.2.200", "10.0.2.201"],
  );
});

void test("stop needs no metadata: the rules are found on the host", async () => {
  let metadataUp = true;
  const { ip, agent, ctx } = setup(() =>
    metadataUp ? Promise.resolve(instance) : Promise.reject(new Error("metadata unreachable")),
  );
  await agent.start(ctx({ ip: "10.0.2.200" }));
  metadataUp = false;
  assert.equal((await agent.stop(ctx({ ip: "10.0.2.200" }))).state, "stopped");
  assert.deepEqual(
    ip.rules.filter((r) => r.src === "10.0.2.200"),
    [],
  );
});

void test("monitor restores a flushed rule or table; without metadata it reports unknown, not a failure", async () => {
  let metadataUp = true;
  const { ip, agent, ctx } = setup(() =>
    metadataUp ? Promise.resolve(instance) : Promise.reject(new Error("metadata unreachable")),
  );
  await agent.start(ctx({ ip: "10.0.2.200" }));
  assert.equal((await agent.monitor(ctx({ ip: "10.0.2.200" }))).message, "10.0.2.200/24 on eth1");
  ip.rules = ip.rules.filter((r) => r.src !== "10.0.2.200");
  ip.tables.clear();
  const healed = await agent.monitor(ctx({ ip: "10.0.2.200" }));
  assert.equal(healed.state, "running");
  assert.match(healed.message ?? "", /source routing was missing and is restored/);
  assert.equal(ip.rules.filter((r) => r.src === "10.0.2.200").length, 1);
  assert.deepEqual(ip.tables.get(table), ["10.0.2.0/24 dev eth1", "default via 10.0.2.1 dev eth1"]);
  metadataUp = false;
  assert.equal((await agent.monitor(ctx({ ip: "10.0.2.200" }))).state, "unknown");
});

void test("a probe that finds the VIP not served here removes a rule a crash left behind", async () => {
  const { ip, agent, ctx, inner } = setup();
  await agent.start(ctx({ ip: "10.0.2.200" }));
  inner.answer = { state: "stopped", message: "10.0.2.200 is not configured" };
  assert.equal((await agent.probe(ctx({ ip: "10.0.2.200" }))).state, "stopped");
  assert.deepEqual(
    ip.rules.filter((r) => r.src === "10.0.2.200"),
    [],
  );
});
