import { z } from "zod";
import { callApi, type Endpoint } from "../api/client.ts";
import { ApiError } from "../api/protocol.ts";
import { readClusterKey } from "../config/cluster-key.ts";
import { effectiveQuorumOptions } from "../quorum/votequorum.ts";
import { witnessKeyOf } from "../quorum/witness-packet.ts";
import type { Daemon } from "./daemon.ts";
import { findSelf } from "./self-identity.ts";
import { requireConfig } from "./require-config.ts";

const empty = z.object({});

export const quorumUpdateSchema = z
  .object({ waitForAll: z.boolean().optional(), twoNode: z.boolean().optional() })
  .refine((v) => v.waitForAll !== undefined || v.twoNode !== undefined, "nothing to update");

export const deviceAddSchema = z.object({
  model: z.literal("net"),
  host: z.string().min(1).max(253),
  algorithm: z.literal("ffsplit").default("ffsplit"),
  port: z.number().int().min(1).max(65535).default(5403),
});

/** `floatip quorum ...` on a node: votes and flags, wait_for_all, unblock, and the witness (quorum device). */
export function registerQuorumRoutes(daemon: Daemon): void {
  const api = daemon.api;

  api.add({
    method: "GET",
    path: "/v1/quorum/status",
    scope: "remote",
    schema: empty,
    handle: async () => {
      const config = requireConfig(daemon);
      const quorum = daemon.quorumStatus();
      if (quorum === null) {
        throw new ApiError("FLOATIP_E_NOT_RUNNING", "cluster services are not running on this node");
      }
      const status = daemon.status();
      let selfId: number | null = null;
      try {
        selfId = findSelf(config, daemon.options.nodeName).id;
      } catch {
        // Not found by address: the status then names no local node.
      }
      return {
        cluster: config.name,
        nodeId: selfId,
        nodes: config.nodes.map((n) => ({
          id: n.id,
          name: n.name,
          online: status.online.includes(n.name),
          local: n.id === selfId,
        })),
        options: effectiveQuorumOptions(config.quorum, config.nodes.length),
        quorum,
      };
    },
  });

  api.add({
    method: "GET",
    path: "/v1/quorum/config",
    scope: "remote",
    schema: empty,
    handle: async () => {
      const config = requireConfig(daemon);
      return {
        options: config.quorum,
        effective: effectiveQuorumOptions(config.quorum, config.nodes.length),
        device: config.quorum.device ?? null,
      };
    },
  });

  api.add({
    method: "POST",
    path: "/v1/quorum/update",
    scope: "local",
    schema: quorumUpdateSchema,
    handle: async ({ waitForAll, twoNode }) => {
      requireConfig(daemon);
      const next = daemon.updateConfig((draft) => {
        if (waitForAll !== undefined) draft.quorum.waitForAll = waitForAll;
        if (twoNode !== undefined) draft.quorum.twoNode = twoNode;
      });
      return { epoch: next.epoch, quorum: next.quorum };
    },
  });

  api.add({
    method: "POST",
    path: "/v1/quorum/unblock",
    scope: "local",
    schema: empty,
    handle: async () => {
      const node = daemon.runningNode;
      if (!node) throw new ApiError("FLOATIP_E_NOT_RUNNING", "cluster services are not running on this node");
      if (!node.quorumInfo().waitingForAll) {
        throw new ApiError(
          "FLOATIP_E_QUORUM_NOT_BLOCKED",
          "the cluster is not waiting for nodes to start (wait_for_all is off or all nodes were seen)",
        );
      }
      node.unblockQuorum();
      return { quorum: daemon.quorumStatus() };
    },
  });

  api.add({
    method: "POST",
    path: "/v1/quorum/device/add",
    scope: "local",
    schema: deviceAddSchema,
    handle: async (req) => {
      const config = requireConfig(daemon);
      if (config.quorum.device) {
        throw new ApiError(
          "FLOATIP_E_QDEVICE_EXISTS",
          `quorum device '${config.quorum.device.host}' is already defined; remove it first ('floatip quorum device remove')`,
        );
      }
      const endpoint = witnessEndpoint(daemon, req.host);
      const key = witnessKeyOf(readClusterKey(daemon.keyPath));
      await callApi(
        endpoint,
        "POST",
        "/remote/witness/enrol",
        {
          cluster: config.name,
          key: key.toString("base64"),
          nodes: config.nodes.map((n) => ({ id: n.id, name: n.name })),
        },
        10_000,
      );
      const next = daemon.updateConfig((draft) => {
        draft.quorum.device = {
          model: "net",
          algorithm: req.algorithm,
          host: req.host,
          addr: endpoint.host,
          port: req.port,
        };
      });
      return { epoch: next.epoch, device: next.quorum.device };
    },
  });

  api.add({
    method: "POST",
    path: "/v1/quorum/device/remove",
    scope: "local",
    schema: empty,
    handle: async () => {
      const config = requireConfig(daemon);
      const device = config.quorum.device;
      if (!device)
        throw new ApiError("FLOATIP_E_QDEVICE_NONE", "no quorum device is defined in this cluster");
      let witnessAnswered = true;
      try {
        await callApi(
          witnessEndpoint(daemon, device.host),
          "POST",
          "/remote/witness/remove",
          { cluster: config.name },
          10_000,
        );
      } catch {
        // The witness may be gone for good; the cluster must still be able to drop it.
        witnessAnswered = false;
      }
      const next = daemon.updateConfig((draft) => {
        delete draft.quorum.device;
      });
      return { epoch: next.epoch, witnessAnswered };
    },
  });

  api.add({
    method: "GET",
    path: "/v1/quorum/device/status",
    scope: "remote",
    schema: empty,
    handle: async () => {
      const config = requireConfig(daemon);
      if (!config.quorum.device)
        throw new ApiError("FLOATIP_E_QDEVICE_NONE", "no quorum device is defined in this cluster");
      return { device: config.quorum.device, quorum: daemon.quorumStatus() };
    },
  });
}

function witnessEndpoint(daemon: Daemon, host: string): Endpoint & { host: string } {
  const known = daemon.auth.knownHost(host);
  if (!known) {
    throw new ApiError(
      "FLOATIP_E_NOT_AUTHORIZED",
      `${host}: not authorized; run 'floatip host auth ${host} addr=IP' for the witness first`,
    );
  }
  return {
    host: known.addr,
    port: known.port,
    token: known.token,
    ...(known.fingerprint ? { fingerprint: known.fingerprint } : {}),
  };
}
