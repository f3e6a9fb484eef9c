import { join } from "node:path";
import type { ResourceAgent } from "../agents/agent.ts";
import { IpAddressAgent } from "../agents/ip-address.ts";
import { OciVipAgent } from "../agents/oci-vip.ts";
import { SecondaryVnicAddress } from "../agents/secondary-vnic-address.ts";
import type { Clock } from "../clock/clock.ts";
import type { OciCallRecord, OciSdkApi } from "../cloud/oci/client.ts";
import { createOciRuntime, type OciRuntime } from "../cloud/oci/oci-runtime.ts";
import { settingsFromEnv } from "../cloud/oci/settings.ts";
import type { Logger } from "../observability/logger.ts";

/**
 * The cloud VIP agent, built on first use: nothing talks to the metadata service or the API until a
 * resource on a cloud=oci cluster needs it.
 */
export class OciAgentProvider {
  private runtime: OciRuntime | null = null;
  private agent: OciVipAgent | null = null;

  constructor(
    private readonly deps: {
      stateDir: string;
      clock: Clock;
      logger: Logger;
      localAddress: IpAddressAgent;
      env: Readonly<Record<string, string | undefined>>;
      onCall?: (call: OciCallRecord) => void;
    },
  ) {}

  agentFor(): ResourceAgent {
    if (this.agent) return this.agent;
    const settings = settingsFromEnv(this.deps.env, {
      stateFile: join(this.deps.stateDir, "oci-vips.json"),
      ...numberFromEnv(this.deps.env, "FLOATIP_OCI_CLOUD_CHECK_INTERVAL_MS", "cloudCheckIntervalMs"),
      ...numberFromEnv(this.deps.env, "FLOATIP_OCI_LEASE_MS", "leaseMs"),
    });
    this.runtime = createOciRuntime(settings, {
      clock: this.deps.clock,
      logger: this.deps.logger.child({ component: "oci" }),
      ...(this.deps.onCall ? { onCall: this.deps.onCall } : {}),
    });
    this.agent = new OciVipAgent({
      mover: this.runtime.mover,
      // A VIP of a secondary VNIC goes on that VNIC's interface, with source routing for its replies.
      localAddress: new SecondaryVnicAddress({
        inner: this.deps.localAddress,
        localInstance: this.runtime.localInstance,
      }),
      clock: this.deps.clock,
      settings,
      logger: this.deps.logger.child({ component: "oci-vip" }),
    });
    return this.agent;
  }

  /**
   * Discovery and the first federation (which generates an RSA key pair synchronously, blocking the event
   * loop for a noticeable time on a busy host) are done before cluster services start, so they never
   * delay heartbeats; failures are left for the first cloud call to report.
   */
  async warmUp(timeoutMs: number): Promise<void> {
    this.agentFor();
    try {
      await this.runtime?.localInstance(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      this.deps.logger.warn({ err: error }, "OCI discovery failed; it is retried at the first cloud call");
    }
  }

  /** This instance's availability domain, once discovery has succeeded. */
  async zone(): Promise<string | undefined> {
    try {
      return (await this.runtime?.localInstance(AbortSignal.timeout(1_000)))?.availabilityDomain;
    } catch {
      return undefined;
    }
  }

  /** See PrivateIpMover.forgetDisplacements; a no-op before the cloud layer was ever used. */
  async clusterWhole(runningHere?: readonly string[]): Promise<void> {
    await this.runtime?.mover.forgetDisplacements(runningHere);
  }

  /** See PrivateIpMover.clusterPartial. */
  clusterPartial(): void {
    this.runtime?.mover.clusterPartial();
  }

  /** See PrivateIpMover.peersLost; runs in the background and logs its own failures. */
  peersLost(): void {
    void this.runtime?.mover.peersLost(AbortSignal.timeout(30_000));
  }

  /**
   * This node's Core API client (built and warmed up with the VIP agent), shared with fencing: a second
   * client would federate again, and its synchronous key generation would stall heartbeats mid-failover.
   */
  sharedApi(): OciSdkApi {
    this.agentFor();
    if (!this.runtime) throw new Error("internal: OCI runtime missing after agentFor()");
    return this.runtime.api;
  }

  close(): void {
    this.agent?.close();
    this.runtime?.close();
  }
}

/** Optional numeric tunables; a bad value is left to the settings schema to reject with its message. */
function numberFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  field: "cloudCheckIntervalMs" | "leaseMs",
): Partial<Record<typeof field, number>> {
  const text = env[name]?.trim();
  return text ? { [field]: Number(text) } : {};
}
