import type { EventEmitter } from "node:events";
import { lstat, unlink } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError, notAuthenticated } from "./api-error.ts";
import { EmulatorState } from "./cloud-state.ts";
import { CONTROL_PREFIX, handleControlRequest } from "./control-api.ts";
import { CORE_API_PREFIX, handleCoreCall } from "./core-api.ts";
import { CoreAuthenticator, principalLabel, type Principal } from "./core-authentication.ts";
import { FaultControl, type RateLimit } from "./fault-control.ts";
import { handleFederation } from "./federation-endpoint.ts";
import { errorReply, newOpcRequestId, readBody, sendReply, type Reply } from "./http-exchange.ts";
import { IdentityCertificates } from "./identity-certificates.ts";
import { unmapIpv4 } from "../../src/config/ipv4.ts";
import { checkMetadataHeaders, handleMetadataRequest } from "./metadata-service.ts";
import { DEFAULT_PERMISSIONS, emulatorSeedSchema, type EmulatorSeed } from "./seed.ts";
import { SessionTokens } from "./session-tokens.ts";

/**
 * A local OCI for tests and demos: Core API (private IPs, VNICs, subnets, VNIC attachments, instances),
 * instance metadata v2 and the instance-principal federation endpoint, spoken at the official SDK's paths and
 * verified the way OCI verifies them (request signatures, ETags, IAM, clock skew), with injectable faults.
 */

export type { EmulatorSeed } from "./seed.ts";
export { loadSeedFile } from "./seed.ts";
export { EmulatorState } from "./cloud-state.ts";
export type {
  PrivateIpAssignedEvent,
  PrivateIpDeletedEvent,
  InstanceActionEvent,
  RequestLogEntry,
} from "./cloud-state.ts";
export { FaultControl } from "./fault-control.ts";

/** Certificate and key (PEM) of an HTTPS listener: the region's endpoints as the SDK derives them. */
export interface TlsIdentity {
  certPem: string;
  keyPem: string;
}

export interface EmulatorOptions {
  seed: EmulatorSeed;
  /** default [{ host: "127.0.0.1", port: 0 }]; a listener with `tls` serves HTTPS */
  listen?: { host: string; port: number; tls?: TlsIdentity }[];
  /** also serve everything (including /_emulator) on this unix socket */
  controlSocket?: string;
  /** added to every Core API call */
  latencyMs?: number;
  /** 429 TooManyRequests past this rate (token bucket) */
  rateLimit?: RateLimit | null;
  /** ms since the epoch, for date-skew checks and token expiry; default Date.now */
  clock?: () => number;
  /** lifetime of federation tokens; default 1200 */
  tokenTtlSeconds?: number;
}

export interface RunningEmulator {
  /** "http://HOST:PORT" (or https://) per listener: Core API under /20160918, metadata under /opc/v2/, federation POST /v1/x509 */
  urls: string[];
  /** "http://127.0.0.1:PORT/_instances/<name>/opc/v2/": metadata as seen from that instance */
  metadataUrlFor(instanceDisplayName: string): string;
  state: EmulatorState;
  /** "privateIpAssigned", "privateIpDeleted", "instanceAction", "request" */
  events: EventEmitter;
  faults: FaultControl;
  close(): Promise<void>;
}

const BODY_TIMEOUT_MS = 10_000;
const INSTANCE_PREFIX = /^\/_instances\/([^/]+)(\/opc\/.*)$/;

/** A socket file left by a crashed run would make listen fail with EADDRINUSE; other files are left alone. */
async function removeStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch(() => undefined);
  if (stats?.isSocket() === true) await unlink(path);
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const seed = emulatorSeedSchema.parse(options.seed);
  const state = new EmulatorState(seed);
  const faults = new FaultControl({
    latencyMs: options.latencyMs ?? 0,
    rateLimit: options.rateLimit ?? null,
    permissions: seed.permissions ?? DEFAULT_PERMISSIONS,
  });
  const baseClock = options.clock ?? Date.now;
  const now = (): number => baseClock() + faults.clockSkewMs;
  const certificates = new IdentityCertificates();
  const tokens = new SessionTokens(options.tokenTtlSeconds ?? 1200);
  const authenticator = new CoreAuthenticator(state.tenancyId, seed.apiUsers ?? [], tokens);
  const closing = new AbortController();

  // With an HTTPS listener the emulator is split as OCI is: metadata only over plain HTTP (169.254.169.254),
  // federation and the Core API only over HTTPS (the region's endpoint names). A client that reaches either
  // the other way fails, so a test on the production path cannot pass by another path.
  const splitByScheme = (options.listen ?? []).some((target) => target.tls !== undefined);
  const wrongScheme = (tls: boolean, path: string): string | undefined => {
    if (!splitByScheme) return undefined;
    const metadata = path.startsWith("/opc/") || INSTANCE_PREFIX.test(path);
    if (tls && metadata) return "instance metadata is served over plain HTTP at 169.254.169.254 only";
    const api = path === "/v1/x509" || path.startsWith(`${CORE_API_PREFIX}/`);
    if (!tls && api)
      return "federation and the Core API are served over HTTPS at the region's endpoints only";
    return undefined;
  };

  async function route(
    req: IncomingMessage,
    body: Buffer,
    setPrincipal: (p: Principal) => void,
  ): Promise<Reply> {
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    const url = new URL(rawUrl, "http://emulator.invalid");
    const path = url.pathname;
    const refused = wrongScheme("encrypted" in req.socket, path);
    if (refused !== undefined) throw new ApiError(404, "NotFound", refused);

    if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
      return handleControlRequest(state, faults, method, path.slice(CONTROL_PREFIX.length), body);
    }
    if (path === "/v1/x509" && method === "POST") {
      return handleFederation(
        state,
        certificates,
        tokens,
        { method, url: rawUrl, headers: req.headers, body },
        now(),
      );
    }
    const named = INSTANCE_PREFIX.exec(path);
    if (named !== null || path.startsWith("/opc/")) {
      const metadataPath = named?.[2] ?? path;
      if (!metadataPath.startsWith("/opc/v2/"))
        throw new ApiError(404, "NotFound", "only metadata v2 is served");
      checkMetadataHeaders(req.headers);
      const source = unmapIpv4(req.socket.remoteAddress);
      const instance =
        named?.[1] !== undefined
          ? state.findInstance(decodeURIComponent(named[1]))
          : source === undefined
            ? undefined
            : state.instanceOwningAddress(source);
      if (instance === undefined) {
        throw new ApiError(404, "NotFound", `no instance at ${named?.[1] ?? source ?? "this address"}`);
      }
      return handleMetadataRequest(state, certificates, {
        instance,
        subPath: metadataPath.slice("/opc/v2/".length),
        headers: req.headers,
      });
    }
    if (path.startsWith(`${CORE_API_PREFIX}/`)) {
      if (faults.latencyMs > 0) await sleep(faults.latencyMs, undefined, { signal: closing.signal });
      const injected = faults.admit();
      if (injected !== undefined) throw injected;
      const principal = authenticator.authenticate(
        { method, url: rawUrl, headers: req.headers, body },
        now(),
      );
      setPrincipal(principal);
      // A powered-off machine makes no calls; refusing its still-valid token is how a fenced test-bed node,
      // whose process keeps running, loses the cloud as a real one would.
      if (
        principal.kind === "instance" &&
        state.instances.get(principal.instanceId)?.lifecycleState !== "RUNNING"
      ) {
        throw notAuthenticated(`instance ${principal.instanceName} is not running`);
      }
      return handleCoreCall(state, {
        method,
        path: path.slice(CORE_API_PREFIX.length),
        query: url.searchParams,
        headers: req.headers,
        body,
        principal,
        permissions: faults.permissions,
        now: now(),
      });
    }
    throw new ApiError(404, "NotFound", `nothing at ${method} ${path}`);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const clientRequestId = req.headers["opc-request-id"];
    const opcRequestId = newOpcRequestId(typeof clientRequestId === "string" ? clientRequestId : undefined);
    res.setHeader("opc-request-id", opcRequestId);
    let principal: Principal | null = null;
    let reply: Reply;
    try {
      const body = await readBody(req, BODY_TIMEOUT_MS);
      reply = await route(req, body, (p) => (principal = p));
    } catch (error) {
      reply =
        error instanceof ApiError
          ? errorReply(error)
          : errorReply(
              new ApiError(
                500,
                "InternalServerError",
                error instanceof Error ? error.message : String(error),
              ),
            );
    }
    if (!res.destroyed && !res.headersSent) sendReply(res, reply);
    state.recordRequest({
      time: now(),
      method: req.method ?? "GET",
      path: req.url ?? "/",
      status: reply.status,
      ms: Math.round((performance.now() - started) * 100) / 100,
      opcRequestId,
      principal: principalLabel(principal),
    });
  }

  const servers: Server[] = [];
  const newServer = (tls?: TlsIdentity): Server => {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      serve(req, res).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    };
    const server = tls
      ? createTlsServer({ cert: tls.certPem, key: tls.keyPem }, handler)
      : createServer(handler);
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    // Longer than a Node client keeps an idle connection (5 s): with both at 5 s a client may reuse a socket
    // just as the server closes it, and the SDK's metadata reads (node-fetch, keep-alive) fail with
    // "socket hang up" now and then on a loaded host.
    server.keepAliveTimeout = 65_000;
    servers.push(server);
    return server;
  };
  const listen = (server: Server, target: { host: string; port: number } | string): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      const done = (): void => {
        server.off("error", reject);
        resolve();
      };
      if (typeof target === "string") server.listen(target, done);
      else server.listen(target.port, target.host, done);
    });

  const close = async (): Promise<void> => {
    closing.abort();
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (!server.listening) return resolve();
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    await certificates.dispose();
  };

  const urls: string[] = [];
  try {
    for (const target of options.listen ?? [{ host: "127.0.0.1", port: 0 }]) {
      const server = newServer(target.tls);
      await listen(server, target);
      const address = server.address() as AddressInfo;
      urls.push(`${target.tls ? "https" : "http"}://${urlHost(target.host)}:${address.port}`);
    }
    if (options.controlSocket !== undefined) {
      await removeStaleSocket(options.controlSocket);
      await listen(newServer(), options.controlSocket);
    }
  } catch (error) {
    await close();
    throw error;
  }

  const loopbackUrl = urls.find((u) => /^http:\/\/(127\.|\[::1\])/.test(u)) ?? urls[0];
  return {
    urls,
    metadataUrlFor: (name) => {
      if (loopbackUrl === undefined) throw new Error("the emulator has no TCP listener");
      return `${loopbackUrl}/_instances/${encodeURIComponent(name)}/opc/v2/`;
    },
    state,
    events: state.events,
    faults,
    close,
  };
}
