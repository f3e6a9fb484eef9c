import assert from "node:assert/strict";
import { test } from "node:test";
import {
  addRecipient,
  AlertCommandError,
  alertTimeoutMs,
  createAlert,
  removeAlerts,
  removeRecipients,
  updateAlert,
  updateRecipient,
} from "./alert-commands.ts";
import { clusterConfigSchema, type ClusterConfig } from "./schema.ts";

function config(): ClusterConfig {
  return clusterConfigSchema.parse({
    formatVersion: 1,
    name: "vip-failover-test",
    epoch: 3,
    nodes: [
      { name: "node1", id: 1, addrs: ["10.0.0.11"] },
      { name: "node2", id: 2, addrs: ["10.0.0.12"] },
    ],
    resources: [{ id: "Cluster_VIP", type: "ocf:heartbeat:IPaddr2", params: { ip: "10.0.0.200" } }],
  });
}

const rejects = (fn: () => unknown, code: string, message?: RegExp) =>
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof AlertCommandError);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });

/** What the schema says about the document after the command: it must still be valid. */
const valid = (draft: ClusterConfig) => assert.ok(clusterConfigSchema.safeParse(draft).success);

void test("alert create takes pcs's id 'alert', then alert-1, and keeps options and meta", () => {
  const draft = config();
  assert.equal(createAlert(draft, { path: "/usr/local/bin/alert_file.sh" }), "alert");
  assert.equal(
    createAlert(draft, {
      path: "/x.sh",
      description: "to a file",
      options: { debug_exec_order: "true" },
      meta: { timeout: "15s", "timestamp-format": "%D %H:%M" },
    }),
    "alert-1",
  );
  assert.deepEqual(draft.alerts[1], {
    id: "alert-1",
    type: "script",
    path: "/x.sh",
    description: "to a file",
    options: { debug_exec_order: "true" },
    meta: { timeout: "15s", "timestamp-format": "%D %H:%M" },
    recipients: [],
  });
  valid(draft);
});

void test("alert create refuses a missing or relative path, a taken id and a bad timeout", () => {
  const draft = config();
  rejects(() => createAlert(draft, {}), "FLOATIP_E_ALERT_INVALID", /required option 'path' is missing/);
  rejects(() => createAlert(draft, { path: "alert.sh" }), "FLOATIP_E_ALERT_INVALID", /absolute path/);
  rejects(
    () => createAlert(draft, { id: "Cluster_VIP", path: "/a" }),
    "FLOATIP_E_ID_EXISTS",
    /'Cluster_VIP' already exists/,
  );
  rejects(() => createAlert(draft, { id: "1bad", path: "/a" }), "FLOATIP_E_ID_INVALID");
  rejects(
    () => createAlert(draft, { path: "/a", meta: { timeout: "soon" } }),
    "FLOATIP_E_ALERT_INVALID",
    /timeout=soon/,
  );
  rejects(() => createAlert(draft, { path: "/a", options: { "bad name": "1" } }), "FLOATIP_E_ALERT_INVALID");
  assert.deepEqual(draft.alerts, [], "a refused command changes nothing");
});

void test("a webhook needs an http(s) url and takes no recipients", () => {
  const draft = config();
  assert.equal(
    createAlert(draft, { type: "webhook", url: "https://hooks.example/floatip", id: "hook" }),
    "hook",
  );
  assert.equal(draft.alerts[0]?.type, "webhook");
  rejects(() => createAlert(draft, { type: "webhook", url: "ftp://x/y" }), "FLOATIP_E_ALERT_INVALID", /http/);
  rejects(() => createAlert(draft, { type: "webhook" }), "FLOATIP_E_ALERT_INVALID", /'url' is missing/);
  rejects(
    () => createAlert(draft, { type: "webhook", url: "https://a/", path: "/a" }),
    "FLOATIP_E_ALERT_INVALID",
  );
  rejects(
    () => createAlert(draft, { type: "webhook", url: "https://a/", meta: { events: "failover,bogus" } }),
    "FLOATIP_E_ALERT_INVALID",
  );
  rejects(() => addRecipient(draft, "hook", { value: "x" }), "FLOATIP_E_ALERT_INVALID", /webhook/);
  valid(draft);
});

void test("recipients get ids ALERT-recipient, -1, ...; a repeated value needs --force", () => {
  const draft = config();
  createAlert(draft, { path: "/a.sh" });
  assert.equal(addRecipient(draft, "alert", { value: "/var/log/a.log" }), "alert-recipient");
  assert.equal(
    addRecipient(draft, "alert", { value: "/var/log/b.log", meta: { timeout: "5s" } }),
    "alert-recipient-1",
  );
  rejects(
    () => addRecipient(draft, "alert", { value: "/var/log/a.log" }),
    "FLOATIP_E_RECIPIENT_DUPLICATE",
    /Recipient '\/var\/log\/a.log' in alert 'alert' already exists, use --force to override/,
  );
  assert.equal(
    addRecipient(draft, "alert", { value: "/var/log/a.log", id: "again" }, { force: true }),
    "again",
  );
  rejects(
    () => addRecipient(draft, "nope", { value: "x" }),
    "FLOATIP_E_ALERT_UNKNOWN",
    /Alert 'nope' does not exist/,
  );
  rejects(() => addRecipient(draft, "alert", { value: "x", id: "alert" }), "FLOATIP_E_ID_EXISTS");
  assert.deepEqual(
    draft.alerts[0]?.recipients.map((r) => [r.id, r.value]),
    [
      ["alert-recipient", "/var/log/a.log"],
      ["alert-recipient-1", "/var/log/b.log"],
      ["again", "/var/log/a.log"],
    ],
  );
  valid(draft);
});

void test("update changes and removes attributes; remove checks every id before removing any", () => {
  const draft = config();
  createAlert(draft, { path: "/a.sh", options: { a: "1", b: "2" } });
  addRecipient(draft, "alert", { value: "r1" });
  updateAlert(draft, "alert", { path: "/b.sh", options: { a: "", c: "3" }, meta: { timeout: "1min" } });
  assert.equal(draft.alerts[0]?.path, "/b.sh");
  assert.deepEqual(draft.alerts[0]?.options, { b: "2", c: "3" });
  updateRecipient(draft, "alert-recipient", { value: "r2", options: { x: "y" } });
  assert.deepEqual(draft.alerts[0]?.recipients[0], {
    id: "alert-recipient",
    value: "r2",
    options: { x: "y" },
    meta: {},
  });
  rejects(() => removeRecipients(draft, ["alert-recipient", "ghost"]), "FLOATIP_E_RECIPIENT_UNKNOWN");
  assert.equal(draft.alerts[0]?.recipients.length, 1);
  removeRecipients(draft, ["alert-recipient"]);
  assert.equal(draft.alerts[0]?.recipients.length, 0);
  rejects(() => removeAlerts(draft, ["alert", "ghost"]), "FLOATIP_E_ALERT_UNKNOWN");
  removeAlerts(draft, ["alert"]);
  assert.deepEqual(draft.alerts, []);
  valid(draft);
});

void test("the timeout meta attribute defaults to Pacemaker's 30 s", () => {
  assert.equal(alertTimeoutMs({}), 30_000);
  assert.equal(alertTimeoutMs({ timeout: "15s" }), 15_000);
  assert.equal(alertTimeoutMs({ timeout: "500ms" }), 500);
});

void test("parsed documents never share the alerts list", () => {
  const a = config();
  const b = config();
  createAlert(a, { path: "/a.sh" });
  assert.deepEqual(b.alerts, []);
});
