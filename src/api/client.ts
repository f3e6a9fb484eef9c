import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { TLSSocket } from "node:tls";
import type { ApiErrorBody } from "./protocol.ts";

/**
 * The local daemon's unix socket, or a peer's admin port over TLS. A peer's certificate is self-signed:
 * `fingerprint` pins it (learnt at `cluster auth`); without one, any certificate is accepted and reported.
 */
export type Endpoint =
  { socketPath: string } | { host: string; port: number; token?: string; fingerprint?: string };

export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiCallError";
  }
}

/** One admin call; every failure becomes an ApiCallError with a code and an actionable message. */
export async function callApi<T>(
  endpoint: Endpoint,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<T> {
  return (await callApiWithPeer<T>(endpoint, method, path, body, timeoutMs)).body;
}

/** As callApi, also returning the peer certificate's SHA-256 fingerprint (TCP endpoints only). */
export function callApiWithPeer<T>(
  endpoint: Endpoint,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<{ body: T; fingerprint: string | null }> {
  const payload = body === undefined ? "" : JSON.stringify(body);
  const local = "socketPath" in endpoint;
  const where = local ? endpoint.socketPath : `${endpoint.host}:${endpoint.port}`;
  return new Promise((resolve, reject) => {
    let fingerprint: string | null = null;
    const headers = {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(payload),
      ...(!local && endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {}),
    };
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          reject(new ApiCallError("FLOATIP_E_API_BAD_RESPONSE", `unreadable answer from ${where}`));
          return;
        }
        if ((res.statusCode ?? 500) >= 400) {
          const err = (json as Partial<ApiErrorBody>).error;
          reject(new ApiCallError(err?.code ?? "FLOATIP_E_API", err?.message ?? `HTTP ${res.statusCode}`));
          return;
        }
        resolve({ body: json as T, fingerprint });
      });
    };
    const req = local
      ? httpRequest(
          { socketPath: endpoint.socketPath, method, path, timeout: timeoutMs, headers },
          onResponse,
        )
      : httpsRequest(
          {
            host: endpoint.host,
            port: endpoint.port,
            method,
            path,
            timeout: timeoutMs,
            headers,
            // Self-signed by design: the fingerprint check below replaces CA validation.
            rejectUnauthorized: false,
            agent: false,
          },
          onResponse,
        );
    if (!local) {
      req.on("socket", (socket) => {
        socket.once("secureConnect", () => {
          fingerprint = (socket as TLSSocket).getPeerCertificate().fingerprint256 ?? null;
          if (endpoint.fingerprint !== undefined && fingerprint !== endpoint.fingerprint) {
            req.destroy(
              new ApiCallError(
                "FLOATIP_E_TLS_FINGERPRINT",
                `${where} presented a certificate that is not the one pinned at 'cluster auth' (expected ${endpoint.fingerprint}, got ${fingerprint}); if that node was reinstalled, authorise it again with 'floatip cluster auth'`,
              ),
            );
          }
        });
      });
    }
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error instanceof ApiCallError) reject(error);
      else if (local && (error.code === "ENOENT" || error.code === "ECONNREFUSED")) {
        reject(
          new ApiCallError(
            "FLOATIP_E_DAEMON_DOWN",
            `the floatip daemon is not running (no socket at ${where}); start it with 'floatip daemon' or 'systemctl start floatip'`,
          ),
        );
      } else if (error.message === "timeout") {
        reject(new ApiCallError("FLOATIP_E_TIMEOUT", `${where} did not answer within ${timeoutMs} ms`));
      } else {
        reject(
          new ApiCallError("FLOATIP_E_UNREACHABLE", `cannot reach ${where}: ${error.code ?? error.message}`),
        );
      }
    });
    req.end(payload);
  });
}
