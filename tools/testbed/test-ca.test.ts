import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { makeTestCa } from "./test-ca.ts";

void test("the bed's CA signs a server certificate for the endpoint names, valid from before now", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "floatip-test-ca-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await makeTestCa(dir, [
    "auth.us-ashburn-1.oraclecloud.com",
    "iaas.us-ashburn-1.oraclecloud.com",
  ]);
  const caCert = new X509Certificate(readFileSync(ca.caCertFile));
  const server = new X509Certificate(ca.serverCertPem);
  assert.ok(caCert.ca, "the CA certificate is a CA");
  assert.equal(server.ca, false);
  assert.ok(server.verify(caCert.publicKey), "signed by the CA");
  assert.equal(server.checkHost("iaas.us-ashburn-1.oraclecloud.com"), "iaas.us-ashburn-1.oraclecloud.com");
  assert.equal(server.checkHost("auth.us-ashburn-1.oraclecloud.com"), "auth.us-ashburn-1.oraclecloud.com");
  assert.equal(server.checkHost("objectstorage.us-ashburn-1.oraclecloud.com"), undefined);
  // A daemon whose clock a chaos scenario steps back by minutes still accepts it.
  assert.ok(Date.parse(server.validFrom) < Date.now() - 86_400_000);
  assert.ok(Date.parse(caCert.validFrom) < Date.now() - 86_400_000);
  assert.ok(Date.parse(server.validTo) > Date.now() + 7 * 86_400_000);
  assert.match(ca.serverKeyPem, /PRIVATE KEY/);
});

void test("only DNS host names go into the certificate", async () => {
  await assert.rejects(makeTestCa("/nonexistent", []), /needs a host name/);
  await assert.rejects(makeTestCa("/nonexistent", ["bad name"]), /not a DNS host name/);
});
