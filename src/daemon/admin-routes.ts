import { lookup } from "node:dns/promises";
import { z } from "zod";
import { callApi, callApiWithPeer } from "../api/client.ts";
import {
  ApiError,
  authRequestSchema,
  cleanupSchema,
  nodeSelectionSchema,
  remoteSetupSchema,
  remoteStopSchema,
  resourceCreateSchema,
  resourceIdSchema,
  setupRequestSchema,
  stopRequestSchema,
} from "../api/protocol.ts";
import { randomBytes } from "node:crypto";
import { addToGroup, deleteResource } from "../config/commands.ts";
import { clusterConfigSchema, heartbeatIntervalFor, type ClusterConfig } from "../config/schema.ts";
import { IPADDR2_TYPE, unsupportedTypeMessage, validateResourceParams } from "../agents/agent-types.ts";
import { detectCloud } from "../cloud/oci/detect.ts";
import { findSelf } from "./self-identity.ts";
import { registerResourceRoutes } from "./resource-routes.ts";
import { registerEventRoutes } from "./event-routes.ts";
import { registerAlertRoutes } from "./alert-routes.ts";
import { registerQuorumRoutes } from "./witness-routes.ts";
import { registerMetricsRoutes } from "./metrics-routes.ts";
import { registerDashboardRoutes } from "../web/dashboard-routes.ts";
import type { Daemon } from "./daemon.ts";
import { registerCredentialRoutes } from "./credential-routes.ts";
import { requireConfig } from "./require-config.ts";

const empty = z.object({});

/** The admin calls behind the CLI; local ones act on this node, remote ones are what peers call. */
export function registerAdminRoutes(daemon: Daemon): void {
  const api = daemon.api;
  const port = daemon.options.adminPort;

  api.add({
    method: "GET",
    path: "/v1/status",
    scope: "remote",
    schema: empty,
    handle: async () => daemon.status(),
  });

  registerCredentialRoutes(api, daemon.auth);

  api.add({
    method: "POST",
    path: "/v1/cluster/auth",
    scope: "local",
    schema: authRequestSchema,
    handle: async ({ nodes, username, password }) => {
      const results: { node: string; ok: boolean; message: string }[] = [];
      for (const n of nodes) {
        try {
          const addr = n.addr ?? (await resolveNode(n.name));
          const answer = await callApiWithPeer<{ token: string }>(
            { host: addr, port },
            "POST",
            "/remote/auth",
            { username, password },
            10_000,
          );
          daemon.auth.rememberHost(n.name, {
            addr,
            port,
            token: answer.body.token,
            ...(answer.fingerprint ? { fingerprint: answer.fingerprint } : {}),
          });
          results.push({ node: n.name, ok: true, message: "Authorized" });
        } catch (error) {
          results.push({ node: n.name, ok: false, message: (error as Error).message });
        }
      }
      return { results };
    },
  });

  api.add({
    method: "POST",
    path: "/v1/cluster/setup",
    scope: "local",
    schema: setupRequestSchema,
    handle: async (req) => {
      const nodes = [];
      for (const [i, n] of req.nodes.entries()) {
        nodes.push({ name: n.name, id: i + 1, addrs: [n.addr ?? (await resolveNode(n.name))] });
      }
      // The cloud property makes IPaddr2 resources cloud VIPs; detected here so the seed's commands need no flag.
      const cloud = detectCloud(process.env);
      const config: ClusterConfig = clusterConfigSchema.parse({
        formatVersion: 1,
        name: req.name,
        epoch: 1,
        nodes,
        properties: cloud ? { cloud } : {},
        // As Pacemaker writes into new CIBs on RHEL 9 / Fedora 35+: a recovered node does not pull resources
        // back (a second outage); `resource defaults update resource-stickiness=0` restores failback.
        resourceDefaults: { "resource-stickiness": "1" },
        ...(req.quorum ? { quorum: { twoNode: true, ...req.quorum } } : {}),
        ...(req.tokenMs
          ? {
              totem: {
                tokenMs: req.tokenMs,
                heartbeatIntervalMs: heartbeatIntervalFor(req.tokenMs),
              },
            }
          : {}),
      });
      const self = localNodeOf(daemon, config);
      const peers = config.nodes.filter((n) => n.name !== self);
      const missing = peers.filter((n) => !daemon.auth.knownHost(n.name));
      if (missing.length > 0) {
        throw new ApiError(
          "FLOATIP_E_NOT_AUTHORIZED",
          `${missing.map((n) => n.name).join(", ")}: not authorized; run 'floatip cluster auth ${missing.map((n) => n.name).join(" ")}' first`,
        );
      }
      const key = randomBytes(32);
      daemon.install(config, key, req.force);
      const installed = daemon.loadConfig() ?? config;
      const knownHosts = Object.fromEntries(
        config.nodes.map((n) => [n.name, daemon.auth.knownHost(n.name)]).filter(([, h]) => h !== undefined),
      );
      const results: { node: string; ok: boolean; message: string }[] = [];
      for (const peer of peers) {
        try {
          await callApi(endpointOf(daemon, peer.name), "POST", "/remote/setup", {
            config: installed,
            key: key.toString("base64"),
            start: req.start,
            force: req.force,
            knownHosts,
          });
          results.push({ node: peer.name, ok: true, message: "Succeeded" });
        } catch (error) {
          results.push({ node: peer.name, ok: false, message: (error as Error).message });
        }
      }
      if (req.start) await daemon.startCluster();
      results.unshift({ node: self ?? "local", ok: true, message: "Succeeded" });
      return { results, config: installed };
    },
  });

  api.add({
    method: "POST",
    path: "/v1/cluster/start",
    scope: "local",
    schema: nodeSelectionSchema,
    handle: async (req) => forEachTarget(daemon, req, "start", { leaveResources: false }),
  });

  api.add({
    method: "POST",
    path: "/v1/cluster/stop",
    scope: "local",
    schema: stopRequestSchema,
    handle: async (req) => forEachTarget(daemon, req, "stop", { leaveResources: req.leaveResources }),
  });

  api.add({
    method: "POST",
    path: "/v1/resource/create",
    scope: "local",
    schema: resourceCreateSchema,
    handle: async (req) => {
      const problem = unsupportedTypeMessage(req.type);
      if (problem)
        throw new ApiError("FLOATIP_E_AGENT_UNKNOWN", problem.replace(/^FLOATIP_E_AGENT_UNKNOWN: /, ""));
      const errors = await validateResourceParams(req.type, req.params);
      if (errors.length > 0) throw new ApiError("FLOATIP_E_PARAM_INVALID", errors.join("; "));
      const config = requireConfig(daemon);
      if (config.resources.some((r) => r.id === req.id)) {
        throw new ApiError("FLOATIP_E_RESOURCE_EXISTS", `'${req.id}' already exists`);
      }
      const ops = withDefaultOps(req.ops, config.properties["cloud"] === "oci" && req.type === IPADDR2_TYPE);
      const meta = req.disabled ? { ...req.meta, "target-role": "Stopped" } : req.meta;
      const next = daemon.updateConfig((draft) => {
        draft.resources.push({ id: req.id, type: req.type, params: req.params, meta, ops });
        if (req.group !== undefined) {
          addToGroup(draft, req.group, [req.id], {
            ...(req.before !== undefined ? { before: req.before } : {}),
            ...(req.after !== undefined ? { after: req.after } : {}),
          });
        }
      });
      return { epoch: next.epoch };
    },
  });

  api.add({
    method: "POST",
    path: "/v1/resource/delete",
    scope: "local",
    schema: resourceIdSchema,
    handle: async ({ id }) => {
      let removedConstraints: string[] = [];
      const next = daemon.updateConfig((draft) => {
        removedConstraints = deleteResource(draft, id);
      });
      return { epoch: next.epoch, removedConstraints };
    },
  });

  api.add({
    method: "POST",
    path: "/v1/resource/cleanup",
    scope: "local",
    schema: cleanupSchema,
    handle: async ({ id }) => {
      const node = daemon.runningNode;
      if (!node) throw new ApiError("FLOATIP_E_NOT_RUNNING", "cluster services are not running on this node");
      const config = node.currentConfig;
      if (id !== undefined && !config.resources.some((r) => r.id === id)) {
        throw new ApiError("FLOATIP_E_RESOURCE_UNKNOWN", `Resource '${id}' does not exist.`);
      }
      // Fail counts live on the node where the failures happened: every online node forgets its own.
      const self = localNodeOf(daemon, config);
      const results: { node: string; ok: boolean; message: string }[] = [];
      for (const name of daemon.status().online) {
        try {
          if (name === self) node.cleanup(id);
          else
            await callApi(
              endpointOf(daemon, name),
              "POST",
              "/remote/resource/cleanup",
              id ? { id } : {},
              10_000,
            );
          results.push({ node: name, ok: true, message: "Cleaned up" });
        } catch (error) {
          results.push({ node: name, ok: false, message: (error as Error).message });
        }
      }
      return { results };
    },
  });

  // Called by peers and remote CLIs with a token from `cluster auth`.
  api.add({
    method: "POST",
    path: "/remote/resource/cleanup",
    scope: "remote",
    schema: cleanupSchema,
    handle: async ({ id }) => {
      const node = daemon.runningNode;
      if (!node) throw new ApiError("FLOATIP_E_NOT_RUNNING", "cluster services are not running on this node");
      node.cleanup(id);
      return { ok: true };
    },
  });

  api.add({
    method: "POST",
    path: "/remote/setup",
    scope: "remote",
    schema: remoteSetupSchema.extend({
      knownHosts: z
        .record(
          z.string(),
          z.object({
            addr: z.string(),
            port: z.number().int(),
            token: z.string(),
            fingerprint: z.string().optional(),
          }),
        )
        .default(() => ({})),
    }),
    handle: async (req) => {
      daemon.install(req.config, Buffer.from(req.key, "base64"), req.force);
      for (const [name, host] of Object.entries(req.knownHosts)) daemon.auth.rememberHost(name, host);
      if (req.start) await daemon.startCluster();
      return { ok: true };
    },
  });

  api.add({
    method: "POST",
    path: "/remote/cluster/start",
    scope: "remote",
    schema: empty,
    handle: async () => {
      await daemon.startCluster();
      return { ok: true };
    },
  });

  api.add({
    method: "POST",
    path: "/remote/cluster/stop",
    scope: "remote",
    schema: remoteStopSchema,
    handle: async ({ leaveResources }) => {
      await daemon.stopCluster({ leaveResources, forget: true });
      return { ok: true };
    },
  });

  registerResourceRoutes(daemon);
  registerEventRoutes(daemon);
  registerDashboardRoutes(daemon);
  registerMetricsRoutes(daemon);
  registerAlertRoutes(daemon);
  registerQuorumRoutes(daemon);
}

async function forEachTarget(
  daemon: Daemon,
  req: { all: boolean; nodes: string[] },
  op: "start" | "stop",
  options: { leaveResources: boolean },
): Promise<{ results: { node: string; ok: boolean; message: string }[] }> {
  const config = requireConfig(daemon);
  const self = localNodeOf(daemon, config);
  const targets = req.all ? config.nodes.map((n) => n.name) : req.nodes.length > 0 ? req.nodes : [self ?? ""];
  for (const t of targets) {
    if (!config.nodes.some((n) => n.name === t)) {
      throw new ApiError("FLOATIP_E_NODE_UNKNOWN", `Node '${t}' does not appear to exist in configuration`);
    }
  }
  const run = async (target: string): Promise<{ node: string; ok: boolean; message: string }> => {
    try {
      if (target === self) {
        if (op === "start") await daemon.startCluster();
        else await daemon.stopCluster({ leaveResources: options.leaveResources, forget: true });
      } else {
        await callApi(endpointOf(daemon, target), "POST", `/remote/cluster/${op}`, options, 60_000);
      }
      return {
        node: target,
        ok: true,
        message: op === "start" ? "Starting Cluster..." : "Stopping Cluster...",
      };
    } catch (error) {
      return { node: target, ok: false, message: (error as Error).message };
    }
  };
  if (op === "start") return { results: await Promise.all(targets.map(run)) };
  // Stopping the local node last keeps it able to coordinate the others' hand-off.
  const others = await Promise.all(targets.filter((t) => t !== self).map(run));
  const local = targets.includes(self ?? "") ? [await run(self ?? "")] : [];
  return { results: [...others, ...local] };
}

function endpointOf(
  daemon: Daemon,
  node: string,
): { host: string; port: number; token: string; fingerprint?: string } {
  const host = daemon.auth.knownHost(node);
  if (!host) {
    throw new ApiError(
      "FLOATIP_E_NOT_AUTHORIZED",
      `${node}: not authorized; run 'floatip cluster auth ${node}' first`,
    );
  }
  return {
    host: host.addr,
    port: host.port,
    token: host.token,
    ...(host.fingerprint ? { fingerprint: host.fingerprint } : {}),
  };
}

/** This node's name in `config`, or null when none of its addresses is configured there. */
function localNodeOf(daemon: Daemon, config: ClusterConfig): string | null {
  try {
    return findSelf(config, daemon.options.nodeName).name;
  } catch {
    return null;
  }
}

async function resolveNode(name: string): Promise<string> {
  try {
    const { address } = await lookup(name, { family: 4 });
    return address;
  } catch {
    throw new ApiError(
      "FLOATIP_E_UNKNOWN_HOST",
      `Unable to resolve node name '${name}'; give its address as '${name} addr=IP'`,
    );
  }
}

function withDefaultOps(
  ops: ClusterConfig["resources"][number]["ops"],
  cloudVip: boolean,
): ClusterConfig["resources"][number]["ops"] {
  // IPaddr2's metadata defaults: start/stop 20s, monitor every 10s with a 20s timeout. A cloud VIP's start
  // may wait out API retries and a slow API, so it gets a minute.
  const startStopMs = cloudVip ? 60_000 : 20_000;
  const defaults = [
    { name: "start" as const, intervalMs: 0, timeoutMs: startStopMs },
    { name: "stop" as const, intervalMs: 0, timeoutMs: startStopMs },
    { name: "monitor" as const, intervalMs: 10_000, timeoutMs: 20_000 },
  ];
  return defaults.map((d) => ops.find((o) => o.name === d.name) ?? d);
}
