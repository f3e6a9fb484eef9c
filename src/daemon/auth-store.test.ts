import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AuthStore, TOKEN_LIFETIME_MS } from "./auth-store.ts";

function store(t: { after(fn: () => void): void }, now: { ms: number }): { auth: AuthStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "floatip-authstore-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { auth: new AuthStore(dir, () => now.ms), dir };
}

void test("a token is valid until its lifetime ends, then reported as expired (not unknown)", (t) => {
  const now = { ms: 1_800_000_000_000 };
  const { auth } = store(t, now);
  auth.setPassword("hacluster", "pw");
  const login = auth.login("hacluster", "pw");
  assert.ok(login.ok);
  assert.equal(auth.verifyToken(login.token), "valid");
  now.ms += TOKEN_LIFETIME_MS + 1;
  assert.equal(auth.verifyToken(login.token), "expired");
  assert.equal(auth.verifyToken("something-else"), "unknown");
  assert.equal(auth.verifyToken(""), "unknown");
});

void test("the password and tokens are stored hashed, in files only root can read", (t) => {
  const now = { ms: 1_800_000_000_000 };
  const { auth, dir } = store(t, now);
  auth.setPassword("hacluster", "secret-password");
  const login = auth.login("hacluster", "secret-password");
  assert.ok(login.ok);
  for (const file of ["passwd.json", "tokens-issued.json"]) {
    const text = readFileSync(join(dir, file), "utf8");
    assert.doesNotMatch(text, /secret-password/);
    assert.ok(!text.includes(login.token), `${file} does not hold the token itself`);
    assert.equal(statSync(join(dir, file)).mode & 0o077, 0);
  }
});
