import type { z } from "zod";

export type ConfigErrorCode =
  | "FLOATIP_E_CONFIG_INVALID"
  | "FLOATIP_E_CONFIG_CORRUPT"
  | "FLOATIP_E_CONFIG_EPOCH"
  | "FLOATIP_E_CONFIG_MISSING"
  | "FLOATIP_E_CONFIG_IO"
  | "FLOATIP_E_DURATION_INVALID";

export type ClusterKeyErrorCode =
  "FLOATIP_E_KEY_MISSING" | "FLOATIP_E_KEY_PERMS" | "FLOATIP_E_KEY_CORRUPT" | "FLOATIP_E_KEY_EXISTS";

/**
 * A problem with the cluster configuration a user has to act on. The message starts with the code and
 * ends with what to do, so the CLI can print it unchanged.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code: ConfigErrorCode;
  /** Dotted path of the first offending field (e.g. `nodes[0].addrs[0]`), when one is known. */
  readonly field?: string;

  constructor(code: ConfigErrorCode, detail: string, options: { field?: string; cause?: unknown } = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
  }
}

/** A problem with the heartbeat authentication key. Messages never include key material. */
export class ClusterKeyError extends Error {
  override readonly name = "ClusterKeyError";
  readonly code: ClusterKeyErrorCode;

  constructor(code: ClusterKeyErrorCode, detail: string, options: { cause?: unknown } = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

type Issue = z.core.$ZodIssue;

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Renders a zod path the way a user would write it in JavaScript: `resources[0].params.ip`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && identifier.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === "" ? "(document)" : out;
}

/** What is wrong with one field, in words a user editing the file understands. */
export function describeZodIssue(issue: Issue): string {
  switch (issue.code) {
    case "invalid_format":
      if (issue.format === "ipv4") return "must be an IPv4 address";
      return issue.message;
    case "invalid_type":
      // zod reports a missing field as "received undefined"; say it the way a user thinks of it.
      if (/received undefined$/.test(issue.message)) return `is missing (expected ${issue.expected})`;
      return `must be ${issue.expected === "array" || issue.expected === "object" ? "an" : "a"} ${issue.expected}`;
    case "invalid_key":
      return `has an invalid key: ${issue.issues.map((inner) => inner.message).join("; ")}`;
    default:
      return issue.message;
  }
}

/** One line per issue, `field.path: what is wrong`, in the order zod found them. */
export function formatZodIssues(issues: readonly Issue[]): string {
  return issues.map((issue) => `${formatIssuePath(issue.path)}: ${describeZodIssue(issue)}`).join("\n");
}
