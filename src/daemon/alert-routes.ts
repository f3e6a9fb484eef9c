import { z } from "zod";
import {
  addRecipient,
  alertTimeoutMs,
  createAlert,
  removeAlerts,
  removeRecipients,
  updateAlert,
  updateRecipient,
} from "../config/alert-commands.ts";
import type { ClusterConfig } from "../config/schema.ts";
import {
  AlertRunner,
  DEFAULT_TIMESTAMP_FORMAT,
  DEFAULT_WEBHOOK_EVENTS,
  type AlertTarget,
  type NoticeContext,
} from "../observability/alert-runner.ts";
import type { ClusterEventType } from "../observability/event-log.ts";
import type { Daemon } from "./daemon.ts";
import { toApiError } from "./resource-routes.ts";

/**
 * `floatip alert ...`: the admin calls that edit the alerts (each one pure command from
 * config/alert-commands.ts inside daemon.updateConfig), and the AlertRunner that runs them for this
 * node's events, reading the configuration in force at each event.
 */

const attributes = z.record(z.string().max(256), z.string().max(8192)).default({});
const name = z.string().min(1).max(256);
const text = z.string().max(8192);
const ids = z.array(name).min(1).max(256);

const createBody = z.object({
  id: name.optional(),
  type: z.enum(["script", "webhook"]).optional(),
  path: text.optional(),
  url: text.optional(),
  description: text.optional(),
  options: attributes,
  meta: attributes,
});
const updateBody = createBody.omit({ type: true }).extend({ id: name });
const recipientBody = z.object({
  alert: name,
  value: text,
  id: name.optional(),
  description: text.optional(),
  options: attributes,
  meta: attributes,
  force: z.boolean().default(false),
});
const recipientUpdateBody = recipientBody.omit({ alert: true }).extend({ id: name, value: text.optional() });

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** The alerts of a configuration as the runner needs them: meta resolved, recipients merged. */
export function alertTargetsOf(config: ClusterConfig | null): AlertTarget[] {
  return (config?.alerts ?? []).map((alert): AlertTarget => {
    if (alert.type === "webhook") {
      const events = alert.meta["events"];
      return {
        id: alert.id,
        type: "webhook",
        url: alert.url ?? "",
        timeoutMs: alertTimeoutMs(alert.meta),
        events:
          events === undefined
            ? DEFAULT_WEBHOOK_EVENTS
            : events === "all"
              ? [...DEFAULT_WEBHOOK_EVENTS, "cloud-call"]
              : (events.split(",") as ClusterEventType[]),
      };
    }
    const recipients =
      alert.recipients.length > 0 ? alert.recipients : [{ value: "", options: {}, meta: {} }];
    return {
      id: alert.id,
      type: "script",
      path: alert.path ?? "",
      deliveries: recipients.map((r) => {
        const meta = { ...alert.meta, ...r.meta };
        return {
          recipient: r.value,
          options: { ...alert.options, ...r.options },
          timestampFormat: meta["timestamp-format"] ?? DEFAULT_TIMESTAMP_FORMAT,
          timeoutMs: alertTimeoutMs(meta),
        };
      }),
    };
  });
}

/** Node ids and monitor intervals from a configuration, for CRM_alert_nodeid and CRM_alert_interval. */
export function noticeContextOf(config: ClusterConfig | null): NoticeContext {
  return {
    nodeIdOf: (node) => config?.nodes.find((n) => n.name === node)?.id,
    monitorIntervalMsOf: (resource) =>
      config?.resources.find((r) => r.id === resource)?.ops.find((o) => o.name === "monitor")?.intervalMs ??
      0,
  };
}

/** Starts an AlertRunner on the daemon's events with the configuration read at each event. */
export function startAlertRunner(daemon: Daemon): AlertRunner {
  return new AlertRunner({
    events: daemon.events,
    resolve: () => {
      // The running node's configuration is in memory; read the file only when cluster services are stopped.
      const config = daemon.runningNode?.currentConfig ?? daemon.loadConfig();
      return { targets: alertTargetsOf(config), context: noticeContextOf(config) };
    },
    logger: daemon.options.logger.child({ component: "alerts" }),
  }).start();
}

function change<T>(daemon: Daemon, command: (draft: ClusterConfig) => T): { epoch: number; result: T } {
  let result: T | undefined;
  try {
    const next = daemon.updateConfig((draft) => {
      result = command(draft);
    });
    return { epoch: next.epoch, result: result as T };
  } catch (error) {
    throw toApiError(error);
  }
}

/** Adds the alert routes and starts the runner; returns the runner (its outcomes help end-to-end tests). */
export function registerAlertRoutes(daemon: Daemon): AlertRunner {
  const api = daemon.api;
  const post = <S extends z.ZodType>(path: string, schema: S, handle: (body: z.infer<S>) => unknown) =>
    api.add({ method: "POST", path, scope: "local", schema, handle: async (body) => handle(body) });

  post("/v1/alert/create", createBody, (body) => {
    const { epoch, result } = change(daemon, (d) => createAlert(d, defined(body)));
    return { epoch, id: result };
  });
  post("/v1/alert/update", updateBody, ({ id, ...rest }) => {
    const { epoch } = change(daemon, (d) => updateAlert(d, id, defined(rest)));
    return { epoch };
  });
  post("/v1/alert/remove", z.object({ ids }), ({ ids }) => {
    const { epoch } = change(daemon, (d) => removeAlerts(d, ids));
    return { epoch, removed: ids };
  });
  post("/v1/alert/recipient/add", recipientBody, ({ alert, force, ...rest }) => {
    const { epoch, result } = change(daemon, (d) => addRecipient(d, alert, defined(rest), { force }));
    return { epoch, id: result };
  });
  post("/v1/alert/recipient/update", recipientUpdateBody, ({ id, force, ...rest }) => {
    const { epoch } = change(daemon, (d) => updateRecipient(d, id, defined(rest), { force }));
    return { epoch };
  });
  post("/v1/alert/recipient/remove", z.object({ ids }), ({ ids }) => {
    const { epoch } = change(daemon, (d) => removeRecipients(d, ids));
    return { epoch, removed: ids };
  });
  api.add({
    method: "GET",
    path: "/v1/alerts",
    scope: "local",
    schema: z.object({}),
    handle: async () => ({ alerts: daemon.loadConfig()?.alerts ?? [] }),
  });

  return startAlertRunner(daemon);
}
