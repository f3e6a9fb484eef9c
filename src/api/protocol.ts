import { z } from "zod";
import {
  clusterConfigSchema,
  idSchema,
  ipv4Schema,
  nodeNameSchema,
  operationSchema,
} from "../config/schema.ts";

export const nodeAddressSchema = z.object({ name: nodeNameSchema, addr: ipv4Schema.optional() });

export const setupRequestSchema = z.object({
  name: clusterConfigSchema.shape.name,
  nodes: z.array(nodeAddressSchema).min(1).max(64),
  start: z.boolean().default(false),
  tokenMs: z.number().int().min(200).max(60_000).optional(),
  force: z.boolean().default(false),
  /** `setup ... quorum wait_for_all=0`: votequorum options for the new cluster. */
  quorum: z.object({ waitForAll: z.boolean().optional(), twoNode: z.boolean().optional() }).optional(),
});

export const nodeSelectionSchema = z.object({
  all: z.boolean().default(false),
  nodes: z.array(nodeNameSchema).default(() => []),
});

export const stopRequestSchema = nodeSelectionSchema.extend({ leaveResources: z.boolean().default(false) });

export const resourceCreateSchema = z.object({
  id: idSchema,
  type: z.string().min(1).max(200),
  params: z.record(z.string(), z.string()).default(() => ({})),
  meta: z.record(z.string(), z.string()).default(() => ({})),
  ops: z.array(operationSchema).default(() => []),
  /** pcs resource create ... --group G [--before R | --after R]. */
  group: idSchema.optional(),
  before: idSchema.optional(),
  after: idSchema.optional(),
  disabled: z.boolean().default(false),
});

export const resourceIdSchema = z.object({ id: idSchema });
export const cleanupSchema = z.object({ id: idSchema.optional() });

export const authRequestSchema = z.object({
  nodes: z.array(nodeAddressSchema).min(1).max(64),
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
});

export const remoteAuthSchema = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
});

export const remoteSetupSchema = z.object({
  config: clusterConfigSchema,
  /** The cluster key, base64; travels once, at setup, to nodes that authorised the sender. */
  key: z.string().min(1).max(200),
  start: z.boolean().default(false),
  force: z.boolean().default(false),
});

export const remoteStopSchema = z.object({ leaveResources: z.boolean().default(false) });

/** A failed admin call: the code and one line that says what to do. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = "ApiError";
  }
}
