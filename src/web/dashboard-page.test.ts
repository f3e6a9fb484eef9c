import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHROMIUM, QUIET_CHROMIUM } from "../../tools/testbed/chromium.ts";
import { test } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { z } from "zod";
import { ApiError } from "../api/protocol.ts";
import { AdminServer } from "../api/server.ts";
import { loadOrCreateTlsIdentity } from "../api/tls-identity.ts";
import { createLogger } from "../observability/logger.ts";
import type { ClusterEvent } from "../observability/event-log.ts";
import { DASHBOARD_JS } from "./dashboard-page.ts";
import { registerDashboardRoutes } from "./dashboard-routes.ts";

/** The page in a real browser against a scripted admin API on loopback: what it derives from the data. */

function status(runningOn: string[], online: string[], startedAt = "2025-01-01T00:00:00.000Z"): unknown {
  return {
    clusterName: "demo",
    nodeName: "node2",
    configured: true,
    running: true,
    dc: "node2",
    quorate: true,
    online,
    offline: ["node1", "node2"].filter((n) => !online.includes(n)),
    leaving: [],
    nodesConfigured: 2,
    resources: [
      {
        id: "Cluster_VIP",
        type: "ocf:heartbeat:IPaddr2",
        runningOn,
        failedOn: [],
        unknownOn: [],
        disabled: false,
        failCounts: { node1: 1 },
        messages: {},
      },
    ],
    notes: [],
    configEpoch: 3,
    lastChange: null,
    configProblem: null,
    daemon: { pid: 1, startedAt, version: "test" },
    membership: null,
    config: {
      nodes: [
        { name: "node1", id: 1, addrs: ["10.0.0.11"] },
        { name: "node2", id: 2, addrs: ["10.0.0.12"] },
      ],
      properties: { cloud: "oci" },
      resources: [{ id: "Cluster_VIP", params: { ip: "10.0.0.200", cidr_netmask: "24" } }],
    },
  };
}

let seq = 0;
function event(node: string, type: ClusterEvent["type"], data: Record<string, unknown>): ClusterEvent {
  seq += 1;
  return {
    seq,
    at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
    node,
    type,
    summary: type,
    data,
  };
}

interface Fake {
  url: string;
  page: Page;
  state: { status: unknown; events: ClusterEvent[]; tokenValid: boolean };
}

async function openDashboard(t: { after(fn: () => Promise<void>): void }): Promise<Fake> {
  const dir = mkdtempSync(join(tmpdir(), "floatip-dashboard-page-"));
  const state = {
    status: status(["node1"], ["node1", "node2"]),
    events: [] as ClusterEvent[],
    tokenValid: true,
  };
  const api = new AdminServer({
    logger: createLogger({ name: "test", level: "silent" }),
    verifyToken: (token) => (state.tokenValid && token === "good-token" ? "valid" : "unknown"),
  });
  const parts: { browser?: BrowserContext } = {};
  t.after(async () => {
    await parts.browser?.close().catch(() => undefined);
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  api.add({
    method: "POST",
    path: "/remote/auth",
    scope: "public",
    schema: z.object({ username: z.string(), password: z.string() }),
    handle: async ({ username, password }) => {
      if (username !== "hacluster" || password !== "secret")
        throw new ApiError("FLOATIP_E_AUTH_FAILED", "Unable to authenticate: wrong password", 401);
      return { token: "good-token" };
    },
  });
  api.add({
    method: "GET",
    path: "/v1/status",
    scope: "remote",
    schema: z.object({}),
    handle: async () => state.status,
  });
  api.add({
    method: "POST",
    path: "/v1/events",
    scope: "remote",
    schema: z.object({ since: z.number() }),
    handle: async ({ since }) => ({ events: state.events.filter((e) => e.seq > since) }),
  });
  registerDashboardRoutes({ api });
  const port = await api.listenTcp("127.0.0.1", 0, await loadOrCreateTlsIdentity(dir, "test"));
  const browser = (parts.browser = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: CHROMIUM,
    args: QUIET_CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    timeout: 30_000,
  }));
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(10_000);
  const url = `https://127.0.0.1:${port}/`;
  await page.goto(url);
  return { url, page, state };
}

async function signIn(page: Page, password: string): Promise<void> {
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
}

const skip = existsSync(CHROMIUM) ? false : `needs ${CHROMIUM}`;

void test("the page carries the script built from src/web/dashboard/, not older than its sources", () => {
  assert.match(DASHBOARD_JS, /floatip\.dashboard\.token/, "no built dashboard script: run npm run build");
  const built = statSync(new URL("../../dist/src/web/dashboard.js", import.meta.url)).mtimeMs;
  const sources = new URL("./dashboard/", import.meta.url);
  for (const name of readdirSync(sources)) {
    const changed = statSync(new URL(name, sources)).mtimeMs;
    assert.ok(changed <= built, `src/web/dashboard/${name} changed after the last build: run npm run build`);
  }
});

void test(
  "a wrong password keeps the sign-in form with the daemon's error",
  { skip, timeout: 60_000 },
  async (t) => {
    const { page } = await openDashboard(t);
    await signIn(page, "nope");
    await page.getByTestId("login-error").filter({ hasText: "FLOATIP_E_AUTH_FAILED" }).waitFor();
    assert.equal(await page.getByTestId("dashboard").isVisible(), false);
  },
);

void test(
  "the cloud holder comes from a successful move followed by that node's start, not from a refused one",
  { skip, timeout: 60_000 },
  async (t) => {
    const { page, state } = await openDashboard(t);
    state.events.push(
      event("node1", "cloud-call", {
        op: "updatePrivateIp",
        status: 200,
        latencyMs: 301,
        opcRequestId: "REQ-1",
      }),
      event("node1", "action", { op: "start", resource: "Cluster_VIP", state: "running" }),
    );
    await signIn(page, "secret");
    const cloud = page.getByTestId("vip-cloud-Cluster_VIP");
    await page.locator('[data-testid="vip-cloud-Cluster_VIP"][data-node="node1"]').waitFor();
    assert.match((await cloud.textContent()) ?? "", /REQ-1/);

    state.events.push(
      event("node2", "cloud-call", {
        op: "updatePrivateIp",
        status: 412,
        latencyMs: 280,
        opcRequestId: "REQ-2",
      }),
      event("node2", "action", { op: "start", resource: "Cluster_VIP", state: "failed" }),
    );
    state.status = status(["node1"], ["node1", "node2"]);
    await page.locator('[data-testid="event"][data-seq="4"]').waitFor();
    assert.equal(await cloud.getAttribute("data-node"), "node1", "a refused move does not change the holder");
  },
);

void test(
  "failover bars share one scale and split into detect, decide and start by their durations",
  { skip, timeout: 60_000 },
  async (t) => {
    const { page, state } = await openDashboard(t);
    state.status = status(["node2"], ["node2"]);
    const phases = (detectMs: number, decideMs: number, startMs: number) => ({
      resource: "Cluster_VIP",
      from: "node1",
      to: "node2",
      cause: "node-lost",
      detectMs,
      decideMs,
      startMs,
      totalMs: detectMs + decideMs + startMs,
    });
    state.events.push(event("node2", "failover", phases(1000, 500, 2500)));
    state.events.push(event("node2", "failover", phases(1000, 0, 1000)));
    await signIn(page, "secret");
    const bars = page.getByTestId("failover-bar");
    await page.locator('[data-testid="failover-bar"][data-total-ms="2000"]').waitFor();
    assert.equal(await bars.count(), 2);
    const width = async (bar: number, seg: string) =>
      (await bars.nth(bar).getByTestId(`failover-${seg}`).boundingBox())?.width ?? 0;
    // Newest first: the 2 s failover, then the 4 s one, whose segments are 1:0.5:2.5 of its bar.
    const newest = (await width(0, "detect")) + (await width(0, "decide")) + (await width(0, "start"));
    const oldest = (await width(1, "detect")) + (await width(1, "decide")) + (await width(1, "start"));
    assert.ok(Math.abs(newest / oldest - 0.5) < 0.02, `half the length: ${newest} vs ${oldest}`);
    assert.ok(Math.abs((await width(1, "start")) / oldest - 2500 / 4000) < 0.02);
    assert.ok(Math.abs((await width(1, "decide")) / oldest - 500 / 4000) < 0.02);
    assert.match((await bars.nth(1).getByTestId("failover-total").textContent()) ?? "", /total 4,000 ms/);
    assert.equal(
      await page.locator('[data-testid="vip-cloud-Cluster_VIP"]').getAttribute("data-node"),
      "node2",
      "a completed failover of a cloud VIP names its new holder",
    );
    await page.locator('[data-testid="node-node1"][data-state="offline"]').waitFor();
    await page.locator('[data-testid="node-node2"][data-dc="true"]').waitFor();
  },
);

void test(
  "a daemon restart starts the history over, and an expired token returns to the sign-in form",
  { skip, timeout: 60_000 },
  async (t) => {
    const { page, state } = await openDashboard(t);
    state.events.push(event("node2", "config", { epoch: 3 }), event("node2", "config", { epoch: 4 }));
    await signIn(page, "secret");
    const events = page.getByTestId("event");
    await page.locator('[data-testid="event"][data-type="config"]').nth(1).waitFor();

    // The restarted daemon numbers its events from 1 again.
    state.status = status(["node1"], ["node1", "node2"], "2025-01-02T00:00:00.000Z");
    state.events = [{ ...event("node2", "membership", {}), seq: 1 }];
    await page.locator('[data-testid="event"][data-type="membership"]').waitFor();
    assert.equal(await events.count(), 1);

    state.tokenValid = false;
    await page.getByTestId("login").waitFor({ state: "visible" });
    assert.match((await page.getByTestId("login-error").textContent()) ?? "", /Session ended/);
  },
);
