/**
 * The dashboard: one self-contained page (inline style and script, no external resources, no build step),
 * embedded here so that the compiled daemon in dist/ serves it without reading a file. It holds no data:
 * it asks for the hacluster password, gets a token from POST /remote/auth and polls the admin API with it.
 *
 * The script is written without backquotes and dollar-brace pairs, so the raw template literals below keep
 * it byte for byte (the server hashes it for its Content-Security-Policy).
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
  <span class="sub" data-testid="cluster-name">dashboard</span>
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

export const DASHBOARD_JS = String.raw`
"use strict";
(function () {
  var TOKEN_KEY = "floatip.dashboard.token";
  var POLL_MS = 1000;
  var CALL_TIMEOUT_MS = 5000;
  var MAX_EVENTS = 500;
  var TYPES = ["membership", "decision", "action", "resource", "cloud-call", "failover", "config", "fencing", "quorum"];
  var VIP_TYPE = "ocf:heartbeat:IPaddr2";
  // The SDK's operation names (updatePrivateIp); compared without case.
  var MOVE_OPS = { updateprivateip: true, createprivateip: true };

  var view = null;
  var timer = null;
  var hiddenTypes = {};

  function freshView() {
    return {
      lastSeq: 0, startedAt: null, status: null, events: [], failovers: [],
      cloudHolder: {}, pendingMove: {}, firstLoad: true
    };
  }

  function byId(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "text") node.textContent = String(v);
      else if (k === "className") node.className = v;
      // Through the CSSOM: the Content-Security-Policy allows no style attributes.
      else if (k === "style") Object.assign(node.style, v);
      else node.setAttribute(k, String(v));
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) node.append(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function pill(text, kind, testid) { return el("span", { className: "pill " + kind, text: text, "data-testid": testid }); }

  function ms(n) { return Math.round(n).toLocaleString("en-US") + " ms"; }

  function clock(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    function two(n) { return String(n).padStart(2, "0"); }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) + "." + String(d.getMilliseconds()).padStart(3, "0");
  }

  function AuthError(message) { this.message = message; }

  async function call(method, path, body) {
    var headers = { "content-type": "application/json" };
    var token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.authorization = "Bearer " + token;
    var res = await fetch(path, {
      method: method,
      headers: headers,
      body: method === "POST" ? JSON.stringify(body || {}) : undefined,
      cache: "no-store",
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS)
    });
    var json = await res.json().catch(function () { return {}; });
    if (res.status === 401) throw new AuthError(json.error ? json.error.code + ": " + json.error.message : "not authorized");
    if (!res.ok) throw new Error(json.error ? json.error.code + ": " + json.error.message : "HTTP " + res.status);
    return json;
  }

  // ---- sign in ----

  function showLogin(message) {
    stop();
    sessionStorage.removeItem(TOKEN_KEY);
    byId("dashboard").hidden = true;
    byId("logout").hidden = true;
    byId("banner").hidden = true;
    byId("login").hidden = false;
    byId("login-error").textContent = message || "";
    byId("login-form").elements.password.focus();
  }

  byId("login-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    var form = event.target;
    byId("login-error").textContent = "";
    try {
      var answer = await call("POST", "/remote/auth", {
        username: form.elements.username.value, password: form.elements.password.value
      });
      sessionStorage.setItem(TOKEN_KEY, answer.token);
      form.elements.password.value = "";
      showDashboard();
    } catch (error) {
      byId("login-error").textContent = error.message;
    }
  });

  byId("logout").addEventListener("click", function () { showLogin(""); });

  function showDashboard() {
    byId("login").hidden = true;
    byId("dashboard").hidden = false;
    byId("logout").hidden = false;
    view = freshView();
    stop();
    void tick();
  }

  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  // ---- polling ----

  async function tick() {
    timer = null;
    try {
      var status = await call("GET", "/v1/status");
      var started = status.daemon ? status.daemon.startedAt : null;
      // A restarted daemon numbers its events from 1 again: start over.
      if (view.startedAt !== null && started !== view.startedAt) view = freshView();
      view.startedAt = started;
      view.status = status;
      var answer = await call("POST", "/v1/events", { since: view.lastSeq });
      ingest(answer.events || []);
      render();
      byId("banner").hidden = true;
      byId("updated").textContent = "live \u00b7 updated " + clock(new Date().toISOString()).slice(0, 8);
    } catch (error) {
      if (error instanceof AuthError) { showLogin("Session ended (" + error.message + "); sign in again."); return; }
      byId("banner").hidden = false;
      byId("banner").textContent = "Cannot reach this node's daemon: " + error.message + " (retrying every second)";
    }
    if (view !== null && !byId("dashboard").hidden) timer = setTimeout(tick, POLL_MS);
  }

  function isVip(resourceId) {
    var s = view.status;
    return !!s && s.resources.some(function (r) { return r.id === resourceId && r.type === VIP_TYPE; });
  }

  // Cloud calls carry no resource: a successful move on a node belongs to the next start that node reports.
  function ingest(events) {
    events.forEach(function (e) {
      view.lastSeq = Math.max(view.lastSeq, e.seq);
      var d = e.data || {};
      if (e.type === "cloud-call" && MOVE_OPS[String(d.op).toLowerCase()] && d.status >= 200 && d.status < 300) {
        view.pendingMove[e.node] = e;
      } else if (e.type === "action" && d.op === "start" && d.state === "running" && isVip(d.resource)) {
        var move = view.pendingMove[e.node];
        if (move) {
          delete view.pendingMove[e.node];
          view.cloudHolder[d.resource] = { node: e.node, at: move.at, how: move.data };
        }
      } else if (e.type === "failover") {
        view.failovers.push(e);
        if (isVip(d.resource)) {
          var known = view.cloudHolder[d.resource];
          if (!known || known.at <= e.at) view.cloudHolder[d.resource] = { node: d.to, at: e.at, how: null };
        }
      }
      view.events.push(e);
    });
    if (view.events.length > MAX_EVENTS) view.events.splice(0, view.events.length - MAX_EVENTS);
    view.newSeqFrom = view.firstLoad ? Infinity : (events.length ? events[0].seq : Infinity);
    view.firstLoad = false;
  }

  // ---- rendering ----

  function render() {
    var s = view.status;
    var header = document.querySelector("[data-testid=cluster-name]");
    header.textContent = s.clusterName ? "cluster " + s.clusterName : "no cluster configured";
    var quorum = byId("quorum");
    quorum.replaceChildren(s.running ? (s.quorate ? pill("quorate", "ok") : pill("no quorum", "bad")) : pill("cluster services stopped", "warn"));
    byId("viewed-from").textContent = s.nodeName ? "as seen from " + s.nodeName : "";
    renderNodes(s);
    renderVips(s);
    renderFailovers();
    renderResources(s);
    renderEvents();
  }

  function nodeNames(s) {
    var names = [];
    function add(n) { if (names.indexOf(n) < 0) names.push(n); }
    ((s.config && s.config.nodes) || []).forEach(function (n) { add(n.name); });
    s.online.concat(s.offline, s.leaving || []).forEach(add);
    return names;
  }

  function renderNodes(s) {
    var addrs = {};
    ((s.config && s.config.nodes) || []).forEach(function (n) { addrs[n.name] = (n.addrs || []).join(", "); });
    var names = nodeNames(s);
    byId("nodes-hint").textContent = s.online.length + " of " + names.length + " online";
    byId("nodes").replaceChildren.apply(byId("nodes"), names.map(function (name) {
      var state = s.online.indexOf(name) >= 0 ? "online" : s.offline.indexOf(name) >= 0 ? "offline" : "unknown";
      var tags = [pill(state, state === "online" ? "ok" : state === "offline" ? "bad" : "muted", "node-state")];
      if (s.dc === name) tags.push(pill("DC", "info", "node-dc"));
      if (s.nodeName === name) tags.push(pill("this node", "muted"));
      if ((s.leaving || []).indexOf(name) >= 0) tags.push(pill("leaving", "warn"));
      return el("div", { className: "node", "data-testid": "node-" + name, "data-state": state, "data-dc": s.dc === name }, [
        el("div", { className: "name", text: name }),
        el("div", { className: "addr mono", text: addrs[name] || "" }),
        el("div", { className: "addr", "data-testid": "node-zone-" + name, text: (s.zones && s.zones[name]) || "" }),
        el("div", { className: "tags" }, tags)
      ]);
    }));
  }

  function configOf(s, id) {
    return ((s.config && s.config.resources) || []).find(function (r) { return r.id === id; });
  }

  function renderVips(s) {
    var vips = s.resources.filter(function (r) { return r.type === VIP_TYPE; });
    var cloud = s.config && s.config.properties ? s.config.properties.cloud : undefined;
    var rows = vips.map(function (r) {
      var conf = configOf(s, r.id);
      var addr = conf && conf.params ? conf.params.ip + (conf.params.cidr_netmask ? "/" + conf.params.cidr_netmask : "") : "";
      var running = r.runningOn.length ? r.runningOn.join(", ") : r.disabled ? "disabled" : "stopped";
      var runCell = el("td", {}, [
        el("div", { className: "vip-holder", "data-testid": "vip-running-" + r.id, "data-nodes": r.runningOn.join(","), text: running }),
        r.failedOn.length ? el("div", { className: "detail", text: "failed on " + r.failedOn.join(", ") }) : null
      ]);
      var holder = view.cloudHolder[r.id];
      var cloudCell;
      if (!cloud) {
        cloudCell = el("td", { "data-testid": "vip-cloud-" + r.id, "data-node": "" }, [el("span", { className: "detail", text: "not a cloud VIP (no cloud property)" })]);
      } else if (!holder) {
        cloudCell = el("td", { "data-testid": "vip-cloud-" + r.id, "data-node": "" }, [
          el("div", { className: "vip-holder", text: "\u2014" }),
          el("div", { className: "detail", text: "no move seen in this node's event log yet" })
        ]);
      } else {
        var how = holder.how
          ? holder.how.op + " " + holder.how.status + " in " + ms(holder.how.latencyMs) + (holder.how.opcRequestId ? " \u00b7 opc-request-id " + holder.how.opcRequestId : "")
          : "failover completed";
        cloudCell = el("td", { "data-testid": "vip-cloud-" + r.id, "data-node": holder.node }, [
          el("div", { className: "vip-holder", text: holder.node + " (" + cloud + ")" }),
          el("div", { className: "detail mono", text: clock(holder.at) + " \u00b7 " + how })
        ]);
      }
      var agree = !holder || (r.runningOn.length === 1 && r.runningOn[0] === holder.node);
      return el("tr", { "data-testid": "vip-" + r.id, className: agree ? "" : "agree-false" }, [
        el("td", {}, [el("strong", { text: r.id })]),
        el("td", { className: "mono", text: addr }),
        runCell,
        cloudCell
      ]);
    });
    if (!rows.length) rows = [el("tr", {}, [el("td", { colspan: 4, className: "empty", text: "No IPaddr2 resources." })])];
    byId("vips").replaceChildren.apply(byId("vips"), rows);
  }

  function renderFailovers() {
    var list = view.failovers.slice().reverse();
    if (!list.length) {
      byId("failovers").replaceChildren(el("p", { className: "empty", text: "No failover recorded by this node (the coordinator records them)." }));
      return;
    }
    var scale = Math.max.apply(null, list.map(function (e) { return e.data.totalMs || 0; }).concat([1]));
    byId("failovers").replaceChildren.apply(byId("failovers"), list.map(function (e) {
      var d = e.data;
      var parts = [["detect", d.detectMs], ["decide", d.decideMs], ["start", d.startMs]];
      var sum = parts.reduce(function (a, p) { return a + Math.max(0, p[1] || 0); }, 0) || 1;
      var bar = el("div", { className: "bar", style: { width: ((100 * (d.totalMs || 0)) / scale).toFixed(2) + "%" } },
        parts.map(function (p) {
          var share = Math.max(0, p[1] || 0) / sum;
          var wide = share * ((d.totalMs || 0) / scale) > 0.09;
          return el("div", {
            className: "seg " + p[0], style: { width: (100 * share).toFixed(2) + "%" },
            title: p[0] + " " + ms(p[1] || 0), "data-testid": "failover-" + p[0], "data-ms": p[1],
            text: wide ? p[0] + " " + ms(p[1] || 0) : ""
          });
        }));
      return el("div", {
        className: "failover", "data-testid": "failover-bar", "data-resource": d.resource,
        "data-from": d.from, "data-to": d.to, "data-total-ms": d.totalMs
      }, [
        el("div", { className: "label" }, [
          el("strong", { text: d.resource }),
          el("span", { text: d.from + " \u2192 " + d.to }),
          pill(d.cause === "node-lost" ? "node lost" : d.cause === "resource-failed" ? "resource failed" : String(d.cause), "muted"),
          el("span", { className: "detail", text: clock(e.at) }),
          el("span", { className: "total", "data-testid": "failover-total", text: "total " + ms(d.totalMs || 0) })
        ]),
        el("div", { className: "track" }, [bar]),
        el("div", { className: "phases", text: parts.map(function (p) { return p[0] + " " + ms(p[1] || 0); }).join(" \u00b7 ") })
      ]);
    }));
  }

  function renderResources(s) {
    var rows = s.resources.map(function (r) {
      var state = [];
      if (r.disabled) state.push(pill("disabled", "muted"));
      if (r.runningOn.length) state.push(pill("running on " + r.runningOn.join(", "), "ok"));
      if (r.failedOn.length) state.push(pill("failed on " + r.failedOn.join(", "), "bad"));
      if ((r.unknownOn || []).length) state.push(pill("unknown on " + r.unknownOn.join(", "), "warn"));
      if (!state.length) state.push(pill("stopped", "muted"));
      var counts = Object.keys(r.failCounts || {}).map(function (n) { return n + ": " + r.failCounts[n]; }).join(", ");
      var messages = Object.keys(r.messages || {}).map(function (n) { return n + ": " + r.messages[n]; }).join("; ");
      return el("tr", { "data-testid": "resource-" + r.id }, [
        el("td", {}, [el("strong", { text: r.id })]),
        el("td", { className: "mono", text: r.type }),
        el("td", {}, state),
        el("td", { "data-testid": "failcounts-" + r.id, text: counts || "\u2014" }),
        el("td", { className: "detail", text: messages })
      ]);
    });
    if (!rows.length) rows = [el("tr", {}, [el("td", { colspan: 5, className: "empty", text: "No resources configured." })])];
    byId("resources").replaceChildren.apply(byId("resources"), rows);
  }

  function renderTypeFilter() {
    var box = byId("type-filter");
    box.replaceChildren.apply(box, TYPES.map(function (t) {
      var input = el("input", { type: "checkbox", "data-type": t });
      input.checked = !hiddenTypes[t];
      input.addEventListener("change", function () {
        hiddenTypes[t] = !input.checked;
        if (view) renderEvents();
      });
      return el("label", {}, [input, el("span", { className: "pill t-" + t, text: t })]);
    }));
  }

  function renderEvents() {
    var shown = view.events.filter(function (e) { return !hiddenTypes[e.type]; }).slice(-200).reverse();
    byId("events-hint").textContent = "newest first, live \u00b7 " + view.events.length + " kept";
    byId("events").replaceChildren.apply(byId("events"), shown.map(function (e) {
      return el("li", { "data-testid": "event", "data-type": e.type, "data-seq": e.seq, className: e.seq >= view.newSeqFrom ? "new" : "" }, [
        el("span", { className: "time", text: clock(e.at) }),
        el("span", { className: "detail", text: e.node }),
        el("span", {}, [el("span", { className: "pill t-" + e.type, text: e.type })]),
        el("span", { className: "summary", text: e.summary })
      ]);
    }));
    if (!shown.length) byId("events").replaceChildren(el("li", { className: "empty", text: "No events yet." }));
  }

  renderTypeFilter();
  if (sessionStorage.getItem(TOKEN_KEY)) showDashboard();
  else showLogin("");
})();
`;

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
