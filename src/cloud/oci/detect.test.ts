import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { detectCloud } from "./detect.ts";

const dir = mkdtempSync(join(tmpdir(), "floatip-detect-cloud-"));
const ociTag = join(dir, "oci-tag");
const otherTag = join(dir, "other-tag");
writeFileSync(ociTag, "OracleCloud.com\n");
writeFileSync(otherTag, "\n");
test.after(() => rmSync(dir, { recursive: true, force: true }));

void test("an OCI instance is recognised by its DMI chassis asset tag, without any setting", () => {
  assert.equal(detectCloud({}, ociTag), "oci");
  assert.equal(detectCloud({}, otherTag), null);
  assert.equal(detectCloud({}, join(dir, "missing")), null);
});

void test("FLOATIP_CLOUD says oci where DMI data is hidden, or none to override it", () => {
  assert.equal(detectCloud({ FLOATIP_CLOUD: "oci" }, otherTag), "oci");
  assert.equal(detectCloud({ FLOATIP_CLOUD: " OCI " }, join(dir, "missing")), "oci");
  assert.equal(detectCloud({ FLOATIP_CLOUD: "none" }, ociTag), null);
  assert.equal(detectCloud({ FLOATIP_CLOUD: "" }, ociTag), "oci");
});

void test("an unknown FLOATIP_CLOUD is refused with the values that work", () => {
  assert.throws(
    () => detectCloud({ FLOATIP_CLOUD: "aws" }, ociTag),
    /FLOATIP_E_CLOUD_UNKNOWN: .*use oci or none/,
  );
});

void test("an explicit metadata URL still means OCI", () => {
  assert.equal(detectCloud({ FLOATIP_OCI_METADATA_URL: "http://127.0.0.1:9/opc/v2/" }, otherTag), "oci");
});
