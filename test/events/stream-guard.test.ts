/**
 * The stream guard's logic with an in-memory store: a check an advisory asked for that gets no
 * answer (NATS slow, a timeout) is asked again within a second, not only at the next round.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { StreamInfo } from '@nats-io/jetstream';
import { guardStream } from '../../src/events/stream-guard.js';
import type { EventStore } from '../../src/events/store.js';

test('an advisory whose check times out: asked again in a moment, and the deleted stream is told', async () => {
  let advisory: (() => void) | undefined;
  let asked = 0;
  const store = {
    nc: {
      isClosed: () => false,
      subscribe: (_subject: string, options: { callback: () => void }) => {
        advisory = options.callback;
        return { unsubscribe: () => undefined };
      },
    },
    streamInfo: async (): Promise<StreamInfo | undefined> => {
      asked++;
      if (asked === 1) throw new Error('timeout');
      return undefined; // gone
    },
  } as unknown as EventStore;
  const told: string[] = [];
  const started = Date.now();
  const guard = guardStream(store, { created: '2027-01-01T00:00:00Z', intervalMs: 3_600_000, onProblem: (m) => told.push(m) });
  try {
    advisory!();
    while (told.length === 0 && Date.now() - started < 3_000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(told, ['the TICKETS stream is gone (deleted)']);
    assert.is(asked, 2);
    assert.ok(Date.now() - started < 2_500, `told after ${Date.now() - started} ms`);
  } finally {
    guard.stop();
  }
});

test.run();
