import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import type { RunningEmulator } from "../../../tools/oci-emulator/emulator.ts";
import type { InstanceActionEvent } from "../../../tools/oci-emulator/cloud-state.ts";
import { ManualClock } from "../../clock/manual-clock.ts";
import { systemClock } from "../../clock/system-clock.ts";
import { silentLogger } from "../../observability/logger.ts";
import { OciCloudError } from "./errors.ts";
import {
  createInstancePower,
  OciInstancePower,
  type InstancePower,
  type InstancePowerApi,
  type PowerAction,
} from "./instance-power.ts";
import type { InstanceInfo } from "./oci-api.ts";
import { emulatedInstance, emulatedSettings, startTestEmulator } from "./testing/emulated-cloud.ts";

/** Power control through the real SDK against the loopback emulator (signed requests, IAM, ETags). */

let emulator: RunningEmulator;
let actions: InstanceActionEvent[] = [];
const opened: (InstancePower & { close(): void })[] = [];

beforeEach(async () => {
  emulator = await startTestEmulator();
  actions = [];
  emulator.events.on("instanceAction", (event: InstanceActionEvent) => actions.push(event));
});

afterEach(async () => {
  for (const power of opened.splice(0)) power.close();
  await emulator.close();
});

function powerOf(instanceName: string): InstancePower {
  const power = createInstancePower(emulatedSettings(emulator, instanceName), {
    clock: systemClock,
    logger: silentLogger(),
    pollIntervalMs: 20,
  });
  opened.push(power);
  return power;
}

void test("node1 stops node2's instance with STOP and the emulator shows it STOPPED", async () => {
  const node2 = emulatedInstance(emulator, "node2");
  const power = powerOf("node1");
  assert.equal(await power.instanceState(node2.id), "RUNNING");
  assert.equal(await power.instanceAction(node2.id, "STOP"), "STOPPED");
  assert.equal(await power.waitForState(node2.id, ["STOPPED"], 2000), "STOPPED");
  assert.equal(emulatedInstance(emulator, "node2").lifecycleState, "STOPPED");
  assert.deepEqual(
    actions.map((a) => [a.instanceName, a.action, a.state]),
    [["node2", "STOP", "STOPPED"]],
  );
});

void test("RESET and START bring a stopped instance back to RUNNING", async () => {
  const node2 = emulatedInstance(emulator, "node2");
  const power = powerOf("node1");
  await power.instanceAction(node2.id, "STOP");
  await power.instanceAction(node2.id, "START");
  assert.equal(await power.waitForState(node2.id, ["RUNNING"], 2000), "RUNNING");
  await power.instanceAction(node2.id, "RESET");
  assert.equal(await power.instanceState(node2.id), "RUNNING");
  assert.deepEqual(
    actions.map((a) => a.action),
    ["STOP", "START", "RESET"],
  );
});

void test("lists the instances of the compartment with their states", async () => {
  const node1 = emulatedInstance(emulator, "node1");
  const power = powerOf("node1");
  await power.instanceAction(emulatedInstance(emulator, "node2").id, "STOP");
  const listed = await power.listInstances(node1.compartmentId);
  assert.deepEqual(listed.map((i) => [i.displayName, i.lifecycleState]).sort(), [
    ["node1", "RUNNING"],
    ["node2", "STOPPED"],
  ]);
  assert.equal(listed.find((i) => i.displayName === "node1")?.id, node1.id);
});

void test("without `use instances` the action fails with the IAM error and the instance keeps running", async () => {
  emulator.faults.setPermissions(["use private-ips", "use vnics", "use subnets", "inspect vnic-attachments"]);
  const node2 = emulatedInstance(emulator, "node2");
  const power = powerOf("node1");
  await assert.rejects(
    power.instanceAction(node2.id, "STOP"),
    (error: unknown) =>
      error instanceof OciCloudError &&
      error.code === "FLOATIP_E_OCI_NOT_AUTHORIZED" &&
      /use instances/.test(error.message),
  );
  assert.equal(emulatedInstance(emulator, "node2").lifecycleState, "RUNNING");
  assert.equal(actions.length, 0);
});

void test("refuses soft power actions, which can wait minutes for the guest", async () => {
  const power = powerOf("node1");
  await assert.rejects(
    power.instanceAction(emulatedInstance(emulator, "node2").id, "SOFTSTOP" as PowerAction),
    /FLOATIP_E_OCI_SETTINGS_INVALID: power action SOFTSTOP is not allowed/,
  );
  assert.equal(actions.length, 0);
});

/** An instance that stays in `states` one read after another, for the polling logic. */
function scriptedApi(states: string[]): InstancePowerApi & { reads: number } {
  const api = {
    reads: 0,
    getInstance: (id: string): Promise<InstanceInfo> => {
      const state = states[Math.min(api.reads, states.length - 1)] ?? "RUNNING";
      api.reads++;
      return Promise.resolve({
        id,
        displayName: "n",
        lifecycleState: state,
        availabilityDomain: "AD-1",
        compartmentId: "c",
      });
    },
    instanceAction: () => Promise.reject(new Error("not used")),
    listInstances: () => Promise.resolve([]),
  };
  return api;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

void test("waitForState polls until the wanted state appears", async () => {
  const clock = new ManualClock();
  const api = scriptedApi(["STOPPING", "STOPPING", "STOPPED"]);
  const power = new OciInstancePower({ api, clock, pollIntervalMs: 500 });
  const waiting = power.waitForState("i1", ["STOPPED"], 10_000);
  for (let i = 0; i < 3; i++) {
    await settle();
    clock.advance(500);
  }
  assert.equal(await waiting, "STOPPED");
  assert.equal(api.reads, 3);
});

void test("waitForState gives up at the timeout naming the last state", async () => {
  const clock = new ManualClock();
  const power = new OciInstancePower({ api: scriptedApi(["STOPPING"]), clock, pollIntervalMs: 400 });
  const waiting = power.waitForState("i1", ["STOPPED"], 1000);
  const outcome = assert.rejects(
    waiting,
    /FLOATIP_E_OCI_TIMEOUT: instance i1 did not reach STOPPED within 1000 ms \(last state STOPPING\)/,
  );
  for (let i = 0; i < 4; i++) {
    await settle();
    clock.advance(400);
  }
  await outcome;
});
