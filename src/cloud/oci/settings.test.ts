import { test } from "node:test";
import assert from "node:assert/strict";
import { parseOciSettings, settingsFromEnv, DEFAULT_METADATA_BASE_URL } from "./settings.ts";

void test("defaults are right for a real OCI instance", () => {
  const settings = parseOciSettings({});
  assert.equal(settings.auth, "instance_principal");
  assert.equal(settings.metadataBaseUrl, DEFAULT_METADATA_BASE_URL);
  assert.equal(settings.federationEndpoint, undefined);
  assert.equal(settings.endpoint, undefined);
  assert.equal(settings.requestTimeoutMs, 5000);
  assert.deepEqual(settings.retry, { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2000 });
  assert.equal(settings.cloudCheckIntervalMs, 30_000);
  assert.equal(settings.leaseMs, 30_000);
});

void test("environment overrides point every endpoint at an emulator", () => {
  const settings = settingsFromEnv(
    {
      FLOATIP_OCI_METADATA_URL: "http://127.0.0.1:9000/i/node1/opc/v2/",
      FLOATIP_OCI_FEDERATION_ENDPOINT: "http://127.0.0.1:9000",
      FLOATIP_OCI_ENDPOINT: "http://127.0.0.1:9000",
      FLOATIP_OCI_AUTH: "config_file",
      UNRELATED: "x",
    },
    { leaseMs: 5000 },
  );
  assert.equal(settings.metadataBaseUrl, "http://127.0.0.1:9000/i/node1/opc/v2/");
  assert.equal(settings.federationEndpoint, "http://127.0.0.1:9000");
  assert.equal(settings.endpoint, "http://127.0.0.1:9000");
  assert.equal(settings.auth, "config_file");
  assert.equal(settings.leaseMs, 5000);
});

void test("a bad setting names the field and carries the code", () => {
  assert.throws(
    () => parseOciSettings({ auth: "magic", retry: { baseDelayMs: 500, maxDelayMs: 10 } }),
    (error: Error) =>
      error.message.startsWith("FLOATIP_E_OCI_SETTINGS_INVALID") &&
      error.message.includes("auth") &&
      error.message.includes("retry.maxDelayMs"),
  );
  assert.throws(() => settingsFromEnv({ FLOATIP_OCI_ENDPOINT: "not a url" }), /endpoint/);
  assert.throws(() => parseOciSettings({ unknownField: 1 }), /FLOATIP_E_OCI_SETTINGS_INVALID/);
});
