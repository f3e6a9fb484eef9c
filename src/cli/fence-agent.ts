// First: node-fetch with the HTTPS proxy, when the environment names one (see daemon-fetch.ts).
import "./daemon-fetch.ts";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { systemClock } from "../clock/system-clock.ts";
import { createLogger, silentLogger } from "../observability/logger.ts";
import { readVersion } from "../observability/version.ts";
import { OciCloudError } from "../cloud/oci/errors.ts";
import { createInstancePower, type InstancePower } from "../cloud/oci/instance-power.ts";
import { MetadataClient } from "../cloud/oci/metadata.ts";
import { settingsFromEnv, type OciSettings } from "../cloud/oci/settings.ts";
import { printable } from "./pcs-args.ts";

/**
 * fence_floatip_oci: a fence agent in the fence-agents calling convention (the one Pacemaker's fencer and
 * pcs use) that powers OCI instances off and on through the SDK. Options come as name=value lines on
 * stdin when there are no arguments, else as -o/--action style options; `-o metadata` prints the
 * fence-agents XML. Exit codes are fencing.py's: 0 success (status: on), 2 status off, 1 error, 5 timed
 * out, 6 not on in time, 7 not off in time.
 */

export const AGENT_NAME = "fence_floatip_oci";

export const EXIT = {
  ok: 0,
  error: 1,
  statusOff: 2,
  timedOut: 5,
  waitingOn: 6,
  waitingOff: 7,
} as const;

type ContentType = "string" | "boolean" | "second" | "integer" | "select";

interface OptionSpec {
  name: string;
  long: string;
  short?: string;
  type: ContentType;
  choices?: readonly string[];
  default?: string;
  required?: boolean;
  /** The `[value]` placeholder fence-agents shows in getopt mixed, e.g. --plug=[id]. */
  placeholder?: string;
  help: string;
  /** A deprecated name of another option (fence-agents keeps `port` for `plug`). */
  aliasOf?: string;
}

export const ACTIONS = [
  "on",
  "off",
  "reboot",
  "status",
  "list",
  "list-status",
  "monitor",
  "metadata",
  "validate-all",
] as const;
export type FenceAction = (typeof ACTIONS)[number];

/** The options this agent understands, in metadata order (fencing.py's names and getopt letters). */
export const OPTIONS: readonly OptionSpec[] = [
  {
    name: "action",
    long: "action",
    short: "o",
    type: "string",
    default: "reboot",
    required: true,
    placeholder: "action",
    help: "Fencing action",
  },
  {
    name: "plug",
    long: "plug",
    short: "n",
    type: "string",
    required: true,
    placeholder: "id",
    help: "OCID or display name of the instance to fence",
  },
  {
    name: "port",
    long: "plug",
    short: "n",
    type: "string",
    required: true,
    placeholder: "id",
    help: "OCID or display name of the instance to fence",
    aliasOf: "plug",
  },
  {
    name: "compartment",
    long: "compartment",
    type: "string",
    placeholder: "ocid",
    help: "Compartment of the instances, for list and display names (default: this instance's compartment)",
  },
  {
    name: "region",
    long: "region",
    short: "r",
    type: "string",
    placeholder: "region",
    help: "OCI region, e.g. ap-tokyo-1 (default: from instance metadata or the config file)",
  },
  {
    name: "config_file",
    long: "config-file",
    type: "string",
    placeholder: "path",
    help: "OCI config file with an API key; without it the instance principal is used",
  },
  {
    name: "profile",
    long: "profile",
    type: "string",
    default: "DEFAULT",
    placeholder: "name",
    help: "Profile in the OCI config file",
  },
  {
    name: "method",
    long: "method",
    short: "m",
    type: "select",
    choices: ["onoff", "cycle"],
    default: "onoff",
    placeholder: "method",
    help: "Method to fence: onoff (STOP, then START) or cycle (RESET)",
  },
  {
    name: "quiet",
    long: "quiet",
    short: "q",
    type: "boolean",
    help: "Disable logging to stderr. Does not affect --verbose or --debug-file.",
  },
  { name: "verbose", long: "verbose", short: "v", type: "boolean", help: "Verbose mode" },
  {
    name: "debug_file",
    long: "debug-file",
    short: "D",
    type: "string",
    placeholder: "debugfile",
    help: "Write debug information to given file",
  },
  {
    name: "version",
    long: "version",
    short: "V",
    type: "boolean",
    help: "Display version information and exit",
  },
  { name: "help", long: "help", short: "h", type: "boolean", help: "Display help and exit" },
  {
    name: "separator",
    long: "separator",
    short: "C",
    type: "string",
    default: ",",
    placeholder: "char",
    help: "Separator for CSV created by 'list' operation",
  },
  {
    name: "delay",
    long: "delay",
    type: "second",
    default: "0",
    placeholder: "seconds",
    help: "Wait X seconds before fencing is started",
  },
  {
    name: "power_timeout",
    long: "power-timeout",
    type: "second",
    default: "60",
    placeholder: "seconds",
    help: "Test X seconds for status change after ON/OFF",
  },
  {
    name: "power_wait",
    long: "power-wait",
    type: "second",
    default: "0",
    placeholder: "seconds",
    help: "Wait X seconds after issuing ON/OFF",
  },
  {
    name: "stonith_status_sleep",
    long: "stonith-status-sleep",
    type: "second",
    default: "1",
    placeholder: "seconds",
    help: "Sleep X seconds between status calls during a STONITH action",
  },
];

/** Names Pacemaker passes that fence agents ignore without a warning. */
const SILENTLY_IGNORED = new Set(["nodename", "nodeid"]);

export class FenceUsageError extends Error {
  override readonly name = "FenceUsageError";
  readonly code = "FLOATIP_E_FENCE_ARGS";
  constructor(detail: string) {
    // The detail quotes options as given: control characters in them must not split the logged line.
    super(`FLOATIP_E_FENCE_ARGS: ${printable(detail)}`);
  }
}

/** Options by their canonical (underscore) name; booleans are "1". */
export type FenceOptions = Record<string, string>;

export interface ParsedInput {
  options: FenceOptions;
  warnings: string[];
}

const byName = new Map(OPTIONS.map((o) => [o.name, o]));

function canonical(spec: OptionSpec): string {
  return spec.aliasOf ?? spec.name;
}

function specOfStdinName(name: string): OptionSpec | undefined {
  // fencing.py accepts both spellings (power_timeout and power-timeout); `option` is the old name of action.
  const key = name === "option" ? "action" : name.replaceAll("-", "_");
  return byName.get(key) ?? OPTIONS.find((o) => o.long === name);
}

function booleanValue(value: string): string | null {
  const v = value.toLowerCase();
  if (["1", "yes", "on", "true"].includes(v)) return "1";
  if (["0", "no", "off", "false"].includes(v)) return "0";
  return null;
}

/** stdin's `name=value` lines (# comments, blank lines, quoted values), as fencing.py reads them. */
export function parseStdinOptions(text: string): ParsedInput {
  const options: FenceOptions = {};
  const warnings: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    const name = eq === -1 ? line : line.slice(0, eq);
    const value = (eq === -1 ? "" : line.slice(eq + 1)).replace(/^"(.*)"$/, "$1");
    const spec = specOfStdinName(name);
    if (!spec) {
      if (!SILENTLY_IGNORED.has(name)) warnings.push(`Parse error: Ignoring unknown option '${line}'`);
      continue;
    }
    if (spec.type === "boolean") {
      const b = booleanValue(value);
      if (b === null) warnings.push(`Parse error: Ignoring option '${name}' because it does not have value`);
      else options[canonical(spec)] = b;
      continue;
    }
    options[canonical(spec)] = value;
  }
  return { options, warnings };
}

/** -o off, -ooff, --action=off, --action off, -vq; non-option words are reported, as gnu_getopt does. */
export function parseCommandLine(argv: readonly string[]): ParsedInput {
  const options: FenceOptions = {};
  const warnings: string[] = [];
  const unused: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? "";
    const takeValue = (spec: OptionSpec, inline: string | undefined, shown: string): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined) throw new FenceUsageError(`option ${shown} requires argument`);
      i += 1;
      return next;
    };
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const long = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const inline = eq === -1 ? undefined : arg.slice(eq + 1);
      const spec = OPTIONS.find((o) => o.long === long && o.aliasOf === undefined);
      if (!spec)
        throw new FenceUsageError(`option --${long} not recognized; '${AGENT_NAME} --help' lists them`);
      if (spec.type === "boolean") {
        if (inline !== undefined) throw new FenceUsageError(`option --${long} must not have an argument`);
        options[spec.name] = "1";
      } else {
        options[spec.name] = takeValue(spec, inline, `--${long}`);
      }
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1 && arg !== "--") {
      for (let j = 1; j < arg.length; j += 1) {
        const letter = arg[j] ?? "";
        const spec = OPTIONS.find((o) => o.short === letter && o.aliasOf === undefined);
        if (!spec)
          throw new FenceUsageError(`option -${letter} not recognized; '${AGENT_NAME} --help' lists them`);
        if (spec.type === "boolean") {
          options[spec.name] = "1";
          continue;
        }
        const rest = arg.slice(j + 1);
        options[spec.name] = takeValue(spec, rest === "" ? undefined : rest, `-${letter}`);
        break;
      }
      continue;
    }
    unused.push(arg);
  }
  if (unused.length > 0) warnings.push(`Unused arguments on command line: ${unused.join(" ")}`);
  return { options, warnings };
}

/** Command-line options when there are arguments, stdin otherwise (fencing.py's process_input). */
export function parseInput(argv: readonly string[], stdin: () => string): ParsedInput {
  return argv.length > 0 ? parseCommandLine(argv) : parseStdinOptions(stdin());
}

export interface ValidatedOptions {
  action: FenceAction;
  plug?: string;
  compartment?: string;
  region?: string;
  configFile?: string;
  profile: string;
  method: "onoff" | "cycle";
  separator: string;
  delayMs: number;
  powerTimeoutMs: number;
  powerWaitMs: number;
  statusSleepMs: number;
  verbose: boolean;
  quiet: boolean;
  debugFile?: string;
}

function seconds(options: FenceOptions, name: string): number {
  const spec = byName.get(name);
  const text = options[name] ?? spec?.default ?? "0";
  if (!/^\d+(\.\d+)?$/.test(text.trim())) {
    throw new FenceUsageError(`${name}=${text} is not a number of seconds`);
  }
  return Math.round(Number(text) * 1000);
}

/** Checks values and fills defaults; the plug is required for the actions that act on one instance. */
export function validateOptions(options: FenceOptions): ValidatedOptions {
  let action = (options["action"] ?? "reboot").toLowerCase();
  if (action === "meta-data") action = "metadata";
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new FenceUsageError(`action '${action}' is not one of ${ACTIONS.join(", ")}`);
  }
  const method = (options["method"] ?? "onoff").toLowerCase();
  if (method !== "onoff" && method !== "cycle")
    throw new FenceUsageError(`method=${method}: use onoff or cycle`);
  const plug = options["plug"]?.trim();
  if (["on", "off", "reboot", "status"].includes(action) && !plug) {
    throw new FenceUsageError(
      "Failed: You have to enter plug number or machine identification (plug=<instance OCID or name>)",
    );
  }
  const configFile = options["config_file"]?.trim();
  const separator = options["separator"] ?? ",";
  return {
    action: action as FenceAction,
    ...(plug ? { plug } : {}),
    ...(options["compartment"]?.trim() ? { compartment: options["compartment"].trim() } : {}),
    ...(options["region"]?.trim() ? { region: options["region"].trim() } : {}),
    ...(configFile ? { configFile } : {}),
    profile: options["profile"]?.trim() || "DEFAULT",
    method,
    separator: separator === "" ? "," : separator,
    delayMs: seconds(options, "delay"),
    powerTimeoutMs: seconds(options, "power_timeout"),
    powerWaitMs: seconds(options, "power_wait"),
    statusSleepMs: Math.max(50, seconds(options, "stonith_status_sleep")),
    verbose: options["verbose"] === "1",
    quiet: options["quiet"] === "1",
    ...(options["debug_file"]?.trim() ? { debugFile: options["debug_file"].trim() } : {}),
  };
}

// ---------------------------------------------------------------------------------------------- metadata

function xmlEscape(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function getoptMixed(spec: OptionSpec): string {
  const long = `--${spec.long}${spec.type === "boolean" ? "" : `=[${spec.placeholder ?? "value"}]`}`;
  return spec.short ? `-${spec.short}, ${long}` : long;
}

/** The XML `-o metadata` prints, in the layout of fencing.py's metadata(). */
export function fenceMetadata(): string {
  const lines = [
    '<?xml version="1.0" ?>',
    `<resource-agent name="${AGENT_NAME}" shortdesc="Fence agent for OCI (Oracle Cloud Infrastructure) instances, from floatip" >`,
    `<longdesc>${xmlEscape(
      `${AGENT_NAME} is a power fencing agent for instances of Oracle Cloud Infrastructure. It stops, starts and resets the instance given as plug (an instance OCID, or a display name looked up in the compartment) through the OCI API. It authenticates as the instance principal of the node it runs on (a dynamic group with a policy allowing 'use instances'), or with an API key from an OCI config file (config_file, profile). FLOATIP_OCI_ENDPOINT and FLOATIP_OCI_METADATA_URL in the environment override the endpoints.`,
    )}</longdesc>`,
    "<vendor-url>https://www.oracle.com/cloud/</vendor-url>",
    "<parameters>",
  ];
  for (const spec of OPTIONS) {
    const info = spec.aliasOf ? ' deprecated="1"' : spec.name === "plug" ? ' obsoletes="port"' : "";
    lines.push(
      `\t<parameter name="${spec.name}" unique="0" required="${spec.required ? 1 : 0}"${info}>`,
      `\t\t<getopt mixed="${xmlEscape(getoptMixed(spec))}" />`,
    );
    const def = spec.default !== undefined ? `default="${xmlEscape(spec.default)}" ` : "";
    if (spec.type === "select") {
      lines.push(`\t\t<content type="select" ${def}>`);
      for (const choice of spec.choices ?? []) lines.push(`\t\t\t<option value="${xmlEscape(choice)}" />`);
      lines.push("\t\t</content>");
    } else {
      lines.push(`\t\t<content type="${spec.type}" ${def} />`);
    }
    lines.push(`\t\t<shortdesc lang="en">${xmlEscape(spec.help)}</shortdesc>`, "\t</parameter>");
  }
  lines.push("</parameters>", "<actions>", '\t<action name="on" automatic="0"/>');
  for (const action of ACTIONS.filter((a) => a !== "on")) lines.push(`\t<action name="${action}" />`);
  lines.push("</actions>", "</resource-agent>");
  return `${lines.join("\n")}\n`;
}

export function usageText(): string {
  const lines = [`Usage:`, `\t${AGENT_NAME} [options]`, `Options:`];
  for (const spec of OPTIONS.filter((o) => !o.aliasOf)) {
    const def = spec.default !== undefined ? ` (default ${spec.default})` : "";
    lines.push(`   ${getoptMixed(spec).padEnd(38)} ${spec.help}${def}`);
  }
  lines.push(`Actions: ${ACTIONS.join(", ")}`);
  return `${lines.join("\n")}\n`;
}

// ----------------------------------------------------------------------------------------------- actions

export interface FenceIo {
  out(line: string): void;
  err(line: string): void;
  sleep(ms: number): Promise<void>;
}

export interface FenceCloud {
  power: InstancePower;
  /** The compartment to list in when none is given (the calling instance's, from metadata). */
  defaultCompartment(): Promise<string | undefined>;
}

const OCID = /^ocid1\.instance\./;
type PowerState = "on" | "off" | "transitional";

function powerStateOf(lifecycle: string): PowerState {
  if (lifecycle === "RUNNING") return "on";
  if (lifecycle === "STOPPED" || lifecycle === "TERMINATED") return "off";
  return "transitional";
}

class FenceFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

async function compartmentOf(opts: ValidatedOptions, cloud: FenceCloud, why: string): Promise<string> {
  const compartment = opts.compartment ?? (await cloud.defaultCompartment());
  if (compartment === undefined) {
    throw new FenceUsageError(`${why} needs compartment=<compartment OCID> when the OCI config file is used`);
  }
  return compartment;
}

/** The instance OCID of a plug: an OCID as is, a display name through the compartment's list. */
export async function resolvePlug(opts: ValidatedOptions, cloud: FenceCloud, plug: string): Promise<string> {
  if (OCID.test(plug)) return plug;
  const compartment = await compartmentOf(opts, cloud, `plug '${plug}' (a display name)`);
  const matches = (await cloud.power.listInstances(compartment)).filter(
    (i) => i.displayName === plug && i.lifecycleState !== "TERMINATED",
  );
  if (matches.length === 1 && matches[0]) return matches[0].id;
  throw new FenceFailure(
    EXIT.error,
    matches.length === 0
      ? `FLOATIP_E_FENCE_PLUG: no instance named '${plug}' in compartment ${compartment}; give its OCID or check the name with -o list`
      : `FLOATIP_E_FENCE_PLUG: ${matches.length} instances are named '${plug}' (${matches.map((m) => m.id).join(", ")}); give the OCID as plug`,
  );
}

async function waitFor(
  cloud: FenceCloud,
  opts: ValidatedOptions,
  id: string,
  wanted: string[],
  exitCode: number,
  what: string,
): Promise<void> {
  try {
    await cloud.power.waitForState(id, wanted, opts.powerTimeoutMs);
  } catch (error) {
    if (error instanceof OciCloudError && error.code === "FLOATIP_E_OCI_TIMEOUT") {
      throw new FenceFailure(
        exitCode,
        `FLOATIP_E_FENCE_TIMEOUT: Timed out waiting to power ${what}: ${error.message}`,
      );
    }
    throw error;
  }
}

async function powerOff(cloud: FenceCloud, opts: ValidatedOptions, id: string, io: FenceIo): Promise<void> {
  const state = await cloud.power.instanceState(id);
  if (state !== "STOPPING") {
    await cloud.power.instanceAction(id, "STOP");
    if (opts.powerWaitMs > 0) await io.sleep(opts.powerWaitMs);
  }
  await waitFor(cloud, opts, id, ["STOPPED", "TERMINATED"], EXIT.waitingOff, "OFF");
}

async function powerOn(cloud: FenceCloud, opts: ValidatedOptions, id: string, io: FenceIo): Promise<void> {
  const state = await cloud.power.instanceState(id);
  if (state === "TERMINATED") {
    throw new FenceFailure(
      EXIT.error,
      `FLOATIP_E_FENCE_PLUG: instance ${id} is terminated and cannot be powered on`,
    );
  }
  // OCI refuses START while an instance is still stopping.
  if (state === "STOPPING") await waitFor(cloud, opts, id, ["STOPPED"], EXIT.waitingOn, "ON");
  if (state !== "STARTING") {
    await cloud.power.instanceAction(id, "START");
    if (opts.powerWaitMs > 0) await io.sleep(opts.powerWaitMs);
  }
  await waitFor(cloud, opts, id, ["RUNNING"], EXIT.waitingOn, "ON");
}

async function listAction(
  opts: ValidatedOptions,
  cloud: FenceCloud,
  io: FenceIo,
  withStatus: boolean,
): Promise<void> {
  const compartment = await compartmentOf(opts, cloud, "list");
  for (const i of await cloud.power.listInstances(compartment)) {
    if (i.lifecycleState === "TERMINATED") continue;
    const state = powerStateOf(i.lifecycleState);
    const status = state === "transitional" ? "UNKNOWN" : state.toUpperCase();
    io.out([i.id, i.displayName, ...(withStatus ? [status] : [])].join(opts.separator));
  }
}

/** Runs one validated action; returns the exit code. Cloud errors are one `Error: FLOATIP_E_...` line. */
export async function runFenceAction(
  opts: ValidatedOptions,
  cloud: FenceCloud,
  io: FenceIo,
): Promise<number> {
  try {
    switch (opts.action) {
      case "metadata":
        io.out(fenceMetadata().trimEnd());
        return EXIT.ok;
      case "validate-all":
        if (opts.configFile !== undefined && !existsSync(opts.configFile)) {
          throw new FenceUsageError(`config_file ${opts.configFile} does not exist`);
        }
        return EXIT.ok;
      case "list":
      case "list-status":
        await listAction(opts, cloud, io, opts.action === "list-status");
        return EXIT.ok;
      case "monitor":
        if (opts.plug !== undefined)
          await cloud.power.instanceState(await resolvePlug(opts, cloud, opts.plug));
        else await cloud.power.listInstances(await compartmentOf(opts, cloud, "monitor without plug"));
        return EXIT.ok;
      default:
        break;
    }
    const id = await resolvePlug(opts, cloud, opts.plug ?? "");
    const lifecycle = await cloud.power.instanceState(id);
    const state = powerStateOf(lifecycle);
    if (opts.action === "status") {
      if (state === "transitional") {
        throw new FenceFailure(
          EXIT.error,
          `FLOATIP_E_FENCE_STATE: instance ${id} is ${lifecycle}, neither on nor off; ask again`,
        );
      }
      io.out(`Status: ${state.toUpperCase()}`);
      return state === "off" ? EXIT.statusOff : EXIT.ok;
    }
    if (opts.action === state) {
      io.out(`Success: Already ${state.toUpperCase()}`);
      return EXIT.ok;
    }
    if ((opts.action === "off" || opts.action === "reboot") && opts.delayMs > 0) await io.sleep(opts.delayMs);
    if (opts.action === "off") {
      await powerOff(cloud, opts, id, io);
      io.out("Success: Powered OFF");
      return EXIT.ok;
    }
    if (opts.action === "on") {
      await powerOn(cloud, opts, id, io);
      io.out("Success: Powered ON");
      return EXIT.ok;
    }
    // reboot
    if (opts.method === "cycle" && state === "on") {
      await cloud.power.instanceAction(id, "RESET");
      try {
        await waitFor(cloud, opts, id, ["RUNNING"], EXIT.timedOut, "ON");
      } catch (error) {
        throw error instanceof FenceFailure ? new FenceFailure(EXIT.timedOut, error.message) : error;
      }
    } else {
      if (state !== "off") await powerOff(cloud, opts, id, io);
      try {
        await powerOn(cloud, opts, id, io);
      } catch (error) {
        // As fencing.py: the node was fenced (it was off); failing to start it again is logged, not a failure.
        io.err(`Timed out waiting to power ON: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    io.out("Success: Rebooted");
    return EXIT.ok;
  } catch (error) {
    if (error instanceof FenceFailure) {
      io.err(`Error: ${error.message}`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(`Error: ${/^FLOATIP_E_/.test(message) ? message : `FLOATIP_E_FENCE_FAILED: ${message}`}`);
    return EXIT.error;
  }
}

// ------------------------------------------------------------------------------------------------- main

function cloudFor(
  opts: ValidatedOptions,
  env: NodeJS.ProcessEnv,
  verbose: boolean,
): FenceCloud & { close(): void } {
  const settings: OciSettings = settingsFromEnv(env, {
    ...(opts.configFile !== undefined
      ? { auth: "config_file", configFile: opts.configFile, profile: opts.profile }
      : {}),
    ...(opts.region !== undefined ? { region: opts.region } : {}),
  });
  const logger = verbose ? createLogger({ name: AGENT_NAME, level: "debug" }) : silentLogger();
  const power = createInstancePower(settings, {
    clock: systemClock,
    logger,
    pollIntervalMs: opts.statusSleepMs,
  });
  return {
    power,
    defaultCompartment: async () => {
      if (settings.auth !== "instance_principal") return undefined;
      const metadata = new MetadataClient({
        baseUrl: settings.metadataBaseUrl,
        clock: systemClock,
        timeoutMs: settings.requestTimeoutMs,
      });
      return (await metadata.instance()).compartmentId;
    },
    close: () => power.close(),
  };
}

/** The executable: parses argv or stdin, runs the action, returns the exit code. */
export async function fenceAgentMain(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  readStdin: () => string = () => readFileSync(0, "utf8"),
): Promise<number> {
  const write = (stream: NodeJS.WritableStream) => (line: string) => stream.write(`${line}\n`);
  // Known only once the options are read; errors before that go to stderr.
  const logTo: { quiet: boolean; debugFile?: string } = { quiet: false };
  const io: FenceIo = {
    out: write(process.stdout),
    err: (line) => {
      if (!logTo.quiet) process.stderr.write(`${line}\n`);
      if (logTo.debugFile !== undefined)
        appendFileSync(logTo.debugFile, `${new Date().toISOString()} ${line}\n`);
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  let parsed: ParsedInput;
  let opts: ValidatedOptions;
  try {
    parsed = parseInput(argv, readStdin);
    if (parsed.options["help"] === "1") {
      io.out(usageText().trimEnd());
      return EXIT.ok;
    }
    if (parsed.options["version"] === "1") {
      io.out(readVersion());
      return EXIT.ok;
    }
    opts = validateOptions(parsed.options);
  } catch (error) {
    io.err(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.error;
  }
  logTo.quiet = opts.quiet;
  if (opts.debugFile !== undefined) logTo.debugFile = opts.debugFile;
  for (const warning of parsed.warnings) io.err(warning);
  if (opts.action === "metadata") {
    io.out(fenceMetadata().trimEnd());
    return EXIT.ok;
  }
  let cloud: (FenceCloud & { close(): void }) | undefined;
  try {
    cloud = cloudFor(opts, env, opts.verbose);
  } catch (error) {
    io.err(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.error;
  }
  try {
    return await runFenceAction(opts, cloud, io);
  } finally {
    cloud.close();
  }
}
