import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import type { AgentContext } from "./agent.ts";
import { HttpCheckAgent, parseStatusRanges, validateHttpCheckParams } from "./http-check.ts";

type Mode = "ok" | "error" | "hang" | "redirect";

/** A loopback service whose health the test switches; records the Host header of the last request. */
async function startService(t: { after: (fn: () => Promise<void>) => void }) {
  const state = { mode: "ok" as Mode, lastHost: "" };
  const server = http.createServer((req, res) => {
    state.lastHost = req.headers.host ?? "";
    if (state.mode === "hang") return; // never answers
    if (state.mode === "redirect") {
      res.writeHead(302, { location: "/elsewhere" }).end();
      return;
    }
    res.writeHead(state.mode === "ok" ? 200 : 500).end(state.mode);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const port = (server.address() as AddressInfo).port;
  return { state, server, url: `http://127.0.0.1:${port}/health` };
}

function ctx(params: Record<string, string>, signal = AbortSignal.timeout(10_000)): AgentContext {
  return { resourceId: "web-check", params, signal };
}

void test("start reports running when the service answers 200", async (t) => {
  const { url } = await startService(t);
  const result = await new HttpCheckAgent().start(ctx({ url }));
  assert.equal(result.state, "running", result.message);
  assert.match(result.message ?? "", /returned 200/);
});

void test("start refuses a service that answers 500, naming the status", async (t) => {
  const { url, state } = await startService(t);
  state.mode = "error";
  const result = await new HttpCheckAgent().start(ctx({ url }));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /^FLOATIP_E_CHECK_STATUS: .* returned 500, expected 200/);
});

void test("start refuses a service nobody listens for", async (t) => {
  const { url, server } = await startService(t);
  server.close();
  await new Promise((resolve) => setTimeout(resolve, 10));
  const result = await new HttpCheckAgent().start(ctx({ url }));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /^FLOATIP_E_CHECK_UNREACHABLE: .*ECONNREFUSED/);
});

void test("monitor turns failed when the service breaks and running when it recovers", async (t) => {
  const { url, state } = await startService(t);
  const agent = new HttpCheckAgent();
  assert.equal((await agent.monitor(ctx({ url }))).state, "running");
  state.mode = "error";
  assert.equal((await agent.monitor(ctx({ url }))).state, "failed");
  state.mode = "ok";
  assert.equal((await agent.monitor(ctx({ url }))).state, "running");
});

void test("monitor of a hung service fails after timeout, not before and not much later", async (t) => {
  const { url, state } = await startService(t);
  state.mode = "hang";
  const began = Date.now();
  const result = await new HttpCheckAgent().monitor(ctx({ url, timeout: "300ms" }));
  const took = Date.now() - began;
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /^FLOATIP_E_CHECK_TIMEOUT: .* within 300 ms/);
  assert.ok(took >= 280 && took < 2000, `took ${took} ms`);
});

void test("monitor cancelled by the caller reports unknown, not a failure", async (t) => {
  const { url, state } = await startService(t);
  state.mode = "hang";
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const result = await new HttpCheckAgent().monitor(ctx({ url, timeout: "5s" }, controller.signal));
  assert.equal(result.state, "unknown");
});

void test("expect_status ranges accept a redirect that the default refuses", async (t) => {
  const { url, state } = await startService(t);
  state.mode = "redirect";
  const agent = new HttpCheckAgent();
  assert.equal((await agent.monitor(ctx({ url }))).state, "failed");
  assert.equal((await agent.monitor(ctx({ url, expect_status: "200-399" }))).state, "running");
});

void test("host_header is sent as the Host header", async (t) => {
  const { url, state } = await startService(t);
  const result = await new HttpCheckAgent().monitor(ctx({ url, host_header: "www.example.test" }));
  assert.equal(result.state, "running");
  assert.equal(state.lastHost, "www.example.test");
});

void test("stop is always stopped and probe is stopped because a check holds no state", async () => {
  const agent = new HttpCheckAgent();
  assert.equal((await agent.stop(ctx({ url: "http://127.0.0.1:1/" }))).state, "stopped");
  assert.equal((await agent.probe(ctx({ url: "http://127.0.0.1:1/" }))).state, "stopped");
});

void test("bad parameters give one message each, naming the parameter", () => {
  assert.deepEqual(validateHttpCheckParams({ url: "http://127.0.0.1/" }), []);
  const problems = validateHttpCheckParams({
    url: "ftp://x/",
    expect_status: "20",
    timeout: "soon",
    host_header: "a b",
  });
  assert.equal(problems.length, 4);
  assert.match(problems[0] ?? "", /^url=ftp:\/\/x\/ uses ftp:/);
  assert.match(problems[1] ?? "", /^expect_status=20 /);
  assert.match(problems[2] ?? "", /^timeout=soon /);
  assert.match(problems[3] ?? "", /^host_header=a b /);
  assert.match(validateHttpCheckParams({})[0] ?? "", /^url is required/);
});

void test("start with bad parameters fails with a coded message instead of throwing", async () => {
  const result = await new HttpCheckAgent().start(ctx({ url: "nope" }));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /^FLOATIP_E_PARAM: url=nope is not a URL/);
});

void test("messages never show credentials or query strings of the url", async () => {
  const result = await new HttpCheckAgent().monitor(
    ctx({ url: "http://user:secret@127.0.0.1:1/h?token=secret", timeout: "1s" }),
  );
  assert.equal(result.state, "failed");
  assert.doesNotMatch(result.message ?? "", /secret/);
});

void test("status ranges: single codes, ranges and lists; reversed or out-of-range ones refused", () => {
  assert.deepEqual(parseStatusRanges("200"), [{ from: 200, to: 200 }]);
  assert.deepEqual(parseStatusRanges("200-399, 418"), [
    { from: 200, to: 399 },
    { from: 418, to: 418 },
  ]);
  assert.equal(parseStatusRanges("399-200"), undefined);
  assert.equal(parseStatusRanges("600"), undefined);
  assert.equal(parseStatusRanges(""), undefined);
});

void test("the validator never throws and always returns strings, whatever the params", () => {
  const key = fc.constantFrom("url", "expect_status", "timeout", "host_header", "other");
  fc.assert(
    fc.property(
      fc.dictionary(key, fc.oneof(fc.string(), fc.webUrl(), fc.integer().map(String))),
      (params) => {
        const problems = validateHttpCheckParams(params);
        return Array.isArray(problems) && problems.every((p) => typeof p === "string" && p.length > 0);
      },
    ),
  );
});
