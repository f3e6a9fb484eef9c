import { z } from "zod";
import { ApiError, invalidParameter } from "./api-error.ts";
import { instanceJson } from "./api-representation.ts";
import { INSTANCE_ACTIONS, type EmulatorState } from "./cloud-state.ts";
import type { FaultControl } from "./fault-control.ts";
import { jsonReply, parseJsonBody, type Reply } from "./http-exchange.ts";

/**
 * /_emulator/...: how a test bed in another process steers the emulator. No authentication: the emulator only
 * ever listens on loopback, a test namespace or a private unix socket.
 *   GET  /_emulator/state
 *   POST /_emulator/faults                        {latencyMs, failNext:{count,status}, outageMs, rateLimit, permissions, clockSkewMs}
 *   POST /_emulator/instances/<id or name>/action {action}
 */

export const CONTROL_PREFIX = "/_emulator";

const faultsSchema = z.strictObject({
  latencyMs: z.number().min(0).optional(),
  failNext: z
    .object({
      count: z.number().int().min(0),
      status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(429)]),
    })
    .optional(),
  outageMs: z.number().min(0).nullable().optional(),
  rateLimit: z
    .object({ perSecond: z.number().positive(), burst: z.number().positive().optional() })
    .nullable()
    .optional(),
  permissions: z.array(z.string()).optional(),
  clockSkewMs: z.number().optional(),
});

const actionSchema = z.object({ action: z.enum(INSTANCE_ACTIONS as [string, ...string[]]) });

export function applyFaults(faults: FaultControl, input: unknown): void {
  const parsed = faultsSchema.safeParse(input ?? {});
  if (!parsed.success) throw invalidParameter(z.prettifyError(parsed.error));
  const f = parsed.data;
  if (f.latencyMs !== undefined) faults.setLatency(f.latencyMs);
  if (f.failNext !== undefined) faults.failNext(f.failNext.count, f.failNext.status);
  if (f.outageMs !== undefined) faults.outage(f.outageMs);
  if (f.rateLimit !== undefined) faults.setRateLimit(f.rateLimit);
  if (f.permissions !== undefined) faults.setPermissions(f.permissions);
  if (f.clockSkewMs !== undefined) faults.setClockSkew(f.clockSkewMs);
}

export function handleControlRequest(
  state: EmulatorState,
  faults: FaultControl,
  method: string,
  subPath: string,
  body: Buffer,
): Reply {
  if (method === "GET" && (subPath === "/state" || subPath === "/state/")) {
    return jsonReply({ ...state.snapshot(), faults: faults.describe() });
  }
  if (method === "POST" && subPath === "/faults") {
    applyFaults(faults, parseJsonBody(body));
    return jsonReply(faults.describe());
  }
  const action = /^\/instances\/([^/]+)\/action$/.exec(subPath);
  if (method === "POST" && action?.[1] !== undefined) {
    const parsed = actionSchema.safeParse(parseJsonBody(body));
    if (!parsed.success) throw invalidParameter(z.prettifyError(parsed.error));
    const instance = state.instanceAction(
      decodeURIComponent(action[1]),
      parsed.data.action as (typeof INSTANCE_ACTIONS)[number],
    );
    return jsonReply(instanceJson(state, instance));
  }
  throw new ApiError(404, "NotFound", `no control endpoint ${method} ${CONTROL_PREFIX}${subPath}`);
}
