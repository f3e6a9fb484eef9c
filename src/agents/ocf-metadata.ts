import { constants } from "node:fs";
import { access, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseDuration } from "../config/duration.ts";
import { readXml, XmlSyntaxError, type XmlElement } from "../config/xml.ts";
import { lastLine, runProcessGroup } from "./exec-check.ts";

/**
 * The OCF tree on this host: where an agent's script lives, how it is invoked, what it declares in its
 * `meta-data` (parameters, actions), and whether a resource's parameters fit that declaration, so
 * `resource create` can say exactly what is wrong before anything runs.
 */

export const DEFAULT_OCF_ROOT = "/usr/lib/ocf";

export type OcfMetadataErrorCode = "FLOATIP_E_OCF_METADATA" | "FLOATIP_E_AGENT_UNKNOWN";

export class OcfMetadataError extends Error {
  override readonly name = "OcfMetadataError";
  readonly code: OcfMetadataErrorCode;

  constructor(code: OcfMetadataErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.code = code;
  }
}

/** An OCF agent named by a type `ocf:<provider>:<agent>`. */
export interface OcfType {
  provider: string;
  agent: string;
}

// Provider and agent are path components: no '/', and no leading '.' so neither '..' nor hidden files.
const componentPattern = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/;

export function parseOcfType(type: string): OcfType {
  const parts = type.split(":");
  const [standard, provider = "", agent = ""] = parts;
  if (
    parts.length !== 3 ||
    standard !== "ocf" ||
    !componentPattern.test(provider) ||
    !componentPattern.test(agent)
  ) {
    throw new OcfMetadataError(
      "FLOATIP_E_AGENT_UNKNOWN",
      `'${type}' is not an OCF type; write ocf:<provider>:<agent>, e.g. ocf:heartbeat:IPaddr2 (the installed ones are under /usr/lib/ocf/resource.d/<provider>/)`,
    );
  }
  return { provider, agent };
}

export function ocfScriptPath(root: string, type: OcfType): string {
  return join(root, "resource.d", type.provider, type.agent);
}

// Agents call ip, iptables, arping and friends by bare name; a daemon started by systemd may lack sbin.
const systemPath = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"];

/**
 * The environment every OCF action gets: a fixed base (not this process's environment, so nothing of the
 * daemon leaks into agents) plus `extra`. HA_LOGFACILITY is left unset, so ocf_log writes to stderr,
 * where the runner quotes it in results.
 */
export function ocfEnvironment(
  root: string,
  extra: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  const inherited = (process.env.PATH ?? "")
    .split(":")
    .filter((dir) => dir !== "" && !systemPath.includes(dir));
  return {
    PATH: [...systemPath, ...inherited].join(":"),
    LC_ALL: "C",
    OCF_ROOT: root,
    OCF_FUNCTIONS_DIR: join(root, "lib", "heartbeat"),
    OCF_RA_VERSION_MAJOR: "1",
    OCF_RA_VERSION_MINOR: "1",
    ...extra,
  };
}

/**
 * The command that runs `action` of the script: the script itself, or, for tests only, the script inside
 * network namespace `netns` through `ip netns exec` (which execs it, so killing the group still works).
 */
export function ocfInvocation(
  script: string,
  action: string,
  netns?: string,
): { cmd: string; args: string[] } {
  return netns === undefined
    ? { cmd: script, args: [action] }
    : { cmd: "ip", args: ["netns", "exec", netns, script, action] };
}

export interface OcfParameter {
  name: string;
  required: boolean;
  unique: boolean;
  shortdesc: string;
  longdesc: string;
  /** content type: string, integer, boolean, select, time, ... as the agent declares it. */
  type: string;
  default?: string;
  /** The allowed values of a `select` parameter. */
  options?: string[];
}

export interface OcfAction {
  name: string;
  timeout?: string;
  timeoutMs?: number;
  interval?: string;
  intervalMs?: number;
  depth?: string;
  role?: string;
}

export interface OcfMetadata {
  name: string;
  version?: string;
  shortdesc: string;
  longdesc: string;
  parameters: OcfParameter[];
  actions: OcfAction[];
}

/** Real meta-data is a few tens of kilobytes; anything far larger is not meta-data. */
const MAX_INPUT_CHARS = 4 * 1024 * 1024;
const MAX_DEPTH = 32;

function childElements(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** The English description if there is one (meta-data may carry several languages), else the first. */
function description(element: XmlElement, name: "shortdesc" | "longdesc"): string {
  const all = childElements(element, name);
  const chosen = all.find((d) => (d.attrs["lang"] ?? "en") === "en") ?? all[0];
  return chosen === undefined ? "" : chosen.text.trim();
}

function durationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

function isTrue(text: string | undefined): boolean {
  return text !== undefined && /^(1|true|yes)$/i.test(text.trim());
}

/**
 * Reads an agent's meta-data XML. `source` names the agent in errors. Throws OcfMetadataError
 * (FLOATIP_E_OCF_METADATA) for anything malformed, and nothing else.
 */
export function parseOcfMetadata(xml: string, source: string): OcfMetadata {
  function fail(why: string): never {
    throw new OcfMetadataError(
      "FLOATIP_E_OCF_METADATA",
      `meta-data of ${source} is malformed: ${why}; run the agent with 'meta-data' to see its output, and reinstall or fix the agent`,
    );
  }
  let root: XmlElement;
  try {
    root = readXml(xml, { maxChars: MAX_INPUT_CHARS, maxDepth: MAX_DEPTH });
  } catch (error) {
    if (error instanceof XmlSyntaxError) fail(error.message);
    throw error;
  }
  if (root.name !== "resource-agent") fail(`the root element is <${root.name}>, not <resource-agent>`);
  const name = root.attrs["name"];
  if (name === undefined || name === "") fail("<resource-agent> has no name");
  const parameters: OcfParameter[] = [];
  for (const group of childElements(root, "parameters")) {
    for (const p of childElements(group, "parameter")) {
      const paramName = p.attrs["name"];
      if (paramName === undefined || paramName === "") fail("a <parameter> has no name");
      if (parameters.some((known) => known.name === paramName))
        fail(`parameter ${paramName} is declared twice`);
      const content = childElements(p, "content")[0];
      const options =
        content === undefined ? [] : childElements(content, "option").map((o) => o.attrs["value"] ?? "");
      const defaultValue = content?.attrs["default"];
      parameters.push({
        name: paramName,
        required: isTrue(p.attrs["required"]),
        unique: isTrue(p.attrs["unique"]),
        shortdesc: description(p, "shortdesc"),
        longdesc: description(p, "longdesc"),
        type: content?.attrs["type"] ?? "string",
        ...(defaultValue !== undefined ? { default: defaultValue } : {}),
        ...(options.length > 0 ? { options } : {}),
      });
    }
  }
  const actions: OcfAction[] = [];
  for (const group of childElements(root, "actions")) {
    for (const a of childElements(group, "action")) {
      const actionName = a.attrs["name"];
      if (actionName === undefined || actionName === "") fail("an <action> has no name");
      const timeout = a.attrs["timeout"];
      const interval = a.attrs["interval"];
      const timeoutMs = durationMs(timeout);
      const intervalMs = durationMs(interval);
      const depth = a.attrs["depth"];
      const role = a.attrs["role"];
      actions.push({
        name: actionName,
        ...(timeout !== undefined ? { timeout } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(interval !== undefined ? { interval } : {}),
        ...(intervalMs !== undefined ? { intervalMs } : {}),
        ...(depth !== undefined ? { depth } : {}),
        ...(role !== undefined ? { role } : {}),
      });
    }
  }
  const version = childElements(root, "version")[0];
  return {
    name,
    ...(version !== undefined ? { version: version.text.trim() } : {}),
    shortdesc: description(root, "shortdesc"),
    longdesc: description(root, "longdesc"),
    parameters,
    actions,
  };
}

/**
 * One message per problem of `params` against the agent's declaration: required parameters that are
 * missing or empty, parameters the agent does not know, and values outside a select's options.
 */
export function validateOcfParams(meta: OcfMetadata, params: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const p of meta.parameters) {
    const value = params[p.name];
    if (p.required && (value === undefined || value === "")) {
      const what = p.shortdesc === "" ? "" : ` (${p.shortdesc})`;
      problems.push(`${p.name} is required by ${meta.name}${what}; set ${p.name}=<value>`);
    }
    if (value !== undefined && value !== "" && p.options !== undefined && !p.options.includes(value)) {
      problems.push(`${p.name}=${value} is not one of ${p.options.join(", ")}; pick one of them`);
    }
  }
  const known = meta.parameters.map((p) => p.name);
  for (const name of Object.keys(params)) {
    if (!known.includes(name)) {
      const list = known.length === 0 ? "it takes no parameters" : `its parameters are ${known.join(", ")}`;
      problems.push(`${name} is not a parameter of ${meta.name}; ${list}`);
    }
  }
  return problems;
}

export interface ReadMetadataOptions {
  root?: string;
  signal?: AbortSignal;
  /** Default 5000 ms, the meta-data timeout agents declare. */
  timeoutMs?: number;
  /** Tests only: run the agent inside this network namespace. */
  netns?: string;
}

/** Runs `<agent> meta-data` and parses what it prints. */
export async function readOcfMetadata(type: string, options: ReadMetadataOptions = {}): Promise<OcfMetadata> {
  const root = options.root ?? DEFAULT_OCF_ROOT;
  const ocfType = parseOcfType(type);
  const script = ocfScriptPath(root, ocfType);
  const { cmd, args } = ocfInvocation(script, "meta-data", options.netns);
  const outcome = await runProcessGroup(cmd, args, {
    timeoutMs: options.timeoutMs ?? 5000,
    env: ocfEnvironment(root, { OCF_RESOURCE_TYPE: ocfType.agent, OCF_RESOURCE_PROVIDER: ocfType.provider }),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  if (outcome.kind === "spawn-error") {
    throw new OcfMetadataError(
      "FLOATIP_E_AGENT_UNKNOWN",
      `cannot run ${script} (${outcome.errno}); install the package that provides ${type} (resource-agents for ocf:heartbeat:*) or fix the type`,
    );
  }
  if (outcome.kind !== "exited") {
    throw new OcfMetadataError(
      "FLOATIP_E_OCF_METADATA",
      `${script} meta-data ${outcome.kind === "timeout" ? "did not finish in time and was killed" : "was cancelled"}; check the agent`,
    );
  }
  if (outcome.code !== 0) {
    throw new OcfMetadataError(
      "FLOATIP_E_OCF_METADATA",
      `${script} meta-data exited ${outcome.code}: ${lastLine(outcome.stderr)}; check that the agent is installed completely`,
    );
  }
  return parseOcfMetadata(outcome.stdout, type);
}

async function executableFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every installed OCF agent as a type ("ocf:heartbeat:IPaddr2", ...), sorted; [] when there is no tree. */
export async function listOcfAgents(root: string = DEFAULT_OCF_ROOT): Promise<string[]> {
  const base = join(root, "resource.d");
  let providers: string[];
  try {
    providers = await readdir(base);
  } catch {
    return [];
  }
  const types: string[] = [];
  for (const provider of providers.filter((p) => componentPattern.test(p)).sort()) {
    let entries: string[];
    try {
      entries = await readdir(join(base, provider));
    } catch {
      continue; // a file, or unreadable: not a provider
    }
    for (const agent of entries.filter((a) => componentPattern.test(a)).sort()) {
      // Helper libraries (ocf-shellfuncs, *.sh) are not executable; __pycache__ is a directory.
      if (await executableFile(join(base, provider, agent))) types.push(`ocf:${provider}:${agent}`);
    }
  }
  return types;
}
