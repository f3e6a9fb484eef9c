import assert from "node:assert/strict";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { after, before, test } from "node:test";
import { LoopbackDaemon } from "../tools/testbed/loopback-daemon.ts";

/**
 * GET /metrics on one real daemon on loopback (no root, no namespaces): Prometheus text on the local
 * socket, and without a token on the TLS admin port, where every other call still wants one.
 */

// LoopbackDaemon writes this key into the state dir; a scrape must never show it.
const clusterKey = Buffer.alloc(32, 7);
let daemon: LoopbackDaemon;

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

function collect(res: IncomingMessage, resolve: (answer: Answer) => void): void {
  const chunks: Buffer[] = [];
  res.on("data", (c: Buffer) => chunks.push(c));
  res.on("end", () =>
    resolve({
      status: res.statusCode ?? 0,
      contentType: String(res.headers["content-type"] ?? ""),
      body: Buffer.concat(chunks).toString("utf8"),
    }),
  );
}

function getLocal(path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: daemon.socket, path, method: "GET", timeout: 5_000 }, (res) =>
      collect(res, resolve),
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

function getRemote(path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // No token and no pinned certificate: what a Prometheus server with insecure_skip_verify does.
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port: daemon.adminPort,
        path,
        method: "GET",
        rejectUnauthorized: false,
        timeout: 5_000,
      },
      (res) => collect(res, resolve),
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

function floatip(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return daemon.cli(args);
}

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

before(async () => {
  daemon = await LoopbackDaemon.start({ name: "metrics-test" });
});

after(() => daemon.stop());

void test("GET /metrics on the local socket shows this node online, quorate and coordinator, and its resources", async () => {
  const created = await floatip(
    "resource",
    "create",
    "Check",
    "floatip:check:tcp",
    "host=127.0.0.1",
    "port=9",
  );
  assert.equal(created.code, 0, created.stderr);
  let text = "";
  for (let i = 0; i < 100; i += 1) {
    const answer = await getLocal("/metrics");
    assert.equal(answer.status, 200);
    assert.match(answer.contentType, /^text\/plain; version=0\.0\.4/);
    text = answer.body;
    if (sample(text, "floatip_is_dc") === 1 && /^floatip_resource_actions_total\{/m.test(text)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(sample(text, 'floatip_node_online{node="node1"}'), 1);
  assert.equal(sample(text, "floatip_quorate"), 1);
  assert.equal(sample(text, "floatip_is_dc"), 1);
  assert.equal(sample(text, "floatip_cluster_services_running"), 1);
  assert.equal(sample(text, "floatip_config_epoch"), 2, "the resource was the second configuration");
  assert.ok(sample(text, 'floatip_resource_running{resource="Check",node="node1"}') !== undefined, text);
  assert.match(
    text,
    /^floatip_resource_actions_total\{resource="Check",op="start",result="(ok|failed)"\} 1$/m,
  );
  // Before any failover the histograms are announced, empty.
  assert.match(text, /^# TYPE floatip_failover_duration_seconds histogram$/m);
  assert.match(text, /^# TYPE floatip_failovers_total counter$/m);
});

void test("GET /metrics answers on the TLS admin port without a token, while the status still wants one", async () => {
  const metrics = await getRemote("/metrics");
  assert.equal(metrics.status, 200);
  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  assert.match(metrics.body, /^floatip_quorate 1$/m);
  for (const secret of [clusterKey.toString("base64"), clusterKey.toString("hex"), "PRIVATE KEY"])
    assert.ok(!metrics.body.includes(secret), `no ${secret} in the metrics`);
  const status = await getRemote("/v1/status");
  assert.equal(status.status, 401);
});
