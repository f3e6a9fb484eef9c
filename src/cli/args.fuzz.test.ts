import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseNodeList, parseResourceArgs, UsageError } from "./pcs-args.ts";
import {
  parseAlertCreateArgs,
  parseAlertUpdateArgs,
  parseIdList,
  parseRecipientAddArgs,
  parseRecipientUpdateArgs,
} from "./alert-commands.ts";
import {
  parseClearArgs,
  parseColocationArgs,
  parseDefaultsArgs,
  parseGroupAddArgs,
  parseLocationArgs,
  parseMoveArgs,
  parseNameValues,
  parseOrderArgs,
  parsePropertySetArgs,
  parseStandbyArgs,
  parseUpdateArgs,
} from "./resource-manager-commands.ts";
import { parseDeviceAdd, parseQuorumOptions } from "./quorum-commands.ts";
import { FenceUsageError, parseCommandLine, parseStdinOptions, validateOptions } from "./fence-agent.ts";

/*
 * Every CLI argument parser, with random token lists that include what a shell can pass and a terminal
 * must not receive: newlines, carriage returns, escape sequences. The per-family tests check that each
 * parser fails only with its usage error; this checks what the user then reads: one line, no raw control
 * characters, a message that says something. FLOATIP_FUZZ_SEED replays a run.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

const parsers: Record<string, (w: string[]) => unknown> = {
  parseNodeList,
  parseResourceArgs,
  parseUpdateArgs,
  parseNameValues: (w) => parseNameValues(w, "usage"),
  parseDefaultsArgs,
  parseMoveArgs: (w) => parseMoveArgs(w, "move"),
  parseBanArgs: (w) => parseMoveArgs(w, "ban"),
  parseClearArgs,
  parseGroupAddArgs: (w) => parseGroupAddArgs(w, {}),
  parseGroupAddArgsBefore: (w) => parseGroupAddArgs(w, { before: "A" }),
  parseLocationArgs,
  parseColocationArgs,
  parseOrderArgs,
  parsePropertySetArgs,
  parseStandbyArgs: (w) => parseStandbyArgs(w, false),
  parseStandbyAll: (w) => parseStandbyArgs(w, true),
  parseAlertCreateArgs,
  parseAlertUpdateArgs,
  parseRecipientAddArgs,
  parseRecipientUpdateArgs,
  parseIdList: (w) => parseIdList(w, "usage"),
  parseQuorumOptions,
  parseDeviceAdd,
  fenceCommandLine: (w) => validateOptions(parseCommandLine(w).options),
  fenceStdin: (w) => validateOptions(parseStdinOptions(w.join("\n")).options),
};

const vocabulary = [
  ...["op", "meta", "monitor", "start", "stop", "with", "then", "prefers", "avoids", "rule", "add", "remove"],
  ...["model", "net", "host=w", "port=0", "port=99999", "algorithm=lms", "heuristics", "wait_for_all=2"],
  ...["two_node=on", "id=c1", "kind=Serialize", "score=7", "lifetime=never", "interval=5s", "timeout=x"],
  ...["node1", "addr=", "=", "a=b", "type=script", "path=/x", "value=", "-o", "--action", "off", "--plug"],
  ...["-n", "--ip=1", "--bogus", "-Z", "action=reboot", "plug=", "power_timeout=x", ""],
];
/** Control characters a shell passes through ($'...') and that would break or hijack a terminal line. */
const hostile = fc
  .tuple(
    fc.string({ maxLength: 6 }),
    fc.constantFrom("\n", "\r", "\u001b[2J", "\u001b]0;pwned\u0007", "\t", "\u0000", "\u0085", "\u009b31m"),
    fc.string({ maxLength: 6 }),
    fc.constantFrom("", "=", "=v", "op", "x="),
  )
  .map(([a, c, b, shape]) =>
    shape.endsWith("=") || shape === "=v" ? `${a}${c}${b}${shape}` : `${shape}${a}${c}${b}`,
  );
const word = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...vocabulary) },
  { weight: 2, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 2, arbitrary: hostile },
);

function assertReadable(name: string, error: unknown): void {
  const known = error instanceof UsageError || error instanceof FenceUsageError;
  assert.ok(known, `${name} threw ${String(error)}${error instanceof Error ? `\n${error.stack}` : ""}`);
  const message = (error as Error).message;
  assert.ok(message.trim().length > 0, `${name}: empty message`);
  assert.doesNotMatch(message, /\p{Cc}/u, `${name}: control character in ${JSON.stringify(message)}`);
}

void test("fuzz: every CLI parser answers or fails with one readable line, whatever the shell passed", () => {
  const names = Object.keys(parsers);
  fc.assert(
    fc.property(fc.constantFrom(...names), fc.array(word, { maxLength: 8, size: "max" }), (name, words) => {
      try {
        parsers[name]?.(words);
      } catch (error) {
        assertReadable(name, error);
      }
    }),
    params(2000),
  );
});
