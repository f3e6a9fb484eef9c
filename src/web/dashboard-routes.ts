import { createHash } from "node:crypto";
import type { AdminServer } from "../api/server.ts";
import { DASHBOARD_CSS, DASHBOARD_JS, dashboardHtml } from "./dashboard-page.ts";

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/**
 * Only the page's own script and style run, it talks to this daemon only, and no other site may frame it.
 * The page holds no data, so it is public; everything it shows comes through token-checked calls.
 */
export function dashboardHeaders(): Record<string, string> {
  const policy = [
    "default-src 'none'",
    `script-src ${sha256(DASHBOARD_JS)}`,
    `style-src ${sha256(DASHBOARD_CSS)}`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": policy,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  };
}

/** GET / on the admin port serves the dashboard page. */
export function registerDashboardRoutes(daemon: { api: AdminServer }): void {
  const body = Buffer.from(dashboardHtml(), "utf8");
  const headers = { ...dashboardHeaders(), "content-length": String(body.length) };
  daemon.api.addStream({
    path: "/",
    scope: "public",
    open: (_url, res) => {
      res.writeHead(200, headers);
      res.end(body);
    },
  });
}
