import { z } from "zod";
import { parseDuration } from "./duration.ts";

/** Node names follow host-name rules so they can double as addresses when no addr= is given. */
export const nodeNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/,
    "must be a host name (letters, digits, '-', '_', '.')",
  );

/** Resource, group and constraint ids use Pacemaker's XML id rules. */
export const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.-]*$/,
    "must start with a letter or '_' and contain only letters, digits, '_', '.', '-'",
  );

export const ipv4Schema = z.ipv4();

/** Pacemaker's INFINITY: scores are clamped to +-1000000 and INFINITY + -INFINITY = -INFINITY. */
export const INFINITY_SCORE = 1_000_000;

/** A score as pcs writes it: an integer, INFINITY, +INFINITY or -INFINITY; returns a number clamped to +-INFINITY. */
export const scoreTextSchema = z
  .string()
  .trim()
  .regex(/^(?:[+-]?INFINITY|[+-]?\d+)$/i, "must be an integer, INFINITY or -INFINITY")
  .transform((text) => {
    const upper = text.toUpperCase();
    if (upper.endsWith("INFINITY")) return upper.startsWith("-") ? -INFINITY_SCORE : INFINITY_SCORE;
    return Math.max(-INFINITY_SCORE, Math.min(INFINITY_SCORE, Number(text)));
  });

/** A duration as pcs accepts it (60s, 5min, PT1H, a bare number of seconds); returns whole ms. */
export const durationTextSchema = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : "is not a duration" });
    return z.NEVER;
  }
});

/** Meta attributes the policy reads (resources[].meta, groups[].meta, resourceDefaults), with their value rules. */
export const knownMetaSchemas = {
  "resource-stickiness": scoreTextSchema,
  /** 0 disables; INFINITY (the default) means failures never move the resource. */
  "migration-threshold": scoreTextSchema.refine((n) => n >= 0, "must not be negative"),
  /** A duration (60s, 5min, PT1H); 0 means failures never expire. Parsed by config/duration.ts. */
  "failure-timeout": durationTextSchema,
  "target-role": z.enum(["Started", "Stopped", "Unpromoted", "Promoted", "Slave", "Master"]),
  priority: scoreTextSchema,
} as const;

/** An etcd client URL: http(s)://host:port, host a name or an IPv4 address. */
const etcdEndpointPattern = /^https?:\/\/(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):\d{1,5}$/;

/** The endpoints of etcd-endpoints=, comma-separated, blanks around commas allowed. */
export function parseEtcdEndpoints(text: string): string[] {
  return text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
}

export const etcdEndpointsSchema = z.string().superRefine((text, ctx) => {
  const endpoints = parseEtcdEndpoints(text);
  if (endpoints.length === 0 || endpoints.length > 16) {
    ctx.addIssue({
      code: "custom",
      message: "must list 1 to 16 etcd client URLs, e.g. http://10.0.0.5:2379",
    });
    return;
  }
  for (const e of endpoints) {
    const port = Number(e.slice(e.lastIndexOf(":") + 1));
    if (!etcdEndpointPattern.test(e) || port < 1 || port > 65535) {
      ctx.addIssue({ code: "custom", message: `'${e}' is not an etcd client URL like http://10.0.0.5:2379` });
      return;
    }
  }
});

/** Cluster properties the policy reads, with their value rules (Pacemaker names and values). */
export const knownPropertySchemas = {
  "no-quorum-policy": z.enum(["stop", "ignore", "freeze", "demote", "fence", "suicide"]),
  "stop-all-resources": z.enum(["true", "false"]),
  "symmetric-cluster": z.enum(["true", "false"]),
  /** Set at setup where detected: "oci" makes IPaddr2 resources cloud VIPs moved through the OCI API. */
  cloud: z.enum(["oci", "none"]),
  /** Where membership, the coordinator (DC) election and VIP ownership live: heartbeats (builtin) or etcd. */
  coordination: z.enum(["builtin", "etcd"]),
  /** etcd client URLs for coordination=etcd, comma-separated, e.g. http://10.0.0.5:2379,http://10.0.0.6:2379. */
  "etcd-endpoints": etcdEndpointsSchema,
} as const;

export const nodeSchema = z.object({
  name: nodeNameSchema,
  /** Stable small integer: the designated coordinator is the lowest id in the quorate partition. */
  id: z.number().int().min(1).max(65535),
  /** Heartbeat addresses (corosync's ring0_addr); the first is used until links are redundant. */
  addrs: z.array(ipv4Schema).min(1).max(8),
  /** pcs node standby: the node stays a member but runs no resources. */
  standby: z.boolean().default(false),
});

export const operationSchema = z.object({
  name: z.enum(["monitor", "start", "stop", "probe"]),
  intervalMs: z.number().int().min(0).max(86_400_000),
  timeoutMs: z.number().int().min(100).max(3_600_000),
});

export const paramMapSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, "bad name"),
  z.string().max(4096),
);

export const resourceSchema = z.object({
  id: idSchema,
  /** "standard:provider:type" as pcs writes it, e.g. ocf:heartbeat:IPaddr2. */
  type: z.string().regex(/^[A-Za-z0-9_-]+(?::[A-Za-z0-9_.-]+){1,2}$/, "must look like ocf:heartbeat:IPaddr2"),
  params: paramMapSchema.default(() => ({})),
  meta: paramMapSchema.default(() => ({})),
  ops: z.array(operationSchema).default(() => []),
});

/** The failure-detection timeout when none is given (corosync 2's default token). */
export const DEFAULT_TOKEN_MS = 1000;

/**
 * The heartbeat interval that goes with a token (`cluster setup --token`, a CIB's token, the defaults):
 * five rounds per token, at least 20 ms apart, each round sent as DEFAULT_HEARTBEAT_COPIES datagrams
 * back to back. A peer is lost at its last heartbeat + token, so four whole rounds must be lost in a
 * row: like corosync, which declares a token lost after 4 retransmits (token_retransmits_before_loss_const),
 * and with two copies eight datagrams at independent loss, where 5 % is about never. The copies reach the
 * receiver together and wake it once, so an idle node wakes half as often as with ten single heartbeats
 * per token (the daemon's idle CPU is mostly these wake-ups).
 */
export function heartbeatIntervalFor(tokenMs: number): number {
  return Math.max(20, Math.floor(tokenMs / 5));
}

export const DEFAULT_HEARTBEAT_COPIES = 2;
/** More copies add traffic, not safety: losses of datagrams sent back to back are seldom independent. */
export const MAX_HEARTBEAT_COPIES = 4;

export const totemSchema = z.object({
  /** corosync's name for the failure-detection timeout, in ms. */
  tokenMs: z.number().int().min(200).max(60_000).default(DEFAULT_TOKEN_MS),
  /** How often each node sends a heartbeat; several per token so a lost packet is not a lost node. */
  heartbeatIntervalMs: z.number().int().min(20).max(10_000).default(heartbeatIntervalFor(DEFAULT_TOKEN_MS)),
  /** Datagrams per heartbeat, sent back to back: a heartbeat is lost only when all of them are. */
  heartbeatCopies: z.number().int().min(1).max(MAX_HEARTBEAT_COPIES).default(DEFAULT_HEARTBEAT_COPIES),
  port: z.number().int().min(1).max(65535).default(5405),
});

/** A witness (`floatip witness`) giving a third vote, like corosync-qnetd with model net. */
export const quorumDeviceSchema = z.object({
  model: z.literal("net"),
  /** ffsplit: the vote goes to the largest partition; on a tie to the one that had it, then lowest node id. */
  algorithm: z.literal("ffsplit").default("ffsplit"),
  /** The name the witness was authorised under (`host auth NAME`). */
  host: z.string().min(1).max(253),
  /** Where the votes go (UDP), resolved when the device was added. */
  addr: z.ipv4(),
  port: z.number().int().min(1).max(65535).default(5403),
});

export const quorumSchema = z.object({
  /** corosync's two_node: a lone survivor of two nodes stays quorate; off with a witness or more than 2 nodes. */
  twoNode: z.boolean().default(true),
  /** Unset: follows two_node, as votequorum does (two_node implies wait_for_all unless told otherwise). */
  waitForAll: z.boolean().optional(),
  /** The witness (`floatip quorum device add model net host=...`): a third vote, expected votes = nodes + 1. */
  device: quorumDeviceSchema.optional(),
});

export const locationConstraintSchema = z.object({
  id: idSchema,
  /** A resource or group id. */
  resource: idSchema,
  node: nodeNameSchema,
  /** Pacemaker score; +-1000000 stands for +-INFINITY. */
  score: z.number().int().min(-1_000_000).max(1_000_000),
  /**
   * Absolute expiry (ms, the cluster's clock) of a move/ban with lifetime=; absent: no expiry. Move and
   * ban write constraints with crm_resource's ids cli-prefer-<rsc> and cli-ban-<rsc>-on-<node>.
   */
  expiresMs: z.number().int().min(0).optional(),
});

/** pcs constraint colocation add <resource> with <withResource> [score]: place resource relative to withResource. */
export const colocationConstraintSchema = z.object({
  id: idSchema,
  /** The dependent: placed after, and where, withResource is. A resource or group id. */
  resource: idSchema,
  /** The primary. A resource or group id. */
  withResource: idSchema,
  score: z.number().int().min(-1_000_000).max(1_000_000).default(1_000_000),
});

/** pcs constraint order [start] <first> then [start] <then>: start then after first, stop in reverse. */
export const orderConstraintSchema = z.object({
  id: idSchema,
  /** Resource or group ids. */
  first: idSchema,
  then: idSchema,
  /** Mandatory: then cannot run unless first runs, and restarts when first stops. Optional: ordering only. */
  kind: z.enum(["Mandatory", "Optional"]).default("Mandatory"),
  /** Stops run in the reverse order. */
  symmetrical: z.boolean().default(true),
});

/** A group: members start in order on one node and stop in reverse order (pcs resource group add). */
export const groupSchema = z.object({
  id: idSchema,
  /** Ids from resources[]; each resource belongs to at most one group. */
  resources: z.array(idSchema).min(1),
  /** Meta attributes for every member (target-role, resource-stickiness, ...); a member's own meta wins. */
  meta: paramMapSchema.default(() => ({})),
});

/**
 * A fence device (pcs stonith create NAME TYPE ...): fence_oci (the node's OCI instance through the API),
 * fence_exec (a site script) or an installed agent of the fence-agents package (/usr/sbin/fence_*).
 * Pacemaker's pcmk_host_map, pcmk_host_list and pcmk_delay_base are among the params.
 */
export const stonithDeviceSchema = z.object({
  id: idSchema,
  type: z.string().regex(/^fence_[A-Za-z0-9_]+$/, "must be a fence agent name like fence_oci"),
  params: paramMapSchema.default(() => ({})),
  meta: paramMapSchema.default(() => ({})),
  ops: z.array(operationSchema).default(() => []),
});

/** Alert meta attributes with their value rules (Pacemaker's names, plus `events` for webhooks). */
export const knownAlertMetaSchemas = {
  /** How long one run of the agent (or one webhook attempt) may take; Pacemaker's default is 30s. */
  timeout: durationTextSchema,
  /** strftime-like format of CRM_alert_timestamp; Pacemaker's default is %H:%M:%S.%06N. */
  "timestamp-format": z.string().min(1).max(256),
  /** Webhooks only: the event types to post, comma-separated, or "all" (default: all but cloud-call). */
  events: z
    .string()
    .regex(
      /^(?:all|(?:membership|decision|action|resource|cloud-call|failover|config|fencing|quorum)(?:,(?:membership|decision|action|resource|cloud-call|failover|config|fencing|quorum))*)$/,
      "must be 'all' or a comma-separated list of event types",
    ),
} as const;

function checkAlertMeta(meta: Record<string, string>, ctx: z.RefinementCtx): void {
  for (const [name, value] of Object.entries(meta)) {
    const parsed = knownAlertMetaSchemas[name as keyof typeof knownAlertMetaSchemas]?.safeParse(value);
    if (parsed && !parsed.success) {
      ctx.addIssue({
        code: "custom",
        path: ["meta", name],
        message: parsed.error.issues[0]?.message ?? "invalid",
      });
    }
  }
}

/** Where an alert sends one event: a script argument (a file, an address) in CRM_alert_recipient. */
export const alertRecipientSchema = z
  .object({
    id: idSchema,
    value: z.string().min(1).max(4096),
    description: z.string().max(1024).optional(),
    /** Extra environment variables for this recipient; they override the alert's options. */
    options: paramMapSchema.default(() => ({})),
    /** timeout and timestamp-format for this recipient; they override the alert's meta. */
    meta: paramMapSchema.default(() => ({})),
  })
  .superRefine((recipient, ctx) => checkAlertMeta(recipient.meta, ctx));

/**
 * An alert agent (pcs alert create): a script run with Pacemaker's CRM_alert_* environment once per
 * recipient for every node and resource event, or a webhook that receives each event as JSON.
 */
export const alertSchema = z
  .object({
    id: idSchema,
    type: z.enum(["script", "webhook"]).default("script"),
    /** script: the agent's absolute path, run without a shell. */
    path: z.string().max(4096).regex(/^\//, "must be an absolute path").optional(),
    /** webhook: where each event is POSTed as JSON. */
    url: z
      .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
      .max(2048)
      .optional(),
    description: z.string().max(1024).optional(),
    /** Instance attributes: passed to the script as environment variables. */
    options: paramMapSchema.default(() => ({})),
    /** timeout (default 30s), timestamp-format (default %H:%M:%S.%06N), events (webhooks). */
    meta: paramMapSchema.default(() => ({})),
    recipients: z.array(alertRecipientSchema).default(() => []),
  })
  .superRefine((alert, ctx) => {
    if (alert.type === "script" && alert.path === undefined)
      ctx.addIssue({ code: "custom", path: ["path"], message: "a script alert needs path=/absolute/path" });
    if (alert.type === "webhook" && alert.url === undefined)
      ctx.addIssue({ code: "custom", path: ["url"], message: "a webhook alert needs url=https://..." });
    checkAlertMeta(alert.meta, ctx);
  });

/** Alert and recipient ids share one name space, as in Pacemaker's CIB. */
const alertListSchema = z.array(alertSchema).superRefine((alerts, ctx) => {
  const ids = alerts.flatMap((a) => [a.id, ...a.recipients.map((r) => r.id)]);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined)
    ctx.addIssue({ code: "custom", message: `duplicate alert or recipient id '${dup}'` });
});

type ParsedDocument = {
  resources: { id: string; meta: Record<string, string> }[];
  groups: { id: string; resources: string[]; meta: Record<string, string> }[];
  constraints: {
    colocation: { id: string; resource: string; withResource: string }[];
    order: { id: string; first: string; then: string }[];
  };
  properties: Record<string, string>;
  resourceDefaults: Record<string, string>;
};

function checkGroupsAndConstraints(cfg: ParsedDocument, ctx: z.RefinementCtx): void {
  const resourceIds = new Set(cfg.resources.map((r) => r.id));
  const groupOf = new Map<string, string>();
  cfg.groups.forEach((group, g) => {
    if (resourceIds.has(group.id)) {
      ctx.addIssue({
        code: "custom",
        path: ["groups", g, "id"],
        message: `'${group.id}' is already a resource id`,
      });
    }
    group.resources.forEach((member, m) => {
      const path = ["groups", g, "resources", m];
      const other = groupOf.get(member);
      if (!resourceIds.has(member))
        ctx.addIssue({ code: "custom", path, message: `no resource '${member}'` });
      else if (other !== undefined) {
        ctx.addIssue({ code: "custom", path, message: `'${member}' is already in group '${other}'` });
      }
      groupOf.set(member, group.id);
    });
  });
  const known = new Set([...resourceIds, ...cfg.groups.map((g) => g.id)]);
  const mustExist = (id: string, path: (string | number)[]) => {
    if (!known.has(id)) ctx.addIssue({ code: "custom", path, message: `no resource or group '${id}'` });
  };
  cfg.constraints.colocation.forEach((c, i) => {
    mustExist(c.resource, ["constraints", "colocation", i, "resource"]);
    mustExist(c.withResource, ["constraints", "colocation", i, "withResource"]);
  });
  cfg.constraints.order.forEach((c, i) => {
    mustExist(c.first, ["constraints", "order", i, "first"]);
    mustExist(c.then, ["constraints", "order", i, "then"]);
  });
}

function checkAttributeMap(
  map: Record<string, string>,
  rules: Record<string, z.ZodType>,
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  for (const [name, value] of Object.entries(map)) {
    const rule = rules[name];
    const parsed = rule?.safeParse(value);
    if (parsed && !parsed.success) {
      ctx.addIssue({
        code: "custom",
        path: [...path, name],
        message: parsed.error.issues[0]?.message ?? "invalid",
      });
    }
  }
}

function checkKnownAttributes(cfg: ParsedDocument, ctx: z.RefinementCtx): void {
  checkAttributeMap(cfg.properties, knownPropertySchemas, ["properties"], ctx);
  checkAttributeMap(cfg.resourceDefaults, knownMetaSchemas, ["resourceDefaults"], ctx);
  cfg.resources.forEach((r, i) => checkAttributeMap(r.meta, knownMetaSchemas, ["resources", i, "meta"], ctx));
  cfg.groups.forEach((g, i) => checkAttributeMap(g.meta, knownMetaSchemas, ["groups", i, "meta"], ctx));
}

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
    totem: totemSchema.default(() => ({
      tokenMs: DEFAULT_TOKEN_MS,
      heartbeatIntervalMs: heartbeatIntervalFor(DEFAULT_TOKEN_MS),
      heartbeatCopies: DEFAULT_HEARTBEAT_COPIES,
      port: 5405,
    })),
    quorum: quorumSchema.default(() => ({ twoNode: true })),
    properties: paramMapSchema.default(() => ({})),
    resourceDefaults: paramMapSchema.default(() => ({})),
    resources: z.array(resourceSchema).default(() => []),
    groups: z.array(groupSchema).default(() => []),
    constraints: z
      .object({
        location: z.array(locationConstraintSchema).default(() => []),
        colocation: z.array(colocationConstraintSchema).default(() => []),
        order: z.array(orderConstraintSchema).default(() => []),
      })
      .default(() => ({ location: [], colocation: [], order: [] })),
    /** Alert agents and webhooks (pcs alert ...), run by every node for its own events. */
    alerts: alertListSchema.default(() => []),
    /** Fence devices (pcs stonith ...), in the order they are tried. */
    stonith: z.array(stonithDeviceSchema).default(() => []),
  })
  .superRefine((cfg, ctx) => {
    const seen = (values: readonly (string | number)[], path: string, what: string) => {
      const dup = values.find((v, i) => values.indexOf(v) !== i);
      if (dup !== undefined)
        ctx.addIssue({ code: "custom", path: [path], message: `duplicate ${what} '${dup}'` });
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
    seen(
      cfg.groups.map((g) => g.id),
      "groups",
      "group id",
    );
    // Fence devices are resources of class stonith in Pacemaker: one id space with the resources.
    seen(
      [...cfg.resources.map((r) => r.id), ...cfg.stonith.map((d) => d.id)],
      "stonith",
      "resource or stonith id",
    );
    checkGroupsAndConstraints(cfg, ctx);
    checkKnownAttributes(cfg, ctx);
    if (cfg.properties["coordination"] === "etcd" && cfg.properties["etcd-endpoints"] === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["properties", "etcd-endpoints"],
        message: "coordination=etcd needs etcd-endpoints=http://host:2379,... (set both in one property set)",
      });
    }
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
export type ColocationConstraint = z.infer<typeof colocationConstraintSchema>;
export type OrderConstraint = z.infer<typeof orderConstraintSchema>;
export type GroupConfig = z.infer<typeof groupSchema>;
export type AlertConfig = z.infer<typeof alertSchema>;
export type AlertRecipientConfig = z.infer<typeof alertRecipientSchema>;
export type StonithDeviceConfig = z.infer<typeof stonithDeviceSchema>;
