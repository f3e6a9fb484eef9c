import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { test } from "node:test";
import { ApiError } from "./api-error.ts";
import {
  bodySha256,
  buildSigningString,
  parseSignatureHeader,
  verifyRequestSignature,
  type SignedRequest,
} from "./request-signature.ts";

/** Requests signed here the way oci-common's DefaultRequestSigner + http-signature 1.3.1 sign them. */

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const NOW = Date.parse("2026-11-25T14:28:47Z");
const KEY_ID = "ST$token";

function signedPut(
  body: string,
  headerList = "x-date (request-target) host Content-Type Content-Length x-content-sha256",
) {
  const request: SignedRequest = {
    method: "PUT",
    url: "/20160918/privateIps/ocid1.privateip.oc1.iad.abc?x=1",
    headers: {
      "x-date": new Date(NOW).toUTCString(),
      host: "127.0.0.1:32923",
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "x-content-sha256": bodySha256(Buffer.from(body)),
    },
    body: Buffer.from(body),
  };
  const names = headerList.split(" ").map((h) => h.toLowerCase());
  const signature = sign("sha256", Buffer.from(buildSigningString(request, names)), privateKey).toString(
    "base64",
  );
  request.headers["authorization"] =
    `Signature version="1",keyId="${KEY_ID}",algorithm="rsa-sha256",headers="${headerList}",signature="${signature}"`;
  return request;
}

const verifyAt = (request: SignedRequest, now = NOW) =>
  verifyRequestSignature(request, { now, resolveKey: (keyId) => (keyId === KEY_ID ? publicKey : undefined) });

function assertNotAuthenticated(run: () => unknown, reason: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 401);
    assert.equal(error.code, "NotAuthenticated");
    assert.match(error.message, reason);
    return true;
  });
}

void test("builds the signing string with lowercase names, lowercase method and the raw path and query", () => {
  const request = signedPut('{"vnicId":"v"}');
  assert.equal(
    buildSigningString(request, ["x-date", "(request-target)", "host"]),
    [
      "x-date: Wed, 25 Nov 2026 14:28:47 GMT",
      "(request-target): put /20160918/privateIps/ocid1.privateip.oc1.iad.abc?x=1",
      "host: 127.0.0.1:32923",
    ].join("\n"),
  );
});

void test("accepts a PUT signed with the SDK's mixed-case header list", () => {
  const params = verifyAt(signedPut('{"vnicId":"v"}'));
  assert.equal(params.keyId, KEY_ID);
  assert.deepEqual(params.headers, [
    "x-date",
    "(request-target)",
    "host",
    "content-type",
    "content-length",
    "x-content-sha256",
  ]);
});

void test("rejects a body swapped after signing, even with a recomputed content hash", () => {
  const request = signedPut('{"vnicId":"mine"}');
  request.body = Buffer.from('{"vnicId":"evil"}');
  assertNotAuthenticated(() => verifyAt(request), /x-content-sha256/);
  request.headers["x-content-sha256"] = bodySha256(request.body);
  assertNotAuthenticated(() => verifyAt(request), /does not verify/);
});

void test("rejects a PUT that does not sign the body headers", () => {
  assertNotAuthenticated(() => verifyAt(signedPut("{}", "x-date (request-target) host")), /must be signed/);
});

void test("rejects a signature more than five minutes from the server clock either way", () => {
  const request = signedPut("{}");
  assert.doesNotThrow(() => verifyAt(request, NOW + 4 * 60_000));
  assertNotAuthenticated(() => verifyAt(request, NOW + 6 * 60_000), /minutes/);
  assertNotAuthenticated(() => verifyAt(request, NOW - 6 * 60_000), /minutes/);
});

void test("rejects an unknown keyId and a missing Authorization header", () => {
  const request = signedPut("{}");
  assertNotAuthenticated(
    () => verifyRequestSignature(request, { now: NOW, resolveKey: () => undefined }),
    /unknown or expired/,
  );
  delete request.headers["authorization"];
  assertNotAuthenticated(() => verifyAt(request), /no Authorization/);
});

void test("parses the Authorization header the SDK writes", () => {
  assert.deepEqual(
    parseSignatureHeader(
      'Signature version="1",keyId="t/fed-x509/aa:bb",algorithm="rsa-sha256",headers="date (request-target) host",signature="c2ln"',
    ),
    {
      keyId: "t/fed-x509/aa:bb",
      algorithm: "rsa-sha256",
      headers: ["date", "(request-target)", "host"],
      signature: "c2ln",
    },
  );
  assert.equal(parseSignatureHeader("Bearer Oracle"), undefined);
});
