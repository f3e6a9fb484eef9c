import type { CloudMove, Sample } from "./sample.ts";

/** What a scenario is allowed to cause while it runs (from its first fault until the bed converged again). */
export interface ScenarioRules {
  /** A failure or an admin command that may move a VIP in the cloud. */
  mayMove: boolean;
  /** At most this many cloud moves per VIP (e.g. 1: no ping-pong during a partition). */
  maxMoves?: number;
  /**
   * While the fault is on, a node that cannot act (killed, cut off) may keep a VIP configured that the
   * cloud gave to another node; the overlap bound counts only from when the fault is cleared.
   */
  overlapWhileFaulted?: boolean;
}

export interface Bounds {
  /** Longest a VIP may stay configured on two nodes at once (outside exempt faults). */
  localOverlapMs: number;
  /** Longest a node may keep a VIP configured while it reports no quorum under no-quorum-policy=stop. */
  noQuorumStopMs: number;
  /** Longest the bed may take to converge after a scenario's faults are cleared. */
  convergenceMs: number;
}

export interface Violation {
  scenario: string;
  at: number;
  what: string;
  /** True when the violation is a cloud move nothing explains. */
  falseFailover: boolean;
}

export interface ScenarioStats {
  scenario: string;
  runs: number;
  violations: number;
  falseFailovers: number;
  moves: number;
  maxOutageMs: number;
}

interface Window {
  name: string;
  rules: ScenarioRules;
  start: number;
  faultClearedAt: number | null;
  end: number | null;
  moves: Map<string, number>;
}

/**
 * Checks the chaos invariants against samples and cloud moves. Pure: the runner feeds it what it saw and
 * when, and reads back violations and per-scenario counts.
 */
export class InvariantChecker {
  readonly violations: Violation[] = [];
  private readonly windows: Window[] = [];
  private readonly stats = new Map<string, ScenarioStats>();
  private readonly maxEpoch = new Map<string, number>();
  private readonly episodes = new Map<string, { since: number; reported: boolean }>();

  constructor(
    readonly bounds: Bounds,
    private readonly vips: readonly string[],
  ) {}

  begin(name: string, rules: ScenarioRules, at: number): void {
    const current = this.current(at);
    if (current && current.end === null) current.end = at;
    this.windows.push({ name, rules, start: at, faultClearedAt: null, end: null, moves: new Map() });
    this.row(name).runs += 1;
  }

  faultCleared(at: number): void {
    const w = this.windows.at(-1);
    if (w && w.faultClearedAt === null) w.faultClearedAt = at;
  }

  /** The bed converged (or gave up): moves after this are no longer explained by the scenario. */
  end(at: number): void {
    const w = this.windows.at(-1);
    if (w && w.end === null) {
      w.faultClearedAt ??= at;
      w.end = at;
    }
  }

  outage(name: string, ms: number): void {
    const row = this.row(name);
    row.maxOutageMs = Math.max(row.maxOutageMs, ms);
  }

  report(what: string, at: number, falseFailover = false): void {
    const scenario = this.current(at)?.name ?? "setup";
    this.violations.push({ scenario, at, what, falseFailover });
    const row = this.row(scenario);
    row.violations += 1;
    if (falseFailover) row.falseFailovers += 1;
  }

  /** A cloud move must fall inside a scenario that may move VIPs, and stay within its move budget. */
  move(m: CloudMove): void {
    const w = this.current(m.at);
    if (w === undefined) {
      this.report(`${m.ip} moved to ${m.node ?? "nowhere"} before any fault`, m.at, true);
      return;
    }
    this.row(w.name).moves += 1;
    const open = w.end === null || m.at <= w.end;
    if (!open) {
      this.report(`${m.ip} moved to ${m.node ?? "nowhere"} after ${w.name} had converged`, m.at, true);
      return;
    }
    if (!w.rules.mayMove) {
      this.report(
        `${m.ip} moved to ${m.node ?? "nowhere"} during ${w.name}, which must not move it`,
        m.at,
        true,
      );
      return;
    }
    const count = (w.moves.get(m.ip) ?? 0) + 1;
    w.moves.set(m.ip, count);
    if (w.rules.maxMoves !== undefined && count === w.rules.maxMoves + 1) {
      this.report(
        `${m.ip} moved ${count} times during ${w.name} (at most ${w.rules.maxMoves}): ping-pong`,
        m.at,
      );
    }
  }

  observe(sample: Sample): void {
    const at = sample.at;
    for (const vip of this.vips) {
      const holders = sample.cloudHolders[vip] ?? [];
      if (holders.length > 1)
        this.report(`${vip} has ${holders.length} cloud holders: ${holders.join(",")}`, at);
      const local = sample.nodes.filter((n) => n.localVips.includes(vip)).map((n) => n.node);
      this.episode(
        `overlap:${vip}`,
        local.length > 1 && !this.overlapExempt(at),
        at,
        this.bounds.localOverlapMs,
        () => `${vip} configured on ${local.join(" and ")} for over ${this.bounds.localOverlapMs} ms`,
      );
    }
    for (const { node, view, localVips } of sample.nodes) {
      if (view === null) continue;
      if (view.configEpoch !== null) {
        const max = this.maxEpoch.get(node) ?? -1;
        if (view.configEpoch < max) {
          this.report(`${node}: configuration epoch went back from ${max} to ${view.configEpoch}`, at);
        }
        this.maxEpoch.set(node, Math.max(max, view.configEpoch));
      }
      const stopWithoutQuorum = view.running && !view.quorate && view.noQuorumPolicy === "stop";
      this.episode(
        `quorum:${node}`,
        stopWithoutQuorum && localVips.length > 0,
        at,
        this.bounds.noQuorumStopMs,
        () => `${node} keeps ${localVips.join(",")} without quorum (no-quorum-policy=stop)`,
      );
    }
  }

  table(): ScenarioStats[] {
    return [...this.stats.values()].sort((a, b) => a.scenario.localeCompare(b.scenario));
  }

  private episode(key: string, active: boolean, at: number, boundMs: number, what: () => string): void {
    if (!active) {
      this.episodes.delete(key);
      return;
    }
    const e = this.episodes.get(key) ?? { since: at, reported: false };
    this.episodes.set(key, e);
    if (!e.reported && at - e.since > boundMs) {
      e.reported = true;
      this.report(what(), at);
    }
  }

  private overlapExempt(at: number): boolean {
    const w = this.current(at);
    return (
      w !== undefined &&
      w.rules.overlapWhileFaulted === true &&
      (w.faultClearedAt === null || at < w.faultClearedAt)
    );
  }

  /** The scenario whose window started last at or before `at`. */
  private current(at: number): Window | undefined {
    for (let i = this.windows.length - 1; i >= 0; i--) {
      const w = this.windows[i];
      if (w && w.start <= at) return w;
    }
    return undefined;
  }

  private row(scenario: string): ScenarioStats {
    let row = this.stats.get(scenario);
    if (!row) {
      row = { scenario, runs: 0, violations: 0, falseFailovers: 0, moves: 0, maxOutageMs: 0 };
      this.stats.set(scenario, row);
    }
    return row;
  }
}
