import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import type { RunningEmulator } from "../../tools/oci-emulator/emulator.ts";
import type { InstanceActionEvent } from "../../tools/oci-emulator/cloud-state.ts";
import { systemClock } from "../clock/system-clock.ts";
import { createInstancePower, type InstancePower } from "../cloud/oci/instance-power.ts";
import {
  emulatedInstance,
  emulatedSettings,
  startTestEmulator,
} from "../cloud/oci/testing/emulated-cloud.ts";
import { silentLogger } from "../observability/logger.ts";
import { fenceNode } from "./fencer.ts";
import { OciFenceDevice } from "./oci-device.ts";

/** fence_oci against the loopback emulator through the real SDK. */

let emulator: RunningEmulator;
let power: (InstancePower & { close(): void }) | undefined;
let actions: InstanceActionEvent[] = [];

beforeEach(async () => {
  emulator = await startTestEmulator();
  actions = [];
  emulator.events.on("instanceAction", (e: InstanceActionEvent) => actions.push(e));
});

afterEach(async () => {
  power?.close();
  power = undefined;
  await emulator.close();
});

function device(params: Record<string, string> = {}, reported: Record<string, string> = {}): OciFenceDevice {
  power = createInstancePower(emulatedSettings(emulator, "node1"), {
    clock: systemClock,
    logger: silentLogger(),
    pollIntervalMs: 20,
  });
  const built = power;
  return new OciFenceDevice("OciFence", params, {
    power: () => built,
    instanceIdOf: (node) => reported[node],
    clock: systemClock,
  });
}

const run = (d: OciFenceDevice, node: string, action: "off" | "reboot" | "on" | "status") =>
  fenceNode([{ device: d, delayMs: 0 }], node, action, {
    clock: systemClock,
    wallNow: () => Date.now(),
    timeoutMs: 10_000,
    attemptsPerDevice: 1,
    retryDelayMs: 0,
  });

void test("off STOPs the instance the node reported, and a second off finds it already stopped", async () => {
  const node2 = emulatedInstance(emulator, "node2").id;
  const d = device({}, { node2 });
  assert.equal(d.canFence("node2"), true);
  assert.equal(d.canFence("node3"), false, "a node that reported no instance cannot be fenced");
  const result = await run(d, "node2", "off");
  assert.equal(result.ok, true, result.message);
  assert.equal(result.power, "off");
  assert.equal(emulatedInstance(emulator, "node2").lifecycleState, "STOPPED");
  assert.deepEqual(
    actions.map((a) => [a.instanceName, a.action]),
    [["node2", "STOP"]],
  );
  const again = await run(d, "node2", "off");
  assert.match(again.message, /already STOPPED/);
  assert.equal(actions.length, 1, "no second STOP");
  assert.equal((await run(d, "node2", "status")).power, "off");
});

void test("reboot RESETs a running instance and STARTs a stopped one; pcmk_host_map names the instance", async () => {
  const node2 = emulatedInstance(emulator, "node2").id;
  const d = device({ pcmk_host_map: `node2:${node2}` });
  assert.equal(d.canFence("node1"), false, "a host map restricts the device to its nodes");
  assert.equal((await run(d, "node2", "reboot")).ok, true);
  await run(d, "node2", "off");
  const result = await run(d, "node2", "reboot");
  assert.equal(result.ok, true, result.message);
  assert.equal(emulatedInstance(emulator, "node2").lifecycleState, "RUNNING");
  assert.deepEqual(
    actions.map((a) => a.action),
    ["RESET", "STOP", "START"],
  );
});

void test("without IAM permission for instances the fence fails with the policy hint and nothing stops", async () => {
  emulator.faults.setPermissions(["use private-ips", "use vnics", "read instances"]);
  const node2 = emulatedInstance(emulator, "node2").id;
  const result = await run(device({}, { node2 }), "node2", "off");
  assert.equal(result.ok, false);
  assert.match(result.message, /FLOATIP_E_OCI_NOT_AUTHORIZED.*use instances/);
  assert.equal(emulatedInstance(emulator, "node2").lifecycleState, "RUNNING");
});
