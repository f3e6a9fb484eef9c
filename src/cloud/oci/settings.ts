import { z } from "zod";
import { formatZodIssues } from "../../config/errors.ts";
import { OciCloudError } from "./errors.ts";

export const DEFAULT_METADATA_BASE_URL = "http://169.254.169.254/opc/v2/";

const httpUrl = z.url({ protocol: /^https?$/ });

const retrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(20).default(4),
    baseDelayMs: z.number().int().min(0).default(100),
    maxDelayMs: z.number().int().min(0).default(2000),
  })
  .refine((retry) => retry.maxDelayMs >= retry.baseDelayMs, {
    message: "maxDelayMs must be at least baseDelayMs",
    path: ["maxDelayMs"],
  });

/** How floatip reaches OCI. Everything has a default that is right on a real OCI instance. */
export const ociSettingsSchema = z
  .object({
    auth: z.enum(["instance_principal", "config_file"]).default("instance_principal"),
    /** For auth "config_file": path of the OCI config file (default ~/.oci/config, or OCI_CONFIG_FILE). */
    configFile: z.string().min(1).optional(),
    /** For auth "config_file": the profile in it (default DEFAULT). */
    profile: z.string().min(1).optional(),
    metadataBaseUrl: httpUrl.default(DEFAULT_METADATA_BASE_URL),
    /** Instance-principal federation endpoint; when unset the SDK derives it from the region. */
    federationEndpoint: httpUrl.optional(),
    /** Core API base URL without /20160918; when unset the SDK derives it from the region. */
    endpoint: httpUrl.optional(),
    /** Overrides the region read from instance metadata. */
    region: z.string().min(1).optional(),
    /** Deadline of one HTTP attempt (metadata or API). */
    requestTimeoutMs: z.number().int().positive().default(5000),
    retry: retrySchema.default(() => ({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2000 })),
    /** How often monitor asks the cloud who holds a VIP (the local check runs on every monitor). */
    cloudCheckIntervalMs: z.number().int().positive().default(30_000),
    /** How long a holder's claim on a VIP stays valid without renewal (the floatip-lease tag). */
    leaseMs: z.number().int().positive().default(30_000),
    /** Optional file where the mover remembers displacements across daemon restarts. */
    stateFile: z.string().min(1).optional(),
  })
  .strict();

export type OciSettings = z.infer<typeof ociSettingsSchema>;
export type OciSettingsInput = z.input<typeof ociSettingsSchema>;

/** Validates settings and fills defaults; throws FLOATIP_E_OCI_SETTINGS_INVALID naming each bad field. */
export function parseOciSettings(input: unknown): OciSettings {
  const parsed = ociSettingsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new OciCloudError(
      "FLOATIP_E_OCI_SETTINGS_INVALID",
      `invalid OCI settings:\n${formatZodIssues(parsed.error.issues)}\nfix the fields above`,
    );
  }
  return parsed.data;
}

/** The environment variables that override OCI settings (tests and the test bed point them at the emulator). */
export const OCI_SETTINGS_ENV = {
  metadataBaseUrl: "FLOATIP_OCI_METADATA_URL",
  federationEndpoint: "FLOATIP_OCI_FEDERATION_ENDPOINT",
  endpoint: "FLOATIP_OCI_ENDPOINT",
  auth: "FLOATIP_OCI_AUTH",
} as const;

/** `base` with the FLOATIP_OCI_* overrides from `env` applied, validated. Empty variables are ignored. */
export function settingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  base: OciSettingsInput = {},
): OciSettings {
  const merged: Record<string, unknown> = { ...base };
  for (const [field, name] of Object.entries(OCI_SETTINGS_ENV)) {
    const value = env[name]?.trim();
    if (value) merged[field] = value;
  }
  return parseOciSettings(merged);
}
