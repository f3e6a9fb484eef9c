import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { RunningEmulator } from "../../../tools/oci-emulator/emulator.ts";
import { vnicForIp } from "./discovery.ts";
import { emulatedInstance, emulatedNode, startTestEmulator } from "./testing/emulated-cloud.ts";

let emulator: RunningEmulator;
before(async () => {
  emulator = await startTestEmulator();
});
after(() => emulator.close());

void test("discovers this instance, its VNIC, subnet OCID and CIDR from metadata and GetVnic", async () => {
  const node = emulatedNode(emulator, "node1");
  try {
    const local = await node.localInstance();
    const expected = emulatedInstance(emulator, "node1");
    assert.equal(local.instanceId, expected.id);
    assert.equal(local.displayName, "node1");
    assert.equal(local.availabilityDomain, "Uocm:US-ASHBURN-AD-1");
    assert.equal(local.vnics.length, 1);
    const vnic = local.vnics[0]!;
    assert.equal(vnic.vnicId, emulator.state.primaryVnicOf(expected)?.id);
    assert.equal(vnic.subnetCidr, "10.0.0.0/24");
    assert.match(vnic.subnetId, /^ocid1\.subnet\./);
    assert.equal(vnic.primaryPrivateIp, "10.0.0.11");
    assert.equal(vnicForIp(local, "10.0.0.100").vnicId, vnic.vnicId);
    assert.throws(
      () => vnicForIp(local, "10.0.1.5"),
      /^OciCloudError: FLOATIP_E_VIP_NOT_IN_SUBNET: 10\.0\.1\.5/,
    );
  } finally {
    node.close();
  }
});
