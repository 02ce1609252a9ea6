/**
 * How far a gateway is behind its stream: events the follower has not delivered yet, and how
 * long ago the oldest of them was stored. Read when the metrics are scraped (two JetStream
 * requests at most, none per command), each bounded by a timeout: a NATS that does not answer
 * must not hang the scrape (the readiness probe says NATS is away).
 */
import type { EventStore } from '../events/store.js';
import { STREAM_NAME } from '../events/subjects.js';

export interface Lag {
  /** The stream's last sequence. */
  lastSeq: number;
  /** Messages after the follower's position. */
  events: number;
  /** Seconds since the first message the follower has not delivered was stored (0 when none). */
  seconds: number;
}

export async function readLag(store: EventStore, position: number, timeoutMs: number, now = Date.now()): Promise<Lag | undefined> {
  const info = await bounded(store.streamInfo(STREAM_NAME), timeoutMs);
  if (!info) return undefined;
  const lastSeq = info.state.last_seq;
  const events = Math.max(0, lastSeq - position);
  if (events === 0) return { lastSeq, events, seconds: 0 };
  // The oldest undelivered message, not the last delivered one: a gateway idle for an hour
  // that has not yet seen a message stored 1 ms ago is 1 ms behind, not an hour.
  const next = await bounded(store.jsm.direct.getMessage(STREAM_NAME, { seq: position + 1 }), timeoutMs);
  const seconds = next ? Math.max(0, (now - next.time.getTime()) / 1000) : 0;
  return { lastSeq, events, seconds };
}

/** The promise's value, or undefined when it fails or takes longer than `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}
