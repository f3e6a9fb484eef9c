import type { Command } from "commander";
import { callApi, type Endpoint } from "../api/client.ts";
import type { AlertConfig, AlertRecipientConfig } from "../config/schema.ts";
import { UsageError } from "./pcs-args.ts";

/**
 * pcs alert commands: alert [config], alert create|update|remove, alert recipient add|update|remove.
 * The argument parsers are pure and exported for tests; each command sends one admin call.
 */

// ------------------------------------------------------------------------------------ argument parsers

/** The name=value words before, after `options` and after `meta` (pcs's group_by_keywords). */
interface Sections {
  main: Record<string, string>;
  options: Record<string, string>;
  meta: Record<string, string>;
}

function sections(words: readonly string[], usage: string): Sections {
  const out: Sections = { main: {}, options: {}, meta: {} };
  let current: keyof Sections = "main";
  for (const word of words) {
    if (word === "options" || word === "meta") {
      current = word;
      continue;
    }
    const eq = word.indexOf("=");
    if (eq <= 0) throw new UsageError(`'${word}' is not of the form name=value; usage: ${usage}`);
    const key = word.slice(0, eq);
    if (Object.hasOwn(out[current], key))
      throw new UsageError(`'${key}' is given more than once; usage: ${usage}`);
    out[current][key] = word.slice(eq + 1);
  }
  return out;
}

function onlyAllowed(main: Record<string, string>, allowed: readonly string[]): void {
  for (const [key, value] of Object.entries(main)) {
    if (!allowed.includes(key)) throw new UsageError(`Unexpected parameter '${key}=${value}'`);
  }
}

const pick = (main: Record<string, string>, keys: readonly string[]) =>
  Object.fromEntries(keys.filter((k) => main[k] !== undefined).map((k) => [k, main[k] as string]));

export interface AlertCreateArgs {
  id?: string;
  type?: "script" | "webhook";
  path?: string;
  url?: string;
  description?: string;
  options: Record<string, string>;
  meta: Record<string, string>;
}

const CREATE_USAGE =
  "alert create path=<path> [id=<alert-id>] [description=<text>] [options <name>=<value>...] [meta <name>=<value>...] | alert create type=webhook url=<url> [id=<alert-id>]";

/** alert create path=... [id=] [description=] [options ...] [meta ...] | type=webhook url=... */
export function parseAlertCreateArgs(words: readonly string[]): AlertCreateArgs {
  if (words.length === 0) throw new UsageError(`usage: ${CREATE_USAGE}`);
  const { main, options, meta } = sections(words, CREATE_USAGE);
  onlyAllowed(main, ["id", "description", "path", "type", "url"]);
  const type = main["type"];
  if (type !== undefined && type !== "script" && type !== "webhook") {
    throw new UsageError(`'${type}' is not a valid type value, use 'script', 'webhook'`);
  }
  const kind = type ?? (main["url"] !== undefined ? "webhook" : "script");
  if (kind === "script" && !main["path"])
    throw new UsageError(`required option 'path' is missing; usage: ${CREATE_USAGE}`);
  if (kind === "webhook" && !main["url"])
    throw new UsageError(`required option 'url' is missing; usage: ${CREATE_USAGE}`);
  return { ...pick(main, ["id", "path", "url", "description"]), ...(type ? { type } : {}), options, meta };
}

export interface AlertUpdateArgs {
  id: string;
  path?: string;
  url?: string;
  description?: string;
  options: Record<string, string>;
  meta: Record<string, string>;
}

/** alert update ID [path=] [url=] [description=] [options ...] [meta ...] */
export function parseAlertUpdateArgs(words: readonly string[]): AlertUpdateArgs {
  const usage =
    "alert update <alert-id> [path=<path>] [description=<text>] [options <name>=<value>...] [meta <name>=<value>...]";
  const [id, ...rest] = words;
  if (id === undefined || id.includes("=")) throw new UsageError(`an alert id is required; usage: ${usage}`);
  const { main, options, meta } = sections(rest, usage);
  onlyAllowed(main, ["description", "path", "url"]);
  return { id, ...pick(main, ["path", "url", "description"]), options, meta };
}

export interface RecipientAddArgs {
  alert: string;
  value: string;
  id?: string;
  description?: string;
  options: Record<string, string>;
  meta: Record<string, string>;
}

/** alert recipient add ALERT value=... [id=] [description=] [options ...] [meta ...] */
export function parseRecipientAddArgs(words: readonly string[]): RecipientAddArgs {
  const usage =
    "alert recipient add <alert-id> value=<recipient-value> [id=<recipient-id>] [description=<text>] [options <name>=<value>...] [meta <name>=<value>...]";
  const [alert, ...rest] = words;
  if (alert === undefined || alert.includes("=") || rest.length === 0)
    throw new UsageError(`usage: ${usage}`);
  const { main, options, meta } = sections(rest, usage);
  onlyAllowed(main, ["description", "id", "value"]);
  const value = main["value"];
  if (!value) throw new UsageError(`required option 'value' is missing; usage: ${usage}`);
  return { alert, value, ...pick(main, ["id", "description"]), options, meta };
}

export interface RecipientUpdateArgs {
  id: string;
  value?: string;
  description?: string;
  options: Record<string, string>;
  meta: Record<string, string>;
}

/** alert recipient update RECIPIENT [value=] [description=] [options ...] [meta ...] */
export function parseRecipientUpdateArgs(words: readonly string[]): RecipientUpdateArgs {
  const usage =
    "alert recipient update <recipient-id> [value=<recipient-value>] [description=<text>] [options <name>=<value>...] [meta <name>=<value>...]";
  const [id, ...rest] = words;
  if (id === undefined || id.includes("="))
    throw new UsageError(`a recipient id is required; usage: ${usage}`);
  const { main, options, meta } = sections(rest, usage);
  onlyAllowed(main, ["description", "value"]);
  return { id, ...pick(main, ["value", "description"]), options, meta };
}

/** alert remove ID... | alert recipient remove ID... */
export function parseIdList(words: readonly string[], usage: string): string[] {
  if (words.length === 0) throw new UsageError(`at least one id is required; usage: ${usage}`);
  const bad = words.find((w) => w.includes("="));
  if (bad !== undefined) throw new UsageError(`'${bad}' is not an id; usage: ${usage}`);
  return [...words];
}

// ------------------------------------------------------------------------------------------- output

function nvset(map: Readonly<Record<string, string>>): string {
  return Object.keys(map)
    .sort()
    .map((name) => {
      const value = map[name] ?? "";
      return `${name}=${value.includes(" ") ? `"${value}"` : value}`;
    })
    .join(" ");
}

function details(
  thing: { description?: string | undefined; options: Record<string, string>; meta: Record<string, string> },
  indent: string,
): string[] {
  const lines: string[] = [];
  if (thing.description) lines.push(`${indent}Description: ${thing.description}`);
  if (Object.keys(thing.options).length > 0) lines.push(`${indent}Options: ${nvset(thing.options)}`);
  if (Object.keys(thing.meta).length > 0) lines.push(`${indent}Meta options: ${nvset(thing.meta)}`);
  return lines;
}

function recipientLines(r: AlertRecipientConfig): string[] {
  return [`   Recipient: ${r.id} (value=${r.value})`, ...details(r, "    ")];
}

/** `pcs alert config` as pcs 0.10 prints it; webhooks show their url where scripts show their path. */
export function formatAlerts(alerts: readonly AlertConfig[]): string {
  if (alerts.length === 0) return "Alerts:\n No alerts defined";
  const lines = ["Alerts:"];
  for (const alert of alerts) {
    const where = alert.type === "webhook" ? `url=${alert.url ?? ""}` : `path=${alert.path ?? ""}`;
    lines.push(` Alert: ${alert.id} (${where})`, ...details(alert, "  "));
    if (alert.recipients.length > 0) lines.push("  Recipients:", ...alert.recipients.flatMap(recipientLines));
  }
  return lines.join("\n");
}

// ------------------------------------------------------------------------------------------ commands

type SocketOf = (cmd: Command) => Endpoint;

const wantsJson = (cmd: Command) => cmd.optsWithGlobals<{ json?: boolean }>().json === true;

export function registerAlertCommands(program: Command, socketOf: SocketOf): void {
  const alert = program.command("alert").description("manage alert agents and webhooks (pcs alert)");

  alert
    .command("config", { isDefault: true })
    .aliases(["show", "list"])
    .description("list the alerts and their recipients")
    .action(async (_opts: unknown, cmd: Command) => {
      const answer = await callApi<{ alerts: AlertConfig[] }>(socketOf(cmd), "GET", "/v1/alerts");
      if (wantsJson(cmd)) process.stdout.write(`${JSON.stringify(answer.alerts, null, 2)}\n`);
      else process.stdout.write(`${formatAlerts(answer.alerts)}\n`);
    });

  alert
    .command("create")
    .alias("add")
    .description(`create an alert: ${CREATE_USAGE}`)
    .argument("[args...]")
    .allowUnknownOption()
    .action(async (words: string[], _opts: unknown, cmd: Command) => {
      await callApi(socketOf(cmd), "POST", "/v1/alert/create", parseAlertCreateArgs(words));
    });

  alert
    .command("update")
    .description("update an alert: update ID [path=] [description=] [options ...] [meta ...]")
    .argument("[args...]")
    .allowUnknownOption()
    .action(async (words: string[], _opts: unknown, cmd: Command) => {
      await callApi(socketOf(cmd), "POST", "/v1/alert/update", parseAlertUpdateArgs(words));
    });

  alert
    .command("remove")
    .alias("delete")
    .description("remove alerts: remove ID...")
    .argument("[ids...]")
    .action(async (words: string[], _opts: unknown, cmd: Command) => {
      const ids = parseIdList(words, "alert remove <alert-id>...");
      await callApi(socketOf(cmd), "POST", "/v1/alert/remove", { ids });
    });

  const recipient = alert.command("recipient").description("manage the recipients of an alert");
  recipient
    .command("add")
    .description("add a recipient: add ALERT value=... [id=] [description=] [options ...] [meta ...]")
    .argument("[args...]")
    .option("--force", "allow a recipient value the alert already has")
    .allowUnknownOption()
    .action(async (words: string[], opts: { force?: boolean }, cmd: Command) => {
      const body = { ...parseRecipientAddArgs(words), force: opts.force === true };
      await callApi(socketOf(cmd), "POST", "/v1/alert/recipient/add", body);
    });
  recipient
    .command("update")
    .description("update a recipient: update ID [value=] [description=] [options ...] [meta ...]")
    .argument("[args...]")
    .option("--force", "allow a recipient value the alert already has")
    .allowUnknownOption()
    .action(async (words: string[], opts: { force?: boolean }, cmd: Command) => {
      const body = { ...parseRecipientUpdateArgs(words), force: opts.force === true };
      await callApi(socketOf(cmd), "POST", "/v1/alert/recipient/update", body);
    });
  recipient
    .command("remove")
    .alias("delete")
    .description("remove recipients: remove ID...")
    .argument("[ids...]")
    .action(async (words: string[], _opts: unknown, cmd: Command) => {
      const ids = parseIdList(words, "alert recipient remove <recipient-id>...");
      await callApi(socketOf(cmd), "POST", "/v1/alert/recipient/remove", { ids });
    });
}
