/**
 * Opaque handle of a scheduled timer. Real timers and manual timers hand out different objects; callers
 * only pass it back to the clock that created it.
 */
export interface TimerHandle {
  readonly __timerHandle: unique symbol;
}

/**
 * The only source of time and timers in floatip. Every layer with timing logic takes a Clock, so tests
 * drive time with a ManualClock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since an arbitrary epoch; only differences are meaningful (the system clock uses Date.now). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
  /** Resolves after `ms`; rejects with the signal's reason if the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The error a cancelled sleep rejects with when the signal carries no reason of its own. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

/** Shared sleep on top of setTimeout/clearTimeout so both clocks cancel the same way. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(abortReason(signal as AbortSignal));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
