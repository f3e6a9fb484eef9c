import type { Clock } from "../../clock/clock.ts";

export interface BackoffPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay before retry number `retry` (0 = the first retry): exponential, capped, with "equal jitter"
 * (half fixed, half random) so many nodes hit by the same 429 burst do not retry in lockstep, while a
 * retry never comes immediately.
 */
export function backoffDelayMs(
  retry: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface RetryOptions<E = unknown> {
  policy: BackoffPolicy;
  clock: Clock;
  signal?: AbortSignal;
  isRetryable: (error: E) => boolean;
  /** Called before each sleep, e.g. to log the failed attempt. */
  onRetry?: (error: E, attempt: number, delayMs: number) => void;
  random?: () => number;
}

/** Calls `attempt` until it succeeds, a non-retryable error occurs, or the attempts are used up. */
export async function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (attemptNumber >= options.policy.maxAttempts || !options.isRetryable(error)) throw error;
      if (options.signal?.aborted) throw error;
      const delayMs = backoffDelayMs(attemptNumber - 1, options.policy, options.random);
      options.onRetry?.(error, attemptNumber, delayMs);
      await options.clock.sleep(delayMs, options.signal);
    }
  }
}
