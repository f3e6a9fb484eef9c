import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import * as common from "oci-common";
// Before oci-core: its model index is replaced by one that loads models on first use.
import "./sdk-models.ts";
import * as core from "oci-core";
import type { Logger } from "pino";
import { abortReason, type Clock } from "../../clock/clock.ts";
import { withDeadline } from "./deadline.ts";
import { withRetries } from "./backoff.ts";
import { OciCloudError, describeError } from "./errors.ts";
import { callPacerFromEnv, type CallPacer } from "./rate-limiter.ts";
import type { OciSettings } from "./settings.ts";
import type {
  CallOptions,
  FreeformTags,
  InstanceActionKind,
  InstanceInfo,
  OciApi,
  PrivateIpInfo,
  ServerClockSample,
  Versioned,
  VnicAttachmentInfo,
  VnicInfo,
} from "./oci-api.ts";

export interface OciSdkApiOptions {
  settings: OciSettings;
  /**
   * Region for the Core endpoint when settings name neither an endpoint nor a region and the auth
   * provider does not know it (instance principals with a fixed federation endpoint); usually read
   * from instance metadata.
   */
  region?: string | ((signal?: AbortSignal) => Promise<string>);
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** Every API attempt, answered or not: for the event log and metrics. */
  onCall?: (call: OciCallRecord) => void;
  /**
   * Paces Core API attempts; default: the fixed limit FLOATIP_OCI_RATE_LIMIT sets, else an AdaptivePacer
   * that learns the API's limit from 429s (rate-limiter.ts).
   */
  rateLimiter?: CallPacer;
}

export interface OciCallRecord {
  op: string;
  method: string;
  /** HTTP status, or null when no answer came (timeout, network error). */
  status: number | null;
  latencyMs: number;
  opcRequestId?: string;
}

interface SdkClients {
  vcn: core.VirtualNetworkClient;
  compute: core.ComputeClient;
  provider: common.AuthenticationDetailsProvider;
}

/** The signal of the call an HTTP request belongs to; fetch reads it through the httpOptions getter. */
const currentCallSignal = new AsyncLocalStorage<AbortSignal>();

/** What the SDK throws: an OciError for HTTP answers, a plain object for network failures. */
interface SdkFailure {
  statusCode?: number;
  serviceCode?: string;
  message?: string;
  opcRequestId?: string;
  code?: string;
}

/** 429s one attempt may get and be sent again through the pacer before it counts as a failed attempt. */
const MAX_PACED_THROTTLES = 6;

function isRetryableFailure(error: unknown): boolean {
  if (!(error instanceof OciCloudError)) return false;
  if (error.code === "FLOATIP_E_OCI_TIMEOUT") return true;
  const status = error.detail.status;
  if (error.code === "FLOATIP_E_OCI_AUTH") return false;
  // No status: the request never got an HTTP answer (connection refused, reset, DNS).
  return status === undefined || status === 429 || status === 401 || status >= 500;
}

/**
 * The OCI Core API through the official SDK, with floatip's own timeouts, retries and logging:
 * - SDK retries are off and its circuit breakers are disabled (they block every call for 30 s after a
 *   burst of 429s, without reaching the API); floatip retries 429, 5xx and network errors with
 *   jittered exponential backoff.
 * - Each HTTP attempt has a deadline; an abandoned request is aborted and its late answer dropped.
 * - Each HTTP attempt is logged with operation, method, status, latency and opc-request-id (never
 *   headers, so neither tokens nor signatures reach the log).
 */
export class OciSdkApi implements OciApi {
  readonly #options: OciSdkApiOptions;
  readonly #logger: Logger;
  #clients: Promise<SdkClients> | undefined;
  #serverClock: ServerClockSample | undefined;
  readonly #limiter: CallPacer;

  constructor(options: OciSdkApiOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "oci-api" });
    this.#limiter = options.rateLimiter ?? callPacerFromEnv(process.env, options.clock);
  }

  lastServerClock(): ServerClockSample | undefined {
    return this.#serverClock;
  }

  /** Releases the SDK clients; calls made afterwards build them again. */
  close(): void {
    const clients = this.#clients;
    this.#clients = undefined;
    clients?.then(
      ({ vcn, compute }) => {
        vcn.close();
        compute.close();
      },
      () => {},
    );
  }

  async getVnic(vnicId: string, options?: CallOptions): Promise<VnicInfo> {
    const response = await this.#call("GetVnic", options, ({ vcn }) => vcn.getVnic({ vnicId }));
    const vnic = response.vnic;
    return {
      id: vnic.id,
      subnetId: vnic.subnetId ?? "",
      compartmentId: vnic.compartmentId,
      availabilityDomain: vnic.availabilityDomain,
      privateIp: vnic.privateIp ?? "",
      isPrimary: vnic.isPrimary ?? false,
    };
  }

  async listPrivateIps(
    filter: { subnetId?: string; ipAddress?: string; vnicId?: string },
    options?: CallOptions,
  ): Promise<PrivateIpInfo[]> {
    const items: PrivateIpInfo[] = [];
    let page: string | undefined;
    do {
      const request: core.requests.ListPrivateIpsRequest = { ...filter, ...(page ? { page } : {}) };
      const response = await this.#call("ListPrivateIps", options, ({ vcn }) => vcn.listPrivateIps(request));
      items.push(...response.items.map(toPrivateIpInfo));
      page = response.opcNextPage;
    } while (page);
    return items;
  }

  async getPrivateIp(privateIpId: string, options?: CallOptions): Promise<Versioned<PrivateIpInfo>> {
    const response = await this.#call("GetPrivateIp", options, ({ vcn }) =>
      vcn.getPrivateIp({ privateIpId }),
    );
    return { value: toPrivateIpInfo(response.privateIp), etag: response.etag };
  }

  async updatePrivateIp(
    privateIpId: string,
    details: { vnicId?: string; freeformTags?: FreeformTags },
    ifMatch: string | undefined,
    options?: CallOptions,
  ): Promise<Versioned<PrivateIpInfo>> {
    const response = await this.#call("UpdatePrivateIp", options, ({ vcn }) =>
      vcn.updatePrivateIp({
        privateIpId,
        updatePrivateIpDetails: details,
        ...(ifMatch === undefined ? {} : { ifMatch }),
      }),
    );
    return { value: toPrivateIpInfo(response.privateIp), etag: response.etag };
  }

  async createPrivateIp(
    details: { vnicId: string; ipAddress: string; freeformTags?: FreeformTags },
    options?: CallOptions,
  ): Promise<Versioned<PrivateIpInfo>> {
    // One retry token for all attempts: a create whose answer was lost is not done twice.
    const opcRetryToken = randomUUID();
    const response = await this.#call("CreatePrivateIp", options, ({ vcn }) =>
      vcn.createPrivateIp({ createPrivateIpDetails: details, opcRetryToken }),
    );
    return { value: toPrivateIpInfo(response.privateIp), etag: response.etag };
  }

  async listVnicAttachments(
    filter: { compartmentId: string; instanceId?: string },
    options?: CallOptions,
  ): Promise<VnicAttachmentInfo[]> {
    const items: VnicAttachmentInfo[] = [];
    let page: string | undefined;
    do {
      const request: core.requests.ListVnicAttachmentsRequest = { ...filter, ...(page ? { page } : {}) };
      const response = await this.#call("ListVnicAttachments", options, ({ compute }) =>
        compute.listVnicAttachments(request),
      );
      for (const item of response.items) {
        items.push({
          id: item.id,
          instanceId: item.instanceId,
          vnicId: item.vnicId,
          subnetId: item.subnetId,
          lifecycleState: String(item.lifecycleState),
          nicIndex: item.nicIndex,
        });
      }
      page = response.opcNextPage;
    } while (page);
    return items;
  }

  async getInstance(instanceId: string, options?: CallOptions): Promise<InstanceInfo> {
    const response = await this.#call("GetInstance", options, ({ compute }) =>
      compute.getInstance({ instanceId }),
    );
    return toInstanceInfo(response.instance);
  }

  /** Every instance of a compartment, all pages (fencing maps node names to instances with it). */
  async listInstances(compartmentId: string, options?: CallOptions): Promise<InstanceInfo[]> {
    const items: InstanceInfo[] = [];
    let page: string | undefined;
    do {
      const request: core.requests.ListInstancesRequest = { compartmentId, ...(page ? { page } : {}) };
      const response = await this.#call("ListInstances", options, ({ compute }) =>
        compute.listInstances(request),
      );
      items.push(...response.items.map(toInstanceInfo));
      page = response.opcNextPage;
    } while (page);
    return items;
  }

  async instanceAction(
    instanceId: string,
    action: InstanceActionKind,
    options?: CallOptions,
  ): Promise<InstanceInfo> {
    const opcRetryToken = randomUUID();
    const response = await this.#call("InstanceAction", options, ({ compute }) =>
      compute.instanceAction({ instanceId, action, opcRetryToken }),
    );
    return toInstanceInfo(response.instance);
  }

  /** One API operation: deadline per attempt, floatip's retries, errors turned into OciCloudError. */
  async #call<T>(
    operation: string,
    options: CallOptions | undefined,
    invoke: (clients: SdkClients) => Promise<T>,
  ) {
    const { settings, clock } = this.#options;
    const signal = options?.signal;
    let refreshToken = false;
    return withRetries(
      async () => {
        const clients = await this.#sdkClients(signal);
        if (refreshToken) {
          refreshToken = false;
          await this.#refreshToken(clients.provider, signal);
        }
        // A 429 goes back to the pacer, first in line, rather than using one of the retries below: paced,
        // it means the API's budget was spent a moment earlier, not that the API is failing.
        for (let throttles = 0; ; throttles++) {
          // Waiting for a turn is not part of the attempt's deadline: the request has not been sent yet.
          const sentAt = await this.#limiter.take(signal, { again: throttles > 0 });
          try {
            const answer = await withDeadline(
              (attemptSignal) => currentCallSignal.run(attemptSignal, () => invoke(clients)),
              { timeoutMs: settings.requestTimeoutMs, clock, what: operation, ...(signal ? { signal } : {}) },
            );
            this.#limiter.answered();
            return answer;
          } catch (error) {
            if (signal?.aborted) throw error;
            const failure = toCloudError(operation, error);
            const status = failure.detail.status;
            if (status !== 429) {
              if (status !== undefined) this.#limiter.answered();
              throw failure;
            }
            this.#limiter.throttled(sentAt);
            if (throttles >= MAX_PACED_THROTTLES) throw failure;
          }
        }
      },
      {
        policy: settings.retry,
        clock,
        ...(signal ? { signal } : {}),
        ...(this.#options.random ? { random: this.#options.random } : {}),
        isRetryable: isRetryableFailure,
        onRetry: (error, attempt, delayMs) => {
          if (error instanceof OciCloudError && error.detail.status === 401) refreshToken = true;
          this.#logger.warn(
            { op: operation, attempt, delayMs, err: describeError(error) },
            "OCI call retried",
          );
        },
      },
    );
  }

  async #refreshToken(provider: common.AuthenticationDetailsProvider, signal: AbortSignal | undefined) {
    const refreshable = provider as { refresh?: () => Promise<unknown> };
    if (typeof refreshable.refresh !== "function") return;
    await withDeadline(() => refreshable.refresh!(), {
      timeoutMs: this.#authTimeoutMs(),
      clock: this.#options.clock,
      what: "instance principal token refresh",
      ...(signal ? { signal } : {}),
    }).catch((error: unknown) => {
      throw authError(error, this.#options.settings);
    });
  }

  #authTimeoutMs(): number {
    // Building instance-principal auth takes several metadata reads and one federation call.
    // Never below 10 s: federation generates an RSA key pair, which is slow on a loaded host, and a short
    // API timeout must not make authentication impossible.
    return Math.max(this.#options.settings.requestTimeoutMs * 4, 10_000);
  }

  /** Built once and shared by all calls, so no single caller's signal cancels it for the others. */
  #sdkClients(signal: AbortSignal | undefined): Promise<SdkClients> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (!this.#clients) {
      const building = withDeadline(() => this.#buildClients(), {
        timeoutMs: this.#authTimeoutMs(),
        clock: this.#options.clock,
        what: "OCI authentication",
      }).catch((error: unknown) => {
        if (this.#clients === building) this.#clients = undefined;
        throw authError(error, this.#options.settings);
      });
      this.#clients = building;
    }
    return this.#clients;
  }

  async #buildClients(): Promise<SdkClients> {
    const { settings } = this.#options;
    const provider = await buildAuthProvider(settings);
    // The SDK's own HTTP client, with its request signer, behind one that observes every response.
    const httpOptions = {
      get signal(): AbortSignal | undefined {
        return currentCallSignal.getStore();
      },
    };
    const fetchClient = new common.FetchHttpClient(
      new common.DefaultRequestSigner(provider),
      null,
      httpOptions,
    );
    const httpClient = new ObservingHttpClient(
      fetchClient,
      this.#logger,
      this.#options.clock,
      (sample) => {
        this.#serverClock = sample;
      },
      this.#options.onCall,
    );
    const configuration: common.ClientConfiguration = {
      retryConfiguration: { terminationStrategy: new common.MaxAttemptsTerminationStrategy(1) },
      circuitBreaker: new common.CircuitBreaker({ disableClientCircuitBreaker: true }),
    };
    const vcn = new core.VirtualNetworkClient({ httpClient }, configuration);
    const compute = new core.ComputeClient({ httpClient }, configuration);
    const regionId = settings.endpoint ? undefined : await this.#regionFor(provider);
    for (const client of [vcn, compute]) {
      // The endpoint setter appends /20160918; the region setters overwrite the endpoint, so set it last.
      if (settings.endpoint) client.endpoint = settings.endpoint.replace(/\/+$/, "");
      else if (regionId) client.regionId = regionId;
    }
    return { vcn, compute, provider };
  }

  async #regionFor(provider: common.AuthenticationDetailsProvider): Promise<string> {
    const fromProvider = common.isRegionProvider(provider) ? provider.getRegion()?.regionId : undefined;
    const fallback = this.#options.region;
    const region =
      this.#options.settings.region ??
      fromProvider ??
      (typeof fallback === "function" ? await fallback() : fallback);
    if (!region) {
      throw new OciCloudError(
        "FLOATIP_E_OCI_SETTINGS_INVALID",
        "no OCI region known for the Core API endpoint; set `region` or `endpoint` in the OCI settings",
      );
    }
    return region;
  }
}

async function buildAuthProvider(settings: OciSettings): Promise<common.AuthenticationDetailsProvider> {
  if (settings.auth === "config_file") {
    return new common.ConfigFileAuthenticationDetailsProvider(settings.configFile, settings.profile);
  }
  const builder = new common.InstancePrincipalsAuthenticationDetailsProviderBuilder();
  builder.metadataBaseUrl = settings.metadataBaseUrl;
  // With the federation endpoint given, the builder skips its own region lookup.
  if (settings.federationEndpoint)
    builder.federationEndpoint = settings.federationEndpoint.replace(/\/+$/, "");
  disableAuthCircuitBreakers(builder);
  const provider = await builder.build();
  // Fetch the session token now, so the first API call does not carry the federation round trips.
  await provider.getKeyId();
  return provider;
}

/**
 * The instance-principal builder guards metadata reads with an opossum breaker that opens after one
 * failure and federation with one that opens for 30-49 s: a short metadata hiccup would then fail
 * every token refresh long after the metadata service is back (the resource-agents #2020 pattern).
 * The builder has no setters for them, so the fields are replaced before build(). The constructor has
 * already started both: each rotates its statistics on two 1 s intervals for as long as the process
 * lives, so they are shut down, not just dropped.
 */
export function disableAuthCircuitBreakers(
  builder: common.InstancePrincipalsAuthenticationDetailsProviderBuilder,
): void {
  const fields = builder as unknown as {
    _circuitBreaker: { shutdown(): void } | null;
    _authCircuitBreaker: { circuit: { shutdown(): void } | null } | null;
  };
  fields._circuitBreaker?.shutdown();
  fields._authCircuitBreaker?.circuit?.shutdown();
  fields._circuitBreaker = null;
  fields._authCircuitBreaker = new common.CircuitBreaker({ disableClientCircuitBreaker: true });
}

function authError(error: unknown, settings: OciSettings): OciCloudError {
  if (error instanceof OciCloudError && error.code !== "FLOATIP_E_OCI_TIMEOUT") return error;
  const how =
    settings.auth === "config_file"
      ? `config file auth (${settings.configFile ?? "~/.oci/config"}, profile ${settings.profile ?? "DEFAULT"}) failed`
      : `instance principal auth via ${settings.metadataBaseUrl} failed`;
  const fix =
    settings.auth === "config_file"
      ? "check the config file, its key_file and region"
      : "check that this runs on an OCI instance in a dynamic group, and that the metadata and federation endpoints are reachable";
  return new OciCloudError("FLOATIP_E_OCI_AUTH", `${how}: ${describeError(error)}; ${fix}`, { cause: error });
}

/** Turns what the SDK throws into an OciCloudError that says what happened and what to do. */
function toCloudError(operation: string, error: unknown): OciCloudError {
  if (error instanceof OciCloudError) return error;
  const failure = (typeof error === "object" && error !== null ? error : {}) as SdkFailure;
  const status =
    typeof failure.statusCode === "number" && failure.statusCode > 0 ? failure.statusCode : undefined;
  const detail = {
    operation,
    ...(status === undefined ? {} : { status }),
    ...(failure.serviceCode ? { serviceCode: failure.serviceCode } : {}),
    ...(failure.opcRequestId ? { opcRequestId: failure.opcRequestId } : {}),
  };
  const requestId = failure.opcRequestId ? ` (opc-request-id ${failure.opcRequestId})` : "";
  const what = `${operation}: ${status ?? "no answer"} ${failure.serviceCode ?? failure.code ?? ""} ${failure.message ?? String(error)}`;
  if (status === undefined) {
    return new OciCloudError(
      "FLOATIP_E_OCI_API",
      `${what.replace(/\s+/g, " ")}; check the network path to the OCI endpoint`,
      {
        cause: error,
        detail,
      },
    );
  }
  if (
    (status === 404 && failure.serviceCode === "NotAuthorizedOrNotFound") ||
    status === 401 ||
    status === 403
  ) {
    return new OciCloudError(
      "FLOATIP_E_OCI_NOT_AUTHORIZED",
      `${what.replace(/\s+/g, " ")}${requestId}; the object is gone or this instance lacks an IAM permission for it: run \`floatip oci check\` for the policy statements`,
      { cause: error, detail },
    );
  }
  return new OciCloudError(
    "FLOATIP_E_OCI_API",
    `${what.replace(/\s+/g, " ")}${requestId}; ${status === 429 || status >= 500 ? "the API is throttling or failing, floatip retried; try again later" : "see the OCI error above"}`,
    { cause: error, detail },
  );
}

/** Wraps the SDK's HTTP client to log each attempt and sample the server clock; never logs headers. */
class ObservingHttpClient implements common.HttpClient {
  constructor(
    private readonly inner: common.HttpClient,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly onServerClock: (sample: ServerClockSample) => void,
    private readonly onCall: ((call: OciCallRecord) => void) | undefined,
  ) {}

  async send(
    request: common.HttpRequest,
    forceExcludeBody?: boolean,
    targetService?: string,
    operationName?: string,
    timestamp?: string,
    endpoint?: string,
    apiReferenceLink?: string,
  ): Promise<Response> {
    const started = this.clock.now();
    const op = operationName ?? "unknown";
    try {
      const response = await this.inner.send(
        request,
        forceExcludeBody,
        targetService,
        operationName,
        timestamp,
        endpoint,
        apiReferenceLink,
      );
      const latencyMs = this.clock.now() - started;
      const serverDate = Date.parse(response.headers.get("date") ?? "");
      // The Date header has whole seconds: its midpoint halves the worst-case error.
      if (Number.isFinite(serverDate))
        this.onServerClock({ serverMs: serverDate + 500, localMs: Date.now() });
      const line = {
        op,
        method: request.method,
        status: response.status,
        latencyMs,
        opcRequestId: response.headers.get("opc-request-id") ?? undefined,
      };
      if (response.ok) this.logger.debug(line, "OCI call");
      else this.logger.warn(line, "OCI call failed");
      this.onCall?.({
        ...line,
        ...(line.opcRequestId === undefined ? {} : { opcRequestId: line.opcRequestId }),
      });
      return response;
    } catch (error) {
      this.onCall?.({ op, method: request.method, status: null, latencyMs: this.clock.now() - started });
      this.logger.warn(
        { op, method: request.method, latencyMs: this.clock.now() - started, err: describeError(error) },
        "OCI call got no answer",
      );
      throw error;
    }
  }
}

function toPrivateIpInfo(privateIp: core.models.PrivateIp): PrivateIpInfo {
  return {
    id: privateIp.id ?? "",
    ipAddress: privateIp.ipAddress ?? "",
    vnicId: privateIp.vnicId ?? undefined,
    subnetId: privateIp.subnetId ?? "",
    isPrimary: privateIp.isPrimary ?? false,
    freeformTags: { ...(privateIp.freeformTags ?? {}) },
  };
}

function toInstanceInfo(instance: core.models.Instance): InstanceInfo {
  return {
    id: instance.id,
    displayName: instance.displayName ?? "",
    lifecycleState: String(instance.lifecycleState),
    availabilityDomain: instance.availabilityDomain,
    compartmentId: instance.compartmentId,
  };
}
