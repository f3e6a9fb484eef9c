import assert from "node:assert/strict";
import { test } from "node:test";
import { runChaos } from "../tools/chaos/chaos-runner.ts";
import { formatReport } from "../tools/chaos/report-table.ts";

/**
 * The short form of `npm run test:chaos`: a fixed seed over a small set of CTS-style scenarios for about
 * a minute and a half on the emulated OCI bed. Any invariant violation or false failover fails it; the
 * table (with the seed that replays the sequence) is printed either way.
 */
const isRoot = process.getuid?.() === 0;
const SEED = 20261125;
const SCENARIOS = [
  "NodeLoss",
  "ComponentFail",
  "Reattach",
  "ResourceRecover",
  "SplitBrain",
  "CloudFaults",
  "ClockJump",
];

void test(
  `chaos, seed ${SEED}, 1.5 min: no invariant violation and no false failover`,
  { skip: !isRoot, timeout: 420_000 },
  async (t) => {
    const report = await runChaos({
      seed: SEED,
      minutes: 1.5,
      scenarios: SCENARIOS,
      log: (line) => t.diagnostic(line),
    });
    for (const line of formatReport(report).split("\n")) t.diagnostic(line);
    const runs = report.scenarios.reduce((n, s) => n + s.runs, 0);
    assert.ok(runs >= 4, `at least 4 scenarios ran (${runs})`);
    assert.deepEqual(
      report.violations.map((v) => `[${v.scenario}] ${v.what}`),
      [],
    );
    assert.equal(
      report.scenarios.reduce((n, s) => n + s.falseFailovers, 0),
      0,
    );
    assert.equal(report.ok, true);
  },
);
