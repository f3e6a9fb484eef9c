import { existsSync } from "node:fs";
import { EXEC_CHECK_TYPE, validateExecCheckParams } from "./exec-check.ts";
import { HTTP_CHECK_TYPE, validateHttpCheckParams } from "./http-check.ts";
import { validateIpAddressParams } from "./ip-address.ts";
import { OcfAgent } from "./ocf-agent.ts";
import { DEFAULT_OCF_ROOT, ocfScriptPath, parseOcfType } from "./ocf-metadata.ts";
import { TCP_CHECK_TYPE, validateTcpCheckParams } from "./tcp-check.ts";

/** The resource agent types this host can run, and how each checks a resource's parameters. */

/** IPaddr2 runs natively (a local address, or a cloud VIP on cloud=oci clusters), not through its script. */
export const IPADDR2_TYPE = "ocf:heartbeat:IPaddr2";

/** Health checks: `floatip:check:http` also under an OCF-style name for Pacemaker habits. */
const CHECK_TYPES: Record<string, { validate(params: Readonly<Record<string, string>>): string[] }> = {
  [HTTP_CHECK_TYPE]: { validate: validateHttpCheckParams },
  "ocf:floatip:http-check": { validate: validateHttpCheckParams },
  [TCP_CHECK_TYPE]: { validate: validateTcpCheckParams },
  [EXEC_CHECK_TYPE]: { validate: validateExecCheckParams },
};

/** Null when floatip can run `type` here; otherwise the pcs-style reason and what is available. */
export function unsupportedTypeMessage(type: string, ocfRoot = DEFAULT_OCF_ROOT): string | null {
  if (type === IPADDR2_TYPE || CHECK_TYPES[type]) return null;
  if (type.startsWith("ocf:")) {
    try {
      if (existsSync(ocfScriptPath(ocfRoot, parseOcfType(type)))) return null;
    } catch {
      // A malformed ocf type name falls through to the message below.
    }
  }
  return `FLOATIP_E_AGENT_UNKNOWN: Agent '${type}' is not installed or does not provide valid metadata; use ${IPADDR2_TYPE}, ${Object.keys(CHECK_TYPES).join(", ")} or an installed OCF agent ('floatip resource agents' lists them)`;
}

/** Problems with a resource's parameters, one line each, checked against the agent's own definition. */
export async function validateResourceParams(
  type: string,
  params: Readonly<Record<string, string>>,
): Promise<string[]> {
  if (type === IPADDR2_TYPE) return validateIpAddressParams(params);
  const check = CHECK_TYPES[type];
  if (check) return check.validate(params);
  const agent = await OcfAgent.load(type);
  return agent.validate(params);
}
