import { createPublicKey, type KeyObject } from "node:crypto";
import { z } from "zod";
import { ApiError, notAuthenticated } from "./api-error.ts";
import type { EmulatorState } from "./cloud-state.ts";
import { parseJsonBody, type Reply } from "./http-exchange.ts";
import type { IdentityCertificates, InstanceIdentity } from "./identity-certificates.ts";
import { parseSignatureHeader, verifyRequestSignature, type SignedRequest } from "./request-signature.ts";
import type { SessionTokens } from "./session-tokens.ts";

/**
 * POST /v1/x509: the auth service trades an instance certificate (signed request + certificate in the body)
 * for a session token bound to the session public key the caller sends along.
 */

const federationBodySchema = z.object({
  certificate: z.string().min(1),
  purpose: z.string().min(1),
  publicKey: z.string().min(1),
  intermediateCertificates: z.array(z.string()),
});

/** PEM without its BEGIN/END lines and whitespace: the form the SDK puts in the federation body. */
export function pemBody(pem: string): string {
  return pem
    .replace(/-----(BEGIN|END) [A-Z ]+-----/g, "")
    .replace(/\s+/g, "")
    .trim();
}

function wrapPublicKey(body: string): KeyObject {
  const lines = body.match(/.{1,64}/g) ?? [];
  try {
    return createPublicKey(`-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`);
  } catch {
    throw new ApiError(400, "InvalidParameter", "publicKey is not a PEM-encoded SubjectPublicKeyInfo");
  }
}

export function handleFederation(
  state: EmulatorState,
  certificates: IdentityCertificates,
  tokens: SessionTokens,
  request: SignedRequest,
  nowMs: number,
): Reply {
  const authorization = request.headers["authorization"];
  const params = typeof authorization === "string" ? parseSignatureHeader(authorization) : undefined;
  if (params === undefined) throw notAuthenticated("federation requests must carry an HTTP Signature");
  const [tenancy, kind, fingerprint] = params.keyId.split("/");
  if (kind !== "fed-x509" || tenancy !== state.tenancyId || fingerprint === undefined) {
    throw notAuthenticated(`keyId must be ${state.tenancyId}/fed-x509/<certificate sha1 fingerprint>`);
  }
  const identity: InstanceIdentity | undefined = certificates.byCertificateFingerprint(fingerprint);
  verifyRequestSignature(request, { now: nowMs, resolveKey: () => identity?.publicKey });
  if (identity === undefined) throw notAuthenticated("unknown certificate fingerprint");

  const parsed = federationBodySchema.safeParse(parseJsonBody(request.body));
  if (!parsed.success) throw new ApiError(400, "InvalidParameter", z.prettifyError(parsed.error));
  const body = parsed.data;
  if (pemBody(body.certificate) !== pemBody(identity.certificatePem)) {
    throw notAuthenticated("the certificate in the body is not the one that signed the request");
  }
  if (!body.intermediateCertificates.some((c) => pemBody(c) === pemBody(identity.intermediatePem))) {
    throw notAuthenticated("intermediateCertificates does not contain the issuing intermediate");
  }
  const sessionPublicKey = wrapPublicKey(pemBody(body.publicKey));
  const instance = state.instances.get(identity.instanceId);
  if (instance === undefined)
    throw notAuthenticated("the certificate names an instance that no longer exists");
  if (instance.lifecycleState !== "RUNNING")
    throw notAuthenticated(`instance ${instance.displayName} is not running`);
  const session = tokens.issue(
    {
      instanceId: instance.id,
      instanceName: instance.displayName,
      tenancyId: state.tenancyId,
      compartmentId: instance.compartmentId,
    },
    sessionPublicKey,
    nowMs,
  );
  return { status: 200, body: { token: session.token } };
}
