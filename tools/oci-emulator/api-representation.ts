import type {
  EmulatedInstance,
  EmulatedPrivateIp,
  EmulatedSubnet,
  EmulatedVnic,
  EmulatorState,
} from "./cloud-state.ts";

/** The Core API's JSON shapes (camelCase, as in oci-core's lib/model/*.d.ts) for the emulated resources. */

export function privateIpJson(state: EmulatorState, p: EmulatedPrivateIp): Record<string, unknown> {
  const vnic = state.vnics.get(p.vnicId);
  const subnet = state.subnets.get(p.subnetId);
  const instance = vnic === undefined ? undefined : state.instances.get(vnic.instanceId);
  // OCI: null for a secondary private IP on a regional subnet, otherwise the VNIC's availability domain
  const availabilityDomain =
    !p.isPrimary && subnet?.availabilityDomain === null ? null : (instance?.availabilityDomain ?? null);
  return {
    id: p.id,
    availabilityDomain,
    compartmentId: p.compartmentId,
    definedTags: {},
    displayName: p.displayName,
    freeformTags: { ...p.freeformTags },
    hostnameLabel: p.hostnameLabel ?? null,
    ipAddress: p.ipAddress,
    isPrimary: p.isPrimary,
    subnetId: p.subnetId,
    timeCreated: p.timeCreated,
    vnicId: p.vnicId,
    ipState: "ASSIGNED",
    lifetime: "EPHEMERAL",
  };
}

export function vnicJson(state: EmulatorState, v: EmulatedVnic): Record<string, unknown> {
  const instance = state.instances.get(v.instanceId);
  return {
    id: v.id,
    availabilityDomain: instance?.availabilityDomain,
    compartmentId: instance?.compartmentId ?? state.compartmentId,
    definedTags: {},
    displayName: `${instance?.displayName ?? "vnic"}-vnic${v.nicIndex}`,
    freeformTags: {},
    isPrimary: v.isPrimary,
    lifecycleState: "AVAILABLE",
    macAddress: v.macAddress,
    nsgIds: [],
    privateIp: v.privateIp,
    skipSourceDestCheck: false,
    subnetId: v.subnetId,
    timeCreated: v.timeCreated,
  };
}

export function subnetJson(s: EmulatedSubnet): Record<string, unknown> {
  return {
    id: s.id,
    availabilityDomain: s.availabilityDomain,
    cidrBlock: s.cidrBlock,
    compartmentId: s.compartmentId,
    definedTags: {},
    displayName: s.displayName,
    freeformTags: {},
    lifecycleState: "AVAILABLE",
    prohibitInternetIngress: true,
    prohibitPublicIpOnVnic: true,
    routeTableId: `${s.vcnId.replace("vcn", "routetable")}`,
    securityListIds: [],
    timeCreated: s.timeCreated,
    vcnId: s.vcnId,
    virtualRouterIp: s.virtualRouterIp,
    virtualRouterMac: s.virtualRouterMac,
  };
}

export function vnicAttachmentJson(state: EmulatorState, v: EmulatedVnic): Record<string, unknown> {
  const instance = state.instances.get(v.instanceId);
  return {
    id: v.attachmentId,
    availabilityDomain: instance?.availabilityDomain,
    compartmentId: instance?.compartmentId ?? state.compartmentId,
    displayName: `${instance?.displayName ?? "vnic"}-attachment${v.nicIndex}`,
    instanceId: v.instanceId,
    lifecycleState: "ATTACHED",
    nicIndex: v.nicIndex,
    subnetId: v.subnetId,
    timeCreated: v.timeCreated,
    vlanTag: v.vlanTag,
    vnicId: v.id,
  };
}

export function instanceJson(state: EmulatorState, i: EmulatedInstance): Record<string, unknown> {
  return {
    id: i.id,
    availabilityDomain: i.availabilityDomain,
    compartmentId: i.compartmentId,
    definedTags: {},
    displayName: i.displayName,
    faultDomain: i.faultDomain,
    freeformTags: {},
    lifecycleState: i.lifecycleState,
    metadata: {},
    region: state.region.metadataRegion,
    shape: i.shape,
    timeCreated: i.timeCreated,
  };
}
