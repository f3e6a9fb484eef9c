import { parseDuration } from "../config/duration.ts";
import type { OperationConfig } from "../config/schema.ts";

/** A CLI input error: printed as one `Error:` line with exit code 1, never a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    // Messages quote the user's words: a newline or an escape sequence in one ($'...' in a shell) must
    // neither split the error line nor reach the terminal raw.
    super(printable(message));
    this.name = "UsageError";
  }
}

const ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every control character shown as an escape (\n, \u001b), so it prints as one plain line. */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `node1 addr=10.0.0.11 node2 addr=10.0.0.12` (pcs 0.10+) or plain `node1 node2`. */
export function parseNodeList(words: readonly string[]): { name: string; addr?: string }[] {
  const nodes: { name: string; addr?: string }[] = [];
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq === -1) {
      nodes.push({ name: word });
      continue;
    }
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    const last = nodes.at(-1);
    if (key !== "addr")
      throw new UsageError(`unknown node option '${key}'; only addr=<address> is supported`);
    if (!last) throw new UsageError(`'${word}' must follow a node name, e.g. 'node1 addr=10.0.0.11'`);
    if (last.addr !== undefined)
      throw new UsageError(`node '${last.name}' has more than one addr=; links are not supported yet`);
    last.addr = value;
  }
  return nodes;
}

export interface ResourceArgs {
  params: Record<string, string>;
  meta: Record<string, string>;
  ops: OperationConfig[];
}

const OP_NAMES = ["monitor", "start", "stop"] as const;

/** `ip=... cidr_netmask=24 op monitor interval=10s timeout=20s meta resource-stickiness=100`. */
export function parseResourceArgs(words: readonly string[]): ResourceArgs {
  const out: ResourceArgs = { params: {}, meta: {}, ops: [] };
  let section: "params" | "meta" | "op" = "params";
  let currentOp: OperationConfig | null = null;
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] ?? "";
    if (word === "op") {
      const name = words[i + 1];
      if (!name || !(OP_NAMES as readonly string[]).includes(name)) {
        throw new UsageError(
          `'op' must be followed by one of ${OP_NAMES.join(", ")}, e.g. 'op monitor interval=10s'`,
        );
      }
      currentOp = {
        name: name as OperationConfig["name"],
        intervalMs: name === "monitor" ? 10_000 : 0,
        timeoutMs: 20_000,
      };
      out.ops.push(currentOp);
      section = "op";
      i += 1;
      continue;
    }
    if (word === "meta") {
      section = "meta";
      continue;
    }
    const eq = word.indexOf("=");
    if (eq <= 0) throw new UsageError(`'${word}' is not of the form name=value`);
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (section === "params") out.params[key] = value;
    else if (section === "meta") out.meta[key] = value;
    else if (currentOp) {
      if (key === "interval") currentOp.intervalMs = durationArg(key, value);
      else if (key === "timeout") currentOp.timeoutMs = durationArg(key, value);
      else throw new UsageError(`unknown operation option '${key}'; use interval= or timeout=`);
    }
  }
  return out;
}

function durationArg(key: string, value: string): number {
  try {
    return parseDuration(value);
  } catch {
    throw new UsageError(`${key}=${value} is not a duration; use e.g. 10s, 500ms or 2min`);
  }
}
