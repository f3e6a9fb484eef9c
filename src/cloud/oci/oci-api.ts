/**
 * The slice of the OCI Core API floatip uses, in plain shapes. Decision logic (the mover, discovery, the
 * preflight check) depends on this interface only, so it is unit-tested with an in-memory fake; the real
 * implementation is OciSdkApi in client.ts.
 */

export type FreeformTags = Record<string, string>;

export interface VnicInfo {
  id: string;
  subnetId: string;
  compartmentId: string;
  availabilityDomain: string;
  /** The primary private IP of the VNIC. */
  privateIp: string;
  isPrimary: boolean;
}

export interface PrivateIpInfo {
  id: string;
  ipAddress: string;
  /** Undefined for a reserved private IP that is not attached to any VNIC. */
  vnicId: string | undefined;
  subnetId: string;
  isPrimary: boolean;
  freeformTags: FreeformTags;
}

/** An object together with the ETag to pass as if-match when changing it. */
export interface Versioned<T> {
  value: T;
  etag: string | undefined;
}

export interface VnicAttachmentInfo {
  id: string;
  instanceId: string;
  vnicId: string | undefined;
  subnetId: string | undefined;
  lifecycleState: string;
  nicIndex: number | undefined;
}

export interface InstanceInfo {
  id: string;
  displayName: string;
  lifecycleState: string;
  availabilityDomain: string;
  compartmentId: string;
}

export type InstanceActionKind = "STOP" | "START" | "RESET" | "SOFTSTOP" | "SOFTRESET";

/** The server's clock as seen in the Date header of the latest API response, for the skew check. */
export interface ServerClockSample {
  /** Date header value in ms since the epoch (1 s resolution). */
  serverMs: number;
  /** Local wall clock when the response arrived. */
  localMs: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface OciApi {
  getVnic(vnicId: string, options?: CallOptions): Promise<VnicInfo>;
  listPrivateIps(
    filter: { subnetId?: string; ipAddress?: string; vnicId?: string },
    options?: CallOptions,
  ): Promise<PrivateIpInfo[]>;
  getPrivateIp(privateIpId: string, options?: CallOptions): Promise<Versioned<PrivateIpInfo>>;
  /** With `ifMatch`, the update happens only if the object is unchanged since it was read (else 412). */
  updatePrivateIp(
    privateIpId: string,
    details: { vnicId?: string; freeformTags?: FreeformTags },
    ifMatch: string | undefined,
    options?: CallOptions,
  ): Promise<Versioned<PrivateIpInfo>>;
  createPrivateIp(
    details: { vnicId: string; ipAddress: string; freeformTags?: FreeformTags },
    options?: CallOptions,
  ): Promise<Versioned<PrivateIpInfo>>;
  listVnicAttachments(
    filter: { compartmentId: string; instanceId?: string },
    options?: CallOptions,
  ): Promise<VnicAttachmentInfo[]>;
  getInstance(instanceId: string, options?: CallOptions): Promise<InstanceInfo>;
  instanceAction(
    instanceId: string,
    action: InstanceActionKind,
    options?: CallOptions,
  ): Promise<InstanceInfo>;
  /** Latest server Date header seen, or undefined before the first answered call. */
  lastServerClock(): ServerClockSample | undefined;
}
