import { z } from "zod";
import { ApiError } from "../api/protocol.ts";
import { operationSchema, type ClusterConfig } from "../config/schema.ts";
import { availableFenceTypes, stonithDeviceProblems } from "../fencing/device-registry.ts";
import {
  createStonith,
  deleteStonith,
  normalizeStonithType,
  StonithCommandError,
} from "../fencing/stonith-config.ts";
import type { Daemon } from "./daemon.ts";
import { toApiError } from "./resource-routes.ts";

/**
 * `floatip stonith ...`: device definitions (each a pure command from fencing/stonith-config.ts inside
 * daemon.updateConfig), the available types, fencing a node by hand through this node's running cluster
 * services, and the fencing history this node keeps.
 */

const attributes = z.record(z.string().max(256), z.string().max(8192)).default({});
const name = z.string().min(1).max(256);

const createBody = z.object({
  id: name,
  type: name,
  params: attributes,
  meta: attributes,
  ops: z.array(operationSchema).max(16).default([]),
  /** --force: create even when the agent is not installed on this node (pcs's --force). */
  force: z.boolean().default(false),
});

function change(daemon: Daemon, command: (draft: ClusterConfig) => void): number {
  try {
    return daemon.updateConfig(command).epoch;
  } catch (error) {
    if (error instanceof StonithCommandError) throw new ApiError(error.code, error.message);
    throw toApiError(error);
  }
}

function requireConfig(daemon: Daemon): ClusterConfig {
  const config = daemon.runningNode?.currentConfig ?? daemon.loadConfig();
  if (!config) {
    throw new ApiError(
      "FLOATIP_E_NO_CLUSTER",
      "this node is not in a cluster; run 'floatip cluster setup' first",
    );
  }
  return config;
}

export function registerFenceRoutes(daemon: Daemon): void {
  const api = daemon.api;
  const post = <S extends z.ZodType>(
    path: string,
    schema: S,
    handle: (body: z.infer<S>) => Promise<unknown>,
  ) => api.add({ method: "POST", path, scope: "local", schema, handle: async (body) => handle(body) });

  post("/v1/stonith/create", createBody, async ({ force, ...input }) => {
    const type = normalizeStonithType(input.type);
    const problems = stonithDeviceProblems(type, input.params);
    // A missing agent can be forced (it may be installed on the other nodes); bad parameters cannot.
    const blocking = force ? problems.filter((p) => !p.startsWith("Agent '")) : problems;
    if (blocking.length > 0) {
      throw new ApiError(
        "FLOATIP_E_STONITH_INVALID",
        `${blocking.join("; ")}${problems.some((p) => p.startsWith("Agent '")) ? ", use --force to override" : ""}`,
      );
    }
    const epoch = change(daemon, (draft) => {
      createStonith(draft, { ...input, type });
    });
    return { epoch, id: input.id };
  });

  post("/v1/stonith/delete", z.object({ id: name }), async ({ id }) => {
    const epoch = change(daemon, (draft) => deleteStonith(draft, id));
    return { epoch, removed: id };
  });

  api.add({
    method: "GET",
    path: "/v1/stonith/types",
    scope: "local",
    schema: z.object({}),
    handle: async () => ({ types: availableFenceTypes() }),
  });

  post(
    "/v1/stonith/fence",
    z.object({ node: name, action: z.enum(["off", "reboot", "on", "status"]).default("reboot") }),
    async ({ node, action }) => {
      const config = requireConfig(daemon);
      if (!config.nodes.some((n) => n.name === node)) {
        throw new ApiError(
          "FLOATIP_E_NODE_UNKNOWN",
          `Node '${node}' does not appear to exist in configuration`,
        );
      }
      const fencing = daemon.runningFencing;
      if (!fencing) {
        throw new ApiError(
          "FLOATIP_E_NOT_RUNNING",
          "cluster services are not running on this node; run 'floatip cluster start' first",
        );
      }
      if (config.stonith.length === 0) {
        throw new ApiError(
          "FLOATIP_E_STONITH_FAILED",
          `no stonith devices are configured, so ${node} cannot be fenced; add one with 'floatip stonith create'`,
        );
      }
      const result = await fencing.fence(node, action, "manual");
      if (!result.ok)
        throw new ApiError("FLOATIP_E_STONITH_FAILED", `unable to fence ${node}: ${result.message}`);
      return result;
    },
  );

  api.add({
    method: "POST",
    path: "/v1/stonith/history",
    scope: "local",
    schema: z.object({ node: name.optional() }),
    handle: async ({ node }) => ({ history: daemon.runningFencing?.history(node) ?? [] }),
  });
}
