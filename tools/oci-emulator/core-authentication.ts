import { createPublicKey, type KeyObject } from "node:crypto";
import { verifyRequestSignature, type SignedRequest } from "./request-signature.ts";
import type { SessionTokens } from "./session-tokens.ts";

/**
 * Who signed a Core API call: an instance principal (keyId "ST$<token>" from the federation endpoint) or an
 * API-key user from the seed (keyId "<tenancy>/<user>/<fingerprint>").
 */

export type Principal =
  { kind: "instance"; instanceId: string; instanceName: string } | { kind: "user"; userId: string };

export interface ApiUser {
  userId: string;
  fingerprint: string;
  publicKeyPem: string;
}

export function principalLabel(principal: Principal | null): string | null {
  if (principal === null) return null;
  return principal.kind === "instance" ? `instance:${principal.instanceName}` : `user:${principal.userId}`;
}

export class CoreAuthenticator {
  private readonly apiKeys = new Map<string, { userId: string; key: KeyObject }>();

  constructor(
    tenancyId: string,
    apiUsers: readonly ApiUser[],
    private readonly tokens: SessionTokens,
  ) {
    for (const user of apiUsers) {
      this.apiKeys.set(`${tenancyId}/${user.userId}/${user.fingerprint.toLowerCase()}`, {
        userId: user.userId,
        key: createPublicKey(user.publicKeyPem),
      });
    }
  }

  /** Throws a 401 NotAuthenticated ApiError unless the request carries a valid signature by a known key. */
  authenticate(request: SignedRequest, nowMs: number): Principal {
    let principal: Principal | undefined;
    verifyRequestSignature(request, {
      now: nowMs,
      resolveKey: (keyId) => {
        if (keyId.startsWith("ST$")) {
          const session = this.tokens.lookup(keyId.slice(3), nowMs);
          if (session === undefined) return undefined;
          principal = {
            kind: "instance",
            instanceId: session.instanceId,
            instanceName: session.instanceName,
          };
          return session.sessionPublicKey;
        }
        const user = this.apiKeys.get(lowercaseFingerprint(keyId));
        if (user === undefined) return undefined;
        principal = { kind: "user", userId: user.userId };
        return user.key;
      },
    });
    if (principal === undefined) throw new Error("internal: signature verified without a principal");
    return principal;
  }
}

/** Fingerprints are hex: compare them case-insensitively, the OCIDs before them exactly. */
function lowercaseFingerprint(keyId: string): string {
  const slash = keyId.lastIndexOf("/");
  return slash < 0 ? keyId : keyId.slice(0, slash + 1) + keyId.slice(slash + 1).toLowerCase();
}
