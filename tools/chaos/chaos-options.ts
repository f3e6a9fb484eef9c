import { randomInt } from "node:crypto";
import { parseArgs } from "node:util";

/** What `npm run test:chaos -- ...` was asked to do. */
export interface ChaosOptions {
  seed: number;
  minutes: number;
  /** Print the table as JSON too (after the text table). */
  json: boolean;
  /** Also write the JSON table to this file. */
  jsonFile: string | null;
  /** Only these scenarios (null: all that this host can run). */
  scenarios: string[] | null;
}

export const usage =
  "usage: npm run test:chaos -- [--seed N] [--minutes M] [--scenarios A,B,...] [--json] [--json-file PATH]";

/** Parses the command line; a bad value is a one-line FLOATIP_E_CHAOS_ARGS error, never a stack trace. */
export function parseChaosOptions(argv: readonly string[], known: readonly string[]): ChaosOptions {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        seed: { type: "string" },
        minutes: { type: "string" },
        scenarios: { type: "string" },
        json: { type: "boolean" },
        "json-file": { type: "string" },
      },
    }).values;
  } catch (error) {
    throw argsError(`${(error as Error).message.split("\n")[0] ?? "bad arguments"}; ${usage}`);
  }
  const seed = values.seed === undefined ? randomInt(1, 2 ** 31) : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw argsError(`--seed must be an integer from 0 to ${2 ** 32 - 1}, not ${values.seed}`);
  }
  const minutes = values.minutes === undefined ? 10 : Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) {
    throw argsError(`--minutes must be a number above 0 and at most 1440, not ${values.minutes}`);
  }
  let scenarios: string[] | null = null;
  if (values.scenarios !== undefined) {
    scenarios = values.scenarios
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    const unknown = scenarios.filter((s) => !known.includes(s));
    if (scenarios.length === 0 || unknown.length > 0) {
      throw argsError(
        `unknown scenario ${unknown.join(", ") || "(none given)"}; pick from ${known.join(", ")}`,
      );
    }
  }
  return { seed, minutes, json: values.json === true, jsonFile: values["json-file"] ?? null, scenarios };
}

function argsError(what: string): Error {
  return new Error(`FLOATIP_E_CHAOS_ARGS: ${what}`);
}
