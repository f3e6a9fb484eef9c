import type { Clock } from "../clock/clock.ts";
import { parseDuration } from "../config/duration.ts";
import type { StonithDeviceConfig } from "../config/schema.ts";
import type { InstancePower } from "../cloud/oci/instance-power.ts";
import { FENCE_AGENTS_DIR, FenceAgentDevice, fenceAgentPath, installedFenceAgents } from "./agent-device.ts";
import { ExecFenceDevice, FENCE_EXEC_TYPE, validateExecParams } from "./exec-device.ts";
import { FENCE_OCI_TYPE, OciFenceDevice } from "./oci-device.ts";
import { commonParamProblems } from "./stonith-config.ts";
import type { FenceDevice } from "./types.ts";

/** The fence types floatip runs natively, before the installed fence-agents. */
export const NATIVE_FENCE_TYPES: readonly { type: string; description: string }[] = [
  { type: FENCE_OCI_TYPE, description: "Fence agent for OCI compute instances (STOP/RESET through the API)" },
  { type: FENCE_EXEC_TYPE, description: "Fence agent running a site script: command NODE ACTION" },
];

/** `stonith list`: native types first, then the fence-agents found in `dir`. */
export function availableFenceTypes(dir = FENCE_AGENTS_DIR): { type: string; description: string }[] {
  const native = new Set(NATIVE_FENCE_TYPES.map((t) => t.type));
  return [...NATIVE_FENCE_TYPES, ...installedFenceAgents(dir).filter((a) => !native.has(a.type))];
}

/** Everything wrong with a device definition, one line each; empty when it can be created. */
export function stonithDeviceProblems(
  type: string,
  params: Readonly<Record<string, string>>,
  dir = FENCE_AGENTS_DIR,
): string[] {
  const problems = commonParamProblems(params);
  if (type === FENCE_OCI_TYPE) return problems;
  if (type === FENCE_EXEC_TYPE) return [...problems, ...validateExecParams(params)];
  if (fenceAgentPath(type, dir) === null) {
    return [
      ...problems,
      `Agent '${type}' is not installed or does not provide valid metadata; use fence_oci, fence_exec or one of 'floatip stonith list'`,
    ];
  }
  return problems;
}

export interface DeviceDeps {
  clock: Clock;
  /** Power control of OCI instances, built on first use by fence_oci devices. */
  instancePower?: () => InstancePower;
  /** The instance OCID each node reported. */
  instanceIdOf: (node: string) => string | undefined;
  fenceAgentsDir?: string;
}

/** A configured device ready to run, with its pcmk_delay_base (a static delay that wins fence races). */
export interface ConfiguredDevice {
  device: FenceDevice;
  delayMs: number;
}

export function buildFenceDevice(config: StonithDeviceConfig, deps: DeviceDeps): ConfiguredDevice {
  const delayText = config.params["pcmk_delay_base"];
  const delayMs = delayText === undefined ? 0 : parseDuration(delayText);
  if (config.type === FENCE_OCI_TYPE) {
    const power = deps.instancePower;
    if (power === undefined) {
      throw new Error(
        `FLOATIP_E_STONITH_INVALID: ${config.id}: fence_oci needs the OCI layer; this daemon runs without it`,
      );
    }
    return {
      device: new OciFenceDevice(config.id, config.params, {
        power,
        instanceIdOf: deps.instanceIdOf,
        clock: deps.clock,
      }),
      delayMs,
    };
  }
  if (config.type === FENCE_EXEC_TYPE)
    return { device: new ExecFenceDevice(config.id, config.params), delayMs };
  return {
    device: new FenceAgentDevice(config.id, config.type, config.params, deps.fenceAgentsDir),
    delayMs,
  };
}
