import {
  startEmulator,
  type EmulatorSeed,
  type RunningEmulator,
} from "../../../../tools/oci-emulator/emulator.ts";
import { systemClock } from "../../../clock/system-clock.ts";
import { silentLogger } from "../../../observability/logger.ts";
import { createOciRuntime, type OciRuntime } from "../oci-runtime.ts";
import { parseOciSettings, type OciSettingsInput } from "../settings.ts";

/** Test support: a loopback OCI emulator with two instances on one regional subnet, and node runtimes. */

export const TEST_VIP = "10.0.0.100";

export const twoNodeSeed: EmulatorSeed = {
  subnets: [{ cidr: "10.0.0.0/24", availabilityDomain: null }],
  instances: [
    {
      displayName: "node1",
      availabilityDomain: "Uocm:US-ASHBURN-AD-1",
      vnics: [{ subnet: "10.0.0.0/24", privateIp: "10.0.0.11" }],
    },
    {
      displayName: "node2",
      availabilityDomain: "Uocm:US-ASHBURN-AD-2",
      vnics: [{ subnet: "10.0.0.0/24", privateIp: "10.0.0.12" }],
    },
  ],
};

export function startTestEmulator(seed: EmulatorSeed = twoNodeSeed): Promise<RunningEmulator> {
  return startEmulator({ seed, listen: [{ host: "127.0.0.1", port: 0 }] });
}

/** Settings that point every OCI endpoint of `instanceName` at the emulator; short retries for tests. */
export function emulatedSettings(
  emulator: RunningEmulator,
  instanceName: string,
  overrides: OciSettingsInput = {},
) {
  const base = emulator.urls[0];
  if (base === undefined) throw new Error("emulator has no listener");
  return parseOciSettings({
    metadataBaseUrl: emulator.metadataUrlFor(instanceName),
    federationEndpoint: base,
    endpoint: base,
    requestTimeoutMs: 3000,
    retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200 },
    leaseMs: 30_000,
    ...overrides,
  });
}

export function emulatedNode(
  emulator: RunningEmulator,
  instanceName: string,
  overrides: OciSettingsInput = {},
): OciRuntime {
  return createOciRuntime(emulatedSettings(emulator, instanceName, overrides), {
    clock: systemClock,
    logger: silentLogger(),
  });
}

/** The emulator's instance record named `name`; throws when the seed has none. */
export function emulatedInstance(emulator: RunningEmulator, name: string) {
  const instance = emulator.state.findInstance(name);
  if (instance === undefined) throw new Error(`the emulator seed has no instance ${name}`);
  return instance;
}
