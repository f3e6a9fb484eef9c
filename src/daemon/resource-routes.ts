import { z } from "zod";
import { ApiError } from "../api/protocol.ts";
import {
  addColocation,
  addLocation,
  addOrder,
  addToGroup,
  ban,
  clear,
  ConfigCommandError,
  disableResources,
  enableResources,
  move,
  parseLifetime,
  removeColocation,
  removeConstraint,
  removeFromGroup,
  removeOrders,
  setMeta,
  setProperties,
  setResourceDefaults,
  setStandby,
  ungroup,
  unsetProperty,
  updateResource,
} from "../config/commands.ts";
import { ConfigError } from "../config/errors.ts";
import { nodeNameSchema, operationSchema, type ClusterConfig } from "../config/schema.ts";
import { validateResourceParams } from "../agents/agent-types.ts";
import type { Daemon } from "./daemon.ts";
import { findSelf } from "./self-identity.ts";

/**
 * The admin calls behind `floatip resource update|meta|enable|disable|group|move|ban|clear`,
 * `constraint ...`, `property ...` and `node standby|unstandby`. Each applies one pure command from
 * config/commands.ts inside daemon.updateConfig, so the change is validated, stored as the next epoch
 * and replicated; a rejected command changes nothing.
 */

const attributes = z.record(z.string().max(256), z.string().max(8192)).default({});
/** Names are checked by the commands (with pcs messages), so bodies only bound their size. */
const name = z.string().min(1).max(256);
const names = z.array(name).max(256);
const force = z.boolean().default(false);

const updateBody = z.object({
  id: name,
  params: attributes,
  meta: attributes,
  ops: z.array(operationSchema).max(16).default([]),
});
const moveBody = z.object({ id: name, node: name.optional(), lifetime: z.string().max(64).optional() });
const groupBody = z.object({ group: name, resources: names.default([]) });
const locationBody = z.object({
  resource: name,
  mode: z.enum(["prefers", "avoids"]),
  nodes: z
    .array(z.object({ node: name, score: z.string().max(32).optional() }))
    .min(1)
    .max(64),
  force,
});

/** What every change route answers: the committed epoch, plus what the command reports. */
export interface ChangeResult {
  epoch: number;
}

/** Runs one command in a config transaction; command and validation errors become one-line API errors. */
function change<T extends object>(daemon: Daemon, command: (draft: ClusterConfig) => T): ChangeResult & T {
  let result: T | undefined;
  try {
    const next = daemon.updateConfig((draft) => {
      result = command(draft);
    });
    return { epoch: next.epoch, ...(result as T) };
  } catch (error) {
    throw toApiError(error);
  }
}

/** ConfigCommandError, ConfigError and coded errors keep their code; the message loses its code prefix. */
export function toApiError(error: unknown): unknown {
  if (error instanceof ConfigCommandError) return new ApiError(error.code, error.message);
  if (error instanceof ConfigError) {
    const message = error.message.replace(`${error.code}: `, "");
    return new ApiError(error.code, error.field ? `${error.field}: ${message}` : message);
  }
  const coded = error as { code?: unknown; message?: unknown };
  if (typeof coded.code === "string" && coded.code.startsWith("FLOATIP_E_")) {
    return new ApiError(coded.code, String(coded.message).replace(`${coded.code}: `, ""));
  }
  return error;
}

function currentNodeOf(daemon: Daemon, id: string): string | undefined {
  const config = daemon.loadConfig();
  const group = config?.groups.find((g) => g.id === id);
  // A group runs where its members run; the first member that runs says where.
  const members = group ? group.resources : [id];
  const resources = daemon.status().resources;
  for (const member of members) {
    const node = resources.find((r) => r.id === member)?.runningOn[0];
    if (node !== undefined) return node;
  }
  return undefined;
}

function localNodeName(daemon: Daemon): string {
  const config = daemon.loadConfig();
  if (!config) {
    throw new ApiError(
      "FLOATIP_E_NO_CLUSTER",
      "this node is not in a cluster; run 'floatip cluster setup' first",
    );
  }
  try {
    return findSelf(config, daemon.options.nodeName ?? process.env["FLOATIP_NODE_NAME"]).name;
  } catch (error) {
    throw toApiError(error);
  }
}

function lifetimeOf(text: string | undefined): { lifetimeMs?: number } {
  if (text === undefined) return {};
  try {
    return { lifetimeMs: parseLifetime(text) };
  } catch (error) {
    throw toApiError(error);
  }
}

export function registerResourceRoutes(daemon: Daemon): void {
  const api = daemon.api;
  const post = <S extends z.ZodType>(path: string, schema: S, handle: (body: z.infer<S>) => unknown) =>
    api.add({ method: "POST", path, scope: "local", schema, handle: async (body) => handle(body) });

  post("/v1/resource/update", updateBody, async ({ id, params, meta, ops }) => {
    // Dry run on a copy first, so the new parameters are checked against the agent before anything is stored.
    const current = daemon.loadConfig();
    if (current) {
      const preview = structuredClone(current);
      try {
        updateResource(preview, id, { params, meta, ops });
      } catch (error) {
        throw toApiError(error);
      }
      const updated = preview.resources.find((r) => r.id === id);
      const problems = updated ? await validateResourceParams(updated.type, updated.params) : [];
      if (problems.length > 0) throw new ApiError("FLOATIP_E_PARAM_INVALID", problems.join("; "));
    }
    return change(daemon, (d) => {
      updateResource(d, id, { params, meta, ops });
      return {};
    });
  });
  post("/v1/resource/defaults", z.object({ values: attributes }), ({ values }) =>
    change(daemon, (d) => {
      setResourceDefaults(d, values);
      return {};
    }),
  );
  post("/v1/resource/meta", z.object({ id: name, meta: attributes }), ({ id, meta }) =>
    change(daemon, (d) => {
      setMeta(d, id, meta);
      return {};
    }),
  );
  post("/v1/resource/enable", z.object({ ids: names.min(1) }), ({ ids }) =>
    change(daemon, (d) => {
      enableResources(d, ids);
      return {};
    }),
  );
  post("/v1/resource/disable", z.object({ ids: names.min(1) }), ({ ids }) =>
    change(daemon, (d) => {
      disableResources(d, ids);
      return {};
    }),
  );
  post(
    "/v1/resource/group-add",
    groupBody.extend({ resources: names.min(1), before: name.optional(), after: name.optional() }),
    ({ group, resources, before, after }) =>
      change(daemon, (d) =>
        addToGroup(d, group, resources, {
          ...(before === undefined ? {} : { before }),
          ...(after === undefined ? {} : { after }),
        }),
      ),
  );
  post("/v1/resource/group-remove", groupBody, ({ group, resources }) =>
    change(daemon, (d) => removeFromGroup(d, group, resources)),
  );
  post("/v1/resource/ungroup", groupBody, ({ group, resources }) =>
    change(daemon, (d) => ungroup(d, group, resources)),
  );
  post("/v1/resource/move", moveBody, ({ id, node, lifetime }) => {
    const options = { nowMs: Date.now(), ...lifetimeOf(lifetime) };
    const currentNode = node === undefined ? currentNodeOf(daemon, id) : undefined;
    return change(daemon, (d) => ({
      constraint: move(d, id, node, { ...options, ...(currentNode ? { currentNode } : {}) }),
    }));
  });
  post("/v1/resource/ban", moveBody, ({ id, node, lifetime }) => {
    const options = { nowMs: Date.now(), ...lifetimeOf(lifetime) };
    const currentNode = node === undefined ? currentNodeOf(daemon, id) : undefined;
    return change(daemon, (d) => ({
      constraint: ban(d, id, node, { ...options, ...(currentNode ? { currentNode } : {}) }),
    }));
  });
  post("/v1/resource/clear", z.object({ id: name, node: name.optional() }), ({ id, node }) =>
    change(daemon, (d) => ({ removed: clear(d, id, node) })),
  );

  post("/v1/constraint/location", locationBody, ({ resource, mode, nodes, force }) =>
    change(daemon, (d) => ({
      ids: addLocation(
        d,
        resource,
        mode,
        nodes.map((n) => (n.score === undefined ? { node: n.node } : { node: n.node, score: n.score })),
        { force },
      ),
    })),
  );
  post(
    "/v1/constraint/colocation",
    z.object({
      resource: name,
      withResource: name,
      score: z.string().max(32).optional(),
      id: name.optional(),
      force,
    }),
    ({ resource, withResource, score, id, force }) =>
      change(daemon, (d) => ({
        id: addColocation(d, resource, withResource, {
          force,
          ...(score === undefined ? {} : { score }),
          ...(id === undefined ? {} : { id }),
        }),
      })),
  );
  post(
    "/v1/constraint/order",
    z.object({
      first: name,
      then: name,
      kind: z.string().max(32).optional(),
      symmetrical: z.boolean().optional(),
      id: name.optional(),
      force,
    }),
    ({ first, then, kind, symmetrical, id, force }) =>
      change(daemon, (d) => ({
        id: addOrder(d, first, then, {
          force,
          ...(kind === undefined ? {} : { kind }),
          ...(symmetrical === undefined ? {} : { symmetrical }),
          ...(id === undefined ? {} : { id }),
        }),
      })),
  );
  post(
    "/v1/constraint/remove",
    z.object({ ids: names.min(1), kind: z.enum(["location", "colocation", "order"]).optional() }),
    ({ ids, kind }) =>
      change(daemon, (d) => {
        for (const id of ids) removeConstraint(d, id, kind);
        return { removed: ids };
      }),
  );
  post("/v1/constraint/colocation-remove", z.object({ resource: name, withResource: name }), (b) =>
    change(daemon, (d) => ({ removed: removeColocation(d, b.resource, b.withResource) })),
  );
  post("/v1/constraint/order-remove", z.object({ resources: names.min(1) }), ({ resources }) =>
    change(daemon, (d) => ({ removed: removeOrders(d, resources) })),
  );
  api.add({
    method: "GET",
    path: "/v1/constraints",
    scope: "local",
    schema: z.object({}),
    handle: async () => {
      const config = daemon.loadConfig();
      return {
        constraints: config?.constraints ?? { location: [], colocation: [], order: [] },
        nowMs: Date.now(),
      };
    },
  });

  post("/v1/property/set", z.object({ values: attributes, force }), ({ values, force }) =>
    change(daemon, (d) => {
      setProperties(d, values, { force });
      return {};
    }),
  );
  post("/v1/property/unset", z.object({ names: names.min(1), force }), ({ names, force }) =>
    change(daemon, (d) => {
      for (const n of names) unsetProperty(d, n, { force });
      return {};
    }),
  );
  api.add({
    method: "GET",
    path: "/v1/properties",
    scope: "local",
    schema: z.object({}),
    handle: async () => ({ properties: daemon.loadConfig()?.properties ?? {} }),
  });

  post(
    "/v1/node/standby",
    z.object({
      all: z.boolean().default(false),
      nodes: z.array(nodeNameSchema).max(64).default([]),
      on: z.boolean(),
    }),
    ({ all, nodes, on }) => {
      if (all && nodes.length > 0) {
        throw new ApiError("FLOATIP_E_ARGUMENT_INVALID", "Cannot specify both --all and a list of nodes.");
      }
      const targets = all ? ("all" as const) : nodes.length > 0 ? nodes : [localNodeName(daemon)];
      return change(daemon, (d) => {
        setStandby(d, targets, on);
        return {};
      });
    },
  );
}
