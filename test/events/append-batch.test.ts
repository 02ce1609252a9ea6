/**
 * `EventStore.appendBatch` against a real nats-server (2.12+, atomic batch publish): the
 * events of a batch are all stored with consecutive sequences or none; a wrong expected
 * sequence is a conflict; a batch sent again (its ack lost) is stored once; the server's
 * in-flight limit is not a failure; an existing stream gets `allow_atomic` in place.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { StorageType, jetstreamManager } from '@nats-io/jetstream';
import { decodeEvent, type EventEnvelope } from '../../src/events/envelope.js';
import { AppendConflict, PublishRefused, EventStore, MAX_BATCH_EVENTS, compareVersions } from '../../src/events/store.js';
import { ALL_EVENTS, STREAM_NAME, subjectFor } from '../../src/events/subjects.js';
import { newId } from '../../src/ids.js';
import { startNats, type TestNats } from '../support/nats.js';

interface Ctx {
  nats: TestNats;
  nc: NatsConnection;
  store: EventStore;
}

let concerts = 0;
/** A fresh concert per test, so that tests do not share a subject. */
const freshConcert = () => `c${++concerts}`;

function held(concert: string, seat: number, hold = newId()): Extract<EventEnvelope, { type: 'SeatHeld' }> {
  return {
    id: newId(),
    type: 'SeatHeld',
    v: 1,
    concert,
    at: new Date().toISOString(),
    source: 'test',
    data: { seat, hold, holder: 'conn', expiresAt: new Date(Date.now() + 60_000).toISOString() },
  };
}

const heldSeats = (concert: string, n: number) => Array.from({ length: n }, (_, i) => held(concert, i + 1));

/** The concert's events in the log, in order, with their sequences. */
async function logOf(store: EventStore, concert: string): Promise<{ seq: number; id: string }[]> {
  return (await store.readConcert(concert, 0)).map((e) => ({ seq: e.seq, id: e.id }));
}

const Batch = suite<Ctx>('EventStore.appendBatch');

Batch.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.nc = await ctx.nats.connect();
  ctx.store = await EventStore.open(ctx.nc);
  await ctx.store.ensureStream();
});

Batch.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

Batch('stores every event of a batch, with consecutive sequences, and resolves with the last', async ({ store }) => {
  const c = freshConcert();
  const before = held(c, 9);
  const first = await store.append(before, { expectedLastSeq: 0 });
  const events = heldSeats(c, 4);
  const last = await store.appendBatch(events, { expectedLastSeq: first });
  assert.is(last, first + 4);
  assert.equal(await logOf(store, c), [before, ...events].map((e, i) => ({ seq: first + i, id: e.id })));
  assert.is(await store.lastSeqOf(c), last);
});

Batch('a batch of one event is a plain publish (and still checks the expected sequence)', async ({ store }) => {
  const c = freshConcert();
  const seq = await store.appendBatch([held(c, 1)], { expectedLastSeq: 0 });
  assert.is(await store.lastSeqOf(c), seq);
  const err = await store.appendBatch([held(c, 2)], { expectedLastSeq: 0 }).catch((e: Error) => e);
  assert.instance(err, AppendConflict);
});

Batch('a wrong expected sequence: AppendConflict with the subject\'s last sequence, and none of the batch stored', async ({ store }) => {
  const c = freshConcert();
  const stored = await store.appendBatch(heldSeats(c, 2), { expectedLastSeq: 0 });
  const before = await store.position();
  const err = await store.appendBatch([held(c, 5), held(c, 6), held(c, 7)], { expectedLastSeq: stored - 1 }).catch((e: Error) => e);
  assert.instance(err, AppendConflict);
  assert.is((err as AppendConflict).lastSeq, stored);
  assert.is((await store.position()).lastSeq, before.lastSeq, 'nothing of the refused batch in the stream');
  assert.is((await logOf(store, c)).length, 2);
});

Batch('a batch refused for another reason stores none of its events', async ({ store }) => {
  const c = freshConcert();
  const old = held(c, 1);
  const seq = await store.append(old, { expectedLastSeq: 0 });
  // The second event reuses a stored id: the server refuses the batch whole.
  const batch = [held(c, 2), { ...held(c, 3), id: old.id }, held(c, 4)];
  const err = await store.appendBatch(batch, { expectedLastSeq: seq }).catch((e: Error) => e);
  assert.instance(err, PublishRefused);
  assert.is((err as PublishRefused).errCode, 10201);
  assert.equal(await logOf(store, c), [{ seq, id: old.id }]);
});

Batch('JetStream refuses a batch sent again (10201, not the first sequences as for one message): appendBatch finds it stored and answers its sequence', async ({ store }) => {
  const c = freshConcert();
  const events = heldSeats(c, 3);
  const last = await store.appendBatch(events, { expectedLastSeq: 0 });
  // The same events again, as after an acknowledgement that never came.
  const again = await store.appendBatch(events, { expectedLastSeq: 0 });
  assert.is(again, last);
  assert.equal((await logOf(store, c)).map((e) => e.id), events.map((e) => e.id), 'stored once');
});

Batch('an acknowledgement lost (the server frozen past the timeout): the retry stores the batch once and answers its sequence', async ({ store, nats }) => {
  const c = freshConcert();
  const events = heldSeats(c, 5);
  nats.pause();
  const resume = setTimeout(() => nats.resume(), 700);
  try {
    const started = Date.now();
    const last = await store.appendBatch(events, { expectedLastSeq: 0, timeoutMs: 400, attempts: 4 });
    assert.ok(Date.now() - started >= 650, 'the first attempt timed out and was sent again');
    assert.is(last, (await logOf(store, c)).at(-1)!.seq);
    assert.equal((await logOf(store, c)).map((e) => e.id), events.map((e) => e.id), 'stored once, in order');
  } finally {
    clearTimeout(resume);
    nats.resume();
  }
});

Batch('more batches at once than the server takes in flight per stream (50): all are stored', async ({ store, nats }) => {
  // Two connections of 40 each (one store keeps its own under the limit), 80 concerts at once.
  const other = await nats.connect();
  try {
    const stores = [store, await EventStore.open(other)];
    const cs = Array.from({ length: 80 }, () => freshConcert());
    const lasts = await Promise.all(cs.map((c, i) => stores[i % 2]!.appendBatch(heldSeats(c, 3), { expectedLastSeq: 0 })));
    for (const [i, c] of cs.entries()) assert.is(await store.lastSeqOf(c), lasts[i], c);
  } finally {
    await other.close();
  }
});

Batch('events of a batch decode as they were written', async ({ store }) => {
  const c = freshConcert();
  const events = heldSeats(c, 2);
  await store.appendBatch(events, { expectedLastSeq: 0 });
  const jsm = await jetstreamManager(store.nc);
  const msg = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subjectFor(c) });
  assert.equal(decodeEvent(msg!.data), events[1]);
});

Batch('a batch past the server\'s 1,000 messages, or of two concerts, is refused before sending', async ({ store }) => {
  const c = freshConcert();
  const big = Array.from({ length: MAX_BATCH_EVENTS + 1 }, (_, i) => held(c, i + 1));
  const refusal = (events: EventEnvelope[]) => store.appendBatch(events, { expectedLastSeq: 0 }).then(() => '', (e: Error) => e.message);
  assert.match(await refusal(big), /at most 1000 events/);
  assert.match(await refusal([held(c, 1), held(freshConcert(), 1)]), /one concert/);
  assert.match(await refusal([]), /empty/);
  assert.is(await store.lastSeqOf(c), 0);
});

Batch.run();

// ================================================================== the stream's settings

const Settings = suite<Ctx>('TICKETS and atomic batches');

Settings.before(async (ctx) => {
  ctx.nats = await startNats();
  // Admin: the test makes a stream of an older guichet and updates it, which a gateway may not.
  ctx.nc = await ctx.nats.connectAs('admin');
  ctx.store = await EventStore.open(ctx.nc);
});

Settings.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

Settings('a stream made before atomic batches is updated in place, saying so, and keeps its events', async ({ nc, store }) => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: STREAM_NAME,
    subjects: [ALL_EVENTS],
    storage: StorageType.File,
    deny_delete: true,
    deny_purge: true,
    duplicate_window: 2 * 60 * 1_000_000_000,
    allow_direct: true,
  });
  const old = held('old', 1);
  await store.append(old, { expectedLastSeq: 0 });
  const notes: string[] = [];
  await store.ensureStream({ update: (config) => jsm.streams.update(STREAM_NAME, config).then(() => undefined), onUpdated: (line) => notes.push(line) });
  assert.is(notes.length, 1);
  assert.match(notes[0]!, /allow_atomic/);
  assert.ok((await jsm.streams.info(STREAM_NAME)).config.allow_atomic);
  assert.equal((await logOf(store, 'old')).map((e) => e.id), [old.id]);
  assert.is(await store.appendBatch(heldSeats('old', 2).map((e) => ({ ...e, data: { ...e.data, seat: e.data.seat + 1 } })), { expectedLastSeq: 1 }), 3);
  // Once on, nothing more to say.
  await store.ensureStream({ update: (config) => jsm.streams.update(STREAM_NAME, config).then(() => undefined), onUpdated: (line) => notes.push(line) });
  assert.is(notes.length, 1);
});

Settings('the server version: 2.12 or later', ({ nc }) => {
  assert.is(compareVersions('2.15.1', '2.12.0'), 1);
  assert.is(compareVersions('2.12.0', '2.12.0'), 0);
  assert.is(compareVersions('2.10.27', '2.12.0'), -1);
  assert.is(compareVersions('v2.9.10', '2.12.0'), -1);
  assert.is(compareVersions('3.0.0-beta.1', '2.12.0'), 1);
  assert.ok(compareVersions(nc.info?.version ?? '', '2.12.0') >= 0, `the installed nats-server (${nc.info?.version}) is 2.12+`);
});

Settings.run();
