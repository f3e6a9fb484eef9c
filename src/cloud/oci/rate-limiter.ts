import { abortReason, type Clock } from "../../clock/clock.ts";
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
export class TokenBucket {
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
  async take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortReason(signal);
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return;
    const waitMs = Math.ceil((-this.#tokens / this.limit.perSecond) * 1000);
    try {
      await this.clock.sleep(waitMs, signal);
    } catch (error) {
      this.#tokens += 1;
      throw error;
    }
  }

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
