/** The IAM setup floatip needs, written out so `floatip oci check` can print exactly what to add. */

export const DEFAULT_DYNAMIC_GROUP = "floatip-nodes";

export interface PolicyStatement {
  /** Verb and resource type, e.g. "use private-ips". */
  grant: string;
  statement: string;
  /** Which floatip feature needs it. */
  purpose: string;
}

/** Dynamic-group matching rules: one naming this instance, one for every instance in its compartment. */
export function dynamicGroupRules(
  instanceId: string,
  compartmentId: string,
): { instance: string; compartment: string } {
  return {
    instance: `Any {instance.id = '${instanceId}'}`,
    compartment: `All {instance.compartment.id = '${compartmentId}'}`,
  };
}

/** oci-api.md section 4: UpdatePrivateIp needs use private-ips + use vnics; Create also use subnets. */
const GRANTS: readonly { grant: string; purpose: string }[] = [
  { grant: "use private-ips", purpose: "read, move and tag the VIP" },
  { grant: "use vnics", purpose: "GetVnic and assigning the VIP to a VNIC" },
  { grant: "use subnets", purpose: "creating the VIP on first start" },
  { grant: "inspect vnic-attachments", purpose: "finding a peer's VNIC (fencing, dashboard)" },
  { grant: "use instances", purpose: "fencing by STOP/RESET (optional)" },
];

export function policyStatements(compartmentId: string, group = DEFAULT_DYNAMIC_GROUP): PolicyStatement[] {
  return GRANTS.map(({ grant, purpose }) => ({
    grant,
    purpose,
    statement: `Allow dynamic-group ${group} to ${grant} in compartment id ${compartmentId}`,
  }));
}

/** The fix text for missing permissions: the dynamic group and every statement, ready to paste. */
export function permissionFix(
  instanceId: string,
  compartmentId: string,
  group = DEFAULT_DYNAMIC_GROUP,
): string {
  const rules = dynamicGroupRules(instanceId, compartmentId);
  const statements = policyStatements(compartmentId, group);
  return [
    `put this instance in a dynamic group (e.g. ${group}) with the matching rule`,
    `  ${rules.instance}`,
    `or, for all instances of the compartment,`,
    `  ${rules.compartment}`,
    `and add these policy statements (in the compartment of the VNICs and subnet; IAM changes can take minutes to apply):`,
    ...statements.map((entry) => `  ${entry.statement}`),
    // Policy statements allow no comments, so the purposes go on a line of their own.
    `(${statements.map((entry) => `${entry.grant}: ${entry.purpose}`).join("; ")})`,
  ].join("\n");
}
