/**
 * A booking load for the fault scenarios: workers, each on one gateway, loop HOLD → BOOK on
 * seats of their own while something is broken under them. Every request is bounded in time;
 * a worker whose connection closes reconnects (to the same port) and goes on. What each
 * client was told is kept, to compare with the log afterwards.
 */
import { GuichetClient } from '../../src/cli/client.js';
import { loopbackAddress, percentile, settle, sleep, sortedCounts, tally, type Counts, type Settled } from './faults.js';

export interface LoadOptions {
  /** The gateway port of each worker (its index modulo the list). */
  ports: readonly number[];
  workers: number;
  concert: string;
  capacity: number;
  durationMs: number;
  /** Pause between two cycles of a worker (ms). */
  paceMs: number;
  /** Every n-th hold of a worker is left to expire (0: none). */
  abandonEvery: number;
  /** The longest any request may wait (ms): longer is a TIMEOUT, a broken promise. */
  boundMs: number;
  /** BOOK again on the same hold after UNAVAILABLE, up to this many times (0: never). */
  bookRetries?: number;
  /** Called every time a request settles (to watch a phase, e.g. while NATS is down). */
  onSettled?: (verb: string, result: Settled<unknown>, sentAt: number, worker: number) => void;
}

export interface HoldTold {
  hold: string;
  seat: number;
  expiresAt: number;
  worker: number;
  abandoned: boolean;
}

export interface BookAttempt {
  hold: string;
  seat: number;
  /** The codes of each BOOK of this hold, in order (OK for success). */
  codes: string[];
}

export interface LoadResult {
  requests: number;
  codes: Record<string, Counts>;
  latencies: number[];
  timeouts: number;
  reconnects: number;
  connectFailures: number;
  booked: Map<string, { concert: string; seat: number }>;
  holds: Map<string, HoldTold>;
  books: BookAttempt[];
  maxLatencyMs: number;
}

export async function runBookingLoad(options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = {
    requests: 0,
    codes: {},
    latencies: [],
    timeouts: 0,
    reconnects: 0,
    connectFailures: 0,
    booked: new Map(),
    holds: new Map(),
    books: [],
    maxLatencyMs: 0,
  };
  const end = Date.now() + options.durationMs;
  const record = <T>(verb: string, r: Settled<T>, sentAt: number, worker: number): Settled<T> => {
    result.requests++;
    result.latencies.push(r.ms);
    result.maxLatencyMs = Math.max(result.maxLatencyMs, r.ms);
    tally([r.ok ? 'OK' : r.code], (result.codes[verb] ??= {}));
    if (!r.ok && r.code === 'TIMEOUT') result.timeouts++;
    options.onSettled?.(verb, r, sentAt, worker);
    return r;
  };
  const request = async <T>(worker: number, c: GuichetClient, verb: string, ...args: Array<string | number>): Promise<Settled<T>> => {
    const sentAt = Date.now();
    return record(verb, await settle(c.request<T>(verb, ...args), options.boundMs), sentAt, worker);
  };

  const worker = async (w: number): Promise<void> => {
    const port = options.ports[w % options.ports.length]!;
    let client: GuichetClient | undefined;
    let nextSeat = w + 1;
    let cycle = 0;
    let connectedOnce = false;
    try {
      while (Date.now() < end) {
        if (!client || client.closed) {
          client?.close();
          client = undefined;
          const c = await settle(GuichetClient.connect({ port, timeoutMs: 2_000, localAddress: loopbackAddress(w) }), 3_000);
          if (!c.ok) {
            result.connectFailures++;
            await sleep(100);
            continue;
          }
          client = c.value;
          if (connectedOnce) result.reconnects++;
          connectedOnce = true;
        }
        const seat = nextSeat;
        nextSeat += options.workers;
        if (nextSeat > options.capacity) nextSeat = w + 1;
        cycle++;
        const held = await request<{ hold: string; seat: number; expiresAt: string }>(w, client, 'HOLD', options.concert, seat);
        if (held.ok) {
          const abandoned = options.abandonEvery > 0 && (cycle + w) % options.abandonEvery === 0;
          const { hold, expiresAt } = held.value;
          result.holds.set(hold, { hold, seat, expiresAt: Date.parse(expiresAt), worker: w, abandoned });
          if (!abandoned) {
            const attempt: BookAttempt = { hold, seat, codes: [] };
            result.books.push(attempt);
            for (let tries = 0; ; tries++) {
              const b = await request<{ reference: string; seat: number; concert: string }>(w, client, 'BOOK', hold, 'Grace', 'Hopper');
              attempt.codes.push(b.ok ? 'OK' : b.code);
              if (b.ok) {
                result.booked.set(b.value.reference, { concert: b.value.concert, seat: b.value.seat });
                break;
              }
              if (b.code !== 'UNAVAILABLE' || tries >= (options.bookRetries ?? 0) || Date.now() > end + options.boundMs) break;
              await sleep(200);
            }
          }
        }
        await sleep(options.paceMs);
      }
    } finally {
      client?.close();
    }
  };

  await Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
  return result;
}

export function loadFigures(r: LoadResult): Record<string, unknown> {
  return {
    requests: r.requests,
    'replies by verb and code': Object.fromEntries(Object.entries(r.codes).map(([verb, counts]) => [verb, sortedCounts(counts)])),
    'latency ms p50/p99/max': `${percentile(r.latencies, 50).toFixed(0)}/${percentile(r.latencies, 99).toFixed(0)}/${r.maxLatencyMs.toFixed(0)}`,
    'requests unanswered within the bound': r.timeouts,
    reconnects: r.reconnects,
    'connect attempts refused': r.connectFailures,
    'holds told': r.holds.size,
    'references told': r.booked.size,
  };
}
