import { z } from "zod";
import type { Clock } from "../../clock/clock.ts";
import { withDeadline } from "./deadline.ts";
import { withRetries, type BackoffPolicy } from "./backoff.ts";
import { OciCloudError, describeError } from "./errors.ts";

const instanceDocument = z.object({
  id: z.string().min(1),
  displayName: z.string().default(""),
  canonicalRegionName: z.string().min(1),
  availabilityDomain: z.string().min(1),
  compartmentId: z.string().min(1),
});

const vnicsDocument = z
  .array(
    z.object({
      vnicId: z.string().min(1),
      privateIp: z.string().min(1),
      macAddr: z.string().default(""),
      subnetCidrBlock: z.string().min(1),
      virtualRouterIp: z.string().default(""),
      nicIndex: z.number().int().default(0),
    }),
  )
  .min(1);

export type MetadataVnic = z.infer<typeof vnicsDocument>[number];

/** What instance metadata v2 says about this instance. The first VNIC is the primary one. */
export interface InstanceMetadata {
  instanceId: string;
  displayName: string;
  /** Canonical region name, e.g. us-phoenix-1 (the `region` key may be a short code and is not used). */
  region: string;
  availabilityDomain: string;
  compartmentId: string;
  vnics: MetadataVnic[];
}

export interface MetadataClientOptions {
  /** e.g. http://169.254.169.254/opc/v2/ */
  baseUrl: string;
  clock: Clock;
  timeoutMs: number;
  /** IMDS docs: retry up to three times on 404, 429 and 5xx (it has short maintenance windows). */
  retries?: number;
  retryBaseDelayMs?: number;
}

/** An HTTP status from IMDS worth another try (documented: 404 during maintenance, 429, 5xx). */
function isRetryableStatus(status: number): boolean {
  return status === 404 || status === 429 || status >= 500;
}

class MetadataHttpError extends Error {
  constructor(
    readonly status: number,
    url: string,
  ) {
    super(`HTTP ${status} from ${url}`);
  }
}

/** Client of the OCI instance metadata service v2 (IMDS), with node's fetch. */
export class MetadataClient {
  readonly baseUrl: string;
  readonly #options: MetadataClientOptions;
  readonly #policy: BackoffPolicy;

  constructor(options: MetadataClientOptions) {
    this.baseUrl = options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`;
    this.#options = options;
    this.#policy = {
      maxAttempts: (options.retries ?? 3) + 1,
      baseDelayMs: options.retryBaseDelayMs ?? 200,
      maxDelayMs: 2000,
    };
  }

  async instance(signal?: AbortSignal): Promise<InstanceMetadata> {
    // One after the other: IMDS is local and fast, and a failure leaves no request running behind it.
    const instanceJson = await this.#getJson("instance/", signal);
    const vnicsJson = await this.#getJson("vnics/", signal);
    const instance = this.#parse(instanceDocument, instanceJson, "instance/");
    const vnics = this.#parse(vnicsDocument, vnicsJson, "vnics/");
    return {
      instanceId: instance.id,
      displayName: instance.displayName,
      region: instance.canonicalRegionName,
      availabilityDomain: instance.availabilityDomain,
      compartmentId: instance.compartmentId,
      vnics,
    };
  }

  #parse<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    throw new OciCloudError(
      "FLOATIP_E_OCI_METADATA",
      `instance metadata ${this.baseUrl}${path} has an unexpected shape (${parsed.error.issues[0]?.message ?? "invalid"}); check metadataBaseUrl points at OCI instance metadata v2`,
    );
  }

  async #getJson(path: string, signal: AbortSignal | undefined): Promise<unknown> {
    const url = new URL(path, this.baseUrl).toString();
    const { clock, timeoutMs } = this.#options;
    try {
      return await withRetries(
        () =>
          withDeadline(
            async (attemptSignal) => {
              const response = await fetch(url, {
                headers: { Authorization: "Bearer Oracle" },
                signal: attemptSignal,
              });
              if (!response.ok) {
                // Read, not cancelled: the daemon's fetch (node-fetch) has no WHATWG body stream.
                await response.arrayBuffer().catch(() => undefined);
                throw new MetadataHttpError(response.status, url);
              }
              return (await response.json()) as unknown;
            },
            { timeoutMs, clock, what: `instance metadata ${url}`, ...(signal ? { signal } : {}) },
          ),
        {
          policy: this.#policy,
          clock,
          ...(signal ? { signal } : {}),
          isRetryable: (error) =>
            !(signal?.aborted ?? false) &&
            (error instanceof MetadataHttpError ? isRetryableStatus(error.status) : true),
        },
      );
    } catch (error) {
      if (signal?.aborted) throw error;
      const why = describeError(error);
      throw new OciCloudError(
        "FLOATIP_E_OCI_METADATA",
        `instance metadata ${url} is not reachable (${why}); floatip must run on an OCI instance, or metadataBaseUrl / FLOATIP_OCI_METADATA_URL must point at the metadata service`,
        { cause: error },
      );
    }
  }
}
