import { z } from "zod";

/** Node names follow host-name rules so they can double as addresses when no addr= is given. */
export const nodeNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/, "must be a host name (letters, digits, '-', '_', '.')");

/** Resource, group and constraint ids use Pacemaker's XML id rules. */
export const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "must start with a letter or '_' and contain only letters, digits, '_', '.', '-'");

export const ipv4Schema = z.ipv4();

export const nodeSchema = z.object({
  name: nodeNameSchema,
  /** Stable small integer: the designated coordinator is the lowest id in the quorate partition. */
  id: z.number().int().min(1).max(65535),
  /** Heartbeat addresses (corosync's ring0_addr); the first is used until links are redundant. */
  addrs: z.array(ipv4Schema).min(1).max(8),
});

export const operationSchema = z.object({
  name: z.enum(["monitor", "start", "stop", "probe"]),
  intervalMs: z.number().int().min(0).max(86_400_000),
  timeoutMs: z.number().int().min(100).max(3_600_000),
});

const paramMapSchema = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, "bad name"), z.string().max(4096));

export const resourceSchema = z.object({
  id: idSchema,
  /** "standard:provider:type" as pcs writes it, e.g. ocf:heartbeat:IPaddr2. */
  type: z.string().regex(/^[A-Za-z0-9_-]+(?::[A-Za-z0-9_.-]+){1,2}$/, "must look like ocf:heartbeat:IPaddr2"),
  params: paramMapSchema.default({}),
  meta: paramMapSchema.default({}),
  ops: z.array(operationSchema).default([]),
});

export const totemSchema = z.object({
  /** corosync's name for the failure-detection timeout, in ms. */
  tokenMs: z.number().int().min(200).max(60_000).default(1000),
  /** How often each node sends a heartbeat; several per token so a lost packet is not a lost node. */
  heartbeatIntervalMs: z.number().int().min(20).max(10_000).default(100),
  port: z.number().int().min(1).max(65535).default(5405),
});

export const quorumSchema = z.object({
  twoNode: z.boolean().default(true),
  waitForAll: z.boolean().default(false),
});

export const locationConstraintSchema = z.object({
  id: idSchema,
  resource: idSchema,
  node: nodeNameSchema,
  /** Pacemaker score; +-1000000 stands for +-INFINITY. */
  score: z.number().int().min(-1_000_000).max(1_000_000),
});

export const clusterConfigSchema = z
  .object({
    formatVersion: z.literal(1),
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only"),
    /** Grows by one on every committed change; the highest epoch wins when nodes disagree. */
    epoch: z.number().int().min(0),
    nodes: z.array(nodeSchema).min(1).max(64),
    totem: totemSchema.default({ tokenMs: 1000, heartbeatIntervalMs: 100, port: 5405 }),
    quorum: quorumSchema.default({ twoNode: true, waitForAll: false }),
    properties: paramMapSchema.default({}),
    resourceDefaults: paramMapSchema.default({}),
    resources: z.array(resourceSchema).default([]),
    constraints: z
      .object({ location: z.array(locationConstraintSchema).default([]) })
      .default({ location: [] }),
  })
  .superRefine((cfg, ctx) => {
    const seen = (values: readonly (string | number)[], path: string, what: string) => {
      const dup = values.find((v, i) => values.indexOf(v) !== i);
      if (dup !== undefined) ctx.addIssue({ code: "custom", path: [path], message: `duplicate ${what} '${dup}'` });
    };
    seen(
      cfg.nodes.map((n) => n.name),
      "nodes",
      "node name",
    );
    seen(
      cfg.nodes.map((n) => n.id),
      "nodes",
      "node id",
    );
    seen(
      cfg.resources.map((r) => r.id),
      "resources",
      "resource id",
    );
    if (cfg.totem.heartbeatIntervalMs * 2 > cfg.totem.tokenMs) {
      ctx.addIssue({
        code: "custom",
        path: ["totem", "heartbeatIntervalMs"],
        message: "must be at most half of token so one lost heartbeat is not a lost node",
      });
    }
  });

export type ClusterConfig = z.infer<typeof clusterConfigSchema>;
export type NodeConfig = z.infer<typeof nodeSchema>;
export type ResourceConfig = z.infer<typeof resourceSchema>;
export type OperationConfig = z.infer<typeof operationSchema>;
export type LocationConstraint = z.infer<typeof locationConstraintSchema>;
