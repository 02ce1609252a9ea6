/**
 * Slows then refuses a key (a connection, an address) that fails too often: booking
 * references are 9 random digits, and guessing one together with its last name must stay
 * impractical. Failures are counted in a sliding window.
 */
export interface RateLimitOptions {
  /** Failures in the window after which the key is refused. */
  maxFailures: number;
  /** Failures in the window after which each attempt is delayed. */
  slowAfter: number;
  windowMs: number;
  /** Delay per failure past `slowAfter`, capped at `maxDelayMs`. */
  delayStepMs: number;
  maxDelayMs: number;
}

export type Verdict = { allowed: false; retryAfterMs: number } | { allowed: true; delayMs: number };

/** The verdict for a key whose failures within the window happened at `times` (oldest first). */
export function verdictOf(times: readonly number[], options: RateLimitOptions, now: number): Verdict {
  const { maxFailures, slowAfter, windowMs, delayStepMs, maxDelayMs } = options;
  if (times.length >= maxFailures) return { allowed: false, retryAfterMs: times[times.length - maxFailures]! + windowMs - now };
  const over = times.length - slowAfter + 1;
  return { allowed: true, delayMs: over > 0 ? Math.min(maxDelayMs, over * delayStepMs) : 0 };
}

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  check(key: string): Verdict {
    return verdictOf(this.recent(key), this.options, this.now());
  }

  fail(key: string): void {
    const times = this.recent(key);
    times.push(this.now());
    this.failures.set(key, times.slice(-this.options.maxFailures));
  }

  /** Takes back the latest failure: an attempt counted in advance that succeeded. */
  forgive(key: string): void {
    const times = this.recent(key);
    times.pop();
    if (times.length === 0) this.failures.delete(key);
  }

  /** Forgets keys with no failure in the window (call now and then: memory stays bounded). */
  sweep(): void {
    for (const key of this.failures.keys()) if (this.recent(key).length === 0) this.failures.delete(key);
  }

  get size(): number {
    return this.failures.size;
  }

  private recent(key: string): number[] {
    const since = this.now() - this.options.windowMs;
    const times = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }
}

/** Per connection: a few tries, then slowed, then refused for a minute. */
export const CONNECTION_LIMIT: RateLimitOptions = { maxFailures: 5, slowAfter: 3, windowMs: 60_000, delayStepMs: 500, maxDelayMs: 2_000 };
/** Per address: more room (several people behind one NAT), the same minute. */
export const ADDRESS_LIMIT: RateLimitOptions = { maxFailures: 20, slowAfter: 10, windowMs: 60_000, delayStepMs: 250, maxDelayMs: 2_000 };
