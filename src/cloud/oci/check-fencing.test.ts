import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import type { RunningEmulator } from "../../../tools/oci-emulator/emulator.ts";
import { runOciCheck } from "./check.ts";
import { emulatedSettings, startTestEmulator } from "./testing/emulated-cloud.ts";

/** `floatip oci check` with fence_oci devices configured: the fencing permission is covered and named. */

let emulator: RunningEmulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(async () => {
  await emulator.close();
});

void test("with a fence_oci device the check names the fencing permission", async () => {
  const results = await runOciCheck({
    settings: emulatedSettings(emulator, "node1"),
    vips: [],
    fenceDevices: ["OciFence"],
  });
  const fencing = results.find((r) => r.id === "fencing");
  assert.equal(fencing?.ok, true);
  assert.match(fencing?.detail ?? "", /OciFence .*'use instances' \(INSTANCE_POWER_ACTIONS\)/);
  assert.match(fencing?.fix ?? "", /^Allow dynamic-group floatip-nodes to use instances in compartment id /);
});

void test("without instance permissions the fencing check fails", async () => {
  emulator.faults.setPermissions(["use private-ips", "use vnics", "use subnets", "inspect vnic-attachments"]);
  const results = await runOciCheck({
    settings: emulatedSettings(emulator, "node1"),
    vips: [],
    fenceDevices: ["OciFence"],
  });
  const fencing = results.find((r) => r.id === "fencing");
  assert.equal(fencing?.ok, false);
  assert.equal(fencing?.severity, "error");
  assert.equal(results.find((r) => r.id === "permissions")?.ok, false);
});

void test("without fence devices there is no fencing check", async () => {
  const results = await runOciCheck({ settings: emulatedSettings(emulator, "node1"), vips: [] });
  assert.equal(
    results.some((r) => r.id === "fencing"),
    false,
  );
});
