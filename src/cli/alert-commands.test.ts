import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { Command } from "commander";
import fc from "fast-check";
import type { AlertConfig } from "../config/schema.ts";
import { LoopbackDaemon } from "../../tools/testbed/loopback-daemon.ts";
import { floatipMain } from "../../tools/testbed/repo-paths.ts";
import {
  formatAlerts,
  parseAlertCreateArgs,
  parseAlertUpdateArgs,
  parseIdList,
  parseRecipientAddArgs,
  parseRecipientUpdateArgs,
  registerAlertCommands,
} from "./alert-commands.ts";
import { UsageError } from "./pcs-args.ts";

const usageError = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (error: unknown) => error instanceof UsageError && message.test(error.message));

void test("alert create reads pcs's main, options and meta sections", () => {
  assert.deepEqual(
    parseAlertCreateArgs([
      "path=/usr/share/pacemaker/alerts/alert_file.sh",
      "id=file",
      "description=to a log file",
      "options",
      "debug_exec_order=false",
      "meta",
      "timeout=15s",
      "timestamp-format=%Y-%m-%d %H:%M",
    ]),
    {
      id: "file",
      path: "/usr/share/pacemaker/alerts/alert_file.sh",
      description: "to a log file",
      options: { debug_exec_order: "false" },
      meta: { timeout: "15s", "timestamp-format": "%Y-%m-%d %H:%M" },
    },
  );
  assert.deepEqual(parseAlertCreateArgs(["type=webhook", "url=https://hooks.example/x"]), {
    type: "webhook",
    url: "https://hooks.example/x",
    options: {},
    meta: {},
  });
  assert.deepEqual(parseAlertCreateArgs(["url=https://h/x"]).url, "https://h/x");
});

void test("alert create refuses what pcs refuses", () => {
  usageError(() => parseAlertCreateArgs([]), /usage: alert create path=/);
  usageError(() => parseAlertCreateArgs(["id=a"]), /required option 'path' is missing/);
  usageError(() => parseAlertCreateArgs(["type=webhook"]), /required option 'url' is missing/);
  usageError(() => parseAlertCreateArgs(["path=/a", "value=x"]), /Unexpected parameter 'value=x'/);
  usageError(() => parseAlertCreateArgs(["path=/a", "type=snmp"]), /not a valid type value/);
  usageError(
    () => parseAlertCreateArgs(["path=/a", "options", "debug"]),
    /'debug' is not of the form name=value/,
  );
  usageError(() => parseAlertCreateArgs(["path=/a", "path=/b"]), /'path' is given more than once/);
});

void test("alert update, recipient add and recipient update take an id first", () => {
  assert.deepEqual(parseAlertUpdateArgs(["file", "description=", "meta", "timeout=5s"]), {
    id: "file",
    description: "",
    options: {},
    meta: { timeout: "5s" },
  });
  usageError(() => parseAlertUpdateArgs(["path=/a"]), /an alert id is required/);
  usageError(() => parseAlertUpdateArgs(["file", "id=x"]), /Unexpected parameter 'id=x'/);
  assert.deepEqual(parseRecipientAddArgs(["file", "value=/var/log/alerts.log", "id=log"]), {
    alert: "file",
    value: "/var/log/alerts.log",
    id: "log",
    options: {},
    meta: {},
  });
  usageError(() => parseRecipientAddArgs(["file"]), /usage: alert recipient add/);
  usageError(() => parseRecipientAddArgs(["file", "id=x"]), /required option 'value' is missing/);
  usageError(() => parseRecipientAddArgs(["file", "value=x", "path=/a"]), /Unexpected parameter 'path=\/a'/);
  assert.deepEqual(parseRecipientUpdateArgs(["log", "value=/tmp/other.log"]), {
    id: "log",
    value: "/tmp/other.log",
    options: {},
    meta: {},
  });
  assert.deepEqual(parseIdList(["a", "b"], "u"), ["a", "b"]);
  usageError(() => parseIdList([], "alert remove <alert-id>..."), /at least one id is required/);
  usageError(() => parseIdList(["a=b"], "u"), /'a=b' is not an id/);
});

void test("alert config prints pcs 0.10's layout", () => {
  assert.equal(formatAlerts([]), "Alerts:\n No alerts defined");
  const alerts: AlertConfig[] = [
    {
      id: "file",
      type: "script",
      path: "/usr/local/bin/alert_file.sh",
      description: "log",
      options: { debug_exec_order: "false" },
      meta: { "timestamp-format": "%D %H:%M", timeout: "15s" },
      recipients: [
        { id: "file-recipient", value: "/var/log/a.log", options: {}, meta: {} },
        { id: "r2", value: "/var/log/b.log", description: "second", options: { x: "1" }, meta: {} },
      ],
    },
    { id: "hook", type: "webhook", url: "https://hooks.example/x", options: {}, meta: {}, recipients: [] },
  ];
  assert.equal(
    formatAlerts(alerts),
    [
      "Alerts:",
      " Alert: file (path=/usr/local/bin/alert_file.sh)",
      "  Description: log",
      "  Options: debug_exec_order=false",
      '  Meta options: timeout=15s timestamp-format="%D %H:%M"',
      "  Recipients:",
      "   Recipient: file-recipient (value=/var/log/a.log)",
      "   Recipient: r2 (value=/var/log/b.log)",
      "    Description: second",
      "    Options: x=1",
      " Alert: hook (url=https://hooks.example/x)",
    ].join("\n"),
  );
});

void test("registering adds the alert command with pcs's verbs", () => {
  const program = new Command("floatip");
  registerAlertCommands(program, () => ({ socketPath: "/nonexistent" }));
  const alert = program.commands.find((c) => c.name() === "alert");
  assert.deepEqual(alert?.commands.map((c) => c.name()).sort(), [
    "config",
    "create",
    "recipient",
    "remove",
    "update",
  ]);
  assert.deepEqual(alert?.commands.find((c) => c.name() === "create")?.aliases(), ["add"]);
  const recipient = alert?.commands.find((c) => c.name() === "recipient");
  assert.deepEqual(recipient?.commands.map((c) => c.name()).sort(), ["add", "remove", "update"]);
});

const vocabulary = [
  "options",
  "meta",
  "path=/a",
  "path=",
  "path=rel",
  "url=https://x/",
  "type=webhook",
  "type=script",
  "type=",
  "id=a",
  "id=",
  "value=v",
  "value=",
  "description=d",
  "timeout=5s",
  "=",
  "=x",
  "x=",
  "a",
  "",
];
const words = fc.array(fc.oneof(fc.constantFrom(...vocabulary), fc.string({ maxLength: 8 })), {
  maxLength: 8,
});

void test("fuzz: every alert argument parser either parses or throws a UsageError", () => {
  const parsers: ((w: string[]) => unknown)[] = [
    parseAlertCreateArgs,
    parseAlertUpdateArgs,
    parseRecipientAddArgs,
    parseRecipientUpdateArgs,
    (w) => parseIdList(w, "u"),
  ];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: parsers.length - 1 }), words, (which, input) => {
      try {
        parsers[which]?.(input);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
      }
    }),
    { numRuns: 3000 },
  );
});

// ------------------------------------------------------------------------- against a real daemon

const SAMPLE = "/usr/share/pacemaker/alerts/alert_file.sh.sample";
const DUMMY = "/usr/lib/ocf/resource.d/heartbeat/Dummy";
const missing = [SAMPLE, DUMMY, floatipMain].filter((p) => !existsSync(p));

void test(
  "floatip alert commands configure the daemon, which runs the sample agent and a webhook for a resource start",
  { skip: missing.length > 0 ? `missing ${missing.join(", ")}` : false, timeout: 60_000 },
  async () => {
    const daemon = await LoopbackDaemon.start({ name: "alert-test" });
    const dir = daemon.dir;
    const floatip = (...args: string[]) => daemon.cli(args);
    const posted: { type: string; data: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        posted.push(JSON.parse(body) as (typeof posted)[number]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const script = join(dir, "alert_file.sh");
      copyFileSync(SAMPLE, script);
      chmodSync(script, 0o755);
      const logFile = join(dir, "alerts.log");

      assert.equal((await floatip("alert")).stdout, "Alerts:\n No alerts defined\n");
      const created = await floatip(
        "alert",
        "create",
        `path=${script}`,
        "id=file",
        "meta",
        "timestamp-format=%s",
      );
      assert.equal(created.code, 0, created.stderr);
      assert.equal((await floatip("alert", "recipient", "add", "file", `value=${logFile}`)).code, 0);
      const hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      assert.equal((await floatip("alert", "create", "type=webhook", `url=${hookUrl}`, "id=hook")).code, 0);
      const again = await floatip("alert", "recipient", "add", "file", `value=${logFile}`);
      assert.equal(again.code, 1);
      assert.match(
        again.stderr,
        /^Error: FLOATIP_E_RECIPIENT_DUPLICATE: Recipient '.*' in alert 'file' already exists/,
      );
      const bad = await floatip("alert", "create", "path=relative.sh");
      assert.match(bad.stderr, /^Error: FLOATIP_E_ALERT_INVALID: .*absolute path/);
      const usage = await floatip("alert", "create", "id=x");
      assert.match(usage.stderr, /^Error: FLOATIP_E_USAGE: required option 'path' is missing/);
      assert.equal(
        (await floatip("alert", "config")).stdout,
        [
          "Alerts:",
          ` Alert: file (path=${script})`,
          "  Meta options: timestamp-format=%s",
          "  Recipients:",
          `   Recipient: file-recipient (value=${logFile})`,
          ` Alert: hook (url=${hookUrl})`,
          "",
        ].join("\n"),
      );

      assert.equal((await floatip("cluster", "start")).code, 0);
      const dummy = await floatip(
        "resource",
        "create",
        "D",
        "ocf:heartbeat:Dummy",
        "op",
        "monitor",
        "interval=10s",
      );
      assert.equal(dummy.code, 0, dummy.stderr);
      const line = /^\d+: Resource operation 'start' for 'D' on 'node1': ok$/m;
      for (let i = 0; i < 200 && !(existsSync(logFile) && line.test(readFileSync(logFile, "utf8"))); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(readFileSync(logFile, "utf8"), line);
      for (let i = 0; i < 100 && !posted.some((e) => e.type === "action"); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const start = posted.find((e) => e.type === "action");
      assert.equal(start?.data["resource"], "D");
      assert.equal(start?.data["op"], "start");

      assert.equal((await floatip("alert", "remove", "file", "hook")).code, 0);
      assert.equal((await floatip("alert")).stdout, "Alerts:\n No alerts defined\n");
    } finally {
      daemon.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  },
);
