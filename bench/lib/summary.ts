import { existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * bench/results/summary.md holds one section per bench between markers, so each bench replaces only its
 * own section and a re-run of one bench keeps the others' figures.
 */
const TITLE =
  "# Bench summary\n\nEach section is rewritten by its bench; details in bench/results/<name>.json.\n";

export function replaceSection(text: string, name: string, body: string): string {
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${begin}\n${body.trim()}\n${end}`;
  const base = text.trim() ? text : TITLE;
  const from = base.indexOf(begin);
  const to = base.indexOf(end);
  if (from >= 0 && to > from) return `${base.slice(0, from)}${section}${base.slice(to + end.length)}`;
  // Sections keep a fixed order whatever bench ran first.
  return `${base.trimEnd()}\n\n${section}\n`;
}

export function updateSummary(file: string, name: string, body: string): void {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  writeFileSync(file, replaceSection(text, name, body));
}

/** "met" / "MISSED" / "-" (not measured) for a value against an upper bound. */
export function goal(value: number | undefined, limit: number): string {
  if (value === undefined || !Number.isFinite(value)) return "-";
  return value <= limit ? "met" : "MISSED";
}
