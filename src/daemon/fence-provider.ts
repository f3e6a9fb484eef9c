import type { Clock } from "../clock/clock.ts";
import type { ClusterConfig } from "../config/schema.ts";
import type { OciSdkApi } from "../cloud/oci/client.ts";
import { createInstancePower, type InstancePower } from "../cloud/oci/instance-power.ts";
import { MetadataClient } from "../cloud/oci/metadata.ts";
import { settingsFromEnv } from "../cloud/oci/settings.ts";
import { buildFenceDevice, type ConfiguredDevice } from "../fencing/device-registry.ts";
import type { Logger } from "../observability/logger.ts";

/**
 * What a daemon needs for fencing from its surroundings: power control of OCI instances (through the VIP
 * agent's Core API client when given, else one built on first use from the same FLOATIP_OCI_* settings),
 * this node's own instance OCID to gossip, and the devices of a configuration.
 */
export class FencingProvider {
  #power: (InstancePower & { close(): void }) | null = null;

  constructor(
    private readonly deps: {
      env: Readonly<Record<string, string | undefined>>;
      clock: Clock;
      logger: Logger;
      fenceAgentsDir?: string;
      /** The node's existing Core API client (auth already done); without it fencing builds its own. */
      sharedApi?: () => OciSdkApi;
    },
  ) {}

  /** This instance's OCID on a cloud=oci cluster, from instance metadata; undefined elsewhere or on error. */
  async selfInstanceId(config: ClusterConfig): Promise<string | undefined> {
    if (config.properties["cloud"] !== "oci") return undefined;
    try {
      const settings = settingsFromEnv(this.deps.env);
      const metadata = new MetadataClient({
        baseUrl: settings.metadataBaseUrl,
        clock: this.deps.clock,
        timeoutMs: settings.requestTimeoutMs,
      });
      return (await metadata.instance(AbortSignal.timeout(5_000))).instanceId;
    } catch (error) {
      this.deps.logger.warn(
        { err: error },
        "cannot read this instance's OCID; fence_oci needs pcmk_host_map",
      );
      return undefined;
    }
  }

  devicesFor(config: ClusterConfig, instanceIdOf: (node: string) => string | undefined): ConfiguredDevice[] {
    const devices: ConfiguredDevice[] = [];
    for (const device of config.stonith) {
      try {
        devices.push(
          buildFenceDevice(device, {
            clock: this.deps.clock,
            instancePower: () => this.#instancePower(),
            instanceIdOf,
            ...(this.deps.fenceAgentsDir ? { fenceAgentsDir: this.deps.fenceAgentsDir } : {}),
          }),
        );
      } catch (error) {
        // One broken device (an agent missing on this node) must not disable the others.
        this.deps.logger.error({ err: error, device: device.id }, "fence device unusable on this node");
      }
    }
    return devices;
  }

  close(): void {
    this.#power?.close();
    this.#power = null;
  }

  #instancePower(): InstancePower {
    this.#power ??= createInstancePower(settingsFromEnv(this.deps.env), {
      clock: this.deps.clock,
      logger: this.deps.logger.child({ component: "fence-oci" }),
      ...(this.deps.sharedApi ? { api: this.deps.sharedApi() } : {}),
    });
    return this.#power;
  }
}
