import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";

/**
 * systemd/floatip.service, read as systemd reads it (sections, keys, repeated keys add up), checked for
 * what the daemon needs to work and the hardening it must keep. No systemd runs here.
 */

const root = resolve(import.meta.dirname, "..");
type Unit = Map<string, Map<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = unit.get(header[1] ?? "") ?? new Map<string, string[]>();
      unit.set(header[1] ?? "", section);
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(section, `key outside a section: ${line}`);
    assert.ok(eq > 0, `not a key=value line: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

const unit = parseUnit(readFileSync(resolve(root, "systemd/floatip.service"), "utf8"));
const service = unit.get("Service") ?? new Map<string, string[]>();
const one = (key: string) => {
  const values = service.get(key) ?? [];
  assert.equal(values.length, 1, `[Service] ${key} is set exactly once`);
  return values[0] ?? "";
};
const words = (key: string) => (service.get(key) ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);

void test("the unit has the three sections and starts after the network is up", () => {
  assert.deepEqual([...unit.keys()], ["Unit", "Service", "Install"]);
  assert.match(unit.get("Unit")?.get("After")?.join(" ") ?? "", /network-online\.target/);
  assert.deepEqual(unit.get("Install")?.get("WantedBy"), ["multi-user.target"]);
});

void test("the daemon runs in the foreground and is restarted after a failure", () => {
  assert.equal(one("Type"), "simple");
  assert.equal(one("ExecStart"), "/usr/bin/env floatip daemon");
  assert.equal(one("Restart"), "on-failure");
  assert.equal(one("RestartSec"), "2s");
  assert.equal(one("KillMode"), "mixed");
});

void test("state and runtime directories are the daemon's defaults, private, and the only writable paths", () => {
  assert.equal(one("StateDirectory"), "floatip");
  assert.equal(one("RuntimeDirectory"), "floatip");
  assert.equal(one("StateDirectoryMode"), "0700");
  assert.equal(one("RuntimeDirectoryMode"), "0700");
  assert.equal(one("ProtectSystem"), "strict");
  assert.deepEqual(words("ReadWritePaths").sort(), ["/run/floatip", "/var/lib/floatip"]);
  const env = words("Environment");
  assert.ok(env.includes("FLOATIP_STATE_DIR=/var/lib/floatip"));
  assert.ok(env.includes("FLOATIP_SOCKET=/run/floatip/floatip.sock"));
  // The CLI finds the daemon at its default socket, inside the runtime directory.
  const cli = readFileSync(resolve(root, "src/cli/main.ts"), "utf8");
  assert.match(cli, /DEFAULT_SOCKET = "\/run\/floatip\/floatip\.sock"/);
  assert.match(cli, /"\/var\/lib\/floatip"/);
});

void test("the capabilities are exactly those for addresses, ARP and the daemon's priority", () => {
  const needed = ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_NICE"];
  assert.deepEqual(words("CapabilityBoundingSet").sort(), needed);
  assert.deepEqual(words("AmbientCapabilities").sort(), needed);
  assert.equal(one("NoNewPrivileges"), "yes");
});

void test("the address families allow heartbeats, the socket, netlink and arping, and nothing else", () => {
  assert.deepEqual(words("RestrictAddressFamilies").sort(), [
    "AF_INET",
    "AF_INET6",
    "AF_NETLINK",
    "AF_PACKET",
    "AF_UNIX",
  ]);
});

void test("the sandbox options are on, and none that would break Node", () => {
  for (const key of [
    "ProtectHome",
    "PrivateTmp",
    "PrivateDevices",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ProtectClock",
    "ProtectHostname",
    "RestrictNamespaces",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "LockPersonality",
  ]) {
    assert.equal(one(key), "yes", key);
  }
  assert.equal(one("SystemCallFilter"), "@system-service");
  assert.equal(one("SystemCallErrorNumber"), "EPERM");
  assert.equal(service.get("MemoryDenyWriteExecute"), undefined, "Node's JIT needs W+X memory");
  assert.equal(service.get("User"), undefined, "runs as root, bounded by the capability set");
});

void test("the package ships the unit", () => {
  const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as { files: string[] };
  assert.ok(pkg.files.includes("systemd"));
});

const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((p) => existsSync(p));

void test(
  "systemd-analyze verify finds no unknown key or bad value in the unit",
  { skip: analyze ? false : "systemd-analyze is not installed" },
  () => {
    // verify exits 0 for many problems and only prints them, so any output is a failure.
    const run = spawnSync(analyze ?? "", ["verify", resolve(root, "systemd/floatip.service")], {
      encoding: "utf8",
    });
    assert.equal(`${run.stdout}${run.stderr}`, "");
    assert.equal(run.status, 0);
  },
);
