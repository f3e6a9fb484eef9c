import type { Clock } from "../clock/clock.ts";
import { parseDuration } from "../config/duration.ts";
import type { StonithDeviceConfig } from "../config/schema.ts";
import type { InstancePower } from "../cloud/oci/instance-power.ts";
import { FENCE_AGENTS_DIR, FenceAgentDevice, fenceAgentPath, installedFenceAgents } from "./agent-device.ts";
import { ExecFenceDevice, FENCE_EXEC_TYPE, validateExecParams } from "./exec-device.ts";
import { FENCE_OCI_TYPE, OciFenceDevice } from "./oci-device.ts";
import { parseHostMap } from "./host-map.ts";
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

/**
 * A configured device ready to run, with the delays that decide fence races between two nodes that each
 * want to fence the other: pcmk_delay_base (fixed, or per target "node1:0s;node2:5s") and pcmk_delay_max
 * (a random extra delay up to it), as Pacemaker's fencer applies them.
 */
export interface ConfiguredDevice {
  device: FenceDevice;
  delayMs: number;
  delayByNode?: ReadonlyMap<string, number>;
  delayMaxMs?: number;
}

/** pcmk_delay_base: one duration, or per-target durations "node1:0s;node2:5s". */
export function parseDelayBase(text: string): { delayMs: number; delayByNode?: Map<string, number> } {
  if (!text.includes(":")) return { delayMs: parseDuration(text) };
  const byNode = new Map<string, number>();
  for (const [node, value] of parseHostMap(text)) byNode.set(node, parseDuration(value));
  return { delayMs: 0, delayByNode: byNode };
}

export function buildFenceDevice(config: StonithDeviceConfig, deps: DeviceDeps): ConfiguredDevice {
  const baseText = config.params["pcmk_delay_base"];
  const maxText = config.params["pcmk_delay_max"];
  const delays = {
    ...(baseText === undefined ? { delayMs: 0 } : parseDelayBase(baseText)),
    ...(maxText === undefined ? {} : { delayMaxMs: parseDuration(maxText) }),
  };
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
      ...delays,
    };
  }
  if (config.type === FENCE_EXEC_TYPE)
    return { device: new ExecFenceDevice(config.id, config.params), ...delays };
  return {
    device: new FenceAgentDevice(config.id, config.type, config.params, deps.fenceAgentsDir),
    ...delays,
  };
}
