import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import { SessionTokens } from "./session-tokens.ts";

const claims = {
  instanceId: "ocid1.instance.oc1.iad.x",
  instanceName: "node1",
  tenancyId: "t",
  compartmentId: "c",
};
const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

void test("a token is a JWT whose exp is now plus the TTL, valid until then and not after", () => {
  const tokens = new SessionTokens(60);
  const now = Date.parse("2026-01-01T00:00:00Z");
  const session = tokens.issue(claims, publicKey, now);
  const [, payload] = session.token.split(".");
  const decoded = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<string, unknown>;
  assert.equal(decoded["exp"], now / 1000 + 60);
  assert.equal(decoded["sub"], claims.instanceId);
  assert.equal(tokens.lookup(session.token, now + 59_000)?.instanceName, "node1");
  assert.equal(tokens.lookup(session.token, now + 60_000), undefined);
  assert.equal(tokens.lookup("not-a-token", now), undefined);
});

void test("an earlier token keeps its own session key after a new one is issued", () => {
  const tokens = new SessionTokens(60);
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
  const first = tokens.issue(claims, publicKey, 0);
  const second = tokens.issue(claims, other, 1000);
  assert.notEqual(first.token, second.token);
  assert.equal(tokens.lookup(first.token, 2000)?.sessionPublicKey, publicKey);
  assert.equal(tokens.lookup(second.token, 2000)?.sessionPublicKey, other);
});
