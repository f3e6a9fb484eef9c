import { spawn } from "node:child_process";
import type { ClusterEvent, ClusterEventType, EventLog } from "./event-log.ts";
import type { Logger } from "./logger.ts";

/**
 * What Pacemaker tells alert agents about one event, and the environment it runs them with
 * (Pacemaker Explained, "Alerts"; the CRM_alert_* variables, also given as CRM_notify_* for
 * ClusterMon-era scripts). Pure: event and configuration in, variables out.
 */

export type AlertKind = "node" | "resource" | "fencing";

/** The event-specific CRM_alert_<name> values (without the prefix). */
export type AlertField =
  "desc" | "nodeid" | "rsc" | "task" | "interval" | "rc" | "target_rc" | "status" | "exec_time";

/** One Pacemaker alert, before it is addressed to a recipient. */
export interface AlertNotice {
  kind: AlertKind;
  /** CRM_alert_node: the node the event is about. */
  node: string;
  /** When the event happened, ms since the epoch (CRM_alert_timestamp*). */
  atMs: number;
  fields: Partial<Record<AlertField, string>>;
}

/** What the notices need from the cluster configuration. */
export interface NoticeContext {
  /** corosync-style node id (CRM_alert_nodeid). */
  nodeIdOf(name: string): number | undefined;
  /** The interval of the resource's recurring monitor in ms (CRM_alert_interval of a monitor failure). */
  monitorIntervalMsOf(resource: string): number;
}

/** Pacemaker's default timestamp-format meta attribute. */
export const DEFAULT_TIMESTAMP_FORMAT = "%H:%M:%S.%06N";

/** The Pacemaker release whose alert interface this reproduces, given as CRM_alert_version. */
export const ALERT_INTERFACE_VERSION = "2.1.5";

/** OCF exit codes (rc) and Pacemaker execution statuses (status) with Pacemaker 2.1's descriptions. */
const OCF_OK = 0;
const OCF_ERR_GENERIC = 1;
const OCF_NOT_RUNNING = 7;
const RC_DESC: Record<number, string> = { 0: "ok", 1: "error", 7: "not running" };
const EXEC_DONE = 0;
const EXEC_TIMEOUT = 2;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

function nodeNotice(
  event: ClusterEvent,
  node: string,
  desc: "member" | "lost",
  ctx: NoticeContext,
): AlertNotice {
  const id = ctx.nodeIdOf(node);
  return {
    kind: "node",
    node,
    atMs: Date.parse(event.at),
    fields: { desc, ...(id === undefined ? {} : { nodeid: String(id) }) },
  };
}

function resourceNotice(event: ClusterEvent, ctx: NoticeContext): AlertNotice | null {
  const { resource, op, state, durationMs, message } = event.data;
  if (typeof resource !== "string" || (op !== "start" && op !== "stop" && op !== "monitor")) return null;
  const succeeded = (op === "start" && state === "running") || (op === "stop" && state === "stopped");
  const timedOut = !succeeded && typeof message === "string" && /timed? ?out/i.test(message);
  // A recurring monitor only becomes an event when it finds the resource not running as expected.
  const rc = succeeded ? OCF_OK : op === "monitor" ? OCF_NOT_RUNNING : OCF_ERR_GENERIC;
  return {
    kind: "resource",
    node: event.node,
    atMs: Date.parse(event.at),
    fields: {
      rsc: resource,
      task: op,
      interval: String(op === "monitor" ? ctx.monitorIntervalMsOf(resource) : 0),
      rc: String(timedOut ? OCF_ERR_GENERIC : rc),
      target_rc: String(OCF_OK),
      status: String(timedOut ? EXEC_TIMEOUT : EXEC_DONE),
      desc: timedOut ? "Timed Out" : (RC_DESC[rc] ?? "error"),
      exec_time: String(typeof durationMs === "number" ? Math.max(0, Math.round(durationMs)) : 0),
    },
  };
}

function fencingNotice(event: ClusterEvent): AlertNotice | null {
  const { target, action, rc, origin, result } = event.data;
  if (typeof target !== "string") return null;
  const task = typeof action === "string" ? action : "reboot";
  const code = typeof rc === "number" ? rc : 0;
  const outcome = typeof result === "string" ? result : code === 0 ? "OK" : "Error";
  const by = typeof origin === "string" ? origin : event.node;
  return {
    kind: "fencing",
    node: target,
    atMs: Date.parse(event.at),
    fields: { task, rc: String(code), desc: `Operation ${task} of ${target} by ${by}: ${outcome}` },
  };
}

/**
 * The Pacemaker alerts one event raises: one node alert per node that joined (member), was lost
 * (lost) or restarted (member); one resource alert per start/stop result and per monitor failure;
 * a fencing alert for a fencing event. Decisions, cloud calls, failovers and config changes raise none
 * (Pacemaker has no such alerts; a failover shows as the resource alerts of its stop and start).
 */
export function noticesOf(event: ClusterEvent, ctx: NoticeContext): AlertNotice[] {
  switch (event.type) {
    case "membership":
      return [
        ...strings(event.data["lost"]).map((n) => nodeNotice(event, n, "lost", ctx)),
        ...strings(event.data["joined"]).map((n) => nodeNotice(event, n, "member", ctx)),
        ...strings(event.data["restarted"]).map((n) => nodeNotice(event, n, "member", ctx)),
      ];
    case "action":
    case "resource": {
      const notice = resourceNotice(event, ctx);
      return notice ? [notice] : [];
    }
    default: {
      // Fencing events come from the fencing layer when it records them.
      if ((event.type as string) !== "fencing") return [];
      const notice = fencingNotice(event);
      return notice ? [notice] : [];
    }
  }
}

const pad = (n: number, width = 2, fill = "0") => String(n).padStart(width, fill);
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function zoneName(date: Date): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
    .formatToParts(date)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? "";
}

function zoneOffset(date: Date): string {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  return `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}${pad(Math.abs(minutes) % 60)}`;
}

/**
 * Formats a time like date(1) in the C locale, in local time, with Pacemaker's %N extension: %N is
 * nanoseconds, %3N milliseconds, %6N or %06N microseconds (the digits say how many places to keep).
 */
export function formatAlertTimestamp(ms: number, format: string): string {
  const date = new Date(ms);
  const nanos = pad((((ms % 1000) + 1000) % 1000) * 1_000_000, 9);
  const hour12 = date.getHours() % 12 === 0 ? 12 : date.getHours() % 12;
  const dayOfYear =
    Math.floor(
      (Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()) - Date.UTC(date.getFullYear(), 0, 1)) /
        86_400_000,
    ) + 1;
  const one = (spec: string): string | undefined => {
    switch (spec) {
      case "a":
        return DAYS[date.getDay()];
      case "A":
        return DAY_NAMES[date.getDay()];
      case "b":
      case "h":
        return MONTHS[date.getMonth()];
      case "B":
        return MONTH_NAMES[date.getMonth()];
      case "c":
        return `${one("a")} ${one("b")} ${one("e")} ${one("T")} ${date.getFullYear()}`;
      case "C":
        return pad(Math.floor(date.getFullYear() / 100));
      case "d":
        return pad(date.getDate());
      case "D":
        return `${one("m")}/${one("d")}/${one("y")}`;
      case "e":
        return pad(date.getDate(), 2, " ");
      case "F":
        return `${date.getFullYear()}-${one("m")}-${one("d")}`;
      case "H":
        return pad(date.getHours());
      case "I":
        return pad(hour12);
      case "j":
        return pad(dayOfYear, 3);
      case "k":
        return pad(date.getHours(), 2, " ");
      case "l":
        return pad(hour12, 2, " ");
      case "m":
        return pad(date.getMonth() + 1);
      case "M":
        return pad(date.getMinutes());
      case "n":
        return "\n";
      case "p":
        return date.getHours() < 12 ? "AM" : "PM";
      case "R":
        return `${one("H")}:${one("M")}`;
      case "s":
        return String(Math.floor(ms / 1000));
      case "S":
        return pad(date.getSeconds());
      case "t":
        return "\t";
      case "T":
        return `${one("H")}:${one("M")}:${one("S")}`;
      case "u":
        return String(date.getDay() === 0 ? 7 : date.getDay());
      case "w":
        return String(date.getDay());
      case "y":
        return pad(date.getFullYear() % 100);
      case "Y":
        return String(date.getFullYear());
      case "z":
        return zoneOffset(date);
      case "Z":
        return zoneName(date);
      case "%":
        return "%";
      default:
        return undefined;
    }
  };
  return format.replace(/%(\d*)([A-Za-z%])/g, (whole, digits: string, spec: string) => {
    if (spec === "N") {
      const width = digits === "" ? 9 : Math.min(9, Math.max(1, Number(digits)));
      return nanos.slice(0, width);
    }
    return (digits === "" ? one(spec) : undefined) ?? whole;
  });
}

/** Everything one run of an alert agent is told, for one recipient. */
export interface AlertAddress {
  /** CRM_alert_recipient; empty when the alert has no recipients. */
  recipient: string;
  /** The alert's options merged with the recipient's: extra environment variables. */
  options: Readonly<Record<string, string>>;
  timestampFormat: string;
}

/**
 * The environment of one alert agent run: the alert's options, then every CRM_alert_* variable and its
 * CRM_notify_* twin. Variables that do not apply to the kind are absent, as in Pacemaker.
 */
export function alertEnvironment(
  notice: AlertNotice,
  address: AlertAddress,
  run: { sequence: number; version?: string },
): Record<string, string> {
  const usec = (((notice.atMs % 1000) + 1000) % 1000) * 1000;
  const values: Record<string, string> = {
    kind: notice.kind,
    version: run.version ?? ALERT_INTERFACE_VERSION,
    recipient: address.recipient,
    node_sequence: String(run.sequence),
    timestamp: formatAlertTimestamp(notice.atMs, address.timestampFormat),
    timestamp_epoch: String(Math.floor(notice.atMs / 1000)),
    timestamp_usec: String(usec),
    node: notice.node,
    ...notice.fields,
  };
  const env: Record<string, string> = { ...address.options };
  for (const [name, value] of Object.entries(values)) {
    env[`CRM_notify_${name}`] = value;
    env[`CRM_alert_${name}`] = value;
  }
  return env;
}

// ------------------------------------------------------------------------------------------ the runner

/** A script alert agent with its deliveries resolved from the configuration. */
export interface ScriptAlertTarget {
  id: string;
  type: "script";
  path: string;
  /** One run per recipient; one with an empty recipient when none are configured. */
  deliveries: (AlertAddress & { timeoutMs: number })[];
}

/** A webhook: each selected event is POSTed to url as JSON. */
export interface WebhookAlertTarget {
  id: string;
  type: "webhook";
  url: string;
  timeoutMs: number;
  /** The event types to post. */
  events: readonly ClusterEventType[];
}

export type AlertTarget = ScriptAlertTarget | WebhookAlertTarget;

/** The event types a webhook posts unless its events meta says otherwise: all but the chatty cloud calls. */
export const DEFAULT_WEBHOOK_EVENTS: readonly ClusterEventType[] = [
  "membership",
  "decision",
  "action",
  "resource",
  "failover",
  "config",
  "fencing",
  "quorum",
];

export interface AlertRunnerOptions {
  /** The node's event log; the runner subscribes to it. */
  events: Pick<EventLog, "on" | "off">;
  /** The alerts and cluster facts in force, read at each event so configuration changes apply at once. */
  resolve(): { targets: readonly AlertTarget[]; context: NoticeContext };
  logger: Logger;
  /** CRM_alert_version (default: ALERT_INTERFACE_VERSION). */
  version?: string;
  /** Base environment of agents (default: PATH, TZ, LANG and LC_ALL of this process). */
  baseEnv?: Readonly<Record<string, string>>;
  /** Waits before the 1st, 2nd and 3rd webhook retry (default 1 s, 2 s, 4 s). */
  webhookRetryDelaysMs?: readonly number[];
  /** Events waiting per alert before new ones are dropped (a hung agent must not eat memory). */
  maxQueued?: number;
}

/** What one delivery attempt ended with, for logs and tests. */
export interface AlertOutcome {
  alert: string;
  recipient: string;
  ok: boolean;
  detail: string;
}

const OUTPUT_LIMIT = 2048;

function defaultBaseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin" };
  for (const name of ["TZ", "LANG", "LC_ALL"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

/** Runs one alert agent without a shell; kills its process group at the timeout. Never rejects. */
export function runAlertAgent(
  path: string,
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    let output = "";
    let timedOut = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(path, [], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    } catch (error) {
      resolve({ ok: false, detail: `cannot run ${path}: ${(error as Error).message}` });
      return;
    }
    const collect = (chunk: Buffer) => {
      if (output.length < OUTPUT_LIMIT)
        output += chunk.toString("utf8").slice(0, OUTPUT_LIMIT - output.length);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    signal.addEventListener("abort", kill, { once: true });
    const finish = (result: { ok: boolean; detail: string }) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", kill);
      resolve(result);
    };
    child.on("error", (error) => finish({ ok: false, detail: `cannot run ${path}: ${error.message}` }));
    child.on("close", (code, sig) => {
      const said = output.trim() === "" ? "" : `: ${output.trim()}`;
      if (timedOut) finish({ ok: false, detail: `timed out after ${timeoutMs} ms${said}` });
      else if (code === 0) finish({ ok: true, detail: `exit 0${said}` });
      else finish({ ok: false, detail: `${sig ? `killed by ${sig}` : `exit ${code}`}${said}` });
    });
  });
}

/** POSTs one event; retries network errors, 429 and 5xx after each of retryDelaysMs. Never rejects. */
export async function postWebhook(
  target: WebhookAlertTarget,
  event: ClusterEvent,
  retryDelaysMs: readonly number[],
  signal: AbortSignal,
): Promise<{ ok: boolean; detail: string; attempts: number }> {
  const body = JSON.stringify(event);
  let detail = "";
  for (let attempt = 0; attempt <= retryDelaysMs.length; attempt += 1) {
    if (attempt > 0) await sleep(retryDelaysMs[attempt - 1] ?? 0, signal);
    if (signal.aborted) return { ok: false, detail: "stopped", attempts: attempt };
    const timeout = AbortSignal.timeout(target.timeoutMs);
    try {
      const response = await fetch(target.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "floatip-alert",
          "x-floatip-alert": target.id,
          "x-floatip-event": event.type,
          "x-floatip-seq": String(event.seq),
        },
        body,
        redirect: "error",
        signal: AbortSignal.any([signal, timeout]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, detail: `HTTP ${response.status}`, attempts: attempt + 1 };
      detail = `HTTP ${response.status}`;
      if (response.status !== 429 && response.status < 500)
        return { ok: false, detail, attempts: attempt + 1 };
    } catch (error) {
      const err = error as Error;
      // Asked of the signal: node-fetch (the daemon's fetch) rejects with its own AbortError, not the reason.
      detail = timeout.aborted ? `timed out after ${target.timeoutMs} ms` : err.message;
    }
  }
  return { ok: false, detail, attempts: retryDelaysMs.length + 1 };
}

/**
 * Runs the configured alerts for the node's events, as Pacemaker's controller does: every script agent
 * once per recipient with the CRM_alert_* environment, and webhooks with the event as JSON. Work is
 * queued per alert, so one alert sees events in order and a slow one delays nobody else; the daemon
 * never waits for it, and failures are logged, never thrown.
 */
export class AlertRunner {
  private readonly queues = new Map<string, { tail: Promise<void>; size: number }>();
  private readonly stopping = new AbortController();
  private sequence = 0;
  private readonly listener = (event: ClusterEvent): void => this.handle(event);
  /** Every finished delivery, for tests and the lead's end-to-end check (bounded). */
  readonly outcomes: AlertOutcome[] = [];

  constructor(private readonly options: AlertRunnerOptions) {}

  start(): this {
    this.options.events.on("event", this.listener);
    return this;
  }

  /** Stops listening, kills running agents, cancels webhook retries and waits for the queues to end. */
  async stop(): Promise<void> {
    this.options.events.off("event", this.listener);
    this.stopping.abort();
    await this.idle();
  }

  /** Resolves when every queued delivery has finished. */
  async idle(): Promise<void> {
    while ([...this.queues.values()].some((q) => q.size > 0)) {
      await Promise.all([...this.queues.values()].map((q) => q.tail));
    }
  }

  /** Queues the alerts one event raises; returns at once. */
  handle(event: ClusterEvent): void {
    if (this.stopping.signal.aborted) return;
    let resolved: ReturnType<AlertRunnerOptions["resolve"]>;
    try {
      resolved = this.options.resolve();
    } catch (error) {
      this.options.logger.warn({ err: error }, "alerts: cannot read the alert configuration");
      return;
    }
    if (resolved.targets.length === 0) return;
    const notices = resolved.targets.some((t) => t.type === "script")
      ? noticesOf(event, resolved.context)
      : [];
    const numbered = notices.map((notice) => ({ notice, sequence: (this.sequence += 1) }));
    for (const target of resolved.targets) {
      if (target.type === "webhook") {
        if (target.events.includes(event.type))
          this.enqueue(target.id, () => this.deliverWebhook(target, event));
        continue;
      }
      for (const { notice, sequence } of numbered) {
        for (const delivery of target.deliveries) {
          this.enqueue(target.id, () => this.deliverScript(target, delivery, notice, sequence));
        }
      }
    }
  }

  private enqueue(alertId: string, work: () => Promise<void>): void {
    const queue = this.queues.get(alertId) ?? { tail: Promise.resolve(), size: 0 };
    this.queues.set(alertId, queue);
    if (queue.size >= (this.options.maxQueued ?? 256)) {
      this.options.logger.warn({ alert: alertId }, "alert queue is full; dropping an alert");
      return;
    }
    queue.size += 1;
    queue.tail = queue.tail
      .then(() => (this.stopping.signal.aborted ? undefined : work()))
      .catch((error: unknown) => this.options.logger.warn({ alert: alertId, err: error }, "alert failed"))
      .finally(() => {
        queue.size -= 1;
      });
  }

  private async deliverScript(
    target: ScriptAlertTarget,
    delivery: ScriptAlertTarget["deliveries"][number],
    notice: AlertNotice,
    sequence: number,
  ): Promise<void> {
    const env = {
      ...(this.options.baseEnv ?? defaultBaseEnv()),
      ...alertEnvironment(notice, delivery, {
        sequence,
        ...(this.options.version ? { version: this.options.version } : {}),
      }),
    };
    const result = await runAlertAgent(target.path, env, delivery.timeoutMs, this.stopping.signal);
    this.record({ alert: target.id, recipient: delivery.recipient, ...result }, notice.kind);
  }

  private async deliverWebhook(target: WebhookAlertTarget, event: ClusterEvent): Promise<void> {
    const delays = this.options.webhookRetryDelaysMs ?? [1000, 2000, 4000];
    const result = await postWebhook(target, event, delays, this.stopping.signal);
    this.record(
      { alert: target.id, recipient: target.url, ok: result.ok, detail: result.detail },
      event.type,
    );
  }

  private record(outcome: AlertOutcome, kind: string): void {
    this.outcomes.push(outcome);
    if (this.outcomes.length > 1000) this.outcomes.splice(0, this.outcomes.length - 1000);
    const fields = { alert: outcome.alert, recipient: outcome.recipient, kind, result: outcome.detail };
    if (outcome.ok) this.options.logger.debug(fields, "alert delivered");
    else this.options.logger.warn(fields, "alert agent failed");
  }
}
