import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decide } from "./decide.ts";
import { parseGoldenCase, type GoldenRound } from "./golden-case.ts";
import type { Action, FenceRequest, PolicyDecision } from "./types.ts";

// The case format is documented at the top of golden-case.ts.
const dir = join(import.meta.dirname, "testdata");

const actionLine = (a: Action) => `${a.op} ${a.resource} ${a.node}`;

/** The outcome as the lines a case file would hold, so a mismatch reads as a diff of the file. */
function outcomeLines(
  actions: readonly Action[],
  placement: Readonly<Record<string, string | null>>,
  notes: readonly string[],
  fencing: readonly FenceRequest[] = [],
): string[] {
  const sortedActions = [
    ...actions.map(actionLine),
    ...fencing.map((f) => `fence ${f.node} ${f.action}`),
  ].sort();
  const places = Object.entries(placement)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, node]) => `place ${id} ${node ?? "-"}`);
  return [...sortedActions, ...places, ...notes.map((n) => `note ${n}`)];
}

function diff(expected: readonly string[], actual: readonly string[]): string {
  const lines: string[] = [];
  for (const line of expected) lines.push(`${actual.includes(line) ? " " : "-"} ${line}`);
  for (const line of actual) if (!expected.includes(line)) lines.push(`+ ${line}`);
  return lines.join("\n");
}

function check(round: GoldenRound, decision: PolicyDecision): void {
  // Notes are checked only when the case lists them, and then only for presence.
  const listedNotes = round.expectedNotes.filter((n) => decision.notes.includes(n));
  const expected = outcomeLines(
    round.expectedActions,
    round.expectedPlacement,
    round.expectedNotes,
    round.expectedFencing,
  );
  const actual = outcomeLines(decision.actions, decision.placement, listedNotes, decision.fencing);
  if (expected.join("\n") !== actual.join("\n")) {
    assert.fail(
      `round at line ${round.line}: outcome differs (- expected, + actual)\n${diff(expected, actual)}\n` +
        `all notes:\n${decision.notes.map((n) => `  ${n}`).join("\n")}`,
    );
  }
  assert.equal(new Set(decision.actions.map(actionLine)).size, decision.actions.length, "duplicate actions");
}

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith(".txt"))
  .sort()) {
  const text = readFileSync(join(dir, file), "utf8");
  const title = /^#\s*(.+)$/m.exec(text)?.[1] ?? "";
  void test(`${file.replace(/\.txt$/, "")}: ${title}`, () => {
    const rounds = parseGoldenCase(text);
    assert.ok(rounds.length > 0, "a case needs at least one round with expectations");
    for (const round of rounds) check(round, decide(round.input));
  });
}
