import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../clock/system-clock.ts";
import { ManualClock } from "../clock/manual-clock.ts";
import { FenceAgentDevice } from "./agent-device.ts";
import { availableFenceTypes, buildFenceDevice, stonithDeviceProblems } from "./device-registry.ts";
import { ExecFenceDevice } from "./exec-device.ts";
import { fenceNode, type FenceRequestOptions } from "./fencer.ts";
import { parseHostMap, restrictedTargets } from "./host-map.ts";
import type { DeviceOutcome, FenceDevice } from "./types.ts";

const dir = mkdtempSync(join(tmpdir(), "floatip-fencing-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const options = (overrides: Partial<FenceRequestOptions> = {}): FenceRequestOptions => ({
  clock: systemClock,
  wallNow: () => Date.now(),
  timeoutMs: 5000,
  attemptsPerDevice: 2,
  retryDelayMs: 10,
  ...overrides,
});

void test("pcmk_host_map accepts ; , and spaces between entries and : or = inside them", () => {
  assert.deepEqual(
    [...parseHostMap("node1:ocid1.instance.a;node2=ocid1.instance.b, node3:vm:3").entries()],
    [
      ["node1", "ocid1.instance.a"],
      ["node2", "ocid1.instance.b"],
      ["node3", "vm:3"],
    ],
  );
  assert.throws(() => parseHostMap("node1"), /pcmk_host_map entry 'node1' is not node:plug/);
  assert.deepEqual([...(restrictedTargets({ pcmk_host_list: "a,b", pcmk_host_map: "c:1" }) ?? [])].sort(), [
    "a",
    "b",
    "c",
  ]);
  assert.equal(restrictedTargets({}), null);
});

void test("fence_exec runs the command with node and action and reads its exit status", async () => {
  const log = join(dir, "exec.log");
  const command = script("fence-ok", `echo "$1 $2 $FLOATIP_FENCE_NODE" >> ${log}; echo "fenced $1"`);
  const devices = [
    buildFenceDevice(
      { id: "F", type: "fence_exec", params: { command }, meta: {}, ops: [] },
      { clock: systemClock, instanceIdOf: () => undefined },
    ),
  ];
  const result = await fenceNode(devices, "node1", "off", options());
  assert.equal(result.ok, true);
  assert.equal(result.device, "F");
  assert.equal(result.power, "off");
  assert.match(result.message, /off succeeded: fenced node1/);
  assert.equal(readFileSync(log, "utf8"), "node1 off node1\n");
  assert.equal(result.attempts.length, 1);
});

void test("a failing device is retried, then the next device that can fence the node is used", async () => {
  const failing = script("fence-fail", `echo "no power switch" >&2; exit 1`);
  const working = script("fence-works", `exit 0`);
  const devices = [
    buildFenceDevice(
      { id: "Bad", type: "fence_exec", params: { command: failing }, meta: {}, ops: [] },
      { clock: systemClock, instanceIdOf: () => undefined },
    ),
    buildFenceDevice(
      {
        id: "OnlyNode2",
        type: "fence_exec",
        params: { command: working, pcmk_host_list: "node2" },
        meta: {},
        ops: [],
      },
      { clock: systemClock, instanceIdOf: () => undefined },
    ),
    buildFenceDevice(
      { id: "Good", type: "fence_exec", params: { command: working }, meta: {}, ops: [] },
      { clock: systemClock, instanceIdOf: () => undefined },
    ),
  ];
  const result = await fenceNode(devices, "node1", "reboot", options());
  assert.equal(result.ok, true);
  assert.equal(result.device, "Good");
  assert.deepEqual(
    result.attempts.map((a) => [a.device, a.attempt, a.ok]),
    [
      ["Bad", 1, false],
      ["Bad", 2, false],
      ["Good", 1, true],
    ],
  );
  assert.match(result.attempts[0]?.message ?? "", /exited 1: no power switch/);
});

void test("a device that hangs is killed at stonith-timeout and the fence fails with a clear record", async () => {
  const hang = script("fence-hang", `sleep 30`);
  const devices = [
    buildFenceDevice(
      { id: "Slow", type: "fence_exec", params: { command: hang }, meta: {}, ops: [] },
      { clock: systemClock, instanceIdOf: () => undefined },
    ),
  ];
  const started = Date.now();
  const result = await fenceNode(devices, "node1", "off", options({ timeoutMs: 300, attemptsPerDevice: 1 }));
  assert.ok(Date.now() - started < 5000, "the hung agent was killed");
  assert.equal(result.ok, false);
  assert.match(result.attempts[0]?.message ?? "", /timed out after 300 ms|did not finish within 300 ms/);
  assert.match(result.message, /all 1 attempt\(s\) failed/);
});

void test("no capable device: the result says so and nothing runs", async () => {
  const working = script("fence-never", `touch ${join(dir, "ran")}`);
  const devices = [
    buildFenceDevice(
      {
        id: "N2",
        type: "fence_exec",
        params: { command: working, pcmk_host_list: "node2" },
        meta: {},
        ops: [],
      },
      { clock: systemClock, instanceIdOf: () => undefined },
    ),
  ];
  const result = await fenceNode(devices, "node1", "off", options());
  assert.equal(result.ok, false);
  assert.match(result.message, /no fence device can fence node1/);
  assert.equal(existsSync(join(dir, "ran")), false);
});

void test("fence_exec status maps exit 0 to on and 2 to off", async () => {
  const on = new ExecFenceDevice("S", { command: script("status-on", "exit 0") });
  const off = new ExecFenceDevice("S", { command: script("status-off", "exit 2") });
  const signal = new AbortController().signal;
  assert.equal((await on.run("n", "status", { timeoutMs: 5000, signal })).power, "on");
  assert.equal((await off.run("n", "status", { timeoutMs: 5000, signal })).power, "off");
});

void test("pcmk_delay_base delays the first attempt (on the injected clock)", async () => {
  const clock = new ManualClock();
  let ran = false;
  const device: FenceDevice = {
    id: "D",
    type: "fence_test",
    canFence: () => true,
    run: (): Promise<DeviceOutcome> => {
      ran = true;
      return Promise.resolve({ ok: true, message: "done" });
    },
  };
  const pending = fenceNode([{ device, delayMs: 2000 }], "node1", "off", options({ clock }));
  await new Promise((r) => setImmediate(r));
  clock.advance(1999);
  await new Promise((r) => setImmediate(r));
  assert.equal(ran, false);
  clock.advance(1);
  assert.equal((await pending).ok, true);
  assert.equal(ran, true);
});

const fenceDummy = "/usr/sbin/fence_dummy";

void test(
  "a real fence-agents agent (fence_dummy) gets its options on stdin",
  { skip: !existsSync(fenceDummy) },
  async () => {
    const statusFile = join(dir, "dummy.status");
    const device = new FenceAgentDevice("Dummy", "fence_dummy", {
      status_file: statusFile,
      pcmk_host_list: "node1",
    });
    assert.equal(device.canFence("node1"), true);
    assert.equal(device.canFence("node2"), false);
    const run = (action: "on" | "off" | "status") =>
      fenceNode([{ device, delayMs: 0 }], "node1", action, options({ timeoutMs: 20_000 }));
    const on = await run("on");
    assert.equal(on.ok, true, on.message);
    assert.equal(readFileSync(statusFile, "utf8").trim(), "on");
    assert.equal((await run("status")).power, "on");
    const off = await run("off");
    assert.equal(off.ok, true, off.message);
    assert.equal(readFileSync(statusFile, "utf8").trim(), "off");
    assert.equal((await run("status")).power, "off");
  },
);

void test("device definitions are checked: unknown agents, relative commands, bad host maps", () => {
  assert.deepEqual(stonithDeviceProblems("fence_oci", {}), []);
  assert.match(
    stonithDeviceProblems("fence_exec", { command: "fence.sh" }).join(),
    /must be an absolute path/,
  );
  assert.match(stonithDeviceProblems("fence_exec", {}).join(), /needs command=/);
  assert.match(stonithDeviceProblems("fence_nosuch", {}).join(), /Agent 'fence_nosuch' is not installed/);
  assert.match(stonithDeviceProblems("fence_oci", { pcmk_host_map: "node1" }).join(), /is not node:plug/);
  const types = availableFenceTypes().map((t) => t.type);
  assert.deepEqual(types.slice(0, 2), ["fence_oci", "fence_exec"]);
  if (existsSync(fenceDummy)) {
    assert.ok(types.includes("fence_dummy"));
    assert.equal(
      availableFenceTypes().find((t) => t.type === "fence_dummy")?.description,
      "Dummy fence agent",
    );
  }
});

void test("pcmk_delay_base per target and pcmk_delay_max set the wait before a device is used", async () => {
  const built = buildFenceDevice(
    {
      id: "F",
      type: "fence_exec",
      params: { command: "/bin/true", pcmk_delay_base: "node1:0s;node2:5s", pcmk_delay_max: "2s" },
      meta: {},
      ops: [],
    },
    { clock: systemClock, instanceIdOf: () => undefined },
  );
  assert.equal(built.delayByNode?.get("node2"), 5000);
  assert.equal(built.delayMaxMs, 2000);
  const clock = new ManualClock();
  let ran = 0;
  const device: FenceDevice = {
    id: "D",
    type: "fence_test",
    canFence: () => true,
    run: () => {
      ran++;
      return Promise.resolve({ ok: true, message: "done" });
    },
  };
  const configured = { device, delayMs: 0, delayByNode: built.delayByNode, delayMaxMs: 2000 };
  const pending = fenceNode([configured], "node2", "off", options({ clock, random: () => 0.5 }));
  await new Promise((r) => setImmediate(r));
  clock.advance(5999);
  await new Promise((r) => setImmediate(r));
  assert.equal(ran, 0, "5 s base for node2 plus 1 s of the 2 s random delay");
  clock.advance(1);
  await pending;
  assert.equal(ran, 1);
  assert.match(
    stonithDeviceProblems("fence_oci", { pcmk_delay_base: "node1:soon" }).join(),
    /not a duration/,
  );
  assert.deepEqual(stonithDeviceProblems("fence_oci", { pcmk_delay_base: "node1:0s;node2:5s" }), []);
});
