import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as common from "oci-common";
import * as core from "oci-core";

/** The CLI as a test bed uses it: a child process, followed through its stdout and steered over its socket. */

const here = fileURLToPath(new URL(".", import.meta.url));

class LineReader {
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;

  constructor(child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (this.waiting !== undefined) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(line);
      } else this.lines.push(line);
    });
  }

  next(timeoutMs: number): Promise<Record<string, unknown>> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued) as Record<string, unknown>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no stdout line within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      };
    });
  }
}

function postOverSocket(
  socketPath: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      {
        socketPath,
        path,
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        timeout: 5000,
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("control socket request timed out")));
    req.on("error", reject);
    req.end(payload);
  });
}

void test("main.ts prints ready, follows moves and instance actions as JSON lines, and obeys its control socket", async () => {
  const dir = await mkdtemp(join(tmpdir(), "oci-emulator-main-"));
  const socketPath = join(dir, "control.sock");
  const child = spawn(
    process.execPath,
    [
      ...["--import", "tsx", join(here, "main.ts")],
      ...[
        "--seed",
        join(here, "seeds", "two-ads.json"),
        "--listen",
        "127.0.0.1:0",
        "--control-socket",
        socketPath,
      ],
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const lines = new LineReader(child);
    const ready = await lines.next(15_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; stderr: ${stderr}`);
    });
    assert.equal(ready["ready"], true);
    const [url] = ready["urls"] as string[];
    assert.match(url ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);

    const stopped = await postOverSocket(socketPath, "/_emulator/instances/node2/action", { action: "STOP" });
    assert.equal(stopped.status, 200);
    assert.deepEqual(await lines.next(5000), {
      event: "instanceAction",
      instanceId: (JSON.parse(stopped.body) as { id: string }).id,
      instanceName: "node2",
      action: "STOP",
      state: "STOPPED",
    });

    const builder = new common.InstancePrincipalsAuthenticationDetailsProviderBuilder();
    builder.metadataBaseUrl = `${url}/_instances/node1/opc/v2/`;
    builder.federationEndpoint = url ?? "";
    const client = new core.VirtualNetworkClient(
      { authenticationDetailsProvider: await builder.build() },
      { circuitBreaker: new common.CircuitBreaker({ disableClientCircuitBreaker: true }) },
    );
    client.endpoint = url ?? "";
    const vnics = (await (
      await fetch(`${url}/_instances/node1/opc/v2/vnics/`, {
        headers: { authorization: "Bearer Oracle" },
        signal: AbortSignal.timeout(5000),
      })
    ).json()) as { vnicId: string }[];
    const created = await client.createPrivateIp({
      createPrivateIpDetails: { vnicId: vnics[0]?.vnicId ?? "", ipAddress: "10.0.0.100" },
    });
    const assigned = await lines.next(5000);
    assert.equal(assigned["event"], "privateIpAssigned");
    assert.equal(assigned["privateIpId"], created.privateIp.id);
    assert.equal(assigned["ipAddress"], "10.0.0.100");
    assert.equal(assigned["instanceName"], "node1");
    assert.equal(assigned["primaryIp"], "10.0.0.11");
  } finally {
    child.kill("SIGTERM");
    if (child.exitCode === null) await once(child, "exit");
    await rm(dir, { recursive: true, force: true });
  }
});
