import assert from "node:assert/strict";
import { test } from "node:test";
import { formatReport } from "./report-table.ts";

void test("the table states the bounds, has a row per scenario and a total, lists violations and the seed", () => {
  const text = formatReport({
    seed: 9,
    minutes: 3,
    bounds: { convergenceMs: 30_000, localOverlapMs: 5000, noQuorumStopMs: 3000 },
    scenarios: [
      { scenario: "NodeLoss", runs: 2, violations: 0, falseFailovers: 0, moves: 1, maxOutageMs: 1234.4 },
      { scenario: "PacketLoss", runs: 1, violations: 1, falseFailovers: 1, moves: 1, maxOutageMs: 0 },
    ],
    violations: [
      {
        scenario: "PacketLoss",
        at: 0,
        what: "10.0.0.200 moved to node2 during PacketLoss",
        falseFailover: true,
      },
    ],
    skipped: { ClockJump: "libfaketime is not installed" },
    notes: ["PacketLoss: no netem"],
    ok: false,
  });
  const lines = text.split("\n");
  assert.match(lines[0] ?? "", /seed 9.*convergence 30 s after faults stop.*overlap 5 s/);
  assert.match(
    lines[1] ?? "",
    /scenario\s+runs\s+cloud moves\s+invariant violations\s+false failovers\s+max client outage/,
  );
  assert.match(text, /^NodeLoss\s+2\s+1\s+0\s+0\s+1234 ms$/m);
  assert.match(text, /^total\s+3\s+2\s+1\s+1\s+1234 ms$/m);
  assert.match(text, /skipped ClockJump: libfaketime/);
  assert.match(text, /note: PacketLoss: no netem/);
  assert.match(text, /VIOLATION \[PacketLoss\] .*\(false failover\) 10.0.0.200 moved/);
  assert.match(lines.at(-1) ?? "", /FAIL \(seed 9 reproduces/);
});
