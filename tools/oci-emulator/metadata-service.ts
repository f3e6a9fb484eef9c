import { ApiError } from "./api-error.ts";
import type { EmulatedInstance, EmulatorState } from "./cloud-state.ts";
import type { Reply } from "./http-exchange.ts";
import type { IdentityCertificates } from "./identity-certificates.ts";

/**
 * Instance metadata service v2 (/opc/v2/...), answering for one already-identified instance.
 * Objects are JSON, leaves are plain text, as the real IMDS does, so `instance/region` reads as "iad".
 */

export interface MetadataRequest {
  instance: EmulatedInstance;
  /** path below /opc/v2/, e.g. "instance/", "instance/regionInfo/regionKey", "vnics/", "identity/cert.pem" */
  subPath: string;
  headers: Record<string, string | string[] | undefined>;
}

const FORBIDDEN_PROXY_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host"];

/** Rejects requests IMDS v2 rejects; separate so unknown-instance checks come after it, as on a real host. */
export function checkMetadataHeaders(headers: MetadataRequest["headers"]): void {
  if (FORBIDDEN_PROXY_HEADERS.some((name) => headers[name] !== undefined)) {
    throw new ApiError(
      400,
      "BadRequest",
      "requests carrying Forwarded or X-Forwarded-* headers are rejected",
    );
  }
  if (headers["authorization"] !== "Bearer Oracle") {
    throw new ApiError(
      401,
      "NotAuthenticated",
      "instance metadata v2 requires the header Authorization: Bearer Oracle",
    );
  }
}

function hostnameOf(displayName: string): string {
  return (
    displayName
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-")
      .slice(0, 63) || "instance"
  );
}

function adSuffix(availabilityDomain: string): string {
  return /AD-(\d+)$/i.exec(availabilityDomain)?.[1] ?? "1";
}

export function instanceDocument(state: EmulatorState, instance: EmulatedInstance): Record<string, unknown> {
  const region = state.region;
  return {
    availabilityDomain: instance.availabilityDomain,
    faultDomain: instance.faultDomain,
    compartmentId: instance.compartmentId,
    displayName: instance.displayName,
    hostname: hostnameOf(instance.displayName),
    id: instance.id,
    image: `ocid1.image.oc1.${region.shortCode}.emulatorimage`,
    metadata: {},
    region: region.metadataRegion,
    canonicalRegionName: region.regionIdentifier,
    ociAdName: `${region.shortCode}-ad-${adSuffix(instance.availabilityDomain)}`,
    regionInfo: {
      realmKey: region.realmKey,
      realmDomainComponent: region.realmDomainComponent,
      regionKey: region.regionKey,
      regionIdentifier: region.regionIdentifier,
    },
    shape: instance.shape,
    state: instance.lifecycleState === "RUNNING" ? "Running" : "Stopped",
    timeCreated: Date.parse(instance.timeCreated),
    freeformTags: {},
    definedTags: {},
  };
}

export function vnicsDocument(state: EmulatorState, instance: EmulatedInstance): Record<string, unknown>[] {
  return state.vnicsOf(instance).map((vnic) => {
    const subnet = state.subnetOf(vnic);
    return {
      vnicId: vnic.id,
      privateIp: vnic.privateIp,
      vlanTag: vnic.vlanTag,
      macAddr: vnic.macAddress,
      virtualRouterIp: subnet.virtualRouterIp,
      subnetCidrBlock: subnet.cidrBlock,
      nicIndex: vnic.nicIndex,
    };
  });
}

function walk(document: unknown, keys: string[]): unknown {
  let node = document;
  for (const key of keys) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function leafReply(value: unknown): Reply {
  if (value === undefined) throw new ApiError(404, "NotFound", "no such metadata key");
  if (value !== null && typeof value === "object") return { status: 200, body: value };
  return { status: 200, body: String(value) };
}

export async function handleMetadataRequest(
  state: EmulatorState,
  certificates: IdentityCertificates,
  request: MetadataRequest,
): Promise<Reply> {
  checkMetadataHeaders(request.headers);
  const [root, ...rest] = request.subPath.split("/").filter((part) => part !== "");
  switch (root) {
    case "instance":
      return leafReply(walk(instanceDocument(state, request.instance), rest));
    case "vnics":
      return leafReply(walk(vnicsDocument(state, request.instance), rest));
    case "identity": {
      const identity = await certificates.forInstance({
        instanceId: request.instance.id,
        tenancyId: state.tenancyId,
        compartmentId: request.instance.compartmentId,
      });
      const file = rest.join("/");
      if (file === "cert.pem") return leafReply(identity.certificatePem);
      if (file === "key.pem") return leafReply(identity.privateKeyPem);
      if (file === "intermediate.pem") return leafReply(identity.intermediatePem);
      throw new ApiError(404, "NotFound", `no identity file ${file}`);
    }
    default:
      throw new ApiError(404, "NotFound", `no metadata under /opc/v2/${request.subPath}`);
  }
}
