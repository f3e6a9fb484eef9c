/**
 * IAM as OCI evaluates it for one dynamic group: statements "<verb> <resource-type>" (optionally the full
 * "allow dynamic-group g to <verb> <resource-type> in compartment c"), verbs ordered inspect < read < use < manage,
 * family resource types covering their members. A missing grant looks like a missing resource (404).
 */

export type CoreOperation =
  | "GetPrivateIp"
  | "ListPrivateIps"
  | "CreatePrivateIp"
  | "UpdatePrivateIp"
  | "DeletePrivateIp"
  | "GetVnic"
  | "GetSubnet"
  | "ListVnicAttachments"
  | "GetInstance"
  | "ListInstances"
  | "InstanceAction";

const VERBS = ["inspect", "read", "use", "manage"] as const;
type Verb = (typeof VERBS)[number];

/** From OCI's "Details for Verb + Resource-Type Combinations" (see shared/reference/oci-api.md section 4). */
export const REQUIRED_GRANTS: Record<CoreOperation, readonly string[]> = {
  GetPrivateIp: ["read private-ips"],
  ListPrivateIps: ["read private-ips"],
  UpdatePrivateIp: ["use private-ips", "use vnics"],
  CreatePrivateIp: ["use private-ips", "use vnics", "use subnets"],
  DeletePrivateIp: ["use private-ips", "use vnics", "use subnets"],
  GetVnic: ["inspect vnics"],
  GetSubnet: ["inspect subnets"],
  ListVnicAttachments: ["inspect vnic-attachments"],
  GetInstance: ["read instances"],
  ListInstances: ["inspect instances"],
  InstanceAction: ["use instances"],
};

const FAMILIES: Record<string, readonly string[]> = {
  "virtual-network-family": ["private-ips", "vnics", "subnets", "vcns"],
  "instance-family": ["instances", "vnic-attachments"],
};

interface Grant {
  verb: Verb;
  resource: string;
}

function parseGrant(statement: string): Grant | undefined {
  const match = /\b(inspect|read|use|manage)\s+([a-z-]+)/i.exec(statement);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { verb: match[1].toLowerCase() as Verb, resource: match[2].toLowerCase() };
}

function grantCovers(grant: Grant, needed: Grant): boolean {
  const resourceMatches =
    grant.resource === needed.resource ||
    grant.resource === "all-resources" ||
    (FAMILIES[grant.resource]?.includes(needed.resource) ?? false);
  return resourceMatches && VERBS.indexOf(grant.verb) >= VERBS.indexOf(needed.verb);
}

/** The required statements of `operation` that `statements` do not cover; empty when it is allowed. */
export function missingGrants(operation: CoreOperation, statements: readonly string[]): string[] {
  const grants = statements.flatMap((s) => parseGrant(s) ?? []);
  return REQUIRED_GRANTS[operation].filter((required) => {
    const needed = parseGrant(required);
    return needed !== undefined && !grants.some((g) => grantCovers(g, needed));
  });
}
