import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import type { AgentContext } from "./agent.ts";
import { TcpCheckAgent, validateTcpCheckParams } from "./tcp-check.ts";

function ctx(params: Record<string, string>, signal = AbortSignal.timeout(10_000)): AgentContext {
  return { resourceId: "db-check", params, signal };
}

async function listen(server: net.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** A listener that accepts and immediately closes connections; closed again after the test. */
async function startListener(t: { after: (fn: () => Promise<void>) => void }) {
  const server = net.createServer((socket) => socket.destroy());
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = await listen(server);
  return { server, params: { host: "127.0.0.1", port: String(port) } };
}

void test("start reports running when the port accepts connections", async (t) => {
  const { params } = await startListener(t);
  const result = await new TcpCheckAgent().start(ctx(params));
  assert.equal(result.state, "running", result.message);
});

void test("monitor fails when the listener closes mid-test and recovers when it listens again", async (t) => {
  const { server, params } = await startListener(t);
  const agent = new TcpCheckAgent();
  assert.equal((await agent.monitor(ctx(params))).state, "running");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const down = await agent.monitor(ctx(params));
  assert.equal(down.state, "failed");
  assert.match(down.message ?? "", /^FLOATIP_E_CHECK_UNREACHABLE: .*ECONNREFUSED/);
  const again = net.createServer((socket) => socket.destroy());
  t.after(() => new Promise<void>((resolve) => again.close(() => resolve())));
  await listen(again, Number(params.port));
  assert.equal((await agent.monitor(ctx(params))).state, "running");
});

void test("start refuses a port nobody listens on", async (t) => {
  const { server, params } = await startListener(t);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.equal((await new TcpCheckAgent().start(ctx(params))).state, "failed");
});

void test("a connection that is never answered fails after the timeout", async () => {
  // 192.0.2.0/24 (TEST-NET-1) is not routed; if this host has no route at all the connect fails at once,
  // so both outcomes are accepted, but a timeout must not take much longer than asked.
  const began = Date.now();
  const result = await new TcpCheckAgent().monitor(ctx({ host: "192.0.2.1", port: "9", timeout: "300ms" }));
  assert.equal(result.state, "failed");
  assert.ok(Date.now() - began < 2000, `took ${Date.now() - began} ms`);
  if (/TIMEOUT/.test(result.message ?? "")) assert.ok(Date.now() - began >= 280);
});

void test("a connect cancelled by the caller reports unknown", async () => {
  const controller = new AbortController();
  controller.abort();
  const result = await new TcpCheckAgent().monitor(ctx({ host: "127.0.0.1", port: "9" }, controller.signal));
  assert.equal(result.state, "unknown");
});

void test("stop and probe report stopped", async () => {
  const agent = new TcpCheckAgent();
  assert.equal((await agent.stop(ctx({}))).state, "stopped");
  assert.equal((await agent.probe(ctx({}))).state, "stopped");
});

void test("bad parameters give one message each, naming the parameter", () => {
  assert.deepEqual(validateTcpCheckParams({ host: "127.0.0.1", port: "80" }), []);
  const problems = validateTcpCheckParams({ host: "a b", port: "70000", timeout: "-1" });
  assert.equal(problems.length, 3);
  assert.match(problems[0] ?? "", /^host=a b /);
  assert.match(problems[1] ?? "", /^port=70000 /);
  assert.match(problems[2] ?? "", /^timeout=-1 /);
  assert.deepEqual(
    validateTcpCheckParams({}).map((p) => p.split(" ")[0]),
    ["host", "port"],
  );
});

void test("start with bad parameters fails with a coded message", async () => {
  const result = await new TcpCheckAgent().start(ctx({ host: "127.0.0.1", port: "0" }));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /^FLOATIP_E_PARAM: port=0 /);
});

void test("the validator never throws and always returns strings, whatever the params", () => {
  const key = fc.constantFrom("host", "port", "timeout", "other");
  fc.assert(
    fc.property(fc.dictionary(key, fc.oneof(fc.string(), fc.nat().map(String), fc.ipV6())), (params) => {
      const problems = validateTcpCheckParams(params);
      return Array.isArray(problems) && problems.every((p) => typeof p === "string" && p.length > 0);
    }),
  );
});
