import type { Bounds, ScenarioStats, Violation } from "./invariant-checker.ts";

export interface ChaosReport {
  seed: number;
  minutes: number;
  bounds: Bounds;
  scenarios: ScenarioStats[];
  violations: Violation[];
  /** Scenarios this host could not run, with why (e.g. no libfaketime). */
  skipped: Record<string, string>;
  /** How this host ran some scenario differently (e.g. loss without jitter where the kernel lacks netem). */
  notes: string[];
  ok: boolean;
}

/** The printed table: one row per scenario, totals last, then each violation on its own line. */
export function formatReport(report: ChaosReport): string {
  const b = report.bounds;
  const heading =
    `chaos seed ${report.seed}, ${report.minutes} min; bounds: convergence ${b.convergenceMs / 1000} s after faults stop, ` +
    `local VIP overlap ${b.localOverlapMs / 1000} s, VIP kept without quorum ${b.noQuorumStopMs / 1000} s`;
  const header = [
    "scenario",
    "runs",
    "cloud moves",
    "invariant violations",
    "false failovers",
    "max client outage",
  ];
  const rows = report.scenarios.map((s) => [
    s.scenario,
    String(s.runs),
    String(s.moves),
    String(s.violations),
    String(s.falseFailovers),
    `${Math.round(s.maxOutageMs)} ms`,
  ]);
  const sum = (f: (s: ScenarioStats) => number): string =>
    String(report.scenarios.reduce((n, s) => n + f(s), 0));
  rows.push([
    "total",
    sum((s) => s.runs),
    sum((s) => s.moves),
    sum((s) => s.violations),
    sum((s) => s.falseFailovers),
    `${Math.round(report.scenarios.reduce((m, s) => Math.max(m, s.maxOutageMs), 0))} ms`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  const out = [heading, line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
  for (const [name, why] of Object.entries(report.skipped)) out.push(`skipped ${name}: ${why}`);
  for (const note of report.notes) out.push(`note: ${note}`);
  for (const v of report.violations) {
    out.push(
      `VIOLATION [${v.scenario}] ${new Date(v.at).toISOString()} ${v.falseFailover ? "(false failover) " : ""}${v.what}`,
    );
  }
  out.push(report.ok ? "result: PASS" : `result: FAIL (seed ${report.seed} reproduces the sequence)`);
  return out.join("\n");
}
