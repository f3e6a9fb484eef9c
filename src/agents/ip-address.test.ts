import { test } from "node:test";
import assert from "node:assert/strict";
import type { AgentContext } from "./agent.ts";
import { CommandError, type runCommand } from "./command-runner.ts";
import { IpAddressAgent, parseInterfaces } from "./ip-address.ts";

interface FakeLink {
  name: string;
  up: boolean;
  addrs: { local: string; prefixlen: number }[];
}

/** An in-memory `ip` and `arping` that record every call, with hooks to make a command fail. */
class FakeHost {
  readonly calls: string[] = [];
  readonly arpings: number[] = [];
  failAdd: string | undefined;
  failShow: "timeout" | undefined;
  private readonly started = Date.now();

  constructor(readonly links: FakeLink[]) {}

  run: typeof runCommand = async (cmd, args) => {
    this.calls.push([cmd, ...args].join(" "));
    if (cmd === "arping") {
      this.arpings.push(Date.now() - this.started);
      return { code: 0, stdout: "", stderr: "" };
    }
    const [a, b, c, d, e] = args;
    if (a === "-j" && b === "addr" && c === "show") {
      if (this.failShow === "timeout")
        throw new CommandError("FLOATIP_E_COMMAND_TIMEOUT", "ip -j addr show timed out");
      return { code: 0, stdout: JSON.stringify(this.links.map(toJson)), stderr: "" };
    }
    if (a === "addr" && (b === "add" || b === "del") && c !== undefined && d === "dev" && e !== undefined) {
      const [local = "", prefix = ""] = c.split("/");
      const link = this.links.find((l) => l.name === e);
      if (link === undefined) return { code: 1, stdout: "", stderr: `Cannot find device "${e}"` };
      if (b === "add") {
        if (this.failAdd !== undefined) return { code: 2, stdout: "", stderr: this.failAdd };
        link.addrs.push({ local, prefixlen: Number(prefix) });
      } else {
        link.addrs = link.addrs.filter((x) => !(x.local === local && x.prefixlen === Number(prefix)));
      }
      return { code: 0, stdout: "", stderr: "" };
    }
    return { code: 1, stdout: "", stderr: `fake ip does not know: ${args.join(" ")}` };
  };
}

function toJson(link: FakeLink): object {
  return {
    ifname: link.name,
    flags: link.up ? ["BROADCAST", "UP", "LOWER_UP"] : ["NO-CARRIER", "BROADCAST", "UP"],
    operstate: link.up ? "UP" : "LOWERLAYERDOWN",
    addr_info: [
      ...link.addrs.map((a) => ({ family: "inet", local: a.local, prefixlen: a.prefixlen })),
      { family: "inet6", local: "fe80::1", prefixlen: 64 },
    ],
  };
}

function host(): FakeHost {
  return new FakeHost([
    { name: "lo", up: true, addrs: [{ local: "127.0.0.1", prefixlen: 8 }] },
    { name: "eth0", up: true, addrs: [{ local: "10.0.0.11", prefixlen: 24 }] },
    { name: "eth1", up: true, addrs: [{ local: "10.0.8.11", prefixlen: 22 }] },
  ]);
}

function ctx(params: Record<string, string>): AgentContext {
  return { resourceId: "vip", params, signal: new AbortController().signal };
}

void test("start puts the address on the interface whose subnet contains it, with that subnet's prefix", async () => {
  const fake = host();
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  const result = await agent.start(ctx({ ip: "10.0.9.200" }));
  assert.equal(result.state, "running");
  assert.ok(fake.calls.includes("ip addr add 10.0.9.200/22 dev eth1"), fake.calls.join("\n"));
});

void test("start honours nic and cidr_netmask, including a dotted netmask", async () => {
  const fake = host();
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  const result = await agent.start(ctx({ ip: "10.0.0.100", nic: "eth0", cidr_netmask: "255.255.255.255" }));
  assert.equal(result.state, "running");
  assert.ok(fake.calls.includes("ip addr add 10.0.0.100/32 dev eth0"));
});

void test("start is idempotent: a second start adds nothing", async () => {
  const fake = host();
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  await agent.start(ctx({ ip: "10.0.0.100" }));
  const result = await agent.start(ctx({ ip: "10.0.0.100" }));
  assert.equal(result.state, "running");
  assert.equal(fake.calls.filter((c) => c.startsWith("ip addr add")).length, 1);
});

void test("start fails with FLOATIP_E_NO_INTERFACE when no subnet contains the address", async () => {
  const agent = new IpAddressAgent({ run: host().run, garp: false });
  const result = await agent.start(ctx({ ip: "192.168.5.5" }));
  assert.equal(result.state, "failed");
  assert.match(
    result.message ?? "",
    /^FLOATIP_E_NO_INTERFACE: no interface has a subnet containing 192\.168\.5\.5; set nic=/,
  );
});

void test("start fails with FLOATIP_E_NO_INTERFACE when nic names an interface that does not exist", async () => {
  const agent = new IpAddressAgent({ run: host().run, garp: false });
  const result = await agent.start(ctx({ ip: "10.0.0.100", nic: "eth7" }));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /FLOATIP_E_NO_INTERFACE: interface eth7 does not exist/);
});

void test("start asks for cidr_netmask when nic has no subnet containing the address", async () => {
  const agent = new IpAddressAgent({ run: host().run, garp: false });
  const result = await agent.start(ctx({ ip: "10.0.0.100", nic: "eth1" }));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /FLOATIP_E_NO_NETMASK: .*set cidr_netmask/);
});

void test("start fails with FLOATIP_E_IP_CONFLICT when the address is on another interface", async () => {
  const fake = host();
  fake.links[2]?.addrs.push({ local: "10.0.0.100", prefixlen: 32 });
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  const result = await agent.start(ctx({ ip: "10.0.0.100" }));
  assert.equal(result.state, "failed");
  assert.match(
    result.message ?? "",
    /^FLOATIP_E_IP_CONFLICT: 10\.0\.0\.100 is configured on eth1 as \/32 but belongs on eth0 as \/24/,
  );
  assert.equal(fake.calls.filter((c) => c.startsWith("ip addr add")).length, 0);
  const monitored = await agent.monitor(ctx({ ip: "10.0.0.100" }));
  assert.equal(monitored.state, "failed");
  assert.match(monitored.message ?? "", /FLOATIP_E_IP_CONFLICT/);
});

void test("monitor reports failed when the address has the wrong prefix on the right interface", async () => {
  const fake = host();
  fake.links[1]?.addrs.push({ local: "10.0.0.100", prefixlen: 32 });
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  const result = await agent.monitor(ctx({ ip: "10.0.0.100" }));
  assert.equal(result.state, "failed");
});

void test("start reports FLOATIP_E_COMMAND with ip's stderr when ip addr add fails", async () => {
  const fake = host();
  fake.failAdd = "RTNETLINK answers: Operation not permitted";
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  const result = await agent.start(ctx({ ip: "10.0.0.100" }));
  assert.equal(result.state, "failed");
  assert.equal(
    result.message,
    "FLOATIP_E_COMMAND: ip addr add 10.0.0.100/24 dev eth0 failed: RTNETLINK answers: Operation not permitted",
  );
});

void test("start reports FLOATIP_E_LINK_DOWN when the interface has no carrier", async () => {
  const fake = host();
  if (fake.links[1]) fake.links[1].up = false;
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  const result = await agent.start(ctx({ ip: "10.0.0.100" }));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /FLOATIP_E_LINK_DOWN/);
});

void test("monitor says stopped when absent, running when present, stopped when the link is down", async () => {
  const fake = host();
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  assert.equal((await agent.monitor(ctx({ ip: "10.0.0.100" }))).state, "stopped");
  fake.links[1]?.addrs.push({ local: "10.0.0.100", prefixlen: 24 });
  assert.equal((await agent.probe(ctx({ ip: "10.0.0.100" }))).state, "running");
  if (fake.links[1]) fake.links[1].up = false;
  const down = await agent.monitor(ctx({ ip: "10.0.0.100" }));
  assert.equal(down.state, "stopped");
  assert.match(down.message ?? "", /link is down/);
});

void test("monitor says unknown, not failed, when ip itself times out", async () => {
  const fake = host();
  fake.failShow = "timeout";
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  const result = await agent.monitor(ctx({ ip: "10.0.0.100" }));
  assert.equal(result.state, "unknown");
  assert.match(result.message ?? "", /FLOATIP_E_COMMAND_TIMEOUT/);
});

void test("stop removes the address wherever it is and is stopped when it was never there", async () => {
  const fake = host();
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  assert.equal((await agent.stop(ctx({ ip: "10.0.0.100" }))).state, "stopped");
  fake.links[2]?.addrs.push({ local: "10.0.0.100", prefixlen: 32 });
  assert.equal((await agent.stop(ctx({ ip: "10.0.0.100" }))).state, "stopped");
  assert.ok(fake.calls.includes("ip addr del 10.0.0.100/32 dev eth1"));
  assert.equal((await agent.monitor(ctx({ ip: "10.0.0.100" }))).state, "stopped");
});

void test("start sends the first gratuitous ARP before returning and the rest arp_interval apart", async () => {
  const fake = host();
  const agent = new IpAddressAgent({ run: fake.run });
  const result = await agent.start(ctx({ ip: "10.0.0.100", arp_count: "3", arp_interval: "50" }));
  assert.equal(result.state, "running");
  assert.equal(fake.arpings.length, 1, "the first GARP goes out during start");
  assert.ok(fake.calls.includes("arping -U -c 1 -I eth0 10.0.0.100"));
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(fake.arpings.length, 3);
  const [first = 0, , third = 0] = fake.arpings;
  assert.ok(third - first >= 95, `GARPs were not spaced: ${fake.arpings.join(",")}`);
  await agent.close();
});

void test("stop cancels the background gratuitous ARPs", async () => {
  const fake = host();
  const agent = new IpAddressAgent({ run: fake.run });
  await agent.start(ctx({ ip: "10.0.0.100", arp_count: "5", arp_interval: "100" }));
  await agent.stop(ctx({ ip: "10.0.0.100" }));
  const sent = fake.arpings.length;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(fake.arpings.length, sent);
  assert.ok(sent < 5);
});

void test("validate names each bad parameter and what to write instead", () => {
  const agent = new IpAddressAgent({ garp: false });
  assert.deepEqual(agent.validate({ ip: "10.0.0.100" }), []);
  assert.deepEqual(agent.validate({ ip: "10.0.0.100", cidr_netmask: "24", nic: "eth0.100" }), []);
  assert.match(agent.validate({}).join(), /ip is required/);
  assert.match(agent.validate({ ip: "10.0.0.256" }).join(), /not an IPv4 address/);
  assert.match(agent.validate({ ip: "fe80::1" }).join(), /not an IPv4 address/);
  assert.match(agent.validate({ ip: "10.0.0.1", cidr_netmask: "33" }).join(), /cidr_netmask=33/);
  assert.match(agent.validate({ ip: "10.0.0.1", cidr_netmask: "255.0.255.0" }).join(), /cidr_netmask/);
  assert.match(agent.validate({ ip: "10.0.0.1", nic: "a/b" }).join(), /nic=a\/b/);
  assert.match(agent.validate({ ip: "10.0.0.1", nic: "averyveryverylongname" }).join(), /nic=/);
  assert.match(agent.validate({ ip: "10.0.0.1", arp_count: "x" }).join(), /arp_count/);
  assert.equal(agent.validate({ ip: "x", cidr_netmask: "0", nic: "a b" }).length, 3);
});

void test("an invalid parameter makes start fail with FLOATIP_E_PARAM rather than run ip", async () => {
  const fake = host();
  const agent = new IpAddressAgent({ run: fake.run, garp: false });
  const result = await agent.start(ctx({ ip: "10.0.0" }));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /^FLOATIP_E_PARAM: ip=10\.0\.0 is not an IPv4 address/);
  assert.deepEqual(fake.calls, []);
});

void test("parseInterfaces treats admin-down and carrier-down links as not up", () => {
  const views = parseInterfaces(
    JSON.stringify([
      { ifname: "a", flags: ["UP", "LOWER_UP"], operstate: "UNKNOWN", addr_info: [] },
      { ifname: "b", flags: ["BROADCAST"], operstate: "DOWN", addr_info: [] },
      { ifname: "c", flags: ["NO-CARRIER", "UP"], operstate: "LOWERLAYERDOWN", addr_info: [] },
    ]),
  );
  assert.deepEqual(
    views.map((v) => [v.name, v.up]),
    [
      ["a", true],
      ["b", false],
      ["c", false],
    ],
  );
});

const showCalls = (fake: FakeHost): number => fake.calls.filter((c) => c === "ip -j addr show").length;

void test("monitors of many addresses share one interface read: 200 checks, 2 reads, each answer right", async () => {
  const fake = host();
  for (let i = 0; i < 100; i++) fake.links[1]?.addrs.push({ local: `10.0.0.${100 + i}`, prefixlen: 24 });
  // A clock that stands still: every check below comes within the spacing of the previous read.
  const agent = new IpAddressAgent({ run: fake.run, garp: false, checkReadSpacingMs: 50, now: () => 0 });
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => agent.monitor(ctx({ ip: `10.0.0.${100 + (i % 100)}` }))),
  );
  assert.deepEqual(new Set(results.map((r) => r.state)), new Set(["running"]));
  const absent = await Promise.all([
    agent.monitor(ctx({ ip: "10.0.0.250" })),
    agent.monitor(ctx({ ip: "10.0.0.251" })),
  ]);
  assert.deepEqual(
    absent.map((r) => r.state),
    ["stopped", "stopped"],
  );
  // The first monitor reads at once; the other 199 wait for one read; the last two for one more.
  assert.equal(showCalls(fake), 3, fake.calls.join("\n"));
  // Probes gate starts, so each reads at once on its own.
  await Promise.all([agent.probe(ctx({ ip: "10.0.0.100" })), agent.probe(ctx({ ip: "10.0.0.101" }))]);
  assert.equal(showCalls(fake), 5);
});

void test("a check never uses a read from before it asked: an address removed by hand is seen gone at once", async () => {
  const fake = host();
  const agent = new IpAddressAgent({ run: fake.run, garp: false, checkReadSpacingMs: 200 });
  await agent.start(ctx({ ip: "10.0.0.100" }));
  assert.equal((await agent.monitor(ctx({ ip: "10.0.0.100" }))).state, "running");
  if (fake.links[1]) fake.links[1].addrs = fake.links[1].addrs.filter((a) => a.local !== "10.0.0.100");
  const before = Date.now();
  const gone = await agent.monitor(ctx({ ip: "10.0.0.100" }));
  assert.equal(gone.state, "stopped", "the check right after the removal must read again");
  // It waited for the spacing instead of spawning a second read within it.
  assert.ok(Date.now() - before >= 150, `answered after ${Date.now() - before} ms`);
  if (fake.links[1]) fake.links[1].up = false;
  fake.links[1]?.addrs.push({ local: "10.0.0.100", prefixlen: 24 });
  assert.match((await agent.monitor(ctx({ ip: "10.0.0.100" }))).message ?? "", /link is down/);
});

void test("shared check reads are spaced by checkReadSpacingMs; 0 gives every check its own read", async () => {
  const fake = host();
  const times: number[] = [];
  const run: typeof fake.run = async (cmd, args, opts) => {
    if (args[0] === "-j") times.push(Date.now());
    return fake.run(cmd, args, opts);
  };
  const agent = new IpAddressAgent({ run, garp: false, checkReadSpacingMs: 100 });
  for (let i = 0; i < 4; i++) await agent.monitor(ctx({ ip: "10.0.0.100" }));
  assert.equal(times.length, 4);
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
    assert.ok(gap >= 95, `reads ${gap} ms apart`);
  }
  const unshared = host();
  const eager = new IpAddressAgent({ run: unshared.run, garp: false, checkReadSpacingMs: 0 });
  await Promise.all(Array.from({ length: 5 }, () => eager.monitor(ctx({ ip: "10.0.0.100" }))));
  assert.equal(showCalls(unshared), 5);
});

void test("a cancelled check leaves the shared read to the others; a failed read is not kept", async () => {
  const fake = host();
  fake.links[1]?.addrs.push({ local: "10.0.0.100", prefixlen: 24 });
  const agent = new IpAddressAgent({ run: fake.run, garp: false, checkReadSpacingMs: 100 });
  await agent.monitor(ctx({ ip: "10.0.0.100" }));
  const cancel = new AbortController();
  const cancelled = agent.monitor({ resourceId: "a", params: { ip: "10.0.0.100" }, signal: cancel.signal });
  const kept = agent.monitor(ctx({ ip: "10.0.0.100" }));
  cancel.abort();
  const [a, b] = await Promise.all([cancelled, kept]);
  assert.equal(a.state, "unknown");
  assert.match(a.message ?? "", /FLOATIP_E_COMMAND_ABORTED/);
  assert.equal(b.state, "running");
  fake.failShow = "timeout";
  const failed = await Promise.all([
    agent.monitor(ctx({ ip: "10.0.0.100" })),
    agent.monitor(ctx({ ip: "10.0.0.100" })),
  ]);
  assert.deepEqual(
    failed.map((r) => r.state),
    ["unknown", "unknown"],
  );
  fake.failShow = undefined;
  assert.equal((await agent.monitor(ctx({ ip: "10.0.0.100" }))).state, "running");
});
