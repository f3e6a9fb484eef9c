import { deflateRawSync, inflateRawSync } from "node:zlib";
import { z } from "zod";
import { clusterConfigSchema, idSchema, nodeNameSchema } from "../config/schema.ts";

export const resourceReportSchema = z.object({
  state: z.enum(["running", "stopped", "failed", "unknown"]),
  failCount: z.number().int().min(0).max(1_000_000),
  lastFailureMs: z.number().optional(),
  generation: z.number().optional(),
  /** How the last start of a running resource went, phase by phase (ms). */
  startPhases: z.record(z.string().max(40), z.number()).optional(),
  message: z.string().max(300).optional(),
  /** The holder's handover hint (a cloud VIP's last known version), for the node that takes over. */
  hint: z.string().max(300).optional(),
});

export const actionSchema = z.object({
  op: z.enum(["start", "stop"]),
  resource: idSchema,
  node: nodeNameSchema,
});

/**
 * What every node gossips in its heartbeat payload. The designated coordinator (DC) adds the actions it
 * wants executed now; heartbeats repeat, so a lost packet only delays an action by one interval.
 */
export const nodeReportSchema = z.object({
  v: z.literal(1),
  name: nodeNameSchema,
  configEpoch: z.number().int().min(0),
  configHash: z.string().max(128),
  /** True once every configured resource has been probed since this incarnation started. */
  probed: z.boolean(),
  /** False while the node is shutting its resources down for a clean stop. */
  leaving: z.boolean(),
  resources: z.record(idSchema, resourceReportSchema),
  /** Where the node runs, when its cloud says so (an OCI availability domain). */
  zone: z.string().max(200).optional(),
  /** The node's cloud instance (an OCI instance OCID, from its metadata): what fence_oci stops or resets. */
  instanceId: z.string().max(255).optional(),
  /**
   * Sent in the last heartbeats of a daemon that exits for a restart and leaves its resources running:
   * peers keep its resources where they are for this long instead of failing them over.
   */
  restartGraceMs: z.number().int().min(0).max(600_000).optional(),
  dc: z
    .object({
      quorate: z.boolean(),
      online: z.array(nodeNameSchema),
      actions: z.array(actionSchema).max(10_000),
      notes: z.array(z.string().max(300)).max(100),
      /** Nodes the DC fenced since they were last seen: a later DC must not fence them again. */
      fenced: z.array(nodeNameSchema).max(64).optional(),
    })
    .optional(),
  /** The whole configuration, sent only while some live peer reports an older epoch. */
  config: clusterConfigSchema.optional(),
});

export type NodeReport = z.infer<typeof nodeReportSchema>;
export type ResourceReport = z.infer<typeof resourceReportSchema>;

/** JSON never starts with a NUL byte: a payload that does is deflated JSON. */
const DEFLATED = 0;
/** Small reports go as plain JSON; bigger ones (hundreds of resources, the whole config) compress ~10x. */
const COMPRESS_ABOVE_BYTES = 4_096;
/** What a deflated report may expand to: far above any real report, far below a decompression bomb. */
const MAX_INFLATED_BYTES = 8 * 1024 * 1024;

export function encodeReport(report: NodeReport): Uint8Array {
  const json = Buffer.from(JSON.stringify(report), "utf8");
  if (json.length <= COMPRESS_ABOVE_BYTES) return json;
  return Buffer.concat([Buffer.of(DEFLATED), deflateRawSync(json)]);
}

/** Peers are authenticated, but a bug or version skew must still not crash the daemon. */
export function decodeReport(
  bytes: Uint8Array,
): { ok: true; report: NodeReport } | { ok: false; error: string } {
  let text: string;
  try {
    text =
      bytes[0] === DEFLATED
        ? inflateRawSync(bytes.subarray(1), { maxOutputLength: MAX_INFLATED_BYTES }).toString("utf8")
        : Buffer.from(bytes).toString("utf8");
  } catch {
    return { ok: false, error: "payload does not inflate (damaged, or larger than 8 MiB)" };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "payload is not JSON" };
  }
  const parsed = nodeReportSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: parsed.error.issues[0]?.message ?? "invalid report" };
  return { ok: true, report: parsed.data };
}
