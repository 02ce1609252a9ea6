/**
 * `EventStore.readConcert`, the catch-up read after a conflict, when the connection it was
 * sent on is lost before the reply: it asks again on the new connection, within its deadline.
 * (The client's batched direct get waits 5 s for a reply that will never come, the whole
 * deadline: a follower node killed in the cluster test stopped every booking for 5 s.)
 * Real nats-server, killed while the read waits.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { EventStore } from '../../src/events/store.js';
import { connectNats } from '../../src/nats-connection.js';
import { newId } from '../../src/ids.js';
import { startNats, type TestNats } from '../support/nats.js';

const CatchUp = suite<{ nats: TestNats; nc: NatsConnection; store: EventStore }>('EventStore.readConcert across a lost connection');

CatchUp.before(async (ctx) => {
  ctx.nats = await startNats();
  // As a gateway connects: reconnecting at once, for ever.
  ctx.nc = await connectNats(ctx.nats.url, {}, { maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  ctx.store = await EventStore.open(ctx.nc);
  await ctx.store.ensureStream();
});

CatchUp.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

CatchUp('a read waiting on a server that is killed and restarted is asked again once reconnected', async ({ nats, store }) => {
  const concert = 'c-catch-up';
  const hold = newId();
  const expiresAt = new Date(Date.now() + 60_000).toISOString();
  const events: EventEnvelope[] = [1, 2, 3].map((seat) => ({ id: newId(), type: 'SeatHeld', v: 1, concert, at: new Date().toISOString(), source: 'test', data: { seat, hold, holder: 'conn', expiresAt } }));
  const last = await store.appendBatch(events, { expectedLastSeq: 0 });
  // Frozen first, so that the read's request is surely waiting when the server goes.
  nats.pause();
  const started = performance.now();
  const reading = store.readConcert(concert, 0, { untilSeq: last, timeoutMs: 5_000 });
  reading.catch(() => undefined); // awaited below
  await new Promise((r) => setTimeout(r, 200));
  await nats.restart();
  const read = await reading;
  const took = performance.now() - started;
  assert.equal(read.map((e) => e.id), events.map((e) => e.id));
  assert.ok(took < 5_000, `read in ${Math.round(took)} ms, within its deadline`);
});

CatchUp.run();
