import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Script } from "node:vm";
import { z } from "zod";
import { AdminServer } from "../api/server.ts";
import { loadOrCreateTlsIdentity } from "../api/tls-identity.ts";
import { createLogger } from "../observability/logger.ts";
import { DASHBOARD_JS, dashboardHtml } from "./dashboard-page.ts";
import { registerDashboardRoutes } from "./dashboard-routes.ts";

function get(
  port: number,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: "GET", rejectUnauthorized: false, timeout: 5_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

void test("the dashboard script is valid JavaScript", () => {
  assert.doesNotThrow(() => new Script(DASHBOARD_JS, { filename: "dashboard.js" }));
});

void test("the page loads nothing from elsewhere: no external scripts, styles, fonts or images", () => {
  const html = dashboardHtml();
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /@import|@font-face|url\(/);
  assert.doesNotMatch(html, /\bsrc=/);
  assert.doesNotMatch(html, /\$\{/, "no template placeholders leaked into the page");
});

void test("GET / serves the page without a token, while the data calls still need one", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "floatip-dashboard-"));
  const api = new AdminServer({
    logger: createLogger({ name: "test", level: "silent" }),
    verifyToken: () => "unknown",
  });
  t.after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  api.add({
    method: "GET",
    path: "/v1/status",
    scope: "remote",
    schema: z.object({}),
    handle: async () => ({}),
  });
  registerDashboardRoutes({ api });
  const port = await api.listenTcp("127.0.0.1", 0, await loadOrCreateTlsIdentity(dir, "test"));

  const page = await get(port, "/");
  assert.equal(page.status, 200);
  assert.match(String(page.headers["content-type"]), /^text\/html/);
  assert.match(page.body, /data-testid="login"/);
  const csp = String(page.headers["content-security-policy"]);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'self'/);
  const script = /<script>([\s\S]*)<\/script>/.exec(page.body)?.[1] ?? "";
  const hash = createHash("sha256").update(script, "utf8").digest("base64");
  assert.ok(csp.includes(`'sha256-${hash}'`), "the policy allows exactly the served script");

  assert.equal((await get(port, "/v1/status")).status, 401);
});
