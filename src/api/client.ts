import { request } from "node:http";
import type { ApiErrorBody } from "./protocol.ts";

export type Endpoint = { socketPath: string } | { host: string; port: number; token?: string };

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
export function callApi<T>(
  endpoint: Endpoint,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<T> {
  const payload = body === undefined ? "" : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const where = "socketPath" in endpoint ? endpoint.socketPath : `${endpoint.host}:${endpoint.port}`;
    const req = request(
      {
        ...("socketPath" in endpoint
          ? { socketPath: endpoint.socketPath }
          : { host: endpoint.host, port: endpoint.port }),
        method,
        path,
        timeout: timeoutMs,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          ...("token" in endpoint && endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {}),
        },
      },
      (res) => {
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
          resolve(json as T);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error: NodeJS.ErrnoException) => {
      if ("socketPath" in endpoint && (error.code === "ENOENT" || error.code === "ECONNREFUSED")) {
        reject(
          new ApiCallError(
            "FLOATIP_E_DAEMON_DOWN",
            `the floatip daemon is not running (no socket at ${endpoint.socketPath}); start it with 'floatip daemon' or 'systemctl start floatip'`,
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
