import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { dirname } from "node:path";
import type { z } from "zod";
import type { Logger } from "../observability/logger.ts";
import { ApiError, type ApiErrorBody } from "./protocol.ts";

const MAX_BODY_BYTES = 1024 * 1024;
const DRAIN_LIMIT_BYTES = 16 * MAX_BODY_BYTES;

export type Listener = "local" | "remote";

export interface Route<S extends z.ZodType> {
  method: "GET" | "POST";
  path: string;
  /** "local": only on the root-only unix socket; "remote": also on TCP, with a valid token. */
  scope: "local" | "remote" | "public";
  schema: S;
  handle(body: z.infer<S>, ctx: { listener: Listener }): Promise<unknown>;
}

// Routes are heterogeneous in their schemas; the server only needs parse + handle.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRoute = Route<any>;

/**
 * The admin API: JSON over HTTP on a unix socket (mode 0600, so only root talks to it) and on TCP for
 * peers and remote CLIs, where every route but the public ones needs a bearer token from `cluster auth`.
 */
export class AdminServer {
  private readonly routes = new Map<string, AnyRoute>();
  private readonly streams = new Map<string, StreamRoute>();
  private readonly servers: Server[] = [];

  constructor(
    private readonly deps: { logger: Logger; verifyToken(token: string): "valid" | "expired" | "unknown" },
  ) {}

  add<S extends z.ZodType>(route: Route<S>): void {
    this.routes.set(`${route.method} ${route.path}`, route);
  }

  /** A long-lived GET answered as a stream (server-sent events), with the same scopes and auth as routes. */
  addStream(route: StreamRoute): void {
    this.streams.set(route.path, route);
  }

  async listenUnix(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    rmSync(path, { force: true });
    const server = createServer((req, res) => void this.dispatch(req, res, "local"));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
    this.servers.push(server);
  }

  /** The TCP listener speaks TLS only: tokens and, at setup, the cluster key travel over it. */
  async listenTcp(host: string, port: number, tls: { key: Buffer; cert: Buffer }): Promise<number> {
    const server = createTlsServer(
      { key: tls.key, cert: tls.cert, minVersion: "TLSv1.2" },
      (req, res) => void this.dispatch(req, res, "remote"),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.servers.push(server);
    const address = server.address();
    return typeof address === "object" && address ? address.port : port;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    this.servers.length = 0;
  }

  private authorize(scope: "local" | "remote" | "public", listener: Listener, req: IncomingMessage): void {
    if (listener !== "remote") return;
    if (scope === "local") {
      throw new ApiError("FLOATIP_E_API_LOCAL_ONLY", "this call is only allowed on the local socket", 403);
    }
    const check = scope === "remote" ? this.deps.verifyToken(bearerToken(req)) : "valid";
    if (check === "expired") {
      throw new ApiError(
        "FLOATIP_E_TOKEN_EXPIRED",
        "the token for this node has expired; run 'floatip cluster auth' for it again",
        401,
      );
    }
    if (check !== "valid") {
      throw new ApiError(
        "FLOATIP_E_NOT_AUTHORIZED",
        "not authorized; run 'floatip cluster auth' for this node first",
        401,
      );
    }
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, listener: Listener): Promise<void> {
    try {
      const url = requestUrl(req);
      const stream = req.method === "GET" ? this.streams.get(url.pathname) : undefined;
      if (stream) {
        this.authorize(stream.scope, listener, req);
        stream.open(url, res);
        return;
      }
      const route = this.routes.get(`${req.method ?? "GET"} ${url.pathname}`);
      if (!route)
        throw new ApiError(
          "FLOATIP_E_API_NOT_FOUND",
          `no such admin call: ${req.method} ${url.pathname}`,
          404,
        );
      this.authorize(route.scope, listener, req);
      const type = req.headers["content-type"];
      // Every floatip client sends JSON; refusing other declared types also keeps a browser page from
      // posting to the admin port with a "simple" cross-site form request (no CORS preflight).
      if (req.method === "POST" && type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
        throw new ApiError(
          "FLOATIP_E_API_CONTENT_TYPE",
          `request body must be sent as application/json, not ${JSON.stringify(type.slice(0, 100))}`,
          415,
        );
      }
      const raw = req.method === "POST" ? await readBody(req) : "{}";
      let json: unknown;
      try {
        json = raw.length === 0 ? {} : JSON.parse(raw);
      } catch {
        throw new ApiError("FLOATIP_E_API_BAD_JSON", "request body is not valid JSON");
      }
      const parsed = route.schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.join(".") ?? "";
        throw new ApiError(
          "FLOATIP_E_API_BAD_REQUEST",
          `${field ? `${field}: ` : ""}${issue?.message ?? "invalid"}`,
        );
      }
      const result = await route.handle(parsed.data, { listener });
      send(res, 200, result ?? {});
    } catch (error) {
      if (error instanceof ApiError) {
        send(res, error.status, {
          error: { code: error.code, message: error.message },
        } satisfies ApiErrorBody);
        return;
      }
      const coded = error as { code?: unknown; message?: unknown };
      if (typeof coded.code === "string" && coded.code.startsWith("FLOATIP_E_")) {
        send(res, 400, { error: { code: coded.code, message: String(coded.message) } });
        return;
      }
      this.deps.logger.error({ err: error }, "admin call crashed");
      send(res, 500, {
        error: { code: "FLOATIP_E_INTERNAL", message: "internal error; see the daemon log" },
      });
    }
  }
}

export interface StreamRoute {
  path: string;
  scope: "local" | "remote" | "public";
  /** Writes the stream to `res` until the client goes away. */
  open(url: URL, res: ServerResponse): void;
}

/** The request target as a URL; one that cannot be read (`//`, `*`) is a 404 like any unknown call, not a crash. */
function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? "/";
  try {
    // Appended to the origin rather than resolved against it, so `//x` stays a path instead of a host.
    return new URL(`http://floatip${target.startsWith("/") ? "" : "/"}${target}`);
  } catch {
    throw new ApiError(
      "FLOATIP_E_API_NOT_FOUND",
      `no such admin call: ${req.method} ${JSON.stringify(target.slice(0, 200))}`,
      404,
    );
  }
}

function bearerToken(req: IncomingMessage): string {
  const header = req.headers.authorization ?? "";
  return header.startsWith("Bearer ") ? header.slice(7) : "";
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = () =>
      new ApiError(
        "FLOATIP_E_API_TOO_LARGE",
        "request body is larger than 1 MiB; send a smaller request",
        413,
      );
    // A body over the limit is read to its end and dropped before the 413 goes out: answering while the
    // client still writes makes node:http close the socket under it, and the client sees a reset instead
    // of the error. Only a body beyond DRAIN_LIMIT_BYTES is cut off at once.
    if (Number(req.headers["content-length"] ?? 0) > DRAIN_LIMIT_BYTES) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > DRAIN_LIMIT_BYTES) {
        req.off("data", onData);
        reject(tooLarge());
      } else if (size > MAX_BODY_BYTES) chunks.length = 0;
      else chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () =>
      size > MAX_BODY_BYTES ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString("utf8")),
    );
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
