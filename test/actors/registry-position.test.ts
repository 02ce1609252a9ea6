/**
 * How far a registry knows the log goes (`streamPosition`, the mark a stopping gateway leaves
 * for the next: src/events/continuity.ts). Its own appends count as soon as they are
 * acknowledged, before its follower delivers them: a gateway that stops right after its last
 * booking must leave a mark through that booking. Real nats-server; the follower's deliveries
 * are held back, as a loaded machine delays them.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { Registry } from '../../src/actors/registry.js';
import { openEventStore } from '../../src/events/open.js';
import type { EventStore, FollowOptions } from '../../src/events/store.js';
import { STREAM_NAME } from '../../src/events/subjects.js';
import { newId } from '../../src/ids.js';
import { newReference } from '../../src/actors/reference.js';
import { TEST_CATALOG } from '../support/guichet.js';
import { startNats, type TestNats } from '../support/nats.js';

/** The store, with its follower's live deliveries held until `release()`. */
function withLaggingFollower(store: EventStore): { store: EventStore; hold(): void; release(): void; held(): number } {
  let holding = false;
  const queue: Array<() => void> = [];
  const later = (fn: () => void) => (holding ? void queue.push(fn) : fn());
  const lagging: EventStore = Object.create(store);
  lagging.follow = (options: FollowOptions) =>
    store.follow({
      ...options,
      onEvent: (event) => later(() => options.onEvent(event)),
      onPosition: (seq, pending) => later(() => options.onPosition?.(seq, pending)),
    });
  return {
    store: lagging,
    hold: () => void (holding = true),
    release: () => {
      holding = false;
      for (const fn of queue.splice(0)) fn();
    },
    held: () => queue.length,
  };
}

const Position = suite<{ nats: TestNats; nc: NatsConnection }>('registry: how far it knows the log goes');
Position.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.nc = await ctx.nats.connect();
});
Position.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

Position('its own acknowledged appends count before its follower delivers them', async ({ nc }) => {
  const store = await openEventStore(nc, { replicas: 1, waitMs: 5_000 });
  const follower = withLaggingFollower(store);
  const registry = new Registry({ store: follower.store, catalog: TEST_CATALOG, source: 'gw-test' });
  await registry.start();
  follower.hold();
  try {
    const hold = newId();
    await registry.execute('c1', { type: 'Hold', hold, holder: 'conn', seats: [1, 2] });
    await registry.execute('c1', { type: 'Book', hold, holder: 'conn', firstName: 'Ada', lastName: 'Lovelace', reference: newReference() });
    const last = (await store.streamInfo(STREAM_NAME))!.state.last_seq;
    assert.is(last, 4, 'two seats held, then booked');
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(follower.held() > 0, 'the follower has delivered none of them');
    assert.is(registry.streamPosition, last);
    follower.release();
    assert.is(registry.streamPosition, last, 'and the follower catching up changes nothing');
  } finally {
    follower.release();
    await registry.stop();
  }
});

Position.run();
