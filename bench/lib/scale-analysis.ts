/** Pure analysis of a mass failover (unit-tested in scale-analysis.test.ts). */

export interface AssignmentEvent {
  ip: string;
  node: string | null;
  at: number;
}

export interface CoreRequest {
  /** When the emulator answered (ms, same clock as `at` above). */
  time: number;
  status: number;
  /** "GET /privateIps" style: method and path without ids or query, see operationOf. */
  op?: string;
  /** Who called: the emulator's principal, e.g. "instance:node1". */
  caller?: string;
}

export interface MoveAnalysis {
  vips: number;
  moved: number;
  /** Loss -> the first of the victim's VIPs assigned to a survivor. */
  firstMoveMs?: number;
  /** Loss -> the last of them (undefined unless every one moved). */
  allMovedMs?: number;
  /** VIP count / rate: the least time the rate limit allows for one call per VIP. */
  boundMs: number;
  /** allMovedMs / boundMs. */
  ratio?: number;
  /** (allMovedMs - detectMs) / boundMs: the cloud part alone. */
  ratioAfterDetect?: number;
  coreCalls: number;
  throttled: number;
  /** 412 answers in the window: guarded writes with a stale ETag (a stale handover hint, a race). */
  preconditionFailed: number;
  callsPerVip?: number;
  /**
   * allMovedMs / (answered calls other than 429 / rate): against the least time the rate limit allows
   * for the calls the moves really needed (a move that costs two calls cannot beat 2 x VIPs / R).
   */
  ratioToCallBound?: number;
  /** Core calls in the window per operation, most frequent first. */
  byOp: Record<string, number>;
  /** Core calls in the window per caller. */
  byCaller: Record<string, number>;
  /** Core calls in the window per caller and operation ("instance:node1 PUT /privateIps/{id}"). */
  byCallerOp: Record<string, number>;
}

/** "GET /privateIps/{id}" from ("GET", "/20160918/privateIps/ocid1.privateip...?x=y"): no ids, no query. */
export function operationOf(method: string, path: string): string {
  const parts = path
    .split("?")[0]!
    .split("/")
    .filter((p) => p && p !== "20160918")
    .map((p) => (p.startsWith("ocid1.") ? "{id}" : p));
  return `${method} /${parts.join("/")}`;
}

/**
 * What happened to `victimVips` after `lossAt`: the first assignment of each VIP to another node than the
 * victim counts as its move; Core calls are those answered from the loss until the last move.
 */
export function analyseMove(input: {
  lossAt: number;
  victim: string;
  victimVips: readonly string[];
  assignments: readonly AssignmentEvent[];
  requests: readonly CoreRequest[];
  ratePerSecond: number;
  detectMs?: number;
}): MoveAnalysis {
  const moves = new Map<string, number>();
  const wanted = new Set(input.victimVips);
  for (const a of input.assignments) {
    if (a.at < input.lossAt || !wanted.has(a.ip) || a.node === null || a.node === input.victim) continue;
    if (!moves.has(a.ip)) moves.set(a.ip, a.at);
  }
  const times = [...moves.values()];
  const boundMs = (input.victimVips.length / input.ratePerSecond) * 1000;
  const all = moves.size === wanted.size && times.length > 0;
  const last = all ? Math.max(...times) : undefined;
  const end = last ?? Math.max(input.lossAt, ...input.requests.map((r) => r.time));
  const window = input.requests.filter((r) => r.time >= input.lossAt && r.time <= end);
  const allMovedMs = last === undefined ? undefined : last - input.lossAt;
  return {
    vips: wanted.size,
    moved: moves.size,
    ...(times.length ? { firstMoveMs: Math.min(...times) - input.lossAt } : {}),
    ...(allMovedMs === undefined ? {} : { allMovedMs }),
    boundMs,
    ...(allMovedMs === undefined || boundMs === 0 ? {} : { ratio: allMovedMs / boundMs }),
    ...(allMovedMs === undefined || input.detectMs === undefined || boundMs === 0
      ? {}
      : { ratioAfterDetect: (allMovedMs - input.detectMs) / boundMs }),
    coreCalls: window.length,
    throttled: window.filter((r) => r.status === 429).length,
    preconditionFailed: window.filter((r) => r.status === 412).length,
    ...(moves.size ? { callsPerVip: window.length / moves.size } : {}),
    ...(allMovedMs === undefined || window.length === 0
      ? {}
      : {
          ratioToCallBound:
            allMovedMs / ((window.filter((r) => r.status !== 429).length / input.ratePerSecond) * 1000),
        }),
    byOp: countBy(window.map((r) => r.op ?? "?")),
    byCaller: countBy(window.map((r) => r.caller ?? "?")),
    byCallerOp: countBy(window.map((r) => `${r.caller ?? "?"} ${r.op ?? "?"}`)),
  };
}

function countBy(keys: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

/** Per-second rates from two counter readings taken `ms` apart. */
export function ratePerSecond(before: number, after: number, ms: number): number {
  if (!(ms > 0)) throw new RangeError("the window must be longer than 0 ms");
  return ((after - before) * 1000) / ms;
}
