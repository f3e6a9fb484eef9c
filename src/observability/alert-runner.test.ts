import assert from "node:assert/strict";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  alertEnvironment,
  AlertRunner,
  DEFAULT_TIMESTAMP_FORMAT,
  formatAlertTimestamp,
  noticesOf,
  type AlertTarget,
  type NoticeContext,
  type ScriptAlertTarget,
} from "./alert-runner.ts";
import { EventLog, type ClusterEvent, type NewClusterEvent } from "./event-log.ts";
import { silentLogger } from "./logger.ts";

// Timestamps are local time, as in Pacemaker; pin the zone so the expected strings are fixed.
process.env["TZ"] = "UTC";

const SAMPLE = "/usr/share/pacemaker/alerts/alert_file.sh.sample";
/** 2024-05-06T07:08:09.123Z */
const AT_MS = Date.UTC(2024, 4, 6, 7, 8, 9, 123);

const context: NoticeContext = {
  nodeIdOf: (name) => ({ node1: 1, node2: 2 })[name],
  monitorIntervalMsOf: (resource) => (resource === "Web_Check" ? 2000 : 10_000),
};

function event(type: ClusterEvent["type"], data: Record<string, unknown>, node = "node2"): ClusterEvent {
  return { seq: 1, at: new Date(AT_MS).toISOString(), node, type, summary: "", data };
}

const address = { recipient: "/var/log/alerts.log", options: {}, timestampFormat: DEFAULT_TIMESTAMP_FORMAT };

void test("a lost node raises a node alert with Pacemaker's variables, each also as CRM_notify_*", () => {
  const notices = noticesOf(
    event("membership", { online: ["node2"], joined: [], lost: ["node1"], restarted: [] }),
    context,
  );
  assert.equal(notices.length, 1);
  const env = alertEnvironment(notices[0]!, address, { sequence: 7 });
  assert.deepEqual(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("CRM_alert_"))), {
    CRM_alert_kind: "node",
    CRM_alert_version: "2.1.5",
    CRM_alert_recipient: "/var/log/alerts.log",
    CRM_alert_node_sequence: "7",
    CRM_alert_timestamp: "07:08:09.123000",
    CRM_alert_timestamp_epoch: String(Math.floor(AT_MS / 1000)),
    CRM_alert_timestamp_usec: "123000",
    CRM_alert_node: "node1",
    CRM_alert_desc: "lost",
    CRM_alert_nodeid: "1",
  });
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith("CRM_alert_")) assert.equal(env[name.replace("CRM_alert_", "CRM_notify_")], value);
  }
});

void test("joined and restarted nodes are members again; one alert per node", () => {
  const notices = noticesOf(
    event("membership", { online: ["node1", "node2"], joined: ["node1"], lost: [], restarted: ["node2"] }),
    context,
  );
  assert.deepEqual(
    notices.map((n) => [n.kind, n.node, n.fields.desc, n.fields.nodeid]),
    [
      ["node", "node1", "member", "1"],
      ["node", "node2", "member", "2"],
    ],
  );
});

void test("a start that worked is a resource alert with rc 0 'ok' and no interval", () => {
  const [notice] = noticesOf(
    event("action", {
      resource: "Cluster_VIP",
      op: "start",
      state: "running",
      durationMs: 612,
      failCount: 0,
    }),
    context,
  );
  const env = alertEnvironment(notice!, address, { sequence: 1 });
  assert.equal(env["CRM_alert_kind"], "resource");
  assert.equal(env["CRM_alert_node"], "node2");
  assert.equal(env["CRM_alert_rsc"], "Cluster_VIP");
  assert.equal(env["CRM_alert_task"], "start");
  assert.equal(env["CRM_alert_interval"], "0");
  assert.equal(env["CRM_alert_rc"], "0");
  assert.equal(env["CRM_alert_target_rc"], "0");
  assert.equal(env["CRM_alert_status"], "0");
  assert.equal(env["CRM_alert_desc"], "ok");
  assert.equal(env["CRM_alert_exec_time"], "612");
  assert.equal(env["CRM_alert_nodeid"], undefined, "nodeid is for node alerts only");
});

void test("a monitor failure says 'not running' with the monitor's interval; a failed start says 'error'", () => {
  const [monitor] = noticesOf(
    event("resource", { resource: "Web_Check", op: "monitor", state: "failed", durationMs: 3, failCount: 1 }),
    context,
  );
  assert.deepEqual(monitor?.fields, {
    rsc: "Web_Check",
    task: "monitor",
    interval: "2000",
    rc: "7",
    target_rc: "0",
    status: "0",
    desc: "not running",
    exec_time: "3",
  });
  const [start] = noticesOf(
    event("action", { resource: "Cluster_VIP", op: "start", state: "failed", durationMs: 5, failCount: 1 }),
    context,
  );
  assert.equal(start?.fields.rc, "1");
  assert.equal(start?.fields.desc, "error");
});

void test("an operation that timed out has status 2 and 'Timed Out', as Pacemaker reports it", () => {
  const [notice] = noticesOf(
    event("action", {
      resource: "R",
      op: "stop",
      state: "failed",
      durationMs: 20_000,
      failCount: 1,
      message: "stop timed out after 20000 ms",
    }),
    context,
  );
  assert.equal(notice?.fields.status, "2");
  assert.equal(notice?.fields.desc, "Timed Out");
});

void test("decisions, cloud calls, failovers and config changes raise no script alerts", () => {
  for (const type of ["decision", "cloud-call", "failover", "config"] as const) {
    assert.deepEqual(noticesOf(event(type, { resource: "R", op: "start" }), context), [], type);
  }
});

void test("a fencing event becomes a fencing alert on the target", () => {
  const [notice] = noticesOf(
    event("fencing" as ClusterEvent["type"], { target: "node1", action: "off", rc: 0, origin: "node2" }),
    context,
  );
  assert.equal(notice?.kind, "fencing");
  assert.equal(notice?.node, "node1");
  assert.equal(notice?.fields.task, "off");
  assert.equal(notice?.fields.desc, "Operation off of node1 by node2: OK");
});

void test("timestamps follow date(1) formats with Pacemaker's %N precision digits", () => {
  assert.equal(formatAlertTimestamp(AT_MS, "%H:%M:%S.%06N"), "07:08:09.123000");
  assert.equal(formatAlertTimestamp(AT_MS, "%Y-%m-%d,%H:%M:%S.%01N"), "2024-05-06,07:08:09.1");
  assert.equal(formatAlertTimestamp(AT_MS, "%D %H:%M"), "05/06/24 07:08");
  assert.equal(formatAlertTimestamp(AT_MS, "%c"), "Mon May  6 07:08:09 2024");
  assert.equal(formatAlertTimestamp(AT_MS, "%s.%3N %z %j %%"), `${Math.floor(AT_MS / 1000)}.123 +0000 127 %`);
  assert.equal(formatAlertTimestamp(AT_MS, "%N"), "123000000");
  assert.equal(formatAlertTimestamp(AT_MS, "%Q stays"), "%Q stays");
});

// ------------------------------------------------------------------------------- running real agents

function eventLog(): EventLog {
  let now = AT_MS;
  return new EventLog({ node: () => "node2", now: () => (now += 1) });
}

function runnerFor(log: EventLog, targets: AlertTarget[], extra: { retry?: number[] } = {}): AlertRunner {
  return new AlertRunner({
    events: log,
    resolve: () => ({ targets, context }),
    logger: silentLogger(),
    ...(extra.retry ? { webhookRetryDelaysMs: extra.retry } : {}),
  }).start();
}

function scriptTarget(
  path: string,
  recipients: string[],
  options: Record<string, string> = {},
): ScriptAlertTarget {
  return {
    id: "alert",
    type: "script",
    path,
    deliveries: (recipients.length > 0 ? recipients : [""]).map((recipient) => ({
      recipient,
      options,
      timestampFormat: DEFAULT_TIMESTAMP_FORMAT,
      timeoutMs: 5000,
    })),
  };
}

/** The events of a failover of Cluster_VIP and Web_Check from node1 to node2, as node2 records them. */
const FAILOVER: NewClusterEvent[] = [
  {
    type: "membership",
    summary: "node1 lost",
    data: { online: ["node2"], joined: [], lost: ["node1"], restarted: [] },
  },
  { type: "decision", summary: "start Cluster_VIP on node2", data: { actions: [], notes: [] } },
  {
    type: "action",
    summary: "start Cluster_VIP",
    data: { resource: "Cluster_VIP", op: "start", state: "running", durationMs: 640, failCount: 0 },
  },
  {
    type: "action",
    summary: "start Web_Check",
    data: { resource: "Web_Check", op: "start", state: "running", durationMs: 4, failCount: 0 },
  },
  {
    type: "failover",
    summary: "Cluster_VIP moved",
    data: { resource: "Cluster_VIP", from: "node1", to: "node2", cause: "node-lost", totalMs: 1650 },
  },
  {
    type: "resource",
    summary: "monitor Web_Check failed",
    data: { resource: "Web_Check", op: "monitor", state: "failed", durationMs: 2, failCount: 1 },
  },
  {
    type: "membership",
    summary: "node1 joined",
    data: { online: ["node1", "node2"], joined: ["node1"], lost: [], restarted: [] },
  },
];

function stamp(seqMs: number): string {
  return formatAlertTimestamp(AT_MS + seqMs, DEFAULT_TIMESTAMP_FORMAT);
}

void test(
  "Pacemaker's own alert_file.sh.sample writes one line per node and resource alert of a failover, in order",
  { skip: existsSync(SAMPLE) ? false : `${SAMPLE} is missing (apt-get install pacemaker-common)` },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "floatip-alert-"));
    try {
      const script = join(dir, "alert_file.sh");
      copyFileSync(SAMPLE, script);
      chmodSync(script, 0o755);
      const logFile = join(dir, "alerts.log");
      const log = eventLog();
      const runner = runnerFor(log, [scriptTarget(script, [logFile])]);
      for (const e of FAILOVER) log.record(e);
      await runner.idle();
      assert.deepEqual(
        runner.outcomes.map((o) => o.ok),
        [true, true, true, true, true],
      );
      // Each event's clock ticks 1 ms in this log; the sample prefixes the formatted timestamp.
      assert.equal(
        readFileSync(logFile, "utf8"),
        [
          `${stamp(1)}: Node 'node1' is now 'lost'`,
          `${stamp(3)}: Resource operation 'start' for 'Cluster_VIP' on 'node2': ok`,
          `${stamp(4)}: Resource operation 'start' for 'Web_Check' on 'node2': ok`,
          `${stamp(6)}: Resource operation 'monitor (2000)' for 'Web_Check' on 'node2': not running`,
          `${stamp(7)}: Node 'node1' is now 'member'`,
          "",
        ].join("\n"),
      );
      await runner.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test(
  "the alert's options reach the sample as environment variables (debug_exec_order numbers the lines)",
  { skip: existsSync(SAMPLE) ? false : `${SAMPLE} is missing (apt-get install pacemaker-common)` },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "floatip-alert-"));
    try {
      const script = join(dir, "alert_file.sh");
      copyFileSync(SAMPLE, script);
      chmodSync(script, 0o755);
      const logFile = join(dir, "alerts.log");
      const log = eventLog();
      const runner = runnerFor(log, [scriptTarget(script, [logFile], { debug_exec_order: "true" })]);
      for (const e of FAILOVER.slice(0, 3)) log.record(e);
      await runner.idle();
      const lines = readFileSync(logFile, "utf8").trim().split("\n");
      assert.equal(lines.length, 2);
      assert.match(
        lines[0] ?? "",
        /^0001\. {2}\d\d:\d\d:\d\d\.\d{6} \(\d\d:\d\d:\d\d\.\d{6}\): Node 'node1' is now 'lost'$/,
      );
      assert.match(
        lines[1] ?? "",
        /^0002\. {2}.*Resource operation 'start' for 'Cluster_VIP' on 'node2': ok$/,
      );
      await runner.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test("an agent runs once per recipient, or once with an empty recipient, without a shell", async () => {
  const dir = mkdtempSync(join(tmpdir(), "floatip-alert-"));
  try {
    const script = join(dir, "dump env.sh");
    // A path with a space and no quoting: it only works when nothing splits it (no shell).
    writeFileSync(
      script,
      `#!/bin/sh\nenv | grep -E '^(CRM_alert_|OUT=|PATH=)' | sort > "$OUT.$CRM_alert_node_sequence.\${CRM_alert_recipient:-none}"\n`,
    );
    chmodSync(script, 0o755);
    const out = join(dir, "env");
    const log = eventLog();
    const both = scriptTarget(script, ["a", "b"], { OUT: out });
    const none = { ...scriptTarget(script, [], { OUT: out }), id: "no-recipient" };
    const runner = runnerFor(log, [both, none]);
    log.record(FAILOVER[0]!);
    await runner.idle();
    for (const suffix of ["1.a", "1.b", "1.none"]) {
      const env = readFileSync(`${out}.${suffix}`, "utf8");
      assert.match(env, /^CRM_alert_kind=node$/m, suffix);
      assert.match(env, /^CRM_alert_desc=lost$/m, suffix);
      assert.match(env, /^PATH=/m, suffix);
    }
    assert.match(readFileSync(`${out}.1.none`, "utf8"), /^CRM_alert_recipient=$/m);
    await runner.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("a hung agent is killed at its timeout, and the daemon never waits for it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "floatip-alert-"));
  try {
    const script = join(dir, "hang.sh");
    writeFileSync(script, "#!/bin/sh\nsleep 30\n");
    chmodSync(script, 0o755);
    const log = eventLog();
    const target = scriptTarget(script, ["x"]);
    const runner = runnerFor(log, [
      { ...target, deliveries: target.deliveries.map((d) => ({ ...d, timeoutMs: 300 })) },
    ]);
    const started = performance.now();
    log.record(FAILOVER[0]!);
    assert.ok(performance.now() - started < 50, "record() returned at once");
    await runner.idle();
    assert.ok(performance.now() - started < 5000, "killed long before sleep 30 ended");
    assert.equal(runner.outcomes[0]?.ok, false);
    assert.match(runner.outcomes[0]?.detail ?? "", /timed out after 300 ms/);
    await runner.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("an agent that is missing or fails is logged as an outcome, never thrown", async () => {
  const dir = mkdtempSync(join(tmpdir(), "floatip-alert-"));
  try {
    const failing = join(dir, "fail.sh");
    writeFileSync(failing, "#!/bin/sh\necho broken >&2\nexit 3\n");
    chmodSync(failing, 0o755);
    const log = eventLog();
    const runner = runnerFor(log, [
      { ...scriptTarget(join(dir, "missing.sh"), []), id: "missing" },
      { ...scriptTarget(failing, []), id: "failing" },
    ]);
    log.record(FAILOVER[0]!);
    await runner.idle();
    const byAlert = Object.fromEntries(runner.outcomes.map((o) => [o.alert, o]));
    assert.equal(byAlert["missing"]?.ok, false);
    assert.match(byAlert["missing"]?.detail ?? "", /cannot run .*ENOENT/);
    assert.deepEqual(byAlert["failing"], {
      alert: "failing",
      recipient: "",
      ok: false,
      detail: "exit 3: broken",
    });
    await runner.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// -------------------------------------------------------------------------------------------- webhooks

async function withServer(
  answer: (req: IncomingMessage, body: string, n: number) => number,
  body: (url: string, received: { headers: IncomingMessage["headers"]; json: unknown }[]) => Promise<void>,
): Promise<void> {
  const received: { headers: IncomingMessage["headers"]; json: unknown }[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      n += 1;
      received.push({ headers: req.headers, json: JSON.parse(text) });
      res.writeHead(answer(req, text, n)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const webhook = (url: string, events: ClusterEvent["type"][] = ["membership", "failover"]): AlertTarget => ({
  id: "hook",
  type: "webhook",
  url,
  timeoutMs: 2000,
  events,
});

void test("a webhook receives each selected event as JSON, in order", async () => {
  await withServer(
    () => 200,
    async (url, received) => {
      const log = eventLog();
      const runner = runnerFor(log, [webhook(url)]);
      for (const e of FAILOVER) log.record(e);
      await runner.idle();
      assert.deepEqual(
        received.map((r) => (r.json as ClusterEvent).type),
        ["membership", "failover", "membership"],
      );
      const failover = received[1]!;
      assert.equal(failover.headers["content-type"], "application/json");
      assert.equal(failover.headers["x-floatip-alert"], "hook");
      assert.equal(failover.headers["x-floatip-event"], "failover");
      assert.deepEqual((failover.json as ClusterEvent).data, FAILOVER[4]?.data);
      assert.equal((failover.json as ClusterEvent).node, "node2");
      await runner.stop();
    },
  );
});

void test("a webhook retries 5xx answers three times with growing waits, and gives up on 4xx at once", async () => {
  await withServer(
    (req, body, n) => (JSON.parse(body).type === "failover" ? 400 : n < 3 ? 503 : 200),
    async (url, received) => {
      const log = eventLog();
      const runner = runnerFor(log, [webhook(url)], { retry: [20, 40, 80] });
      log.record(FAILOVER[0]!);
      await runner.idle();
      assert.equal(received.length, 3, "two 503s, then 200");
      assert.equal(runner.outcomes[0]?.ok, true);
      log.record(FAILOVER[4]!);
      await runner.idle();
      assert.equal(received.length, 4, "a 400 is not retried");
      assert.deepEqual(runner.outcomes[1], { alert: "hook", recipient: url, ok: false, detail: "HTTP 400" });
      await runner.stop();
    },
  );
});

void test("a webhook that never answers well is given up after 1 + 3 attempts", async () => {
  await withServer(
    () => 500,
    async (url, received) => {
      const log = eventLog();
      const runner = runnerFor(log, [webhook(url)], { retry: [5, 10, 20] });
      log.record(FAILOVER[0]!);
      await runner.idle();
      assert.equal(received.length, 4);
      assert.equal(runner.outcomes[0]?.detail, "HTTP 500");
      await runner.stop();
    },
  );
});

void test("a webhook to a closed port fails without throwing", async () => {
  const log = eventLog();
  const runner = runnerFor(log, [webhook("http://127.0.0.1:9/hook")], { retry: [1, 1, 1] });
  log.record(FAILOVER[0]!);
  await runner.idle();
  assert.equal(runner.outcomes[0]?.ok, false);
  await runner.stop();
});
