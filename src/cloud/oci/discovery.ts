import { cidrContains, parseIpv4Cidr } from "../../config/ipv4.ts";
import { OciCloudError } from "./errors.ts";
import type { InstanceMetadata, MetadataClient } from "./metadata.ts";
import type { OciApi } from "./oci-api.ts";

/** A VNIC of this instance, with what metadata knows plus the subnet OCID from GetVnic. */
export interface LocalVnic {
  vnicId: string;
  subnetId: string;
  subnetCidr: string;
  primaryPrivateIp: string;
  macAddr: string;
  virtualRouterIp: string;
  nicIndex: number;
  compartmentId: string;
}

/** This instance as the cloud sees it. Nothing here comes from configuration. */
export interface LocalInstance {
  instanceId: string;
  displayName: string;
  region: string;
  availabilityDomain: string;
  compartmentId: string;
  /** Ordered as metadata lists them: the primary VNIC first. */
  vnics: LocalVnic[];
}

/** Completes instance metadata with each VNIC's subnet OCID (metadata has only the CIDR block). */
export async function discoverLocalInstance(
  metadata: InstanceMetadata,
  api: Pick<OciApi, "getVnic">,
  signal?: AbortSignal,
): Promise<LocalInstance> {
  // allSettled: when one GetVnic fails, the others still finish before the error is reported.
  const settled = await Promise.allSettled(
    metadata.vnics.map(async (entry): Promise<LocalVnic> => {
      const vnic = await api.getVnic(entry.vnicId, signal ? { signal } : {});
      return {
        vnicId: entry.vnicId,
        subnetId: vnic.subnetId,
        subnetCidr: entry.subnetCidrBlock,
        primaryPrivateIp: entry.privateIp,
        macAddr: entry.macAddr,
        virtualRouterIp: entry.virtualRouterIp,
        nicIndex: entry.nicIndex,
        compartmentId: vnic.compartmentId,
      };
    }),
  );
  const vnics: LocalVnic[] = [];
  for (const outcome of settled) {
    if (outcome.status === "rejected") throw outcome.reason;
    vnics.push(outcome.value);
  }
  return {
    instanceId: metadata.instanceId,
    displayName: metadata.displayName,
    region: metadata.region,
    availabilityDomain: metadata.availabilityDomain,
    compartmentId: metadata.compartmentId,
    vnics,
  };
}

/** The VNIC of this instance whose subnet contains `ip`; throws FLOATIP_E_VIP_NOT_IN_SUBNET otherwise. */
export function vnicForIp(instance: LocalInstance, ip: string): LocalVnic {
  for (const vnic of instance.vnics) {
    const cidr = parseIpv4Cidr(vnic.subnetCidr);
    if (cidr && cidrContains(cidr, ip)) return vnic;
  }
  const subnets = instance.vnics.map((vnic) => `${vnic.subnetCidr} of VNIC ${vnic.vnicId}`).join(", ");
  throw new OciCloudError(
    "FLOATIP_E_VIP_NOT_IN_SUBNET",
    `${ip} is not in subnet ${subnets || "(no VNICs)"} of instance ${instance.displayName || instance.instanceId}; pick an address inside it`,
  );
}

/**
 * Discovers this instance on first use and remembers the answer; a failed discovery is not remembered,
 * so the next call tries again.
 */
export function cachedLocalInstance(
  metadata: Pick<MetadataClient, "instance">,
  api: Pick<OciApi, "getVnic">,
): (signal?: AbortSignal) => Promise<LocalInstance> {
  let known: LocalInstance | undefined;
  return async (signal) => {
    if (known) return known;
    const found = await discoverLocalInstance(await metadata.instance(signal), api, signal);
    known = found;
    return found;
  };
}
