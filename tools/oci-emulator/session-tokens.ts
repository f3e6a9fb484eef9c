import { createHmac, randomBytes, randomUUID, type KeyObject } from "node:crypto";

/**
 * Security tokens issued by the federation endpoint. The SDK only decodes the JWT to read `exp`, so the token
 * is mainly a handle: the emulator remembers which session public key and instance each one stands for.
 * Every federation call brings a new session key, so old tokens keep their own key until they expire.
 */

export interface TokenSession {
  token: string;
  instanceId: string;
  instanceName: string;
  sessionPublicKey: KeyObject;
  /** seconds since the epoch, emulator clock */
  expiresAt: number;
}

export interface TokenClaims {
  instanceId: string;
  instanceName: string;
  tenancyId: string;
  compartmentId: string;
}

const base64url = (data: string | Buffer): string => Buffer.from(data).toString("base64url");

export class SessionTokens {
  private readonly sessions = new Map<string, TokenSession>();
  private readonly secret = randomBytes(32);

  constructor(private readonly ttlSeconds: number) {}

  issue(claims: TokenClaims, sessionPublicKey: KeyObject, nowMs: number): TokenSession {
    this.dropExpired(nowMs);
    const iat = Math.floor(nowMs / 1000);
    const payload = {
      iss: "authService.oracle.com",
      aud: "oci",
      sub: claims.instanceId,
      jti: randomUUID(),
      iat,
      exp: iat + this.ttlSeconds,
      ptype: "instance",
      ttype: "x509",
      tenant: claims.tenancyId,
      "opc-instance": claims.instanceId,
      "opc-compartment": claims.compartmentId,
      "opc-tenant": claims.tenancyId,
      "opc-certtype": "instance",
      "emulator-instance-name": claims.instanceName,
    };
    const unsigned = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT", kid: "oci-emulator" }))}.${base64url(JSON.stringify(payload))}`;
    const token = `${unsigned}.${base64url(createHmac("sha256", this.secret).update(unsigned).digest())}`;
    const session: TokenSession = {
      token,
      instanceId: claims.instanceId,
      instanceName: claims.instanceName,
      sessionPublicKey,
      expiresAt: payload.exp,
    };
    this.sessions.set(token, session);
    return session;
  }

  /** The live session for a token, or undefined when unknown or expired at `nowMs`. */
  lookup(token: string, nowMs: number): TokenSession | undefined {
    const session = this.sessions.get(token);
    return session !== undefined && session.expiresAt * 1000 > nowMs ? session : undefined;
  }

  private dropExpired(nowMs: number): void {
    for (const [token, session] of this.sessions) {
      if (session.expiresAt * 1000 <= nowMs) this.sessions.delete(token);
    }
  }
}
