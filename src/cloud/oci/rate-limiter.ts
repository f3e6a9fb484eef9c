import { abortReason, type Clock, type TimerHandle } from "../../clock/clock.ts";
import { OciCloudError } from "./errors.ts";

/** Environment variable: Core API calls per second this node may make, "perSecond" or "perSecond/burst". */
export const RATE_LIMIT_ENV = "FLOATIP_OCI_RATE_LIMIT";

export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** "10" or "10/20" (burst defaults to one second's worth); throws FLOATIP_E_OCI_SETTINGS_INVALID otherwise. */
export function parseRateLimit(text: string): RateLimit {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d+))?\s*$/.exec(text);
  const perSecond = Number(m?.[1]);
  const burst = m?.[2] === undefined ? Math.max(1, Math.floor(perSecond)) : Number(m[2]);
  if (!m || !(perSecond > 0) || !(burst >= 1)) {
    throw new OciCloudError(
      "FLOATIP_E_OCI_SETTINGS_INVALID",
      `${RATE_LIMIT_ENV}=${text} is not valid; use calls per second with an optional burst, e.g. 10 or 10/20`,
    );
  }
  return { perSecond, burst };
}

/**
 * The pacer for Core API calls: the fixed limit FLOATIP_OCI_RATE_LIMIT asks for, else one that learns the
 * API's limit from its 429 answers.
 */
export function callPacerFromEnv(env: Readonly<Record<string, string | undefined>>, clock: Clock): CallPacer {
  return rateLimiterFromEnv(env, clock) ?? new AdaptivePacer(clock);
}

/** The limiter the environment asks for, or undefined when the variable is unset or empty. */
export function rateLimiterFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  clock: Clock,
): TokenBucket | undefined {
  const text = env[RATE_LIMIT_ENV]?.trim();
  return text ? new TokenBucket(parseRateLimit(text), clock) : undefined;
}

/**
 * A client-side token bucket for Core API calls. When many VIPs move at once (a node with hundreds of them
 * is lost), sending every call at once only earns 429s whose retries back off for seconds; pacing the calls
 * at the rate the API allows moves them all sooner. Callers are served in order: each take() reserves the
 * next token, so the balance may go negative and a caller waits until its own token has accrued.
 */
export class TokenBucket implements CallPacer {
  #tokens: number;
  #at: number;

  constructor(
    readonly limit: RateLimit,
    private readonly clock: Clock,
  ) {
    this.#tokens = limit.burst;
    this.#at = clock.now();
  }

  /** Waits for a token; a cancelled wait gives its reservation back. */
  async take(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) throw abortReason(signal);
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return this.clock.now();
    const waitMs = Math.ceil((-this.#tokens / this.limit.perSecond) * 1000);
    try {
      await this.clock.sleep(waitMs, signal);
    } catch (error) {
      this.#tokens += 1;
      throw error;
    }
    return this.clock.now();
  }

  answered(): void {}

  /** The API said 429: the real budget is smaller than ours (other clients share it), so start from empty. */
  throttled(): void {
    this.#refill();
    this.#tokens = Math.min(this.#tokens, 0);
  }

  /** Tokens available now (negative: reserved ahead by waiting callers). */
  available(): number {
    this.#refill();
    return this.#tokens;
  }

  #refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.#at);
    this.#at = now;
    this.#tokens = Math.min(this.limit.burst, this.#tokens + (elapsed / 1000) * this.limit.perSecond);
  }
}

/** What OciSdkApi asks before each Core API attempt and tells after each answer. */
export interface CallPacer {
  /**
   * Waits for this attempt's turn and resolves with the time it was let through. `again`: the attempt was
   * just answered 429 and is sent once more; it goes before attempts that have not been sent yet.
   */
  take(signal?: AbortSignal, options?: { again?: boolean }): Promise<number>;
  /** The API answered 429 to an attempt let through at `sentAt`. */
  throttled(sentAt?: number): void;
  /** The API answered anything but 429: the attempt used the API's budget. */
  answered(): void;
}

/** How often the adaptive pacer revises its rate, and the window its admitted rate is measured over. */
const WINDOW_MS = 1000;
/** The first revision after a 429 comes sooner: the rate set on that 429 is only a guess. */
const FIRST_WINDOW_MS = 250;
const MIN_RATE = 1;
/** Pacing starts at least this fast: the first 429 may come before the answers that measure the limit. */
const FIRST_RATE = 10;
const MAX_RATE = 1000;
/** Paced a little above what the API admitted, so its budget is never left unused while calls wait. */
const PROBE_ABOVE = 1.1;
/** Backlogged and no 429 for a whole window: the API may allow more. */
const GROW = 1.5;
/** No 429 for this long and nothing waiting: stop pacing, so a lone call is never delayed. */
const OPEN_AFTER_MS = 30_000;

interface Waiter {
  resolve: (sentAt: number) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * The default Core API pacer: sends freely until the API answers 429, then paces at the rate the API
 * admitted (measured over the last second) plus 10 %, revised every second: down to what was admitted
 * when 429s keep coming, up by half when calls wait and none come. The API's budget is shared with other
 * nodes and clients and is not published (OCI sends no Retry-After the SDK honours), so it is learnt.
 * A 429 costs the API nothing, while a storm of them retried with backoff costs seconds and attempts; paced,
 * a throttled attempt is sent again before anything new, without using one of floatip's retries.
 */
export class AdaptivePacer implements CallPacer {
  /** Calls per second, or undefined while not pacing. */
  #rate: number | undefined;
  readonly #queue: Waiter[] = [];
  #timer: TimerHandle | undefined;
  #lastSent = Number.NEGATIVE_INFINITY;
  /** Answer times within the last WINDOW_MS. */
  readonly #answers: number[] = [];
  #window = { start: 0, length: WINDOW_MS, throttled: 0, backlog: false };
  #lastThrottle = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: Clock) {}

  /** The pacing rate in calls per second, undefined while calls go out unpaced. */
  rate(): number | undefined {
    this.#revise(this.clock.now());
    return this.#rate;
  }

  take(signal?: AbortSignal, options: { again?: boolean } = {}): Promise<number> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const now = this.clock.now();
    this.#revise(now);
    if (this.#queue.length === 0 && now >= this.#nextSlot()) {
      this.#lastSent = now;
      return Promise.resolve(now);
    }
    this.#window.backlog = true;
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.#queue.indexOf(waiter);
          if (at >= 0) this.#queue.splice(at, 1);
          reject(abortReason(signal!));
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      if (options.again === true) this.#queue.unshift(waiter);
      else this.#queue.push(waiter);
      this.#schedule();
    });
  }

  throttled(sentAt?: number): void {
    const now = this.clock.now();
    this.#revise(now);
    this.#lastThrottle = now;
    if (this.#rate === undefined) {
      this.#prune(now);
      this.#rate = clampRate(Math.max(FIRST_RATE, this.#answers.length / (WINDOW_MS / 1000)));
      this.#window = { start: now, length: FIRST_WINDOW_MS, throttled: 0, backlog: false };
      return;
    }
    // A 429 to an attempt sent before this window says nothing about the current rate.
    if (sentAt === undefined || sentAt >= this.#window.start) this.#window.throttled++;
  }

  answered(): void {
    const now = this.clock.now();
    this.#answers.push(now);
    this.#revise(now);
  }

  #nextSlot(): number {
    return this.#rate === undefined ? Number.NEGATIVE_INFINITY : this.#lastSent + 1000 / this.#rate;
  }

  #prune(now: number): void {
    while (this.#answers.length > 0 && this.#answers[0]! <= now - WINDOW_MS) this.#answers.shift();
  }

  #revise(now: number): void {
    this.#prune(now);
    if (this.#rate === undefined) return;
    const w = this.#window;
    if (now - w.start < w.length) return;
    const stale = now - w.start > w.length + 2 * WINDOW_MS;
    if (stale) {
      // Quiet since the window began: the answers of the last second do not measure the API's limit.
      if (this.#queue.length === 0 && now - this.#lastThrottle >= OPEN_AFTER_MS) this.#rate = undefined;
    } else if (w.throttled > 0) {
      this.#rate = clampRate((this.#answers.length / (WINDOW_MS / 1000)) * PROBE_ABOVE);
    } else if (w.backlog) {
      this.#rate = clampRate(Math.max(this.#rate, this.#answers.length) * GROW);
    } else if (this.#queue.length === 0 && now - this.#lastThrottle >= OPEN_AFTER_MS) {
      this.#rate = undefined;
    }
    this.#window = { start: now, length: WINDOW_MS, throttled: 0, backlog: this.#queue.length > 0 };
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#queue.length === 0) return;
    const wait = Math.max(0, this.#nextSlot() - this.clock.now());
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#release();
    }, Math.ceil(wait));
  }

  #release(): void {
    const now = this.clock.now();
    this.#revise(now);
    // The rate may have dropped since this timer was set: wait for the slot the new rate gives.
    if (now >= this.#nextSlot()) {
      const waiter = this.#queue.shift();
      if (waiter) {
        this.#lastSent = now;
        waiter.signal?.removeEventListener("abort", waiter.onAbort);
        waiter.resolve(now);
      }
    }
    this.#schedule();
  }
}

function clampRate(rate: number): number {
  return Math.min(MAX_RATE, Math.max(MIN_RATE, rate));
}
