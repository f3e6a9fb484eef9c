import type { Clock } from "../clock/clock.ts";
import { describeError } from "../cloud/oci/errors.ts";
import type { InstancePower } from "../cloud/oci/instance-power.ts";
import { parseHostList, parseHostMap } from "./host-map.ts";
import type { DeviceOutcome, FenceAction, FenceDevice } from "./types.ts";

export const FENCE_OCI_TYPE = "fence_oci";

export interface OciFenceDeviceDeps {
  /** Built on first use, so a configured but unused device never talks to the cloud. */
  power: () => InstancePower;
  /** The instance OCID a node reported about itself (gossiped from its instance metadata). */
  instanceIdOf: (node: string) => string | undefined;
  clock: Clock;
}

function powerOf(lifecycleState: string): DeviceOutcome["power"] {
  if (lifecycleState === "RUNNING") return "on";
  if (lifecycleState === "STOPPED") return "off";
  return "unknown";
}

/**
 * fence_oci: power control of the node's OCI instance through the Core API (InstanceAction). off = STOP,
 * reboot = RESET (START when the instance is already stopped) and wait for RUNNING, on = START. Never the
 * SOFT variants: they wait for the guest, which is exactly what a hung node cannot be trusted to do.
 * The target instance comes from pcmk_host_map (node:ocid) or from what the node reported about itself.
 */
export class OciFenceDevice implements FenceDevice {
  readonly type = FENCE_OCI_TYPE;
  readonly #map: Map<string, string>;
  readonly #list: string[] | null;

  constructor(
    readonly id: string,
    params: Readonly<Record<string, string>>,
    private readonly deps: OciFenceDeviceDeps,
  ) {
    this.#map = parseHostMap(params["pcmk_host_map"] ?? "");
    this.#list = params["pcmk_host_list"] === undefined ? null : parseHostList(params["pcmk_host_list"]);
  }

  instanceOf(node: string): string | undefined {
    return this.#map.get(node) ?? this.deps.instanceIdOf(node);
  }

  canFence(node: string): boolean {
    if (this.#map.has(node)) return true;
    if (this.#list !== null && !this.#list.includes(node)) return false;
    if (this.#list === null && this.#map.size > 0) return false;
    return this.deps.instanceIdOf(node) !== undefined;
  }

  async run(
    node: string,
    action: FenceAction,
    options: { timeoutMs: number; signal: AbortSignal },
  ): Promise<DeviceOutcome> {
    const instanceId = this.instanceOf(node);
    if (instanceId === undefined) {
      return {
        ok: false,
        message: `no instance known for ${node}: it has not reported its instance OCID; add pcmk_host_map="${node}:ocid1.instance..." to ${this.id}`,
      };
    }
    const started = this.deps.clock.now();
    const left = () => Math.max(1, options.timeoutMs - (this.deps.clock.now() - started));
    const call = { signal: options.signal };
    try {
      const power = this.deps.power();
      const before = await power.instanceState(instanceId, call);
      if (action === "status") {
        return { ok: true, power: powerOf(before), message: `${instanceId} is ${before}` };
      }
      if (action === "off") {
        if (before !== "STOPPED") await power.instanceAction(instanceId, "STOP", call);
        await power.waitForState(instanceId, ["STOPPED"], left(), call);
        return {
          ok: true,
          power: "off",
          message: before === "STOPPED" ? `${instanceId} was already STOPPED` : `${instanceId} STOPPED`,
        };
      }
      const cloudAction = action === "on" || before === "STOPPED" ? "START" : "RESET";
      await power.instanceAction(instanceId, cloudAction, call);
      await power.waitForState(instanceId, ["RUNNING"], left(), call);
      return { ok: true, power: "on", message: `${instanceId} ${cloudAction} done, RUNNING` };
    } catch (error) {
      if (options.signal.aborted) throw error;
      return { ok: false, message: describeError(error) };
    }
  }
}
