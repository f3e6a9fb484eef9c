import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./api-error.ts";

/** What a handler answers; the server turns it into bytes. Handlers never touch the response object. */
export interface Reply {
  status: number;
  /** JSON-encoded unless it is a string (then sent as text/plain) */
  body?: unknown;
  headers?: Record<string, string>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export const jsonReply = (body: unknown, headers: Record<string, string> = {}, status = 200): Reply => ({
  status,
  body,
  headers,
});

export function errorReply(error: ApiError): Reply {
  return { status: error.status, body: { code: error.code, message: error.message } };
}

/** OCI request ids are 32 uppercase hex digits, with the caller's own id in front when it sent one. */
export function newOpcRequestId(clientRequestId: string | undefined): string {
  const serverPart = randomBytes(16).toString("hex").toUpperCase();
  return clientRequestId === undefined || clientRequestId === ""
    ? serverPart
    : `${clientRequestId}/${serverPart}`;
}

export function readBody(req: IncomingMessage, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      reject(new ApiError(408, "RequestTimeout", `request body not received within ${timeoutMs} ms`));
      req.destroy();
    }, timeoutMs);
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        clearTimeout(timer);
        reject(new ApiError(413, "RequestEntityTooLarge", `request body exceeds ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new ApiError(400, "InvalidParameter", "request body is not valid JSON");
  }
}

export function sendReply(res: ServerResponse, reply: Reply): void {
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (reply.body === undefined) {
    res.statusCode = reply.status;
    res.end();
    return;
  }
  const isText = typeof reply.body === "string";
  const payload = isText ? (reply.body as string) : JSON.stringify(reply.body);
  res.statusCode = reply.status;
  res.setHeader("content-type", isText ? "text/plain" : "application/json");
  res.setHeader("content-length", Buffer.byteLength(payload));
  res.end(payload);
}
