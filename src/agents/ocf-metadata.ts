import { constants } from "node:fs";
import { access, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseDuration } from "../config/duration.ts";
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

interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: (XmlElement | string)[];
}

/** Real meta-data is a few tens of kilobytes; anything far larger is not meta-data. */
const MAX_INPUT_CHARS = 4 * 1024 * 1024;
const MAX_DEPTH = 32;
const namePattern = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const predefinedEntities: Readonly<Record<string, string>> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

/**
 * A small XML reader for the regular OCF meta-data format: elements, attributes, text, the five predefined
 * entities and character references, comments, processing instructions, CDATA and a DOCTYPE without an
 * internal subset. Anything else, or anything not well formed, is refused.
 */
class XmlReader {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly fail: (why: string, pos: number) => never,
  ) {}

  readDocument(): XmlElement {
    if (this.text.length > MAX_INPUT_CHARS) this.fail(`it is longer than ${MAX_INPUT_CHARS} characters`, 0);
    const stack: XmlElement[] = [];
    let root: XmlElement | undefined;
    while (this.pos < this.text.length) {
      const top = stack.at(-1);
      const lt = this.text.indexOf("<", this.pos);
      const end = lt === -1 ? this.text.length : lt;
      if (end > this.pos) {
        const raw = this.text.slice(this.pos, end);
        if (top === undefined) {
          if (raw.trim() !== "") this.fail("text outside the root element", this.pos);
        } else top.children.push(this.decode(raw, this.pos));
        this.pos = end;
        continue;
      }
      if (this.startsWith("<?")) this.skipPast("?>", "processing instruction");
      else if (this.startsWith("<!--")) this.skipPast("-->", "comment");
      else if (this.startsWith("<![CDATA[")) {
        if (top === undefined) this.fail("CDATA outside the root element", this.pos);
        const close = this.text.indexOf("]]>", this.pos);
        if (close === -1) this.fail("unterminated CDATA section", this.pos);
        top.children.push(this.text.slice(this.pos + 9, close));
        this.pos = close + 3;
      } else if (this.startsWith("<!DOCTYPE")) {
        if (root !== undefined || top !== undefined) this.fail("DOCTYPE after the root element", this.pos);
        const close = this.text.indexOf(">", this.pos);
        if (close === -1) this.fail("unterminated DOCTYPE", this.pos);
        if (this.text.slice(this.pos, close).includes("["))
          this.fail("DOCTYPE with an internal subset", this.pos);
        this.pos = close + 1;
      } else if (this.startsWith("</")) {
        const at = this.pos;
        this.pos += 2;
        const name = this.readName();
        this.skipSpace();
        if (!this.startsWith(">")) this.fail(`malformed end tag </${name}`, at);
        this.pos += 1;
        if (top === undefined || top.name !== name) {
          this.fail(
            top === undefined ? `end tag </${name}> without a start tag` : `</${name}> closes <${top.name}>`,
            at,
          );
        }
        stack.pop();
      } else {
        const at = this.pos;
        const { element, selfClosing } = this.readStartTag();
        if (top === undefined) {
          if (root !== undefined) this.fail("a second root element", at);
          root = element;
        } else top.children.push(element);
        if (!selfClosing) {
          if (stack.length >= MAX_DEPTH) this.fail(`elements nested deeper than ${MAX_DEPTH}`, at);
          stack.push(element);
        }
      }
    }
    const open = stack.at(-1);
    if (open !== undefined) this.fail(`<${open.name}> is never closed`, this.text.length);
    if (root === undefined) this.fail("there is no root element", 0);
    return root;
  }

  private startsWith(prefix: string): boolean {
    return this.text.startsWith(prefix, this.pos);
  }

  private skipPast(terminator: string, what: string): void {
    const close = this.text.indexOf(terminator, this.pos);
    if (close === -1) this.fail(`unterminated ${what}`, this.pos);
    this.pos = close + terminator.length;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? "")) this.pos++;
  }

  private readName(): string {
    const match = namePattern.exec(this.text.slice(this.pos, this.pos + 256));
    if (match === null) this.fail("expected a name", this.pos);
    this.pos += match[0].length;
    return match[0];
  }

  private readStartTag(): { element: XmlElement; selfClosing: boolean } {
    this.pos += 1;
    const element: XmlElement = { name: this.readName(), attributes: new Map(), children: [] };
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      if (this.startsWith("/>")) {
        this.pos += 2;
        return { element, selfClosing: true };
      }
      if (this.startsWith(">")) {
        this.pos += 1;
        return { element, selfClosing: false };
      }
      if (this.pos >= this.text.length) this.fail(`<${element.name} is never finished`, before);
      if (this.pos === before)
        this.fail(`expected whitespace before an attribute of <${element.name}>`, this.pos);
      const name = this.readName();
      this.skipSpace();
      if (!this.startsWith("=")) this.fail(`attribute ${name} has no value`, this.pos);
      this.pos += 1;
      this.skipSpace();
      const quote = this.text[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`the value of ${name} is not quoted`, this.pos);
      const close = this.text.indexOf(quote, this.pos + 1);
      if (close === -1) this.fail(`the value of ${name} is never closed`, this.pos);
      const raw = this.text.slice(this.pos + 1, close);
      if (raw.includes("<")) this.fail(`the value of ${name} contains '<'`, this.pos);
      if (element.attributes.has(name)) this.fail(`attribute ${name} appears twice`, this.pos);
      element.attributes.set(name, this.decode(raw, this.pos + 1));
      this.pos = close + 1;
    }
  }

  private decode(raw: string, at: number): string {
    if (!raw.includes("&")) return raw;
    return raw.replace(/&([^;&\s]{0,10});?/g, (whole, body: string) => {
      if (!whole.endsWith(";")) this.fail(`'&' that does not start an entity (write &amp;)`, at);
      const named = predefinedEntities[body];
      if (named !== undefined) return named;
      const ref = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(body);
      const code = ref === null ? NaN : ref[1] !== undefined ? parseInt(ref[1], 16) : Number(ref[2]);
      if (!(code > 0 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) {
        this.fail(`unknown entity &${body};`, at);
      }
      return String.fromCodePoint(code);
    });
  }
}

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text[i] === "\n") line++;
  return line;
}

function childElements(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c): c is XmlElement => typeof c !== "string" && c.name === name);
}

function textOf(element: XmlElement): string {
  return element.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}

/** The English description if there is one (meta-data may carry several languages), else the first. */
function description(element: XmlElement, name: "shortdesc" | "longdesc"): string {
  const all = childElements(element, name);
  const chosen = all.find((d) => (d.attributes.get("lang") ?? "en") === "en") ?? all[0];
  return chosen === undefined ? "" : textOf(chosen).trim();
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
  function fail(why: string, pos: number): never {
    throw new OcfMetadataError(
      "FLOATIP_E_OCF_METADATA",
      `meta-data of ${source} is malformed: ${why} (line ${lineOf(xml, pos)}); run the agent with 'meta-data' to see its output, and reinstall or fix the agent`,
    );
  }
  const root = new XmlReader(xml, fail).readDocument();
  if (root.name !== "resource-agent") fail(`the root element is <${root.name}>, not <resource-agent>`, 0);
  const name = root.attributes.get("name");
  if (name === undefined || name === "") fail("<resource-agent> has no name", 0);
  const parameters: OcfParameter[] = [];
  for (const group of childElements(root, "parameters")) {
    for (const p of childElements(group, "parameter")) {
      const paramName = p.attributes.get("name");
      if (paramName === undefined || paramName === "") fail("a <parameter> has no name", 0);
      if (parameters.some((known) => known.name === paramName))
        fail(`parameter ${paramName} is declared twice`, 0);
      const content = childElements(p, "content")[0];
      const options =
        content === undefined
          ? []
          : childElements(content, "option").map((o) => o.attributes.get("value") ?? "");
      const defaultValue = content?.attributes.get("default");
      parameters.push({
        name: paramName,
        required: isTrue(p.attributes.get("required")),
        unique: isTrue(p.attributes.get("unique")),
        shortdesc: description(p, "shortdesc"),
        longdesc: description(p, "longdesc"),
        type: content?.attributes.get("type") ?? "string",
        ...(defaultValue !== undefined ? { default: defaultValue } : {}),
        ...(options.length > 0 ? { options } : {}),
      });
    }
  }
  const actions: OcfAction[] = [];
  for (const group of childElements(root, "actions")) {
    for (const a of childElements(group, "action")) {
      const actionName = a.attributes.get("name");
      if (actionName === undefined || actionName === "") fail("an <action> has no name", 0);
      const timeout = a.attributes.get("timeout");
      const interval = a.attributes.get("interval");
      const timeoutMs = durationMs(timeout);
      const intervalMs = durationMs(interval);
      const depth = a.attributes.get("depth");
      const role = a.attributes.get("role");
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
    ...(version !== undefined ? { version: textOf(version).trim() } : {}),
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
