/**
 * A running gateway keeps an eye on the `TICKETS` stream: deleted, made again, or given
 * settings that could drop events (src/events/store.ts `streamProblems`), it must stop
 * writing rather than go on as if the log were whole — and never re-create it itself (a new
 * empty stream would let every gateway sell sold seats again).
 *
 * It hears JetStream's advisories for the stream (`$JS.EVENT.ADVISORY.STREAM.DELETED.TICKETS`,
 * `…UPDATED…`) at once, and asks for the stream's info every `intervalMs` besides, in case an
 * advisory was missed (a reconnect, a cluster node that went away). An advisory heard while a
 * check is in flight asks again once it is done (that check may have read the stream just
 * before the change). It tells `onProblem` once.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { StreamInfo } from '@nats-io/jetstream';
import type { EventStore } from './store.js';
import { streamProblems } from './store.js';
import { STREAM_NAME } from './subjects.js';

/** A check that could not get an answer is asked again after this long (or the interval, if shorter). */
const RETRY_MS = 1_000;

export interface StreamGuard {
  stop(): void;
}

export function guardStream(
  store: EventStore,
  options: { created: string; intervalMs: number; onProblem: (message: string) => void },
): StreamGuard {
  let stopped = false;
  let told = false;
  let checking = false;
  /** Asked for while a check was in flight: that check may have read the stream before the change. */
  let again = false;
  const check = async () => {
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      do {
        again = false;
        if (stopped || told || store.nc.isClosed()) return;
        try {
          const problem = describe(await store.streamInfo(STREAM_NAME), options.created);
          if (problem && !stopped && !told) {
            told = true;
            options.onProblem(problem);
          }
        } catch {
          // NATS away or slow: the connection watcher says so. Asked again in a moment, not at
          // the next round only: the check an advisory asked for is otherwise lost with it (a
          // stream deleted under a loaded CI machine went unnoticed for the test's 30 s).
          retrySoon();
        }
      } while (again);
    } finally {
      checking = false;
    }
  };
  let retry: NodeJS.Timeout | undefined;
  const retrySoon = () => {
    if (retry || stopped) return;
    retry = setTimeout(() => {
      retry = undefined;
      void check();
    }, Math.min(RETRY_MS, options.intervalMs));
    retry.unref();
  };
  const timer = setInterval(() => void check(), options.intervalMs);
  timer.unref();
  const advisories = subscribeAdvisories(store.nc, () => void check());
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(retry);
      advisories?.unsubscribe();
    },
  };
}

function subscribeAdvisories(nc: NatsConnection, onAdvisory: () => void): Subscription | undefined {
  try {
    return nc.subscribe(`$JS.EVENT.ADVISORY.STREAM.*.${STREAM_NAME}`, { callback: () => onAdvisory() });
  } catch {
    return undefined; // no permission: the periodic check still runs
  }
}

function describe(info: StreamInfo | undefined, created: string): string | undefined {
  if (!info) return `the ${STREAM_NAME} stream is gone (deleted)`;
  if (info.created !== created) return `the ${STREAM_NAME} stream was deleted and made again (created ${info.created}, was ${created})`;
  const problems = streamProblems(info.config);
  if (problems.length > 0) return `the ${STREAM_NAME} stream's settings changed: ${problems.join('; ')}`;
  return undefined;
}
