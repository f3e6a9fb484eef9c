import { z } from "zod";
import { ApiError, invalidParameter, notAuthorizedOrNotFound } from "./api-error.ts";
import {
  instanceJson,
  privateIpJson,
  subnetJson,
  vnicAttachmentJson,
  vnicJson,
} from "./api-representation.ts";
import { INSTANCE_ACTIONS, type EmulatorState, type InstanceActionName } from "./cloud-state.ts";
import type { Principal } from "./core-authentication.ts";
import { jsonReply, parseJsonBody, type Reply } from "./http-exchange.ts";
import { missingGrants, type CoreOperation } from "./iam-permissions.ts";

/**
 * The Core API routes floatip uses (VirtualNetworkClient and ComputeClient under /20160918), at the SDK's paths,
 * methods and query names (oci-core lib/client.js). Called after the request is authenticated.
 */

export const CORE_API_PREFIX = "/20160918";

export interface CoreCall {
  method: string;
  /** path below /20160918, still URL-encoded */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  principal: Principal;
  permissions: readonly string[];
  now: number;
}

interface Route {
  method: string;
  pattern: RegExp;
  operation: CoreOperation;
  handle: (state: EmulatorState, call: CoreCall, id: string) => Reply;
}

const tagsSchema = z.record(z.string(), z.string());
const updatePrivateIpSchema = z.looseObject({
  vnicId: z.string().optional(),
  displayName: z.string().optional(),
  hostnameLabel: z.string().optional(),
  freeformTags: tagsSchema.optional(),
});
const createPrivateIpSchema = updatePrivateIpSchema.extend({
  ipAddress: z.string().optional(),
  subnetId: z.string().optional(),
});

function parseDetails<T>(schema: z.ZodType<T>, body: Buffer): T {
  const parsed = schema.safeParse(parseJsonBody(body) ?? {});
  if (!parsed.success) throw invalidParameter(`invalid request body: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function ifMatchOf(call: CoreCall): string | undefined {
  const value = call.headers["if-match"];
  return Array.isArray(value) ? value[0] : value;
}

function queryValue(call: CoreCall, name: string): string | undefined {
  return call.query.get(name) ?? undefined;
}

/** OCI pagination: `page` is an opaque token (here the offset), `opc-next-page` says there is more. */
function paginate<T>(items: T[], call: CoreCall): { page: T[]; headers: Record<string, string> } {
  const limit = Number(queryValue(call, "limit") ?? "100");
  const offset = Number(queryValue(call, "page") ?? "0");
  if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
    throw invalidParameter("limit must be a positive integer and page a token from opc-next-page");
  }
  const page = items.slice(offset, offset + limit);
  const headers: Record<string, string> = {};
  if (offset + limit < items.length) headers["opc-next-page"] = String(offset + limit);
  return { page, headers };
}

const ROUTES: Route[] = [
  {
    method: "GET",
    pattern: /^\/privateIps\/([^/]+)$/,
    operation: "GetPrivateIp",
    handle: (state, _call, id) => {
      const p = state.getPrivateIp(id);
      return jsonReply(privateIpJson(state, p), { etag: p.etag });
    },
  },
  {
    method: "GET",
    pattern: /^\/privateIps$/,
    operation: "ListPrivateIps",
    handle: (state, call) => {
      const filter = {
        ...(queryValue(call, "ipAddress") === undefined ? {} : { ipAddress: queryValue(call, "ipAddress") }),
        ...(queryValue(call, "subnetId") === undefined ? {} : { subnetId: queryValue(call, "subnetId") }),
        ...(queryValue(call, "vnicId") === undefined ? {} : { vnicId: queryValue(call, "vnicId") }),
      };
      const { page, headers } = paginate(state.listPrivateIps(filter), call);
      return jsonReply(
        page.map((p) => privateIpJson(state, p)),
        headers,
      );
    },
  },
  {
    method: "POST",
    pattern: /^\/privateIps$/,
    operation: "CreatePrivateIp",
    handle: (state, call) => {
      const details = parseDetails(createPrivateIpSchema, call.body);
      const p = state.createPrivateIp(details, call.now);
      return jsonReply(privateIpJson(state, p), { etag: p.etag });
    },
  },
  {
    method: "PUT",
    pattern: /^\/privateIps\/([^/]+)$/,
    operation: "UpdatePrivateIp",
    handle: (state, call, id) => {
      const details = parseDetails(updatePrivateIpSchema, call.body);
      const p = state.updatePrivateIp(id, details, ifMatchOf(call));
      return jsonReply(privateIpJson(state, p), { etag: p.etag });
    },
  },
  {
    method: "DELETE",
    pattern: /^\/privateIps\/([^/]+)$/,
    operation: "DeletePrivateIp",
    handle: (state, call, id) => {
      state.deletePrivateIp(id, ifMatchOf(call));
      return { status: 204 };
    },
  },
  {
    method: "GET",
    pattern: /^\/vnics\/([^/]+)$/,
    operation: "GetVnic",
    handle: (state, _call, id) => {
      const v = state.getVnic(id);
      return jsonReply(vnicJson(state, v), { etag: v.etag });
    },
  },
  {
    method: "GET",
    pattern: /^\/subnets\/([^/]+)$/,
    operation: "GetSubnet",
    handle: (state, _call, id) => {
      const s = state.getSubnet(id);
      return jsonReply(subnetJson(s), { etag: s.etag });
    },
  },
  {
    method: "GET",
    pattern: /^\/vnicAttachments$/,
    operation: "ListVnicAttachments",
    handle: (state, call) => {
      const compartmentId = queryValue(call, "compartmentId");
      if (compartmentId === undefined)
        throw new ApiError(400, "MissingParameter", "compartmentId is required");
      const instanceId = queryValue(call, "instanceId");
      const vnicId = queryValue(call, "vnicId");
      const availabilityDomain = queryValue(call, "availabilityDomain");
      const attachments = [...state.vnics.values()].filter((v) => {
        const instance = state.instances.get(v.instanceId);
        return (
          instance?.compartmentId === compartmentId &&
          (instanceId === undefined || v.instanceId === instanceId) &&
          (vnicId === undefined || v.id === vnicId) &&
          (availabilityDomain === undefined || instance.availabilityDomain === availabilityDomain)
        );
      });
      const { page, headers } = paginate(attachments, call);
      return jsonReply(
        page.map((v) => vnicAttachmentJson(state, v)),
        headers,
      );
    },
  },
  {
    method: "GET",
    pattern: /^\/instances\/([^/]+)$/,
    operation: "GetInstance",
    handle: (state, _call, id) => {
      const i = state.getInstance(id);
      return jsonReply(instanceJson(state, i), { etag: i.etag });
    },
  },
  {
    method: "GET",
    pattern: /^\/instances$/,
    operation: "ListInstances",
    handle: (state, call) => {
      const compartmentId = queryValue(call, "compartmentId");
      if (compartmentId === undefined)
        throw new ApiError(400, "MissingParameter", "compartmentId is required");
      const instances = [...state.instances.values()].filter((i) => i.compartmentId === compartmentId);
      const { page, headers } = paginate(instances, call);
      return jsonReply(
        page.map((i) => instanceJson(state, i)),
        headers,
      );
    },
  },
  {
    method: "POST",
    pattern: /^\/instances\/([^/]+)$/,
    operation: "InstanceAction",
    handle: (state, call, id) => {
      const action = queryValue(call, "action");
      if (!INSTANCE_ACTIONS.includes(action as InstanceActionName)) {
        throw invalidParameter(`action must be one of ${INSTANCE_ACTIONS.join(", ")}`);
      }
      state.getInstance(id);
      const i = state.instanceAction(id, action as InstanceActionName, ifMatchOf(call));
      return jsonReply(instanceJson(state, i), { etag: i.etag });
    },
  },
];

/** Routes, checks IAM for instance principals (API-key users are tenancy administrators), runs the operation. */
export function handleCoreCall(state: EmulatorState, call: CoreCall): Reply {
  for (const route of ROUTES) {
    const match = route.pattern.exec(call.path);
    if (match === null) continue;
    if (route.method !== call.method) continue;
    const id = decodeURIComponent(match[1] ?? "");
    if (call.principal.kind === "instance") {
      const missing = missingGrants(route.operation, call.permissions);
      if (missing.length > 0) {
        throw notAuthorizedOrNotFound(
          `${route.operation} needs the policy statement(s): ${missing.join("; ")}`,
        );
      }
    }
    return route.handle(state, call, id);
  }
  const pathKnown = ROUTES.some((r) => r.pattern.test(call.path));
  throw pathKnown
    ? new ApiError(405, "MethodNotAllowed", `${call.method} is not allowed on ${CORE_API_PREFIX}${call.path}`)
    : new ApiError(404, "NotFound", `no such operation: ${call.method} ${CORE_API_PREFIX}${call.path}`);
}
