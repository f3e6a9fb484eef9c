import { createHash, verify, type KeyObject } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { notAuthenticated } from "./api-error.ts";

/**
 * Verifies OCI request signatures (draft-cavage-http-signatures as the SDK's http-signature 1.3.1 produces them).
 * The SDK lists some names in mixed case ("Content-Type") in `headers="..."`; they are lowercased before lookup,
 * exactly as http-signature does when it builds the string it signs.
 */

export interface SignedRequest {
  method: string;
  /** raw path + query exactly as received (node's req.url) */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SignatureParameters {
  keyId: string;
  algorithm: string;
  headers: string[];
  signature: string;
}

export interface VerifyOptions {
  /** the emulator's clock, ms */
  now: number;
  /** OCI rejects signatures whose x-date (or date) is further than this from its clock; default 5 minutes */
  maxClockSkewMs?: number;
  resolveKey: (keyId: string) => KeyObject | undefined;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
const DEFAULT_MAX_SKEW_MS = 5 * 60_000;

export function parseSignatureHeader(authorization: string): SignatureParameters | undefined {
  const match = /^Signature\s+(.*)$/is.exec(authorization.trim());
  if (match?.[1] === undefined) return undefined;
  const params = new Map<string, string>();
  for (const pair of match[1].matchAll(/([A-Za-z]+)="([^"]*)"/g)) {
    if (pair[1] !== undefined && pair[2] !== undefined) params.set(pair[1].toLowerCase(), pair[2]);
  }
  const keyId = params.get("keyid");
  const signature = params.get("signature");
  if (keyId === undefined || signature === undefined) return undefined;
  return {
    keyId,
    signature,
    algorithm: params.get("algorithm") ?? "rsa-sha256",
    headers: (params.get("headers") ?? "date")
      .split(/\s+/)
      .filter((h) => h !== "")
      .map((h) => h.toLowerCase()),
  };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

export function buildSigningString(request: SignedRequest, headerNames: readonly string[]): string {
  return headerNames
    .map((name) => {
      if (name === "(request-target)")
        return `(request-target): ${request.method.toLowerCase()} ${request.url}`;
      const value = headerValue(request.headers, name);
      if (value === undefined) throw notAuthenticated(`signed header ${name} is missing from the request`);
      return `${name}: ${value}`;
    })
    .join("\n");
}

export function requiredSignedHeaders(method: string): string[] {
  const base = ["(request-target)", "host"];
  return BODY_METHODS.has(method.toUpperCase())
    ? [...base, "content-type", "content-length", "x-content-sha256"]
    : base;
}

export function bodySha256(body: Buffer): string {
  return createHash("sha256").update(body).digest("base64");
}

/** Returns the verified signature parameters; throws a 401 NotAuthenticated ApiError for every failure. */
export function verifyRequestSignature(request: SignedRequest, options: VerifyOptions): SignatureParameters {
  const authorization = headerValue(request.headers, "authorization");
  if (authorization === undefined) throw notAuthenticated("no Authorization header");
  const params = parseSignatureHeader(authorization);
  if (params === undefined) throw notAuthenticated("Authorization is not an HTTP Signature");
  if (params.algorithm.toLowerCase() !== "rsa-sha256") {
    throw notAuthenticated(`unsupported signature algorithm ${params.algorithm}`);
  }
  const missing = requiredSignedHeaders(request.method).filter((h) => !params.headers.includes(h));
  const dateHeader = params.headers.includes("x-date")
    ? "x-date"
    : params.headers.includes("date")
      ? "date"
      : null;
  if (dateHeader === null) missing.push("x-date|date");
  if (missing.length > 0) throw notAuthenticated(`headers ${missing.join(", ")} must be signed`);

  const signedAt = Date.parse(headerValue(request.headers, dateHeader ?? "date") ?? "");
  const maxSkew = options.maxClockSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (Number.isNaN(signedAt)) throw notAuthenticated(`${dateHeader} header is not a date`);
  if (Math.abs(options.now - signedAt) > maxSkew) {
    throw notAuthenticated(
      `${dateHeader} ${new Date(signedAt).toUTCString()} is more than ${maxSkew / 60_000} minutes from the server clock ${new Date(options.now).toUTCString()}`,
    );
  }

  if (params.headers.includes("x-content-sha256")) {
    if (headerValue(request.headers, "x-content-sha256") !== bodySha256(request.body)) {
      throw notAuthenticated("x-content-sha256 does not match the request body");
    }
  }
  if (params.headers.includes("content-length")) {
    if (headerValue(request.headers, "content-length") !== String(request.body.length)) {
      throw notAuthenticated("content-length does not match the request body");
    }
  }

  const key = options.resolveKey(params.keyId);
  if (key === undefined) throw notAuthenticated("unknown or expired keyId");
  const signingString = buildSigningString(request, params.headers);
  const valid = verify("sha256", Buffer.from(signingString), key, Buffer.from(params.signature, "base64"));
  if (!valid) throw notAuthenticated("signature does not verify");
  return params;
}
