import {
  idSchema,
  type ClusterConfig,
  type OperationConfig,
  type StonithDeviceConfig,
} from "../config/schema.ts";
import { parseDuration } from "../config/duration.ts";
import { HostMapError, parseHostMap } from "./host-map.ts";

/**
 * pcs stonith create / delete applied to a configuration draft. Pure, like config/commands.ts: checks come
 * first, so a rejected command leaves the draft unchanged. Whether the agent is installed is checked by
 * the caller (it needs the file system).
 */

export type StonithCommandErrorCode =
  "FLOATIP_E_STONITH_UNKNOWN" | "FLOATIP_E_STONITH_INVALID" | "FLOATIP_E_ID_EXISTS" | "FLOATIP_E_ID_INVALID";

export class StonithCommandError extends Error {
  override readonly name = "StonithCommandError";
  constructor(
    readonly code: StonithCommandErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface StonithInput {
  id: string;
  type: string;
  params?: Record<string, string>;
  meta?: Record<string, string>;
  ops?: OperationConfig[];
}

/** pcs accepts the agent as `stonith:fence_xvm` or `fence_xvm`. */
export function normalizeStonithType(type: string): string {
  return type.startsWith("stonith:") ? type.slice("stonith:".length) : type;
}

function idsInUse(draft: ClusterConfig): Set<string> {
  return new Set([
    ...draft.resources.map((r) => r.id),
    ...draft.groups.map((g) => g.id),
    ...draft.stonith.map((d) => d.id),
    ...draft.constraints.location.map((c) => c.id),
    ...draft.constraints.colocation.map((c) => c.id),
    ...draft.constraints.order.map((c) => c.id),
    ...draft.alerts.flatMap((a) => [a.id, ...a.recipients.map((r) => r.id)]),
  ]);
}

/** Problems with the Pacemaker-level device parameters every type shares. */
export function commonParamProblems(params: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const map = params["pcmk_host_map"];
  if (map !== undefined) {
    try {
      parseHostMap(map);
    } catch (error) {
      if (!(error instanceof HostMapError)) throw error;
      problems.push(error.message);
    }
  }
  for (const name of ["pcmk_delay_base", "pcmk_delay_max"]) {
    const value = params[name];
    if (value === undefined) continue;
    // pcmk_delay_base may also be per target: "node1:0s;node2:5s".
    const parts = name === "pcmk_delay_base" && value.includes(":") ? perTarget(value) : [value];
    for (const part of parts) {
      try {
        parseDuration(part);
      } catch {
        problems.push(
          `${name}=${value} is not a duration (e.g. 5s) or, for pcmk_delay_base, node1:0s;node2:5s`,
        );
        break;
      }
    }
  }
  return problems;
}

function perTarget(text: string): string[] {
  try {
    return [...parseHostMap(text).values()];
  } catch {
    return [text];
  }
}

/** pcs stonith create NAME TYPE [params] [op ...] [meta ...]; returns the device as stored. */
export function createStonith(draft: ClusterConfig, input: StonithInput): StonithDeviceConfig {
  const parsed = idSchema.safeParse(input.id);
  if (!parsed.success) {
    throw new StonithCommandError(
      "FLOATIP_E_ID_INVALID",
      `invalid stonith id '${input.id}': ${parsed.error.issues[0]?.message ?? "not a valid id"}`,
    );
  }
  if (idsInUse(draft).has(input.id)) {
    throw new StonithCommandError("FLOATIP_E_ID_EXISTS", `'${input.id}' already exists`);
  }
  const type = normalizeStonithType(input.type);
  if (!/^fence_[A-Za-z0-9_]+$/.test(type)) {
    throw new StonithCommandError(
      "FLOATIP_E_STONITH_INVALID",
      `'${input.type}' is not a fence agent; use fence_oci, fence_exec or an installed fence_* agent ('floatip stonith list')`,
    );
  }
  const params = input.params ?? {};
  const problems = commonParamProblems(params);
  if (problems.length > 0) throw new StonithCommandError("FLOATIP_E_STONITH_INVALID", problems.join("; "));
  const device: StonithDeviceConfig = {
    id: input.id,
    type,
    params: { ...params },
    meta: { ...(input.meta ?? {}) },
    ops: [...(input.ops ?? [])],
  };
  draft.stonith = [...draft.stonith, device];
  return device;
}

/** pcs stonith delete|remove NAME. */
export function deleteStonith(draft: ClusterConfig, id: string): void {
  if (!draft.stonith.some((d) => d.id === id)) {
    throw new StonithCommandError("FLOATIP_E_STONITH_UNKNOWN", `Resource '${id}' does not exist`);
  }
  draft.stonith = draft.stonith.filter((d) => d.id !== id);
  // Constraints on a removed device would dangle; pcs removes them with the resource as well.
  draft.constraints.location = draft.constraints.location.filter((c) => c.resource !== id);
}

/** The cluster properties that steer fencing, with Pacemaker's defaults. */
export interface StonithProperties {
  enabled: boolean;
  action: "off" | "reboot";
  timeoutMs: number;
}

export function stonithProperties(config: ClusterConfig): StonithProperties {
  const timeoutText = config.properties["stonith-timeout"];
  let timeoutMs = 60_000;
  if (timeoutText !== undefined) {
    try {
      timeoutMs = parseDuration(timeoutText);
    } catch {
      // property set validates it; a hand-edited bad value falls back to the default.
    }
  }
  const action = config.properties["stonith-action"];
  return {
    enabled: config.properties["stonith-enabled"] !== "false",
    action: action === "off" || action === "poweroff" ? "off" : "reboot",
    timeoutMs: timeoutMs > 0 ? timeoutMs : 60_000,
  };
}
