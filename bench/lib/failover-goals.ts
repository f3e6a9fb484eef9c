import { ratio } from "./stats.ts";

/** `cluster setup --token T` and the defaults take their heartbeat interval from the same rule. */
export { DEFAULT_HEARTBEAT_COPIES, DEFAULT_TOKEN_MS, heartbeatIntervalFor } from "../../src/config/schema.ts";

export interface NodeLossMedians {
  floatip?: number;
  seed?: number;
  keepalived?: number;
}

/**
 * Issue 8's goals for node loss, as report lines: at any setting the outage stays within the detection
 * timeout + L + 100 ms; at the defaults and L = 300 ms within 1.5 s, >= 5x shorter than the seed replay
 * and shorter than keepalived; tuned (a token given) at L = 100 ms within 0.5 s.
 */
export function nodeLossGoalLines(
  medians: NodeLossMedians,
  opts: { tokenMs: number; latencyMs: number; tuned: boolean },
): string[] {
  const f = medians.floatip;
  if (f === undefined) return [];
  const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");
  const bound = opts.tokenMs + opts.latencyMs + 100;
  const lines = [
    `- node loss, floatip median outage ${f} ms <= token ${opts.tokenMs} + L ${opts.latencyMs} + 100 = ${bound} ms: ${verdict(f <= bound)}`,
  ];
  if (!opts.tuned && opts.latencyMs === 300) {
    lines.push(
      `- node loss at the defaults, floatip median outage ${f} ms <= 1500 ms (at 300 ms latency): ${verdict(f <= 1500)}`,
    );
  }
  if (opts.tuned && opts.latencyMs === 100) {
    lines.push(
      `- node loss tuned (token ${opts.tokenMs} ms), floatip median outage ${f} ms <= 500 ms (at 100 ms latency): ${verdict(f <= 500)}`,
    );
  }
  if (medians.seed !== undefined) {
    lines.push(
      `- >= 5x shorter than the seed replay (${ratio(medians.seed, f)}x): ${verdict(medians.seed / f >= 5)}`,
    );
  }
  if (medians.keepalived !== undefined) {
    lines.push(
      `- shorter than keepalived + notify (${ratio(medians.keepalived, f)}x): ${verdict(medians.keepalived > f)}`,
    );
  }
  return lines;
}

/** `--token-ms`: absent = the defaults; otherwise a whole number of ms within the schema's 200-60000. */
export function parseTokenMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 200 || n > 60_000) {
    throw new RangeError(`--token-ms ${text}: expected whole ms from 200 to 60000`);
  }
  return n;
}
