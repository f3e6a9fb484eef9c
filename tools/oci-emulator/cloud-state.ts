import { createHash, randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { ApiError, invalidParameter, notAuthorizedOrNotFound } from "./api-error.ts";
import {
  cidrContains,
  cidrSize,
  formatIpv4,
  parseIpv4,
  parseIpv4Cidr as parseCidr,
} from "../../src/config/ipv4.ts";
import { describeRegion, type RegionDescription } from "./region.ts";
import type { EmulatorSeed } from "./seed.ts";

/**
 * The emulated cloud: subnets, instances, VNICs and private IPs, and the rules OCI enforces when they change
 * (ETags, same-subnet moves, primary IPs fixed). No HTTP here; the API layer maps calls onto these methods.
 */

export type InstanceLifecycleState = "RUNNING" | "STOPPED" | "STOPPING" | "STARTING";
export type InstanceActionName = "STOP" | "START" | "RESET" | "SOFTSTOP" | "SOFTRESET";
export const INSTANCE_ACTIONS: readonly InstanceActionName[] = [
  "STOP",
  "START",
  "RESET",
  "SOFTSTOP",
  "SOFTRESET",
];

export interface EmulatedSubnet {
  id: string;
  cidrBlock: string;
  displayName: string;
  virtualRouterIp: string;
  virtualRouterMac: string;
  availabilityDomain: string | null;
  compartmentId: string;
  vcnId: string;
  etag: string;
  timeCreated: string;
}

export interface EmulatedInstance {
  id: string;
  displayName: string;
  availabilityDomain: string;
  faultDomain: string;
  lifecycleState: InstanceLifecycleState;
  compartmentId: string;
  shape: string;
  timeCreated: string;
  etag: string;
  /** index 0 is the primary VNIC */
  vnicIds: string[];
}

export interface EmulatedVnic {
  id: string;
  instanceId: string;
  subnetId: string;
  attachmentId: string;
  privateIp: string;
  macAddress: string;
  nicIndex: number;
  vlanTag: number;
  isPrimary: boolean;
  etag: string;
  timeCreated: string;
}

export interface EmulatedPrivateIp {
  id: string;
  ipAddress: string;
  vnicId: string;
  subnetId: string;
  compartmentId: string;
  isPrimary: boolean;
  displayName: string;
  hostnameLabel?: string;
  freeformTags: Record<string, string>;
  etag: string;
  timeCreated: string;
}

export interface RequestLogEntry {
  time: number;
  method: string;
  path: string;
  status: number;
  ms: number;
  opcRequestId: string;
  /** "instance:<displayName>", "user:<ocid>", or null when the caller was not authenticated */
  principal: string | null;
}

export interface PrivateIpAssignedEvent {
  privateIpId: string;
  ipAddress: string;
  vnicId: string;
  instanceId: string;
  instanceName: string;
  /** the primary private IP of the VNIC that now holds the address: where the VCN routes it */
  primaryIp: string;
  /** null when the private IP was just created */
  previousVnicId: string | null;
}

export interface PrivateIpDeletedEvent {
  privateIpId: string;
  ipAddress: string;
  previousVnicId: string;
}

export interface InstanceActionEvent {
  instanceId: string;
  instanceName: string;
  action: InstanceActionName;
  state: InstanceLifecycleState;
}

export interface PrivateIpFilter {
  ipAddress?: string;
  subnetId?: string;
  vnicId?: string;
}

export interface CreatePrivateIpDetails {
  vnicId?: string;
  ipAddress?: string;
  displayName?: string;
  hostnameLabel?: string;
  freeformTags?: Record<string, string>;
}

export interface UpdatePrivateIpDetails {
  vnicId?: string;
  displayName?: string;
  hostnameLabel?: string;
  freeformTags?: Record<string, string>;
}

const DEFAULT_TENANCY = "ocid1.tenancy.oc1..aaaaaaaaemulatortenancy";
const DEFAULT_COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaaemulator";
const REQUEST_LOG_LIMIT = 10_000;

const newEtag = (): string => randomBytes(16).toString("hex");
const digest = (key: string): string => createHash("sha256").update(key).digest("hex");

function macFromKey(prefix: string, key: string): string {
  const hex = digest(key).slice(0, 6);
  return `${prefix}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`.toUpperCase();
}

export class EmulatorState {
  readonly region: RegionDescription;
  readonly tenancyId: string;
  readonly compartmentId: string;
  readonly vcnId: string;
  readonly subnets = new Map<string, EmulatedSubnet>();
  readonly instances = new Map<string, EmulatedInstance>();
  readonly vnics = new Map<string, EmulatedVnic>();
  readonly privateIps = new Map<string, EmulatedPrivateIp>();
  /** most recent last; capped so a long soak run does not grow without bound */
  readonly requestLog: RequestLogEntry[] = [];
  readonly events = new EventEmitter();
  private createdCount = 0;

  constructor(seed: EmulatorSeed) {
    this.region = describeRegion(seed.region ?? "us-ashburn-1");
    this.tenancyId = seed.tenancyId ?? DEFAULT_TENANCY;
    this.compartmentId = seed.compartmentId ?? DEFAULT_COMPARTMENT;
    this.vcnId = this.ocid("vcn", "vcn");
    const created = new Date(0).toISOString();
    for (const s of seed.subnets) this.addSeedSubnet(s, created);
    for (const i of seed.instances) this.addSeedInstance(i, created);
    for (const p of seed.privateIps ?? []) {
      const vnic = this.vnics.get(p.vnic) ?? this.primaryVnicOf(this.findInstance(p.vnic));
      if (vnic === undefined)
        throw new Error(`seed private IP ${p.ipAddress}: no VNIC or instance named ${p.vnic}`);
      this.insertPrivateIp(vnic, p.ipAddress, false, p.freeformTags ?? {}, created);
    }
  }

  /** Deterministic OCIDs, short enough for certificate subject fields (64 characters each). */
  ocid(kind: string, key: string): string {
    return `ocid1.${kind}.oc1.${this.region.shortCode}.emu${digest(`${kind}:${key}`).slice(0, 20)}`;
  }

  private addSeedSubnet(s: EmulatorSeed["subnets"][number], created: string): void {
    const cidr = parseCidr(s.cidr);
    if (cidr === undefined) throw new Error(`seed subnet: ${s.cidr} is not an IPv4 CIDR block`);
    const id = s.id ?? this.ocid("subnet", s.cidr);
    this.subnets.set(id, {
      id,
      cidrBlock: `${formatIpv4(cidr.network)}/${cidr.prefixLength}`,
      displayName: s.displayName ?? `subnet-${s.cidr}`,
      virtualRouterIp: s.virtualRouterIp ?? formatIpv4(cidr.network + 1),
      virtualRouterMac: macFromKey("00:00:17", id),
      availabilityDomain: s.availabilityDomain ?? null,
      compartmentId: this.compartmentId,
      vcnId: this.vcnId,
      etag: newEtag(),
      timeCreated: created,
    });
  }

  private addSeedInstance(i: EmulatorSeed["instances"][number], created: string): void {
    const id = i.id ?? this.ocid("instance", i.displayName);
    const instance: EmulatedInstance = {
      id,
      displayName: i.displayName,
      availabilityDomain: i.availabilityDomain,
      faultDomain: i.faultDomain ?? "FAULT-DOMAIN-1",
      lifecycleState: i.state ?? "RUNNING",
      compartmentId: this.compartmentId,
      shape: "VM.Standard.E4.Flex",
      timeCreated: created,
      etag: newEtag(),
      vnicIds: [],
    };
    this.instances.set(id, instance);
    i.vnics.forEach((v, nicIndex) => {
      const subnet =
        this.subnets.get(v.subnet) ?? [...this.subnets.values()].find((s) => s.cidrBlock === v.subnet);
      if (subnet === undefined) throw new Error(`seed instance ${i.displayName}: unknown subnet ${v.subnet}`);
      if (subnet.availabilityDomain !== null && subnet.availabilityDomain !== i.availabilityDomain) {
        throw new Error(
          `seed instance ${i.displayName}: subnet ${subnet.cidrBlock} is in another availability domain`,
        );
      }
      const vnicId = v.id ?? this.ocid("vnic", `${i.displayName}/${nicIndex}`);
      const vnic: EmulatedVnic = {
        id: vnicId,
        instanceId: id,
        subnetId: subnet.id,
        attachmentId: this.ocid("vnicattachment", vnicId),
        privateIp: v.privateIp,
        macAddress: v.macAddress ?? macFromKey("02:00:17", vnicId),
        nicIndex,
        vlanTag: nicIndex,
        isPrimary: nicIndex === 0,
        etag: newEtag(),
        timeCreated: created,
      };
      this.vnics.set(vnicId, vnic);
      instance.vnicIds.push(vnicId);
      this.insertPrivateIp(vnic, v.privateIp, true, {}, created);
    });
  }

  private insertPrivateIp(
    vnic: EmulatedVnic,
    ipAddress: string,
    isPrimary: boolean,
    freeformTags: Record<string, string>,
    timeCreated: string,
    displayName?: string,
    hostnameLabel?: string,
  ): EmulatedPrivateIp {
    const subnet = this.subnetOf(vnic);
    const cidr = parseCidr(subnet.cidrBlock);
    if (cidr === undefined || !cidrContains(cidr, ipAddress)) {
      throw invalidParameter(`${ipAddress} is not inside subnet ${subnet.cidrBlock} of VNIC ${vnic.id}`);
    }
    if (this.findPrivateIp({ subnetId: subnet.id, ipAddress }) !== undefined) {
      throw new ApiError(409, "Conflict", `${ipAddress} is already in use in subnet ${subnet.id}`);
    }
    const id = isPrimary
      ? this.ocid("privateip", `primary/${vnic.id}`)
      : this.ocid("privateip", `${subnet.id}/${ipAddress}/${this.createdCount++}`);
    const privateIp: EmulatedPrivateIp = {
      id,
      ipAddress,
      vnicId: vnic.id,
      subnetId: subnet.id,
      compartmentId: this.compartmentId,
      isPrimary,
      displayName: displayName ?? (isPrimary ? `primaryvnic` : `privateip${ipAddress.replaceAll(".", "")}`),
      ...(hostnameLabel === undefined ? {} : { hostnameLabel }),
      freeformTags: { ...freeformTags },
      etag: newEtag(),
      timeCreated,
    };
    this.privateIps.set(id, privateIp);
    return privateIp;
  }

  findInstance(idOrName: string): EmulatedInstance | undefined {
    return (
      this.instances.get(idOrName) ?? [...this.instances.values()].find((i) => i.displayName === idOrName)
    );
  }

  primaryVnicOf(instance: EmulatedInstance | undefined): EmulatedVnic | undefined {
    const id = instance?.vnicIds[0];
    return id === undefined ? undefined : this.vnics.get(id);
  }

  vnicsOf(instance: EmulatedInstance): EmulatedVnic[] {
    return instance.vnicIds.flatMap((id) => this.vnics.get(id) ?? []);
  }

  subnetOf(vnic: EmulatedVnic): EmulatedSubnet {
    const subnet = this.subnets.get(vnic.subnetId);
    if (subnet === undefined)
      throw new Error(`internal: VNIC ${vnic.id} points at missing subnet ${vnic.subnetId}`);
    return subnet;
  }

  instanceOf(vnic: EmulatedVnic): EmulatedInstance {
    const instance = this.instances.get(vnic.instanceId);
    if (instance === undefined) throw new Error(`internal: VNIC ${vnic.id} has no instance`);
    return instance;
  }

  /** The instance a packet from `address` comes from: any private IP (primary or secondary) on its VNICs. */
  instanceOwningAddress(address: string): EmulatedInstance | undefined {
    const privateIp = [...this.privateIps.values()].find((p) => p.ipAddress === address);
    const vnic = privateIp === undefined ? undefined : this.vnics.get(privateIp.vnicId);
    return vnic === undefined ? undefined : this.instanceOf(vnic);
  }

  findPrivateIp(filter: { subnetId: string; ipAddress: string }): EmulatedPrivateIp | undefined {
    return [...this.privateIps.values()].find(
      (p) => p.subnetId === filter.subnetId && p.ipAddress === filter.ipAddress,
    );
  }

  /** ListPrivateIps: OCI wants a subnet or a VNIC to search in; an address alone is not a valid query. */
  listPrivateIps(filter: PrivateIpFilter): EmulatedPrivateIp[] {
    if (filter.subnetId === undefined && filter.vnicId === undefined) {
      throw invalidParameter("ListPrivateIps needs subnetId (optionally with ipAddress) or vnicId");
    }
    return [...this.privateIps.values()].filter(
      (p) =>
        (filter.subnetId === undefined || p.subnetId === filter.subnetId) &&
        (filter.vnicId === undefined || p.vnicId === filter.vnicId) &&
        (filter.ipAddress === undefined || p.ipAddress === filter.ipAddress),
    );
  }

  getPrivateIp(id: string): EmulatedPrivateIp {
    const privateIp = this.privateIps.get(id);
    if (privateIp === undefined) throw notAuthorizedOrNotFound(`private IP ${id}`);
    return privateIp;
  }

  getVnic(id: string): EmulatedVnic {
    const vnic = this.vnics.get(id);
    if (vnic === undefined) throw notAuthorizedOrNotFound(`VNIC ${id}`);
    return vnic;
  }

  getSubnet(id: string): EmulatedSubnet {
    const subnet = this.subnets.get(id);
    if (subnet === undefined) throw notAuthorizedOrNotFound(`subnet ${id}`);
    return subnet;
  }

  getInstance(id: string): EmulatedInstance {
    const instance = this.instances.get(id);
    if (instance === undefined) throw notAuthorizedOrNotFound(`instance ${id}`);
    return instance;
  }

  createPrivateIp(details: CreatePrivateIpDetails, now: number): EmulatedPrivateIp {
    if (details.vnicId === undefined) throw invalidParameter("vnicId is required to create a private IP");
    const vnic = this.getVnic(details.vnicId);
    const ipAddress = details.ipAddress ?? this.firstFreeAddress(this.subnetOf(vnic));
    if (parseIpv4(ipAddress) === undefined) throw invalidParameter(`${ipAddress} is not an IPv4 address`);
    const privateIp = this.insertPrivateIp(
      vnic,
      ipAddress,
      false,
      details.freeformTags ?? {},
      new Date(now).toISOString(),
      details.displayName,
      details.hostnameLabel,
    );
    this.announceAssignment(privateIp, null);
    return privateIp;
  }

  updatePrivateIp(
    id: string,
    details: UpdatePrivateIpDetails,
    ifMatch: string | undefined,
  ): EmulatedPrivateIp {
    const privateIp = this.getPrivateIp(id);
    checkEtag(privateIp.etag, ifMatch);
    if (privateIp.isPrimary)
      throw invalidParameter(`private IP ${id} is a primary private IP and cannot be updated`);
    const previousVnicId = privateIp.vnicId;
    if (details.vnicId !== undefined && details.vnicId !== previousVnicId) {
      const target = this.getVnic(details.vnicId);
      if (target.subnetId !== privateIp.subnetId) {
        throw invalidParameter(
          `VNIC ${target.id} is in subnet ${target.subnetId}; private IP ${privateIp.ipAddress} can only move within subnet ${privateIp.subnetId}`,
        );
      }
      privateIp.vnicId = target.id;
    }
    if (details.displayName !== undefined) privateIp.displayName = details.displayName;
    if (details.hostnameLabel !== undefined) privateIp.hostnameLabel = details.hostnameLabel;
    // OCI replaces the whole tag map on update; callers read-modify-write it.
    if (details.freeformTags !== undefined) privateIp.freeformTags = { ...details.freeformTags };
    privateIp.etag = newEtag();
    if (privateIp.vnicId !== previousVnicId) this.announceAssignment(privateIp, previousVnicId);
    return privateIp;
  }

  deletePrivateIp(id: string, ifMatch: string | undefined): void {
    const privateIp = this.getPrivateIp(id);
    checkEtag(privateIp.etag, ifMatch);
    if (privateIp.isPrimary)
      throw invalidParameter(`private IP ${id} is a primary private IP and cannot be deleted`);
    this.privateIps.delete(id);
    const event: PrivateIpDeletedEvent = {
      privateIpId: id,
      ipAddress: privateIp.ipAddress,
      previousVnicId: privateIp.vnicId,
    };
    this.events.emit("privateIpDeleted", event);
  }

  /** Power actions complete at once: tests and fencing see the final state without polling delays. */
  instanceAction(idOrName: string, action: InstanceActionName, ifMatch?: string): EmulatedInstance {
    const instance = this.findInstance(idOrName);
    if (instance === undefined) throw notAuthorizedOrNotFound(`instance ${idOrName}`);
    checkEtag(instance.etag, ifMatch);
    instance.lifecycleState = action === "STOP" || action === "SOFTSTOP" ? "STOPPED" : "RUNNING";
    instance.etag = newEtag();
    const event: InstanceActionEvent = {
      instanceId: instance.id,
      instanceName: instance.displayName,
      action,
      state: instance.lifecycleState,
    };
    this.events.emit("instanceAction", event);
    return instance;
  }

  recordRequest(entry: RequestLogEntry): void {
    this.requestLog.push(entry);
    if (this.requestLog.length > REQUEST_LOG_LIMIT)
      this.requestLog.splice(0, this.requestLog.length - REQUEST_LOG_LIMIT);
    this.events.emit("request", entry);
  }

  private announceAssignment(privateIp: EmulatedPrivateIp, previousVnicId: string | null): void {
    const vnic = this.getVnic(privateIp.vnicId);
    const instance = this.instanceOf(vnic);
    const event: PrivateIpAssignedEvent = {
      privateIpId: privateIp.id,
      ipAddress: privateIp.ipAddress,
      vnicId: vnic.id,
      instanceId: instance.id,
      instanceName: instance.displayName,
      primaryIp: vnic.privateIp,
      previousVnicId,
    };
    this.events.emit("privateIpAssigned", event);
  }

  /** OCI reserves the network address, the first two hosts (router, DNS) and the broadcast address. */
  private firstFreeAddress(subnet: EmulatedSubnet): string {
    const cidr = parseCidr(subnet.cidrBlock);
    if (cidr === undefined) throw new Error(`internal: bad subnet CIDR ${subnet.cidrBlock}`);
    const used = new Set(
      [...this.privateIps.values()].filter((p) => p.subnetId === subnet.id).map((p) => p.ipAddress),
    );
    for (let offset = 2; offset < cidrSize(cidr) - 1; offset++) {
      const candidate = formatIpv4(cidr.network + offset);
      if (!used.has(candidate) && candidate !== subnet.virtualRouterIp) return candidate;
    }
    throw new ApiError(400, "InvalidParameter", `subnet ${subnet.cidrBlock} has no free address left`);
  }

  /** A JSON-safe copy of everything, for GET /_emulator/state. */
  snapshot(requestLogTail = 200): Record<string, unknown> {
    return {
      region: this.region.regionIdentifier,
      tenancyId: this.tenancyId,
      compartmentId: this.compartmentId,
      subnets: [...this.subnets.values()],
      instances: [...this.instances.values()],
      vnics: [...this.vnics.values()],
      privateIps: [...this.privateIps.values()],
      requestCount: this.requestLog.length,
      requestLog: this.requestLog.slice(-requestLogTail),
    };
  }
}

function checkEtag(current: string, ifMatch: string | undefined): void {
  if (ifMatch !== undefined && ifMatch !== current) {
    throw new ApiError(
      412,
      "NoEtagMatch",
      "The ETag specified in the request does not match the ETag for the resource",
    );
  }
}
