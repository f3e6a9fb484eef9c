import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ApiCallError, callApi, callApiWithPeer } from "../src/api/client.ts";
import { LoopbackDaemon } from "../tools/testbed/loopback-daemon.ts";

/** The remote admin API on loopback: TLS only, password login with throttling, tokens, pinned certificates. */

let daemon: LoopbackDaemon;

before(async () => {
  daemon = await LoopbackDaemon.start({ configured: false });
  const set = await daemon.cli(["passwd", "--stdin"], "right-password\n");
  assert.equal(set.code, 0, set.stderr);
});

after(() => daemon.stop());

const remote = () => ({ host: "127.0.0.1", port: daemon.adminPort });

void test("the right password gives a token that opens remote calls; the certificate fingerprint comes back", async () => {
  const login = await callApiWithPeer<{ token: string }>(remote(), "POST", "/remote/auth", {
    username: "hacluster",
    password: "right-password",
  });
  assert.match(login.fingerprint ?? "", /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const status = await callApi<{ configured: boolean }>(
    { ...remote(), token: login.body.token, fingerprint: login.fingerprint ?? "" },
    "GET",
    "/v1/status",
  );
  assert.equal(status.configured, false);
});

void test("a wrong password, a missing token and a made-up token are refused", async () => {
  await assert.rejects(
    callApi(remote(), "POST", "/remote/auth", { username: "hacluster", password: "wrong" }),
    (e: ApiCallError) =>
      e.code === "FLOATIP_E_AUTH_FAILED" && /username or password is wrong/.test(e.message),
  );
  await assert.rejects(
    callApi(remote(), "GET", "/v1/status"),
    (e: ApiCallError) => e.code === "FLOATIP_E_NOT_AUTHORIZED",
  );
  await assert.rejects(
    callApi({ ...remote(), token: "not-a-token" }, "GET", "/v1/status"),
    (e: ApiCallError) => e.code === "FLOATIP_E_NOT_AUTHORIZED",
  );
  await assert.rejects(
    callApi({ ...remote(), token: "x" }, "POST", "/v1/passwd", { user: "hacluster", password: "p" }),
    (e: ApiCallError) => e.code === "FLOATIP_E_API_LOCAL_ONLY",
  );
});

void test("a token is only good on the node that issued it: replayed against another node it is refused", async (t) => {
  const other = await LoopbackDaemon.start({ configured: false });
  t.after(() => other.stop());
  const login = await callApi<{ token: string }>(remote(), "POST", "/remote/auth", {
    username: "hacluster",
    password: "right-password",
  });
  let outcome: unknown;
  for (let i = 0; i < 100; i += 1) {
    outcome = await callApi(
      { host: "127.0.0.1", port: other.adminPort, token: login.token },
      "GET",
      "/v1/status",
    ).catch((e: unknown) => e);
    if (outcome instanceof ApiCallError && outcome.code !== "FLOATIP_E_UNREACHABLE") break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(outcome instanceof ApiCallError && outcome.code === "FLOATIP_E_NOT_AUTHORIZED", String(outcome));
});

void test("a certificate other than the pinned one is refused before anything is sent", async () => {
  await assert.rejects(
    callApi({ ...remote(), token: "x", fingerprint: "00:11:22" }, "GET", "/v1/status"),
    (e: ApiCallError) => e.code === "FLOATIP_E_TLS_FINGERPRINT" && /cluster auth/.test(e.message),
  );
});

void test("the admin port speaks TLS only: a plain HTTP request gets no answer", async () => {
  const outcome = await new Promise<string>((resolve) => {
    const req = request(
      { host: "127.0.0.1", port: daemon.adminPort, path: "/v1/status", timeout: 3000 },
      (res) => resolve(`answered ${res.statusCode}`),
    );
    req.on("error", () => resolve("refused"));
    req.on("timeout", () => req.destroy());
    req.end();
  });
  assert.equal(outcome, "refused");
});

void test("password guessing is throttled after five failures", async () => {
  for (let i = 0; i < 6; i += 1) {
    await callApi(remote(), "POST", "/remote/auth", { username: "hacluster", password: `guess-${i}` }).catch(
      () => undefined,
    );
  }
  await assert.rejects(
    callApi(remote(), "POST", "/remote/auth", { username: "hacluster", password: "right-password" }),
    (e: ApiCallError) => /too many failed attempts/.test(e.message),
  );
});

void test("secrets on disk are readable by root only", () => {
  for (const file of ["passwd.json", "tokens-issued.json", "tls.key"]) {
    assert.equal(statSync(join(daemon.stateDir, file)).mode & 0o077, 0, `${file} is 0600`);
  }
});
