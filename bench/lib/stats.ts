/** Pure statistics and small formatting helpers shared by the benches (unit-tested in stats.test.ts). */

export interface Stats {
  n: number;
  min: number;
  median: number;
  max: number;
}

/** Median of a non-empty list: the mean of the two middle values for an even count. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of an empty list");
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** min/median/max rounded to `digits` decimals; undefined for no samples (a system that never answered). */
export function stats(xs: readonly number[], digits = 0): Stats | undefined {
  if (xs.length === 0) return undefined;
  const r = (x: number): number => round(x, digits);
  return { n: xs.length, min: r(Math.min(...xs)), median: r(median(xs)), max: r(Math.max(...xs)) };
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** a / b as "1.23", or "-" when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined, digits = 2): string {
  if (a === undefined || b === undefined || b === 0 || !Number.isFinite(a / b)) return "-";
  return (a / b).toFixed(digits);
}

/** A markdown table with padded columns (readable as plain text on a terminal too). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  const line = (r: readonly string[]): string =>
    `| ${widths.map((w, c) => (r[c] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** 1/5/15-minute load averages rounded to 2 decimals. */
export function roundedLoad(load: readonly number[]): number[] {
  return load.map((x) => round(x, 2));
}
