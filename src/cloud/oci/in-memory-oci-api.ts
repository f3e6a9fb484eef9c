import { OciCloudError } from "./errors.ts";
import type {
  FreeformTags,
  InstanceInfo,
  OciApi,
  PrivateIpInfo,
  ServerClockSample,
  Versioned,
  VnicAttachmentInfo,
  VnicInfo,
} from "./oci-api.ts";

interface StoredPrivateIp extends PrivateIpInfo {
  version: number;
}

/**
 * An in-memory OciApi for unit tests of decision logic: private IPs with ETags that change on every
 * write (412 on a stale if-match), VNICs, and hooks to inject failures or interleave a competitor's
 * write between a read and a write. Integration tests use the HTTP emulator in tools/oci-emulator.
 */
export class InMemoryOciApi implements OciApi {
  readonly vnics = new Map<string, VnicInfo>();
  readonly privateIps = new Map<string, StoredPrivateIp>();
  readonly calls: string[] = [];
  /** Runs before each call is applied; may throw to fail it, or change state to simulate a race. */
  beforeCall: ((operation: string) => void | Promise<void>) | undefined;
  #nextId = 1;

  addVnic(vnic: Partial<VnicInfo> & { id: string; subnetId: string }): void {
    this.vnics.set(vnic.id, {
      compartmentId: "ocid1.compartment.test",
      availabilityDomain: "AD-1",
      privateIp: "",
      isPrimary: true,
      ...vnic,
    });
  }

  addPrivateIp(info: {
    ipAddress: string;
    vnicId: string;
    freeformTags?: FreeformTags;
    isPrimary?: boolean;
  }): string {
    const vnic = this.#vnic(info.vnicId);
    const id = `ocid1.privateip.test.${this.#nextId++}`;
    this.privateIps.set(id, {
      id,
      ipAddress: info.ipAddress,
      vnicId: info.vnicId,
      subnetId: vnic.subnetId,
      isPrimary: info.isPrimary ?? false,
      freeformTags: { ...(info.freeformTags ?? {}) },
      version: 1,
    });
    return id;
  }

  /** Moves a private IP directly, as another node (or an operator) would. */
  setPrivateIp(id: string, change: { vnicId?: string; freeformTags?: FreeformTags }): void {
    const stored = this.#privateIp(id);
    if (change.vnicId !== undefined) stored.vnicId = change.vnicId;
    if (change.freeformTags !== undefined) stored.freeformTags = { ...change.freeformTags };
    stored.version++;
  }

  byAddress(ipAddress: string): PrivateIpInfo | undefined {
    for (const stored of this.privateIps.values()) if (stored.ipAddress === ipAddress) return view(stored);
    return undefined;
  }

  async getVnic(vnicId: string): Promise<VnicInfo> {
    await this.#enter("GetVnic");
    return { ...this.#vnic(vnicId) };
  }

  async listPrivateIps(filter: {
    subnetId?: string;
    ipAddress?: string;
    vnicId?: string;
  }): Promise<PrivateIpInfo[]> {
    await this.#enter("ListPrivateIps");
    return [...this.privateIps.values()]
      .filter(
        (ip) =>
          (filter.subnetId === undefined || ip.subnetId === filter.subnetId) &&
          (filter.ipAddress === undefined || ip.ipAddress === filter.ipAddress) &&
          (filter.vnicId === undefined || ip.vnicId === filter.vnicId),
      )
      .map(view);
  }

  async getPrivateIp(privateIpId: string): Promise<Versioned<PrivateIpInfo>> {
    await this.#enter("GetPrivateIp");
    const stored = this.#privateIp(privateIpId);
    return { value: view(stored), etag: etagOf(stored) };
  }

  async updatePrivateIp(
    privateIpId: string,
    details: { vnicId?: string; freeformTags?: FreeformTags },
    ifMatch: string | undefined,
  ): Promise<Versioned<PrivateIpInfo>> {
    await this.#enter("UpdatePrivateIp");
    const stored = this.#privateIp(privateIpId);
    if (ifMatch !== undefined && ifMatch !== etagOf(stored)) {
      throw new OciCloudError("FLOATIP_E_OCI_API", "UpdatePrivateIp: 412 NoEtagMatch", {
        detail: { operation: "UpdatePrivateIp", status: 412, serviceCode: "NoEtagMatch" },
      });
    }
    if (details.vnicId !== undefined) {
      const target = this.#vnic(details.vnicId);
      if (target.subnetId !== stored.subnetId) {
        throw new OciCloudError("FLOATIP_E_OCI_API", "UpdatePrivateIp: 400 InvalidParameter other subnet", {
          detail: { operation: "UpdatePrivateIp", status: 400, serviceCode: "InvalidParameter" },
        });
      }
    }
    this.setPrivateIp(privateIpId, details);
    return { value: view(stored), etag: etagOf(stored) };
  }

  async createPrivateIp(details: {
    vnicId: string;
    ipAddress: string;
    freeformTags?: FreeformTags;
  }): Promise<Versioned<PrivateIpInfo>> {
    await this.#enter("CreatePrivateIp");
    if (this.byAddress(details.ipAddress)) {
      throw new OciCloudError("FLOATIP_E_OCI_API", "CreatePrivateIp: 409 Conflict", {
        detail: { operation: "CreatePrivateIp", status: 409, serviceCode: "Conflict" },
      });
    }
    const id = this.addPrivateIp(details);
    const stored = this.#privateIp(id);
    return { value: view(stored), etag: etagOf(stored) };
  }

  async listVnicAttachments(): Promise<VnicAttachmentInfo[]> {
    await this.#enter("ListVnicAttachments");
    return [];
  }

  async getInstance(instanceId: string): Promise<InstanceInfo> {
    await this.#enter("GetInstance");
    return {
      id: instanceId,
      displayName: instanceId,
      lifecycleState: "RUNNING",
      availabilityDomain: "AD-1",
      compartmentId: "ocid1.compartment.test",
    };
  }

  async instanceAction(instanceId: string): Promise<InstanceInfo> {
    await this.#enter("InstanceAction");
    return this.getInstance(instanceId);
  }

  lastServerClock(): ServerClockSample | undefined {
    return undefined;
  }

  async #enter(operation: string): Promise<void> {
    this.calls.push(operation);
    await this.beforeCall?.(operation);
  }

  #vnic(id: string): VnicInfo {
    const vnic = this.vnics.get(id);
    if (!vnic) throw notFound(`VNIC ${id}`);
    return vnic;
  }

  #privateIp(id: string): StoredPrivateIp {
    const stored = this.privateIps.get(id);
    if (!stored) throw notFound(`private IP ${id}`);
    return stored;
  }
}

function view(stored: StoredPrivateIp): PrivateIpInfo {
  const { version: _version, ...info } = stored;
  return { ...info, freeformTags: { ...info.freeformTags } };
}

function etagOf(stored: StoredPrivateIp): string {
  return `${stored.id}#${stored.version}`;
}

function notFound(what: string): OciCloudError {
  return new OciCloudError("FLOATIP_E_OCI_NOT_AUTHORIZED", `${what}: 404 NotAuthorizedOrNotFound`, {
    detail: { status: 404, serviceCode: "NotAuthorizedOrNotFound" },
  });
}
