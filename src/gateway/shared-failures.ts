/**
 * Failed look-ups (LOOKUP/CANCEL) per address, counted in a JetStream KV bucket that every
 * gateway on one NATS shares, so that the per-address figure (20 a minute) holds whatever the
 * number of gateways behind a load balancer: counted per gateway, each new gateway gave the
 * same address 20 more guesses a minute.
 *
 * The bucket is `guichet_limits` (src/events/limits-kv.ts stores it; entries live one window).
 * One key per address (`lookup.<address>`) holds the times of its recent failures; a change
 * is a compare-and-set, retried on a conflict, so gateways counting at once lose nothing.
 *
 * While NATS is unreachable (or slow to answer), the gateway falls back to its own counts,
 * which it keeps all the time: the same limits then hold per gateway, as before the bucket,
 * for as long as the outage lasts. Refusing every look-up instead would lock honest people out
 * of their bookings for an outage they cannot see, while the guessing it would prevent is at
 * most 20 a minute per address and gateway.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { LIMITS_BUCKET, LimitsKv } from '../events/limits-kv.js';
import { FailureLimiter, verdictOf, type RateLimitOptions, type Verdict } from './rate-limit.js';
import type { Logger } from './log.js';

/** A bucket operation slower than this counts as NATS being away (a frozen server answers nothing). */
const OPERATION_TIMEOUT_MS = 1_500;
/** After a failed bucket operation, local counts only for this long, rather than a timeout per look-up. */
const BACK_OFF_MS = 5_000;
/** Compare-and-set retries when other gateways write the same key at the same moment. */
const CAS_ATTEMPTS = 8;

/** One key per address; a key is one subject token of [A-Za-z0-9-_] (an IPv6 /64 has ':' and '/'). */
export function bucketKey(address: string): string {
  return address.replace(/[^A-Za-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The bucket as the look-up limits use it: read, change and write one address's failure times. */
export class FailureBucket {
  /**
   * The update in progress per key: this gateway's updates of one key go one after the
   * other, so that a burst of parallel look-ups from one address does not make it race
   * itself (and run out of compare-and-set attempts); only other gateways can conflict.
   */
  private readonly inProgress = new Map<string, Promise<unknown>>();

  private constructor(
    private readonly kv: LimitsKv,
    private readonly windowMs: number,
  ) {}

  /** Opens the bucket, creating its stream when missing; an address's entry lives one window. */
  static async open(nc: NatsConnection, options: { windowMs: number; replicas?: number }): Promise<FailureBucket> {
    const kv = await LimitsKv.open(nc, {
      // An address with no failure for a window needs no entry: its count is zero.
      maxAgeMs: options.windowMs,
      timeoutMs: OPERATION_TIMEOUT_MS,
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    });
    return new FailureBucket(kv, options.windowMs);
  }

  /**
   * Applies `change` to the failure times of `address` (those within the window), atomically
   * against the other gateways; resolves with what `change` returned.
   */
  update<T>(address: string, now: number, change: (times: number[]) => { times?: number[]; result: T }): Promise<T> {
    const key = `lookup.${bucketKey(address)}`;
    const previous = this.inProgress.get(key) ?? Promise.resolve();
    // One that failed fails those queued behind it at once: NATS is away, each would only wait
    // out its own timeout; they fall back to the local counts together.
    const next = previous.then(() => this.compareAndSet(key, now, change));
    this.inProgress.set(key, next);
    const forget = () => {
      if (this.inProgress.get(key) === next) this.inProgress.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  private async compareAndSet<T>(key: string, now: number, change: (times: number[]) => { times?: number[]; result: T }): Promise<T> {
    for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
      const entry = await this.kv.read(key);
      const stored = entry.value === undefined ? [] : parseTimes(entry.value);
      const { times, result } = change(stored.filter((t) => t > now - this.windowMs));
      if (!times) return result;
      if (await this.kv.compareAndSet(key, JSON.stringify({ failures: times }), entry.revision)) return result;
    }
    throw new Error(`${CAS_ATTEMPTS} compare-and-set conflicts in a row on ${key}`);
  }
}

function parseTimes(text: string): number[] {
  try {
    const value = JSON.parse(text) as { failures?: unknown };
    return Array.isArray(value.failures) ? value.failures.filter((t): t is number => typeof t === 'number') : [];
  } catch {
    return []; // an unreadable entry is an empty count, rewritten by the next failure
  }
}

/** What a look-up was allowed, and how to take back its failure counted in advance. */
export type Attempt = { allowed: false; retryAfterMs: number } | { allowed: true; delayMs: number; forgive(): Promise<void> };

/**
 * Per-address failure limits: from the shared bucket when it answers, else from this
 * gateway's own counts (always kept, so a fallback starts from what this gateway saw).
 */
export class AddressFailures {
  private readonly local: FailureLimiter;
  private backOffUntil = 0;
  private saidAt = 0;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly bucket: FailureBucket | undefined,
    private readonly io: { now(): number; reachable(): boolean; log: Logger },
  ) {
    this.local = new FailureLimiter(options, io.now);
  }

  /** Refused, or allowed with a failure counted in advance (taken back by `forgive` on success). */
  async attempt(address: string): Promise<Attempt> {
    const localVerdict = this.local.check(address);
    const now = this.io.now();
    let verdict: Verdict = localVerdict;
    let shared = false;
    if (this.bucket && this.io.reachable() && now >= this.backOffUntil) {
      try {
        verdict = await this.bucket.update<Verdict>(address, now, (times) => {
          const v = verdictOf(times, this.options, now);
          return v.allowed ? { times: [...times, now].slice(-this.options.maxFailures), result: v } : { result: v };
        });
        shared = true;
      } catch (err) {
        this.backOffUntil = this.io.now() + BACK_OFF_MS;
        if (this.io.now() - this.saidAt > 60_000) {
          this.saidAt = this.io.now();
          this.io.log.warn(`look-up limits: the shared counts in ${LIMITS_BUCKET} do not answer (${(err as Error).message}); this gateway's own counts apply meanwhile`);
        }
      }
    }
    if (!verdict.allowed) return verdict;
    this.local.fail(address);
    return {
      allowed: true,
      delayMs: verdict.delayMs,
      forgive: async () => {
        this.local.forgive(address);
        if (!shared || !this.bucket || !this.io.reachable()) return;
        // Best effort: a failure not taken back only makes the address's budget one smaller for a window.
        await this.bucket
          .update(address, this.io.now(), (times) => {
            const i = times.lastIndexOf(now);
            return i < 0 ? { result: undefined } : { times: [...times.slice(0, i), ...times.slice(i + 1)], result: undefined };
          })
          .catch(() => undefined);
      },
    };
  }

  sweep(): void {
    this.local.sweep();
  }
}
