import { parseDuration } from "./duration.ts";
import {
  alertSchema,
  idSchema,
  knownAlertMetaSchemas,
  type AlertConfig,
  type ClusterConfig,
} from "./schema.ts";

/**
 * pcs alert commands (create, update, remove, recipient add/update/remove) applied to a configuration
 * draft. Pure, like config/commands.ts: references and values are checked first, so a rejected command
 * leaves the draft unchanged and an accepted one leaves a document the schema accepts.
 */

export type AlertCommandErrorCode =
  | "FLOATIP_E_ALERT_UNKNOWN"
  | "FLOATIP_E_RECIPIENT_UNKNOWN"
  | "FLOATIP_E_RECIPIENT_DUPLICATE"
  | "FLOATIP_E_ALERT_INVALID"
  | "FLOATIP_E_ID_EXISTS"
  | "FLOATIP_E_ID_INVALID";

/** A pcs alert command that cannot be applied; the message is pcs's wording where pcs has one. */
export class AlertCommandError extends Error {
  override readonly name = "AlertCommandError";
  constructor(
    readonly code: AlertCommandErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface AlertInput {
  id?: string;
  type?: "script" | "webhook";
  path?: string;
  url?: string;
  description?: string;
  options?: Record<string, string>;
  meta?: Record<string, string>;
}

export interface RecipientInput {
  value: string;
  id?: string;
  description?: string;
  options?: Record<string, string>;
  meta?: Record<string, string>;
}

const attributeName = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Every id in the document: pcs (and the CIB) keep one id space for resources, constraints and alerts. */
function idsInUse(draft: ClusterConfig): Set<string> {
  return new Set([
    ...draft.resources.map((r) => r.id),
    ...draft.groups.map((g) => g.id),
    ...draft.constraints.location.map((c) => c.id),
    ...draft.constraints.colocation.map((c) => c.id),
    ...draft.constraints.order.map((c) => c.id),
    ...draft.alerts.flatMap((a) => [a.id, ...a.recipients.map((r) => r.id)]),
  ]);
}

/** pcs's find_unique_id: the base itself, else base-1, base-2, ... */
function uniqueId(draft: ClusterConfig, base: string): string {
  const used = idsInUse(draft);
  if (!used.has(base)) return base;
  for (let n = 1; ; n += 1) if (!used.has(`${base}-${n}`)) return `${base}-${n}`;
}

function checkNewId(draft: ClusterConfig, id: string): void {
  const parsed = idSchema.safeParse(id);
  if (!parsed.success) {
    throw new AlertCommandError(
      "FLOATIP_E_ID_INVALID",
      `invalid id '${id}': ${parsed.error.issues[0]?.message ?? "not a valid id"}`,
    );
  }
  if (idsInUse(draft).has(id)) throw new AlertCommandError("FLOATIP_E_ID_EXISTS", `'${id}' already exists`);
}

function checkAttributes(map: Readonly<Record<string, string>>, what: "option" | "meta option"): void {
  for (const [name, value] of Object.entries(map)) {
    if (!attributeName.test(name)) {
      throw new AlertCommandError(
        "FLOATIP_E_ALERT_INVALID",
        `invalid ${what} name '${name}'; use letters, digits, '_' and '-'`,
      );
    }
    if (what === "meta option" && value !== "") {
      const rule = knownAlertMetaSchemas[name as keyof typeof knownAlertMetaSchemas];
      const parsed = rule?.safeParse(value);
      if (parsed && !parsed.success) {
        const message = (parsed.error.issues[0]?.message ?? "is invalid").replace(/^FLOATIP_E_[A-Z_]+: /, "");
        throw new AlertCommandError("FLOATIP_E_ALERT_INVALID", `meta option ${name}=${value}: ${message}`);
      }
    }
  }
}

/** Applies name=value changes where an empty value removes the name (pcs's nvset update). */
function applyAttributes(target: Record<string, string>, changes: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(changes)) {
    if (value === "") delete target[name];
    else target[name] = value;
  }
}

/** The alert's whole shape checked by the schema, reported as one coded line. */
function checkAlert(alert: AlertConfig): void {
  const parsed = alertSchema.safeParse(alert);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") ?? "";
    throw new AlertCommandError(
      "FLOATIP_E_ALERT_INVALID",
      `${field ? `${field}: ` : ""}${issue?.message ?? "invalid alert"}`,
    );
  }
}

function alertOf(draft: ClusterConfig, id: string): AlertConfig {
  const alert = draft.alerts.find((a) => a.id === id);
  if (!alert) throw new AlertCommandError("FLOATIP_E_ALERT_UNKNOWN", `Alert '${id}' does not exist`);
  return alert;
}

/** pcs alert create path=... [id=] [description=] [options ...] [meta ...]; returns the alert id. */
export function createAlert(draft: ClusterConfig, input: AlertInput): string {
  const type = input.type ?? (input.url !== undefined ? "webhook" : "script");
  if (type === "script" && input.url !== undefined)
    throw new AlertCommandError(
      "FLOATIP_E_ALERT_INVALID",
      "url= is for type=webhook; a script alert takes path=",
    );
  if (type === "webhook" && input.path !== undefined)
    throw new AlertCommandError(
      "FLOATIP_E_ALERT_INVALID",
      "path= is for script alerts; a webhook takes url=",
    );
  if (type === "script" && !input.path)
    throw new AlertCommandError("FLOATIP_E_ALERT_INVALID", "required option 'path' is missing");
  if (type === "webhook" && !input.url)
    throw new AlertCommandError("FLOATIP_E_ALERT_INVALID", "required option 'url' is missing");
  const id = input.id ?? uniqueId(draft, "alert");
  checkNewId(draft, id);
  const options = { ...input.options };
  const meta = { ...input.meta };
  checkAttributes(options, "option");
  checkAttributes(meta, "meta option");
  const alert: AlertConfig = {
    id,
    type,
    ...(type === "script" ? { path: input.path } : { url: input.url }),
    ...(input.description ? { description: input.description } : {}),
    options: Object.fromEntries(Object.entries(options).filter(([, v]) => v !== "")),
    meta: Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== "")),
    recipients: [],
  };
  checkAlert(alert);
  draft.alerts.push(alert);
  return id;
}

/** pcs alert update ID [path=] [url=] [description=] [options ...] [meta ...]; empty values remove. */
export function updateAlert(draft: ClusterConfig, id: string, input: Omit<AlertInput, "id" | "type">): void {
  const current = alertOf(draft, id);
  checkAttributes(input.options ?? {}, "option");
  checkAttributes(input.meta ?? {}, "meta option");
  const next = structuredClone(current);
  if (input.path !== undefined) next.path = input.path;
  if (input.url !== undefined) next.url = input.url;
  if (input.description !== undefined) {
    if (input.description === "") delete next.description;
    else next.description = input.description;
  }
  applyAttributes(next.options, input.options ?? {});
  applyAttributes(next.meta, input.meta ?? {});
  checkAlert(next);
  Object.assign(current, next);
}

/** pcs alert remove ID...: all ids are checked before any is removed. */
export function removeAlerts(draft: ClusterConfig, ids: readonly string[]): void {
  for (const id of ids) alertOf(draft, id);
  draft.alerts = draft.alerts.filter((a) => !ids.includes(a.id));
}

/** pcs alert recipient add ALERT value=... [id=] [description=] [options ...] [meta ...]; returns its id. */
export function addRecipient(
  draft: ClusterConfig,
  alertId: string,
  input: RecipientInput,
  options: { force?: boolean } = {},
): string {
  const alert = alertOf(draft, alertId);
  if (alert.type === "webhook") {
    throw new AlertCommandError(
      "FLOATIP_E_ALERT_INVALID",
      `Alert '${alertId}' is a webhook and posts to its url; create another webhook for another address`,
    );
  }
  if (!input.value)
    throw new AlertCommandError("FLOATIP_E_ALERT_INVALID", "required option 'value' is missing");
  if (!options.force && alert.recipients.some((r) => r.value === input.value)) {
    throw new AlertCommandError(
      "FLOATIP_E_RECIPIENT_DUPLICATE",
      `Recipient '${input.value}' in alert '${alertId}' already exists, use --force to override`,
    );
  }
  const id = input.id ?? uniqueId(draft, `${alertId}-recipient`);
  checkNewId(draft, id);
  const recipientOptions = { ...input.options };
  const meta = { ...input.meta };
  checkAttributes(recipientOptions, "option");
  checkAttributes(meta, "meta option");
  const next = structuredClone(alert);
  next.recipients.push({
    id,
    value: input.value,
    ...(input.description ? { description: input.description } : {}),
    options: Object.fromEntries(Object.entries(recipientOptions).filter(([, v]) => v !== "")),
    meta: Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== "")),
  });
  checkAlert(next);
  alert.recipients = next.recipients;
  return id;
}

function recipientOf(draft: ClusterConfig, id: string): { alert: AlertConfig; index: number } {
  for (const alert of draft.alerts) {
    const index = alert.recipients.findIndex((r) => r.id === id);
    if (index !== -1) return { alert, index };
  }
  throw new AlertCommandError("FLOATIP_E_RECIPIENT_UNKNOWN", `Recipient '${id}' does not exist`);
}

/** pcs alert recipient update ID [value=] [description=] [options ...] [meta ...] [--force]. */
export function updateRecipient(
  draft: ClusterConfig,
  id: string,
  input: Partial<RecipientInput>,
  options: { force?: boolean } = {},
): void {
  const { alert, index } = recipientOf(draft, id);
  checkAttributes(input.options ?? {}, "option");
  checkAttributes(input.meta ?? {}, "meta option");
  const next = structuredClone(alert);
  const recipient = next.recipients[index];
  if (!recipient) return;
  if (input.value !== undefined && input.value !== recipient.value) {
    if (!options.force && alert.recipients.some((r) => r.value === input.value)) {
      throw new AlertCommandError(
        "FLOATIP_E_RECIPIENT_DUPLICATE",
        `Recipient '${input.value}' in alert '${alert.id}' already exists, use --force to override`,
      );
    }
    recipient.value = input.value;
  }
  if (input.description !== undefined) {
    if (input.description === "") delete recipient.description;
    else recipient.description = input.description;
  }
  applyAttributes(recipient.options, input.options ?? {});
  applyAttributes(recipient.meta, input.meta ?? {});
  checkAlert(next);
  alert.recipients = next.recipients;
}

/** pcs alert recipient remove ID...: all ids are checked before any is removed. */
export function removeRecipients(draft: ClusterConfig, ids: readonly string[]): void {
  for (const id of ids) recipientOf(draft, id);
  for (const alert of draft.alerts) alert.recipients = alert.recipients.filter((r) => !ids.includes(r.id));
}

/** The meta timeout of an alert or recipient in ms (Pacemaker's default 30 s). */
export function alertTimeoutMs(meta: Readonly<Record<string, string>>): number {
  const text = meta["timeout"];
  return text === undefined ? 30_000 : parseDuration(text);
}
