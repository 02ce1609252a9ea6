/**
 * Snapshots: a gateway starts from each concert's snapshot and replays only the rest of the
 * log, and ends up with exactly the seats a full replay gives. A snapshot the log does not
 * confirm is ignored. Real nats-server, real gateways.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { Guichet } from '../../src/guichet.js';
import { SnapshotStream } from '../../src/events/snapshots.js';
import { ConcertSnapshots } from '../../src/actors/snapshot-store.js';
import { client, TEST_SNAPSHOT_KEY, recordingLog, rejectsWith, startNats, startNode, TEST_CATALOG, type TestNats } from '../support/guichet.js';
import type { GuichetClient } from '../../src/cli/client.js';

const Snapshots = suite<{ nats: TestNats }>('snapshots');

Snapshots.before(async (ctx) => {
  ctx.nats = await startNats();
});
Snapshots.after(async (ctx) => {
  await ctx.nats?.stop();
});

/** Without snapshots: the full replay every other start is compared with. */
const FULL_REPLAY = { snapshotIntervalMs: 0 };

function assertSameSeats(actual: Guichet, expected: Guichet): void {
  for (const concert of TEST_CATALOG) {
    assert.equal(actual.registry.state(concert.id)?.seats, expected.registry.state(concert.id)?.seats, `seats of ${concert.id}`);
  }
}

async function book(c: GuichetClient, concert: string, seat: number, last = 'Curie'): Promise<string> {
  const hold = await c.request<{ hold: string }>('HOLD', concert, seat);
  return (await c.request<{ reference: string }>('BOOK', hold.hold, 'Marie', last)).reference;
}

Snapshots('a gateway stopped in good order leaves snapshots; the next starts from them and replays only what came after', async ({ nats }) => {
  const first = await startNode(nats);
  const c = await client(first);
  const kept = await book(c, 'c1', 1);
  const cancelled = await book(c, 'c1', 2);
  await c.request('CANCEL', cancelled, 'Curie');
  await book(c, 'c2', 10);
  await c.request('HOLD', 'c2', 5); // a live hold, in the snapshot as held
  await first.close(); // writes the snapshots; its connection's hold is released first
  c.close();

  // More events after the snapshots, written by a gateway that neither reads nor writes them.
  const other = await startNode(nats, FULL_REPLAY);
  const o = await client(other);
  const later = await book(o, 'c1', 3, 'Meitner');
  await o.request('CANCEL', kept, 'Curie');
  o.close();
  await other.close();

  const fromSnapshots = await startNode(nats);
  const full = await startNode(nats, FULL_REPLAY);
  try {
    const total = full.startup.events;
    console.log(`  full replay: ${total} events; from snapshots: ${fromSnapshots.startup.events} events from sequence ${fromSnapshots.startup.fromSeq}, ${fromSnapshots.startup.snapshots.used} snapshots`);
    assert.is(fromSnapshots.startup.snapshots.used, TEST_CATALOG.length, 'every concert from its snapshot');
    assert.equal(fromSnapshots.startup.snapshots.ignored, []);
    assert.ok(fromSnapshots.startup.events > 0 && fromSnapshots.startup.events < total, `replayed ${fromSnapshots.startup.events} of ${total}`);
    assertSameSeats(fromSnapshots, full);
    // The reference index is rebuilt from the snapshot too: lookups and cancellations work.
    const d = await client(fromSnapshots);
    assert.is((await d.request<{ seat: number }>('LOOKUP', later, 'Meitner')).seat, 3);
    await rejectsWith(d.request('LOOKUP', kept, 'Curie'), 'NOT_FOUND');
    // A cancelled reference is never issued again, including those the snapshot covers.
    for (const reference of [cancelled, kept]) {
      assert.ok(fromSnapshots.registry.isReferenceTaken(reference), `${reference} (cancelled) counts as taken`);
      assert.ok(full.registry.isReferenceTaken(reference));
    }
    await rejectsWith(d.request('HOLD', 'c2', 10), 'SEAT_TAKEN');
    await d.request('CANCEL', later, 'Meitner');
    d.close();
  } finally {
    await fromSnapshots.close();
    await full.close();
  }
});

Snapshots('snapshots written every 50 ms while two gateways book: a start from them equals a full replay', async ({ nats }) => {
  const a = await startNode(nats, { snapshotIntervalMs: 50 });
  const b = await startNode(nats, { snapshotIntervalMs: 50 });
  const clients = await Promise.all([a, b, a, b].map((node) => client(node)));
  let seat = 11;
  const references: string[] = [];
  // Two clients per gateway race for the same seats; every fourth booking is cancelled.
  const started = Date.now();
  while (Date.now() - started < 1_500 && seat <= 100) {
    const s = seat++;
    const results = await Promise.allSettled(clients.map((c) => book(c, 'c1', s)));
    for (const r of results) if (r.status === 'fulfilled') references.push(r.value);
    if (references.length % 4 === 0 && references.length > 0) await clients[0]!.request('CANCEL', references.at(-1)!, 'Curie').catch(() => undefined);
  }
  clients.forEach((c) => c.close());
  // Cut off from NATS before they stop: no snapshot at stop, only the periodic ones, the
  // last of which may be behind the log.
  for (const node of [a, b]) {
    await node.nc.close();
    await node.registry.stop();
    await node.gateway.close();
  }

  const fromSnapshots = await startNode(nats);
  const full = await startNode(nats, FULL_REPLAY);
  try {
    console.log(`  ${references.length} bookings over 2 gateways; a start replayed ${fromSnapshots.startup.events} of ${full.startup.events} events, from ${fromSnapshots.startup.snapshots.used} snapshots`);
    assert.is(fromSnapshots.startup.snapshots.used, TEST_CATALOG.length);
    assertSameSeats(fromSnapshots, full);
  } finally {
    await fromSnapshots.close();
    await full.close();
  }
});

Snapshots('a snapshot the log does not confirm is ignored, and that concert replayed in full', async ({ nats }) => {
  const writer = await startNode(nats, FULL_REPLAY);
  const stream = new SnapshotStream(writer.store, TEST_SNAPSHOT_KEY);
  await stream.ensure(1);
  const store = new ConcertSnapshots(stream);
  const c = await client(writer);
  await book(c, 'c1', 50);
  await book(c, 'c2', 1);
  c.close();
  const end = writer.registry.streamPosition;
  const c1 = writer.registry.state('c1')!;
  const c2 = writer.registry.state('c2')!;
  // c1: claims a last event the log does not have at that sequence (a log restored from an older copy).
  await store.write({ state: { ...c1, seats: c1.seats.map(() => ({ kind: 'free' as const })) }, throughSeq: end, lastSeq: 1, lastEventId: '01HZZZZZZZZZZZZZZZZZZZZZZZ', cancelledReferences: [] });
  // c2: claims to cover more of the log than there is.
  await store.write({ state: c2, throughSeq: end + 100, lastSeq: end, lastEventId: 'x', cancelledReferences: [] });
  await writer.close();

  const log = recordingLog();
  const problems = log.warnings;
  const node = await startNode(nats, { log });
  const full = await startNode(nats, FULL_REPLAY);
  try {
    console.log(`  ${problems.join('\n  ')}`);
    assert.is(node.startup.snapshots.used, 0);
    assert.is(node.startup.snapshots.ignored.length, 2);
    assert.match(problems.join('\n'), /snapshot ignored, replaying in full: c1: the log has not its last event 01HZZZZZZZZZZZZZZZZZZZZZZZ at 1/);
    assert.match(problems.join('\n'), /c2: it covers the log through \d+, the log ends at \d+/);
    assert.is(node.startup.fromSeq, 1);
    assertSameSeats(node, full);
    assert.is(node.registry.state('c1')!.seats[49]!.kind, 'booked');
  } finally {
    await node.close();
    await full.close();
  }
});

Snapshots.run();
