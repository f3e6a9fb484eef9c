import { performance } from "node:perf_hooks";
import { ApiError } from "./api-error.ts";

/**
 * Everything a test can do to make the cloud misbehave: slow answers, the next N calls failing, a full outage,
 * a request-rate limit, a changed IAM policy, a skewed server clock. Durations use a monotonic clock so they
 * run in real time even when the emulator clock is injected.
 */

export type InjectedFailureStatus = 500 | 502 | 503 | 429;

export interface RateLimit {
  perSecond: number;
  burst?: number;
}

export interface FaultSettings {
  latencyMs: number;
  failNext: { count: number; status: InjectedFailureStatus } | null;
  outageRemainingMs: number | null;
  rateLimit: RateLimit | null;
  permissions: string[];
  clockSkewMs: number;
}

const FAILURE_CODES: Record<InjectedFailureStatus, string> = {
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  429: "TooManyRequests",
};

export function isInjectedFailureStatus(value: unknown): value is InjectedFailureStatus {
  return value === 500 || value === 502 || value === 503 || value === 429;
}

export class FaultControl {
  latencyMs = 0;
  clockSkewMs = 0;
  permissions: string[];
  private failures: { count: number; status: InjectedFailureStatus } | null = null;
  private outageUntil: number | null = null;
  private limit: RateLimit | null = null;
  private bucket = { tokens: 0, refilledAt: 0 };

  constructor(options: { latencyMs?: number; rateLimit?: RateLimit | null; permissions: readonly string[] }) {
    this.latencyMs = options.latencyMs ?? 0;
    this.permissions = [...options.permissions];
    this.setRateLimit(options.rateLimit ?? null);
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** The next `count` Core calls answer `status` (after latency, before authentication). */
  failNext(count: number, status: InjectedFailureStatus): void {
    this.failures = count > 0 ? { count, status } : null;
  }

  /** Every Core call answers 503 for `ms`; null ends an outage early. */
  outage(ms: number | null): void {
    this.outageUntil = ms === null ? null : performance.now() + ms;
  }

  setRateLimit(limit: RateLimit | null): void {
    if (limit !== null && !(limit.perSecond > 0)) throw new Error("rateLimit.perSecond must be positive");
    this.limit = limit;
    this.bucket = {
      tokens: limit === null ? 0 : (limit.burst ?? limit.perSecond),
      refilledAt: performance.now(),
    };
  }

  setPermissions(statements: readonly string[]): void {
    this.permissions = [...statements];
  }

  setClockSkew(ms: number): void {
    this.clockSkewMs = ms;
  }

  /** The injected failure this Core call gets, if any; consumes a failNext slot or a rate-limit token. */
  admit(): ApiError | undefined {
    const now = performance.now();
    if (this.outageUntil !== null) {
      if (now < this.outageUntil) {
        return new ApiError(503, "ServiceUnavailable", "The service is unavailable (injected outage)");
      }
      this.outageUntil = null;
    }
    if (this.failures !== null) {
      const { status } = this.failures;
      this.failures = this.failures.count > 1 ? { status, count: this.failures.count - 1 } : null;
      return new ApiError(status, FAILURE_CODES[status], `Injected failure ${status}`);
    }
    if (this.limit !== null && !this.takeToken(this.limit, now)) {
      return new ApiError(
        429,
        "TooManyRequests",
        "You have issued too many requests to the Oracle Cloud Infrastructure APIs in too short of an amount of time",
      );
    }
    return undefined;
  }

  describe(): FaultSettings {
    const remaining = this.outageUntil === null ? null : Math.max(0, this.outageUntil - performance.now());
    return {
      latencyMs: this.latencyMs,
      failNext: this.failures === null ? null : { ...this.failures },
      outageRemainingMs: remaining === 0 ? null : remaining,
      rateLimit: this.limit === null ? null : { ...this.limit },
      permissions: [...this.permissions],
      clockSkewMs: this.clockSkewMs,
    };
  }

  private takeToken(limit: RateLimit, now: number): boolean {
    const capacity = limit.burst ?? limit.perSecond;
    const refill = ((now - this.bucket.refilledAt) / 1000) * limit.perSecond;
    this.bucket = { tokens: Math.min(capacity, this.bucket.tokens + refill), refilledAt: now };
    if (this.bucket.tokens < 1) return false;
    this.bucket.tokens -= 1;
    return true;
  }
}
