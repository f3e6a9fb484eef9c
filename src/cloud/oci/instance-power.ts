import type { Logger } from "pino";
import type { Clock } from "../../clock/clock.ts";
import { OciSdkApi, type OciCallRecord } from "./client.ts";
import { OciCloudError } from "./errors.ts";
import type { CallOptions, InstanceInfo } from "./oci-api.ts";
import { MetadataClient } from "./metadata.ts";
import type { OciSettings } from "./settings.ts";

/**
 * Power actions used for fencing. SOFTSTOP and SOFTRESET are left out on purpose: they wait for the guest
 * OS to shut down (up to 15 minutes), and a fence must act within stonith-timeout whatever the guest does.
 */
export type PowerAction = "STOP" | "START" | "RESET";

export const POWER_ACTIONS: readonly PowerAction[] = ["STOP", "START", "RESET"];

/** Power control of OCI instances, the cloud half of fence_oci and the fence-agents-style executable. */
export interface InstancePower {
  /** Sends the action and returns the lifecycleState the API answered with (not necessarily final). */
  instanceAction(instanceId: string, action: PowerAction, options?: CallOptions): Promise<string>;
  /** The current lifecycleState (RUNNING, STOPPING, STOPPED, STARTING, ...). */
  instanceState(instanceId: string, options?: CallOptions): Promise<string>;
  listInstances(
    compartmentId: string,
    options?: CallOptions,
  ): Promise<{ id: string; displayName: string; lifecycleState: string }[]>;
  /**
   * Polls until the instance is in one of `wanted` and returns that state; rejects with
   * FLOATIP_E_OCI_TIMEOUT naming the last state seen when `timeoutMs` passes first.
   */
  waitForState(
    instanceId: string,
    wanted: string[],
    timeoutMs: number,
    options?: CallOptions,
  ): Promise<string>;
}

/** The three SDK operations power control needs (OciSdkApi has them; unit tests pass a fake). */
export interface InstancePowerApi {
  getInstance(instanceId: string, options?: CallOptions): Promise<InstanceInfo>;
  instanceAction(instanceId: string, action: PowerAction, options?: CallOptions): Promise<InstanceInfo>;
  listInstances(compartmentId: string, options?: CallOptions): Promise<InstanceInfo[]>;
}

export interface OciInstancePowerOptions {
  api: InstancePowerApi;
  clock: Clock;
  /** Pause between two reads of waitForState; OCI moves an instance through STOPPING in seconds. */
  pollIntervalMs?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 1000;

export class OciInstancePower implements InstancePower {
  readonly #api: InstancePowerApi;
  readonly #clock: Clock;
  readonly #pollIntervalMs: number;

  constructor(options: OciInstancePowerOptions) {
    this.#api = options.api;
    this.#clock = options.clock;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  }

  async instanceAction(instanceId: string, action: PowerAction, options?: CallOptions): Promise<string> {
    // A caller holding a wider type (a string from a config file) must not slip a soft action through.
    if (!POWER_ACTIONS.includes(action)) {
      throw new OciCloudError(
        "FLOATIP_E_OCI_SETTINGS_INVALID",
        `power action ${String(action)} is not allowed; use one of ${POWER_ACTIONS.join(", ")}`,
      );
    }
    const instance = await this.#api.instanceAction(instanceId, action, options);
    return instance.lifecycleState;
  }

  async instanceState(instanceId: string, options?: CallOptions): Promise<string> {
    return (await this.#api.getInstance(instanceId, options)).lifecycleState;
  }

  async listInstances(compartmentId: string, options?: CallOptions) {
    const instances = await this.#api.listInstances(compartmentId, options);
    return instances.map(({ id, displayName, lifecycleState }) => ({ id, displayName, lifecycleState }));
  }

  async waitForState(
    instanceId: string,
    wanted: string[],
    timeoutMs: number,
    options?: CallOptions,
  ): Promise<string> {
    const deadline = this.#clock.now() + timeoutMs;
    let last = "unknown";
    for (;;) {
      try {
        last = await this.instanceState(instanceId, options);
        if (wanted.includes(last)) return last;
      } catch (error) {
        // Transient read failures are retried by the API layer already; one that still fails is final
        // only when it says the instance is gone or not ours.
        if (options?.signal?.aborted) throw error;
        if (error instanceof OciCloudError && error.code === "FLOATIP_E_OCI_NOT_AUTHORIZED") throw error;
      }
      const left = deadline - this.#clock.now();
      if (left <= 0) {
        throw new OciCloudError(
          "FLOATIP_E_OCI_TIMEOUT",
          `instance ${instanceId} did not reach ${wanted.join(" or ")} within ${timeoutMs} ms (last state ${last}); check the instance in the console`,
        );
      }
      await this.#clock.sleep(Math.min(this.#pollIntervalMs, left), options?.signal);
    }
  }
}

/**
 * Builds power control from the same settings, auth, endpoint, timeouts and retries the daemon and the
 * `floatip oci` commands use.
 * - `settings`: the OCI settings (`parseOciSettings` / `settingsFromEnv`), so FLOATIP_OCI_* overrides
 *   point it at the emulator exactly as they do for the VIP mover.
 * - `options.clock`: timers for deadlines, retries and polling.
 * - `options.logger`: every API attempt is logged with operation, status, latency and opc-request-id.
 * - `options.onCall`: optional observer of each API attempt (metrics, event log).
 * - `options.pollIntervalMs`: pause between reads in waitForState (default 1000 ms).
 * - `options.api`: an existing OciSdkApi to share (the daemon's); when omitted one is built and `close()`
 *   releases it.
 */
export function createInstancePower(
  settings: OciSettings,
  options: {
    clock: Clock;
    logger: Logger;
    onCall?: (call: OciCallRecord) => void;
    pollIntervalMs?: number;
    api?: OciSdkApi;
  },
): InstancePower & { close(): void } {
  const own = options.api === undefined;
  const api =
    options.api ??
    new OciSdkApi({
      settings,
      clock: options.clock,
      logger: options.logger,
      // Same region fallback as the runtime: instance metadata, when settings name neither endpoint nor region.
      region: async (signal) => {
        const metadata = new MetadataClient({
          baseUrl: settings.metadataBaseUrl,
          clock: options.clock,
          timeoutMs: settings.requestTimeoutMs,
        });
        return (await metadata.instance(signal)).region;
      },
      ...(options.onCall ? { onCall: options.onCall } : {}),
    });
  const power = new OciInstancePower({
    api,
    clock: options.clock,
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
  });
  return Object.assign(power, {
    close: () => {
      if (own) api.close();
    },
  });
}
