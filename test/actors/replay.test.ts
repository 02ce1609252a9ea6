/** The start-up fold: from a snapshot or the initial state, skipping what is already folded in. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ReplayFold } from '../../src/actors/replay.js';
import { evolve, initialState, stateOfSeats } from '../../src/actors/concert.js';
import type { ConcertSnapshot } from '../../src/actors/snapshot.js';
import type { Concert } from '../../src/catalog.js';
import type { DomainEvent, StoredEvent } from '../../src/events/envelope.js';

const concert = (id: string, capacity: number): Concert => ({ id, title: id, venue: 'Salle', date: '2027-01-01T20:00:00Z', capacity });
const CATALOG = [concert('c1', 4), concert('c2', 3)];

function at(seq: number, concert: string, event: DomainEvent): StoredEvent {
  return { id: `e${seq}`, v: 1, concert, at: '2027-01-01T19:00:00.000Z', source: 'gw-test', seq, ...event } as StoredEvent;
}
const held = (seat: number, hold = `h${seat}`): DomainEvent => ({
  type: 'SeatHeld',
  data: { seat, hold, holder: 'conn-1', expiresAt: '2027-01-01T20:02:00.000Z' },
});

/** c1's snapshot: seat 1 held by the event at 3, covering the log through 5. */
function snapshotOfC1(): ConcertSnapshot {
  return { state: evolve(initialState('c1', 4), held(1)), throughSeq: 5, lastSeq: 3, lastEventId: 'e3', cancelledReferences: [] };
}

const Start = suite('ReplayFold: where the replay begins');

Start('given no snapshots, then it begins at the first event', () => {
  assert.is(new ReplayFold(CATALOG, new Map()).fromSeq(100), 1);
});

Start('given a snapshot for one concert only, then it still begins at the first event (the other has none)', () => {
  assert.is(new ReplayFold(CATALOG, new Map([['c1', snapshotOfC1()]])).fromSeq(100), 1);
});

Start('given snapshots for every concert, then it begins after the lowest they cover', () => {
  const c2: ConcertSnapshot = { state: initialState('c2', 3), throughSeq: 8, lastSeq: 0, lastEventId: '', cancelledReferences: [] };
  const fold = new ReplayFold(CATALOG, new Map([['c1', snapshotOfC1()], ['c2', c2]]));
  assert.is(fold.fromSeq(100), 6);
  assert.is(fold.fromSeq(4), 5, 'never past the end of the log: then there is nothing to replay');
});

Start('given an empty log and no snapshots, then there is nothing to replay', () => {
  assert.is(new ReplayFold(CATALOG, new Map()).fromSeq(0), 1);
});

const Fold = suite('ReplayFold: the fold');

Fold('given no snapshot, when events are folded, then the states are those evolve gives and the last event is kept', () => {
  const fold = new ReplayFold(CATALOG, new Map());
  const events = [at(1, 'c1', held(2)), at(2, 'c2', held(3)), at(3, 'c1', { type: 'SeatReleased', data: { seat: 2, hold: 'h2', reason: 'declined' } }), at(4, 'c1', held(4))];
  assert.equal(events.map((e) => fold.fold(e)), [true, true, true, true]);
  const done = fold.finish();
  let c1 = initialState('c1', 4);
  for (const e of events.filter((e) => e.concert === 'c1')) c1 = evolve(c1, e);
  assert.equal(done.get('c1'), { state: c1, lastSeq: 4, lastId: 'e4' });
  assert.equal(done.get('c2'), { state: evolve(initialState('c2', 3), held(3)), lastSeq: 2, lastId: 'e2' });
});

Fold('given a snapshot, when events at or below its throughSeq come, then they are skipped and the one after is folded', () => {
  const fold = new ReplayFold(CATALOG, new Map([['c1', snapshotOfC1()]]));
  // The event at 3 is the snapshot's own last; 4 and 5 would be of other concerts in a true log,
  // but a snapshot says it covers them whatever they are.
  assert.is(fold.fold(at(3, 'c1', held(1))), false, 'at lastSeq');
  assert.is(fold.fold(at(4, 'c1', held(2))), false, 'below throughSeq');
  assert.is(fold.fold(at(5, 'c1', held(3))), false, 'at throughSeq');
  assert.is(fold.fold(at(6, 'c1', held(4))), true, 'after throughSeq');
  const c1 = fold.finish().get('c1')!;
  assert.equal(c1.state, evolve(evolve(initialState('c1', 4), held(1)), held(4)));
  assert.equal([c1.lastSeq, c1.lastId], [6, 'e6']);
});

Fold('given a snapshot and no later event, then its state and last event come back unchanged', () => {
  const fold = new ReplayFold(CATALOG, new Map([['c1', snapshotOfC1()]]));
  assert.equal(fold.finish().get('c1'), { state: snapshotOfC1().state, lastSeq: 3, lastId: 'e3' });
});

Fold('given an event delivered twice, then it is folded once', () => {
  const fold = new ReplayFold(CATALOG, new Map());
  assert.is(fold.fold(at(1, 'c2', held(1))), true);
  assert.is(fold.fold(at(1, 'c2', held(1))), false);
});

Fold('given an event of a concert not in the catalog, then it is not folded', () => {
  const fold = new ReplayFold(CATALOG, new Map());
  assert.is(fold.fold(at(1, 'gone', held(1))), false);
  assert.equal([...fold.finish().keys()], ['c1', 'c2']);
});

Fold("given a snapshot, when events are folded, then the snapshot's own state is left as it was", () => {
  const snapshot = snapshotOfC1();
  const before = stateOfSeats('c1', [...snapshot.state.seats]);
  const fold = new ReplayFold(CATALOG, new Map([['c1', snapshot]]));
  fold.fold(at(6, 'c1', held(2)));
  assert.equal(snapshot.state, before);
});

Start.run();
Fold.run();
