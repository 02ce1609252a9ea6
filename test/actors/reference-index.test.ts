/** The reference index: reference → concert for live bookings, and every reference ever issued. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ReferenceIndex } from '../../src/actors/reference-index.js';
import { evolve, initialState } from '../../src/actors/concert.js';
import type { DomainEvent, StoredEvent } from '../../src/events/envelope.js';

let seq = 0;
function stored(concert: string, event: DomainEvent): StoredEvent {
  seq++;
  return { id: `e${seq}`, v: 1, concert, at: '2027-01-01T20:00:00.000Z', source: 'gw-test', seq, ...event } as StoredEvent;
}
const booked = (concert: string, seat: number, reference: string) =>
  stored(concert, { type: 'SeatBooked', data: { seat, hold: `h${seat}`, reference, firstName: 'Ada', lastName: 'Lovelace' } });
const cancelled = (concert: string, seat: number, reference: string) => stored(concert, { type: 'BookingCancelled', data: { seat, reference } });

const Index = suite('ReferenceIndex');

Index('given a booking, then its reference is live, of its concert, and taken', () => {
  const index = new ReferenceIndex();
  index.note(booked('c1', 3, '1234567897'));
  assert.is(index.concertOf('1234567897'), 'c1');
  assert.is(index.isTaken('1234567897'), true);
  assert.equal(index.cancelledOf('c1'), []);
});

Index('given a booking then its cancellation, then the reference has no concert but stays taken for ever', () => {
  const index = new ReferenceIndex();
  index.note(booked('c1', 3, '1234567897'));
  index.note(cancelled('c1', 3, '1234567897'));
  assert.is(index.concertOf('1234567897'), undefined, 'LOOKUP finds no live booking');
  assert.is(index.isTaken('1234567897'), true, 'never issued twice');
  assert.equal(index.cancelledOf('c1'), ['1234567897']);
  assert.equal(index.cancelledOf('c2'), []);
});

Index('given a reference cancelled at one concert, then it is taken for every concert', () => {
  const index = new ReferenceIndex();
  index.note(booked('c1', 1, '2345678901'));
  index.note(cancelled('c1', 1, '2345678901'));
  index.note(booked('c2', 1, '3456789012'));
  assert.is(index.isTaken('2345678901'), true);
  assert.is(index.isTaken('3456789012'), true);
  assert.is(index.concertOf('3456789012'), 'c2');
});

Index('given nothing seen, then no reference is taken', () => {
  const index = new ReferenceIndex();
  assert.is(index.isTaken('1234567897'), false);
  assert.is(index.concertOf('1234567897'), undefined);
});

Index('given holds and releases, then the index does not change', () => {
  const index = new ReferenceIndex();
  index.note(stored('c1', { type: 'SeatHeld', data: { seat: 1, hold: 'h1', holder: 'conn-1', expiresAt: '2027-01-01T20:02:00.000Z' } }));
  index.note(stored('c1', { type: 'SeatReleased', data: { seat: 1, hold: 'h1', reason: 'declined' } }));
  assert.equal(index.cancelledOf('c1'), []);
  assert.is(index.isTaken('h1'), false);
});

Index("given a concert's snapshot, when seeded, then its bookings are live and its cancelled references taken", () => {
  let state = initialState('c1', 4);
  state = evolve(state, { type: 'SeatBooked', data: { seat: 2, hold: 'h2', reference: '1234567897', firstName: 'A', lastName: 'B' } });
  const index = new ReferenceIndex();
  index.seed({ state, throughSeq: 9, lastSeq: 7, lastEventId: 'e7', cancelledReferences: ['2345678901'] });
  assert.is(index.concertOf('1234567897'), 'c1');
  assert.is(index.concertOf('2345678901'), undefined);
  assert.is(index.isTaken('2345678901'), true);
  assert.equal(index.cancelledOf('c1'), ['2345678901']);
});

Index('given a seeded snapshot, when a later event cancels one of its bookings, then both cancelled references are kept', () => {
  let state = initialState('c1', 4);
  state = evolve(state, { type: 'SeatBooked', data: { seat: 2, hold: 'h2', reference: '1234567897', firstName: 'A', lastName: 'B' } });
  const index = new ReferenceIndex();
  index.seed({ state, throughSeq: 9, lastSeq: 7, lastEventId: 'e7', cancelledReferences: ['2345678901'] });
  index.note(cancelled('c1', 2, '1234567897'));
  assert.equal(index.cancelledOf('c1').sort(), ['1234567897', '2345678901']);
  assert.is(index.concertOf('1234567897'), undefined);
});

Index.run();
