import { ChaosBed, VIP, VIP_RESOURCE, NODES } from "./chaos-bed.ts";
import { InvariantChecker, type Bounds } from "./invariant-checker.ts";
import { ChaosRandom } from "./random-source.ts";
import type { ChaosReport } from "./report-table.ts";
import { convergence, type Sample } from "./sample.ts";
import { restoreBed, SCENARIOS, type ScenarioContext } from "./scenarios.ts";

export const BOUNDS: Bounds = {
  // Failure detection (1 s) + lease (6 s) + cloud check (2 s) + a move through a slow API, with margin.
  convergenceMs: 30_000,
  // A holder that is alive sees another holder at its next cloud check (every 2 s).
  localOverlapMs: 5_000,
  noQuorumStopMs: 3_000,
};
const SAMPLE_EVERY_MS = 150;
/** Converged means: converged in every sample for this long (a late move would show up). */
const SETTLE_MS = 2_000;

export interface RunOptions {
  seed: number;
  minutes: number;
  scenarios: string[] | null;
  log: (line: string) => void;
}

/**
 * Builds the bed, then runs seeded random scenarios until the time is up while a sampler checks the
 * invariants every ~150 ms; after each scenario it waits for the bed to converge within the bound.
 */
export async function runChaos(options: RunOptions): Promise<ChaosReport> {
  const rng = new ChaosRandom(options.seed);
  const { log } = options;
  const chaos = await ChaosBed.start(log);
  const checker = new InvariantChecker(BOUNDS, [VIP]);
  const skipped: Record<string, string> = {};
  const notes: string[] = [];
  if (
    chaos.impairment === "nftables" &&
    (options.scenarios === null || options.scenarios.includes("PacketLoss"))
  ) {
    notes.push(
      "PacketLoss: this kernel has no netem, links get 5 % random loss by nftables without delay or jitter",
    );
  }
  const selected = SCENARIOS.filter(
    (s) => options.scenarios === null || options.scenarios.includes(s.name),
  ).filter((s) => {
    const why = s.unavailable?.(chaos) ?? null;
    if (why !== null) skipped[s.name] = why;
    return why === null;
  });
  let latest: Sample | null = null;
  let sampling = true;
  let seenMoves = chaos.cloud.assignments.length;
  const sampler = (async () => {
    while (sampling) {
      const began = Date.now();
      try {
        const sample = await chaos.sample();
        for (const m of chaos.cloud.assignments.slice(seenMoves)) checker.move(m);
        seenMoves = chaos.cloud.assignments.length;
        checker.observe(sample);
        latest = sample;
      } catch (error) {
        log(`sample failed: ${(error as Error).message}`);
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(10, SAMPLE_EVERY_MS - (Date.now() - began))),
      );
    }
  })();

  const waitConverged = async (sinceMs: number, boundMs: number): Promise<string | null> => {
    const deadline = Date.now() + boundMs;
    let okSince: number | null = null;
    let why = "no sample";
    while (Date.now() < deadline + SETTLE_MS) {
      const s: Sample | null = latest;
      if (s !== null && s.at >= sinceMs) {
        const c = convergence(s, NODES, { [VIP]: VIP_RESOURCE });
        if (c.ok) {
          okSince ??= s.at;
          if (s.at - okSince >= SETTLE_MS) return null;
        } else {
          okSince = null;
          why = c.why;
          if (Date.now() > deadline) break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return why;
  };

  const runStarted = Date.now();
  const deadline = runStarted + options.minutes * 60_000;
  let aborted = false;
  try {
    const initial = await waitConverged(Date.now(), BOUNDS.convergenceMs);
    if (initial !== null) throw new Error(`FLOATIP_E_CHAOS: the new bed did not converge: ${initial}`);
    let k = 0;
    while (Date.now() < deadline && selected.length > 0) {
      const scenario = rng.pick(selected);
      const plan = scenario.plan(rng);
      k += 1;
      const t = Math.round((Date.now() - runStarted) / 1000);
      log(`[+${t}s] #${k} ${plan.row}`);
      const checks: ((s: Sample) => string | null)[] = [];
      const start = Date.now();
      checker.begin(plan.row, plan.rules, start);
      const ctx: ScenarioContext = {
        chaos,
        log: (line) => log(`    ${line}`),
        violation: (what) => checker.report(what, Date.now()),
        afterConvergence: (check) => checks.push(check),
        long: options.minutes >= 10,
      };
      try {
        await plan.run(ctx);
      } catch (error) {
        checker.report(
          `a step of ${plan.row} failed: ${(error as Error).message.split("\n")[0]}`,
          Date.now(),
        );
        await restoreBed(chaos);
      }
      const cleared = Date.now();
      checker.faultCleared(cleared);
      let why = await waitConverged(cleared, BOUNDS.convergenceMs);
      if (why !== null) {
        checker.report(
          `not converged ${BOUNDS.convergenceMs / 1000} s after the faults stopped: ${why}`,
          Date.now(),
        );
        await restoreBed(chaos);
        why = await waitConverged(Date.now(), BOUNDS.convergenceMs * 2);
        if (why !== null) {
          checker.report(`still not converged after restoring the bed: ${why}; run stopped`, Date.now());
          aborted = true;
        }
      }
      const end = Date.now();
      const s = latest as Sample | null;
      if (s !== null && why === null) {
        for (const check of checks) {
          const problem = check(s);
          if (problem !== null) checker.report(problem, end);
        }
      }
      const probed = chaos.probe.snapshot();
      const longest = probed.outages
        .filter((o) => {
          const at = chaos.probeStartedAt + o.startMs;
          return at >= start - 500 && at <= end;
        })
        .reduce((m, o) => Math.max(m, o.ms), 0);
      checker.outage(plan.row, longest);
      checker.end(end);
      log(
        `    converged after ${((end - cleared) / 1000).toFixed(1)} s; cloud holder ${chaos.cloud.holderOf(VIP)}; ` +
          `client ${probed.answered}/${probed.sent} answered, longest outage ${Math.round(longest)} ms`,
      );
      if (aborted) break;
    }
  } finally {
    sampling = false;
    await sampler;
    // A failed run keeps the daemon logs for the post-mortem.
    const kept = await chaos.destroy(checker.violations.length === 0 ? null : `seed${options.seed}`);
    if (kept !== null) log(`daemon and witness logs kept in ${kept}`);
  }
  return {
    seed: options.seed,
    minutes: options.minutes,
    bounds: BOUNDS,
    scenarios: checker.table(),
    violations: checker.violations,
    skipped,
    notes,
    ok: checker.violations.length === 0 && !aborted,
  };
}
