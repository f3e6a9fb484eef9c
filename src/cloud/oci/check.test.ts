import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { RunningEmulator } from "../../../tools/oci-emulator/emulator.ts";
import { checkReport, clockSkewResult, formatCheckText, runOciCheck, type CheckResult } from "./check.ts";
import {
  emulatedInstance,
  emulatedNode,
  emulatedSettings,
  startTestEmulator,
  TEST_VIP,
} from "./testing/emulated-cloud.ts";
import { DEFAULT_PERMISSIONS } from "../../../tools/oci-emulator/seed.ts";

let emulator: RunningEmulator;
before(async () => {
  emulator = await startTestEmulator();
});
after(() => emulator.close());

function byId(results: CheckResult[], id: string): CheckResult {
  const found = results.find((result) => result.id === id);
  assert.ok(found, `no check result ${id} in ${results.map((r) => r.id).join(", ")}`);
  return found;
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === "object");
  return address.port;
}

void test("a correct setup passes every check", async () => {
  const node = emulatedNode(emulator, "node1");
  await node.mover.claim(TEST_VIP);
  node.close();
  const results = await runOciCheck({ settings: emulatedSettings(emulator, "node1"), vips: [TEST_VIP] });
  const report = checkReport(results);
  assert.equal(report.ok, true, formatCheckText(results));
  assert.deepEqual(
    results.map((r) => r.id),
    ["metadata", "auth", "vnics", `vip:${TEST_VIP}`, "permissions", "clock-skew"],
  );
  assert.equal(byId(results, "permissions").severity, "info");
  assert.match(byId(results, "permissions").detail, /UpdatePrivateIp/);
  assert.equal(byId(results, "clock-skew").ok, true);
});

void test("a VIP outside the subnets of this instance is an error that says which subnets fit", async () => {
  const results = await runOciCheck({ settings: emulatedSettings(emulator, "node1"), vips: ["10.0.1.5"] });
  const vip = byId(results, "vip:10.0.1.5");
  assert.equal(vip.severity, "error");
  assert.match(vip.detail, /^FLOATIP_E_VIP_NOT_IN_SUBNET: 10\.0\.1\.5 is not in subnet 10\.0\.0\.0\/24/);
  assert.match(vip.fix ?? "", /10\.0\.0\.0\/24/);
  assert.equal(checkReport(results).ok, false);
});

void test("the primary IP of another instance is refused as a VIP", async () => {
  const results = await runOciCheck({ settings: emulatedSettings(emulator, "node1"), vips: ["10.0.0.12"] });
  const vip = byId(results, "vip:10.0.0.12");
  assert.equal(vip.severity, "error");
  assert.match(vip.detail, /primary private IP/);
});

void test("a missing IAM permission is found and the exact dynamic-group rule and policy are printed", async (t) => {
  const node = emulatedNode(emulator, "node1");
  await node.mover.claim(TEST_VIP);
  node.close();
  t.after(() => emulator.faults.setPermissions(DEFAULT_PERMISSIONS));
  // Read-only grants: enough to look, not to move.
  emulator.faults.setPermissions(["inspect vnics", "read private-ips", "inspect vnic-attachments"]);
  const results = await runOciCheck({ settings: emulatedSettings(emulator, "node1"), vips: [TEST_VIP] });
  const permissions = byId(results, "permissions");
  assert.equal(permissions.severity, "error");
  assert.match(permissions.detail, /UpdatePrivateIp \(use private-ips \+ use vnics\)/);
  const instance = emulatedInstance(emulator, "node1");
  const text = formatCheckText(results);
  assert.ok(text.includes(`Any {instance.id = '${instance.id}'}`), text);
  assert.match(
    text,
    /Allow dynamic-group floatip-nodes to use private-ips in compartment id ocid1\.compartment\./,
  );
  assert.match(text, /Allow dynamic-group floatip-nodes to use vnics in compartment id /);
  assert.match(text, /^NOT READY: /m);
});

void test("unreachable metadata fails first, says it must run on an OCI instance, and skips the rest", async () => {
  const port = await closedPort();
  const settings = emulatedSettings(emulator, "node1", {
    metadataBaseUrl: `http://127.0.0.1:${port}/opc/v2/`,
    requestTimeoutMs: 1000,
  });
  const results = await runOciCheck({ settings, vips: [TEST_VIP] });
  const metadata = byId(results, "metadata");
  assert.equal(metadata.severity, "error");
  assert.match(metadata.detail, /ECONNREFUSED/);
  assert.match(metadata.fix ?? "", /must run on an OCI compute instance/);
  assert.ok(results.slice(1).every((r) => r.detail.startsWith("skipped")));
  const text = formatCheckText(results);
  assert.match(text, /^\[FAIL\] metadata .*\n {7}fix: floatip must run on an OCI compute instance/m);
  assert.deepEqual(JSON.parse(JSON.stringify(checkReport(results))).summary, {
    passed: 0,
    warnings: 0,
    errors: 1,
    skipped: 5,
  });
});

void test("clock skew is fine under a minute, a warning over one, and an error over five", () => {
  const at = (skewMs: number) =>
    clockSkewResult({ serverMs: 1_700_000_000_000, localMs: 1_700_000_000_000 + skewMs });
  assert.equal(at(30_000).severity, "info");
  assert.equal(at(-90_000).severity, "warning");
  assert.match(at(-90_000).detail, /90 s behind/);
  assert.equal(at(6 * 60_000).severity, "error");
  assert.match(at(6 * 60_000).fix ?? "", /NTP/);
});
