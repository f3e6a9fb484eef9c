import type { Clock } from "../clock/clock.ts";
import type { ConfiguredDevice } from "./device-registry.ts";
import type { FenceAction, FenceAttempt, FenceResult } from "./types.ts";

export interface FenceRequestOptions {
  clock: Clock;
  /** Wall clock for the record (ms since the epoch). */
  wallNow: () => number;
  /** Deadline of one device attempt (stonith-timeout). */
  timeoutMs: number;
  /** Tries per device before the next device is tried (Pacemaker retries a failed device too). */
  attemptsPerDevice: number;
  /** Pause between two tries of one device. */
  retryDelayMs: number;
  signal?: AbortSignal;
  onAttempt?: (attempt: FenceAttempt) => void;
  /** For pcmk_delay_max; Math.random by default. */
  random?: () => number;
}

/**
 * Fences `node` with the first of `devices` that can and succeeds: each capable device in configuration
 * order (Pacemaker's level 1), each tried up to attemptsPerDevice times with a deadline per try. Every try
 * is recorded. Resolves with the result; rejects only when `signal` aborts.
 */
export async function fenceNode(
  devices: readonly ConfiguredDevice[],
  node: string,
  action: FenceAction,
  options: FenceRequestOptions,
): Promise<FenceResult> {
  const attempts: FenceAttempt[] = [];
  const capable = devices.filter((d) => d.device.canFence(node));
  if (capable.length === 0) {
    return {
      node,
      action,
      ok: false,
      device: null,
      attempts,
      message: `no fence device can fence ${node}; add one with 'floatip stonith create' (fence_oci needs the node's instance OCID or pcmk_host_map)`,
    };
  }
  let last: FenceAttempt | undefined;
  for (const { device, delayMs, delayByNode, delayMaxMs } of capable) {
    const random = delayMaxMs ? Math.floor((options.random ?? Math.random)() * delayMaxMs) : 0;
    const delay = (delayByNode?.get(node) ?? delayMs) + random;
    if (delay > 0) await options.clock.sleep(delay, options.signal);
    for (let attempt = 1; attempt <= options.attemptsPerDevice; attempt++) {
      if (attempt > 1) await options.clock.sleep(options.retryDelayMs, options.signal);
      const record = await attemptOnce(device, node, action, attempt, options);
      attempts.push(record.attempt);
      options.onAttempt?.(record.attempt);
      last = record.attempt;
      if (record.attempt.ok) {
        return {
          node,
          action,
          ok: true,
          device: device.id,
          ...(record.power ? { power: record.power } : {}),
          attempts,
          message: record.attempt.message,
        };
      }
    }
  }
  return {
    node,
    action,
    ok: false,
    device: last?.device ?? null,
    attempts,
    message: `all ${attempts.length} attempt(s) failed; last: ${last?.device ?? "?"}: ${last?.message ?? "?"}`,
  };
}

async function attemptOnce(
  device: ConfiguredDevice["device"],
  node: string,
  action: FenceAction,
  attempt: number,
  options: FenceRequestOptions,
): Promise<{ attempt: FenceAttempt; power?: "on" | "off" | "unknown" }> {
  const startedAt = options.wallNow();
  const started = options.clock.now();
  const controller = new AbortController();
  let timedOut = false;
  const timer = options.clock.setTimeout(() => {
    timedOut = true;
    controller.abort(new Error("fence attempt timed out"));
  }, options.timeoutMs);
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const record = (ok: boolean, message: string): FenceAttempt => ({
    device: device.id,
    attempt,
    startedAt,
    durationMs: options.clock.now() - started,
    ok,
    message,
  });
  try {
    const outcome = await device.run(node, action, {
      timeoutMs: options.timeoutMs,
      signal: controller.signal,
    });
    if (timedOut) return { attempt: record(false, `timed out after ${options.timeoutMs} ms`) };
    return {
      attempt: record(outcome.ok, outcome.message),
      ...(outcome.power ? { power: outcome.power } : {}),
    };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (timedOut) return { attempt: record(false, `timed out after ${options.timeoutMs} ms`) };
    return { attempt: record(false, error instanceof Error ? error.message : String(error)) };
  } finally {
    options.clock.clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}
