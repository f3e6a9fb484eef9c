import { readFileSync } from "node:fs";

/**
 * The dashboard: one self-contained page (inline style and script, no external resources), so that the
 * daemon serves it as one response and its Content-Security-Policy can allow exactly this style and this
 * script by their hashes. It holds no data: it asks for the hacluster password, gets a token from
 * POST /remote/auth and polls the admin API with it. The script is TypeScript in src/web/dashboard/.
 */

export const DASHBOARD_CSS = String.raw`
:root {
  --bg: #f4f6f9; --card: #ffffff; --line: #d8dde5; --text: #1c2430; --muted: #5d6b7e;
  --ok: #1f8a4c; --ok-bg: #e3f4ea; --bad: #c0392b; --bad-bg: #fbe5e2; --warn: #9a6700; --warn-bg: #fff4d6;
  --detect: #e59a2f; --decide: #7b61ff; --start: #2f80ed; --accent: #24508f;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
header {
  display: flex; align-items: center; gap: 14px; flex-wrap: wrap;
  padding: 12px 24px; background: #1d2b40; color: #fff;
}
header h1 { font-size: 18px; margin: 0; font-weight: 650; letter-spacing: 0.2px; }
header .sub { color: #b9c6d8; }
header .spacer { flex: 1; }
header button { background: transparent; color: #fff; border: 1px solid #6f819b; }
.pill {
  display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600;
  border: 1px solid transparent; white-space: nowrap;
}
.pill.ok { background: var(--ok-bg); color: var(--ok); border-color: #b5dec5; }
.pill.bad { background: var(--bad-bg); color: var(--bad); border-color: #f0b8b0; }
.pill.warn { background: var(--warn-bg); color: var(--warn); border-color: #f0d68a; }
.pill.info { background: #e6eefb; color: var(--accent); border-color: #bcd0f0; }
.pill.muted { background: #eef0f3; color: var(--muted); border-color: var(--line); }
button {
  font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--line);
  background: var(--accent); color: #fff; cursor: pointer;
}
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(320px, 2fr); gap: 18px; padding: 18px 24px; }
@media (max-width: 1000px) { main { grid-template-columns: 1fr; } }
.column { display: flex; flex-direction: column; gap: 18px; min-width: 0; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
section.card h2 { font-size: 15px; margin: 0 0 10px; display: flex; align-items: baseline; gap: 8px; }
section.card h2 .hint { font-weight: 400; color: var(--muted); font-size: 12.5px; }
.empty { color: var(--muted); font-style: italic; }
.nodes { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.node { border: 1px solid var(--line); border-left-width: 5px; border-radius: 8px; padding: 8px 10px; }
.node[data-state="online"] { border-left-color: var(--ok); }
.node[data-state="offline"] { border-left-color: var(--bad); background: #fffafa; }
.node .name { font-weight: 650; font-size: 15px; }
.node .addr { color: var(--muted); }
.node .tags { margin-top: 4px; display: flex; gap: 5px; flex-wrap: wrap; }
table { width: 100%; border-collapse: collapse; }
th { white-space: nowrap; text-align: left; font-size: 12px; color: var(--muted); font-weight: 600; padding: 4px 8px; border-bottom: 1px solid var(--line); }
td { padding: 7px 8px; border-bottom: 1px solid #edf0f4; vertical-align: top; }
tr:last-child td { border-bottom: none; }
.vip-holder { font-weight: 650; font-size: 15px; }
.detail { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.agree-false td { background: var(--warn-bg); }
.legend { display: flex; gap: 14px; color: var(--muted); font-size: 12px; margin-bottom: 8px; }
.legend i.seg { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.failover { margin: 10px 0 12px; }
.failover .label { display: flex; gap: 10px; align-items: baseline; margin-bottom: 4px; flex-wrap: wrap; }
.failover .label strong { font-size: 14px; }
.failover .total { margin-left: auto; font-weight: 700; font-variant-numeric: tabular-nums; }
.failover .phases { color: var(--muted); font-size: 12px; margin-top: 3px; font-variant-numeric: tabular-nums; }
.track { background: #eef1f5; border-radius: 5px; height: 24px; overflow: hidden; }
.bar { display: flex; height: 100%; min-width: 3px; }
.seg {
  height: 100%; color: #fff; font-size: 11.5px; font-weight: 600; white-space: nowrap; overflow: hidden;
  display: flex; align-items: center; justify-content: center; min-width: 1px;
}
.seg.detect { background: var(--detect); }
.seg.decide { background: var(--decide); }
.seg.start { background: var(--start); }
.timeline-tools { display: flex; gap: 6px; flex-wrap: wrap; margin-bottom: 8px; }
.timeline-tools label { font-size: 12px; color: var(--muted); display: flex; align-items: center; gap: 3px; }
.events { list-style: none; margin: 0; padding: 0; max-height: calc(100vh - 170px); overflow-y: auto; }
.events li { display: grid; grid-template-columns: 86px 44px 104px minmax(0, 1fr); gap: 6px; font-size: 13px; padding: 5px 2px; border-bottom: 1px solid #edf0f4; align-items: baseline; }
.events li.new { animation: flash 1.5s ease-out; }
@keyframes flash { from { background: #fff3c4; } to { background: transparent; } }
.events .time { color: var(--muted); font-variant-numeric: tabular-nums; }
.events .summary { overflow-wrap: anywhere; }
.t-membership { background: #fde8e8; color: #a61b1b; }
.t-decision { background: #efe9ff; color: #5b3fd6; }
.t-action { background: #e3eefc; color: #1d5fb8; }
.t-resource { background: #fff1dc; color: #94560a; }
.t-cloud-call { background: #e2f5f3; color: #0d7468; }
.t-failover { background: #1d2b40; color: #fff; }
.t-config { background: #eef0f3; color: #4b5566; }
.t-fencing { background: #3d1111; color: #fff; }
.t-quorum { background: #fdf3d8; color: #7a5a00; }
.banner { margin: 12px 24px 0; padding: 8px 12px; border-radius: 8px; background: var(--bad-bg); color: var(--bad); border: 1px solid #f0b8b0; }
#login { max-width: 380px; margin: 10vh auto; }
#login form { display: flex; flex-direction: column; gap: 10px; }
#login input { font: inherit; padding: 7px 9px; border: 1px solid var(--line); border-radius: 6px; }
#login .error { color: var(--bad); min-height: 1.4em; }
[hidden] { display: none !important; }
`;

export const DASHBOARD_BODY = String.raw`
<header>
  <h1>floatip</h1>
  <span class="sub" id="cluster-name" data-testid="cluster-name">dashboard</span>
  <span id="quorum" data-testid="quorum"></span>
  <span class="sub" id="viewed-from" data-testid="viewed-from"></span>
  <span class="spacer"></span>
  <span class="sub" id="updated" data-testid="updated"></span>
  <button type="button" id="logout" data-testid="logout" hidden>Log out</button>
</header>
<div class="banner" id="banner" data-testid="banner" hidden></div>
<section class="card" id="login" data-testid="login">
  <h2>Sign in to this node</h2>
  <form id="login-form" autocomplete="off">
    <label>User <input name="username" value="hacluster" readonly data-testid="login-username"></label>
    <label>Password <input name="password" type="password" required autofocus data-testid="login-password"></label>
    <button type="submit" data-testid="login-submit">Sign in</button>
    <div class="error" id="login-error" data-testid="login-error"></div>
  </form>
  <p class="detail">The password set with <code>floatip passwd</code>. The session token stays in this tab only.</p>
</section>
<main id="dashboard" data-testid="dashboard" hidden>
  <div class="column">
    <section class="card">
      <h2>Nodes <span class="hint" id="nodes-hint"></span></h2>
      <div class="nodes" id="nodes" data-testid="nodes"></div>
    </section>
    <section class="card">
      <h2>Virtual IPs <span class="hint">where the cluster runs each one, and where the cloud holds it</span></h2>
      <table data-testid="vips">
        <thead><tr><th>VIP</th><th>Address</th><th>Runs on (cluster)</th><th>Held by (cloud)</th></tr></thead>
        <tbody id="vips"></tbody>
      </table>
    </section>
    <section class="card">
      <h2>Failover history <span class="hint">time from the last heartbeat of the lost node to the resource running elsewhere</span></h2>
      <div class="legend">
        <span><i class="seg detect"></i>detect</span>
        <span><i class="seg decide"></i>decide</span>
        <span><i class="seg start"></i>start (cloud move and check)</span>
      </div>
      <div id="failovers" data-testid="failovers"></div>
    </section>
    <section class="card">
      <h2>Resources</h2>
      <table data-testid="resources">
        <thead><tr><th>Resource</th><th>Type</th><th>State</th><th>Fail counts</th><th>Messages</th></tr></thead>
        <tbody id="resources"></tbody>
      </table>
    </section>
  </div>
  <div class="column">
    <section class="card">
      <h2>Events <span class="hint" id="events-hint">newest first, live</span></h2>
      <div class="timeline-tools" id="type-filter" data-testid="type-filter"></div>
      <ul class="events" id="events" data-testid="events"></ul>
    </section>
  </div>
</main>
`;

/**
 * The page's script: src/web/dashboard/ bundled into one file by the build (`npm run build`). Compiled, it
 * sits beside this module in dist/; run from the sources (tsx), it is read from the checkout's dist/.
 */
function readDashboardScript(): string {
  for (const candidate of ["./dashboard.js", "../../dist/src/web/dashboard.js"]) {
    try {
      return readFileSync(new URL(candidate, import.meta.url), "utf8");
    } catch {
      // Not built there; try the next.
    }
  }
  // A daemon from an incomplete build still serves its API; the page says what is missing.
  return 'document.body.textContent = "This floatip was built without its dashboard: run npm run build.";';
}

export const DASHBOARD_JS = readDashboardScript();

/** The whole document; the style and script are the constants above, verbatim. */
export function dashboardHtml(): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<link rel="icon" href="data:,">',
    "<title>floatip dashboard</title>",
    `<style>${DASHBOARD_CSS}</style>`,
    "</head>",
    "<body>",
    DASHBOARD_BODY,
    `<script>${DASHBOARD_JS}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
