import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLUSTER_KEY_BYTES, createClusterKey, readClusterKey } from "./cluster-key.ts";
import { ClusterKeyError } from "./errors.ts";

function keyPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "floatip-key-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "authkey");
}

function isKeyError(code: string, ...mentions: string[]) {
  return (error: unknown) =>
    error instanceof ClusterKeyError &&
    error.code === code &&
    mentions.every((m) => error.message.includes(m));
}

void test("creates a 32-byte random key that only its owner can read, and reads it back", (t) => {
  const path = keyPath(t);
  const key = createClusterKey(path);
  assert.equal(key.length, CLUSTER_KEY_BYTES);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readClusterKey(path), key);
  assert.notDeepEqual(createClusterKey(keyPath(t)), key);
});

void test("refuses to replace an existing key unless asked to", (t) => {
  const path = keyPath(t);
  const first = createClusterKey(path);
  assert.throws(() => createClusterKey(path), isKeyError("FLOATIP_E_KEY_EXISTS", path));
  assert.deepEqual(readClusterKey(path), first);
  const second = createClusterKey(path, { overwrite: true });
  assert.notDeepEqual(second, first);
  assert.deepEqual(readClusterKey(path), second);
});

void test("a missing key says where it was looked for and how to get one", (t) => {
  const path = keyPath(t);
  assert.throws(() => readClusterKey(path), isKeyError("FLOATIP_E_KEY_MISSING", path, "copy it"));
});

for (const mode of [0o640, 0o604, 0o644, 0o660]) {
  void test(`refuses a key with mode ${mode.toString(8)} and says how to fix it`, (t) => {
    const path = keyPath(t);
    createClusterKey(path);
    chmodSync(path, mode);
    assert.throws(
      () => readClusterKey(path),
      isKeyError("FLOATIP_E_KEY_PERMS", mode.toString(8), `chmod 600 ${path}`),
    );
  });
}

void test("accepts a key its owner alone can read, even read-only", (t) => {
  const path = keyPath(t);
  const key = createClusterKey(path);
  chmodSync(path, 0o400);
  assert.deepEqual(readClusterKey(path), key);
});

void test("refuses a key of the wrong length without printing its bytes", (t) => {
  const path = keyPath(t);
  const content = Buffer.from("secret-material-that-must-not-leak");
  writeFileSync(path, content, { mode: 0o600 });
  assert.throws(
    () => readClusterKey(path),
    (error: unknown) =>
      isKeyError("FLOATIP_E_KEY_CORRUPT", `${content.length} bytes`)(error) &&
      !(error as Error).message.includes("secret") &&
      !(error as Error).message.includes(content.toString("base64")) &&
      !(error as Error).message.includes(content.toString("hex")),
  );
  writeFileSync(path, Buffer.alloc(0), { mode: 0o600 });
  assert.throws(() => readClusterKey(path), isKeyError("FLOATIP_E_KEY_CORRUPT", "0 bytes"));
});

void test("refuses a directory where the key should be", (t) => {
  const path = keyPath(t);
  const dir = mkdtempSync(join(path, "..", "sub-"));
  chmodSync(dir, 0o700);
  assert.throws(() => readClusterKey(dir), isKeyError("FLOATIP_E_KEY_CORRUPT", "not a regular file"));
});

void test("the key file holds exactly the raw key bytes", (t) => {
  const path = keyPath(t);
  const key = createClusterKey(path);
  assert.deepEqual(readFileSync(path), key);
});
