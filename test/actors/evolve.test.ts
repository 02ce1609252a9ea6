/** The concert state as a fold of its events, and the queries the gateway asks of it. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  evolveInPlace,
  evolve,
  findBooking,
  findHold,
  holdsOf,
  initialState,
  isFree,
  nextExpiry,
  occupancy,
  occupancyUntil,
  seatChar,
  seatMap,
  type ConcertState,
  type Seat,
} from '../../src/actors/concert.js';
import type { DomainEvent, ReleaseReason } from '../../src/events/envelope.js';

const NOW = Date.parse('2027-01-01T00:00:00Z');
const LATER = NOW + 120_000;
const iso = (ms: number): string => new Date(ms).toISOString();

const held = (seat: number, hold: string, holder: string, expiresAt = LATER): DomainEvent => ({
  type: 'SeatHeld',
  data: { seat, hold, holder, expiresAt: iso(expiresAt) },
});
const booked = (seat: number, hold: string, reference: string, firstName = 'Ada', lastName = 'Lovelace'): DomainEvent => ({
  type: 'SeatBooked',
  data: { seat, hold, reference, firstName, lastName },
});
const released = (seat: number, hold: string, reason: ReleaseReason = 'declined'): DomainEvent => ({
  type: 'SeatReleased',
  data: { seat, hold, reason },
});
const cancelled = (seat: number, reference: string): DomainEvent => ({ type: 'BookingCancelled', data: { seat, reference } });

const FREE: Seat = { kind: 'free' };
const HELD = (hold: string, holder: string, expiresAt = LATER): Seat => ({ kind: 'held', hold, holder, expiresAt });
const BOOKED = (hold: string, reference: string, firstName = 'Ada', lastName = 'Lovelace'): Seat => ({
  kind: 'booked',
  hold,
  reference,
  firstName,
  lastName,
});

function given(events: DomainEvent[], capacity = 10): ConcertState {
  return events.reduce(evolve, initialState('c1', capacity));
}

/** The state of a concert with exactly these seats, seat 1 first. */
function seats(...values: Seat[]): ConcertState {
  return { concert: 'c1', capacity: values.length, seats: values };
}

// ================================================================== initialState

const Initial = suite('initialState');

Initial('has every seat free', () => {
  assert.equal(initialState('c1', 3), { concert: 'c1', capacity: 3, seats: [FREE, FREE, FREE] });
});

Initial('of capacity 0 has no seats', () => {
  assert.equal(initialState('c1', 0), { concert: 'c1', capacity: 0, seats: [] });
});

Initial.run();

// ================================================================== evolve

const Evolve = suite('evolve');

Evolve('SeatHeld holds the seat until expiresAt, in ms', () => {
  assert.equal(given([held(2, 'h1', 'alice')], 3).seats, [FREE, HELD('h1', 'alice', LATER), FREE]);
});

Evolve('SeatBooked books the seat with the names', () => {
  assert.equal(given([held(2, 'h1', 'alice'), booked(2, 'h1', '1234567897')], 3).seats, [FREE, BOOKED('h1', '1234567897'), FREE]);
});

Evolve('SeatReleased frees the seat, whatever the reason', () => {
  for (const reason of ['declined', 'expired', 'disconnected'] as const) {
    assert.equal(given([held(2, 'h1', 'alice'), released(2, 'h1', reason)], 3).seats, [FREE, FREE, FREE], reason);
  }
});

Evolve('BookingCancelled frees the seat', () => {
  const events = [held(2, 'h1', 'alice'), booked(2, 'h1', '1234567897'), cancelled(2, '1234567897')];
  assert.equal(given(events, 3).seats, [FREE, FREE, FREE]);
});

Evolve('SeatHeld on a freed seat holds it again', () => {
  const events = [held(2, 'h1', 'alice'), released(2, 'h1', 'expired'), held(2, 'h2', 'bob')];
  assert.equal(given(events, 3).seats, [FREE, HELD('h2', 'bob'), FREE]);
});

Evolve('an event about a seat the concert does not have changes nothing', () => {
  const state = initialState('c1', 3);
  assert.is(evolve(state, held(0, 'h1', 'alice')), state);
  assert.is(evolve(state, held(4, 'h1', 'alice')), state);
  assert.is(evolve(state, released(4, 'h1')), state);
});

Evolve('leaves the state it is given unchanged', () => {
  const state = initialState('c1', 3);
  const next = evolve(state, held(2, 'h1', 'alice'));
  assert.equal(state, initialState('c1', 3));
  assert.is.not(next, state);
});

Evolve('keeps the concert id and capacity', () => {
  const state = given([held(2, 'h1', 'alice'), booked(2, 'h1', '1234567897')], 3);
  assert.equal({ concert: state.concert, capacity: state.capacity }, { concert: 'c1', capacity: 3 });
});

Evolve.run();

// ================================================================== isFree

const IsFree = suite('isFree');

IsFree('a free seat is free', () => {
  assert.equal(isFree(FREE, NOW), true);
});

IsFree('a live hold is not free', () => {
  assert.equal(isFree(HELD('h1', 'alice', NOW + 1), NOW), false);
});

IsFree('a hold is free from its expiry instant on', () => {
  assert.equal(isFree(HELD('h1', 'alice', NOW), NOW), true);
  assert.equal(isFree(HELD('h1', 'alice', NOW - 1), NOW), true);
});

IsFree('a booked seat is never free', () => {
  assert.equal(isFree(BOOKED('h1', '1234567897'), NOW + 10 * LATER), false);
});

IsFree.run();

// ================================================================== holdsOf

const HoldsOf = suite('holdsOf');

HoldsOf("lists the seat numbers of a holder's live holds, in order", () => {
  const state = given([held(7, 'a7', 'alice'), held(2, 'a2', 'alice'), held(4, 'b4', 'bob')]);
  assert.equal(holdsOf(state, 'alice', NOW), [2, 7]);
});

HoldsOf('leaves out expired holds and bookings', () => {
  const state = given([held(1, 'a1', 'alice', NOW), held(2, 'a2', 'alice'), booked(2, 'a2', '1234567897'), held(3, 'a3', 'alice')]);
  assert.equal(holdsOf(state, 'alice', NOW), [3]);
});

HoldsOf('is empty for a holder with no holds', () => {
  assert.equal(holdsOf(given([held(1, 'a1', 'alice')]), 'bob', NOW), []);
});

HoldsOf.run();

// ================================================================== occupancy

const Occupancy = suite('occupancy');

Occupancy('counts free, live held and booked seats', () => {
  const state = given([held(1, 'h1', 'alice'), held(2, 'h2', 'bob'), held(3, 'h3', 'bob'), booked(3, 'h3', '1234567897')]);
  assert.equal(occupancy(state, NOW), { free: 7, held: 2, booked: 1 });
});

Occupancy('counts an expired hold as free', () => {
  const state = given([held(1, 'h1', 'alice', NOW), held(2, 'h2', 'bob', NOW + 1)]);
  assert.equal(occupancy(state, NOW), { free: 9, held: 1, booked: 0 });
});

Occupancy('of a new concert is all free', () => {
  assert.equal(occupancy(initialState('c1', 10), NOW), { free: 10, held: 0, booked: 0 });
});

Occupancy('holds until the earliest live hold expires, then a held seat counts as free', () => {
  const state = given([held(1, 'h1', 'alice', NOW + 5_000), held(2, 'h2', 'bob', NOW + 2_000), held(3, 'h3', 'bob', NOW - 1)]);
  const now = occupancyUntil(state, NOW);
  assert.equal(now, { occupancy: { free: 8, held: 2, booked: 0 }, until: NOW + 2_000 });
  assert.equal(occupancyUntil(state, now.until), { occupancy: { free: 9, held: 1, booked: 0 }, until: NOW + 5_000 });
});

Occupancy('with no live hold, holds for ever', () => {
  const state = given([held(1, 'h1', 'alice'), booked(1, 'h1', '1234567897')]);
  assert.equal(occupancyUntil(state, NOW), { occupancy: { free: 9, held: 0, booked: 1 }, until: Number.POSITIVE_INFINITY });
});

Occupancy.run();

// ================================================================== seatMap and seatChar

const SeatMap = suite('seatMap and seatChar');

const mixed = seats(FREE, HELD('h1', 'alice'), HELD('h2', 'bob'), BOOKED('h3', '1234567897'), HELD('h4', 'alice', NOW));

SeatMap('has one character per seat: . free, h held, x booked', () => {
  assert.equal(seatMap(mixed, NOW), '.hhx.');
});

SeatMap("shows the viewer's own live holds as H", () => {
  assert.equal(seatMap(mixed, NOW, 'alice'), '.Hhx.');
  assert.equal(seatMap(mixed, NOW, 'bob'), '.hHx.');
});

SeatMap('of a new concert is all dots', () => {
  assert.equal(seatMap(initialState('c1', 4), NOW, 'alice'), '....');
});

SeatMap('seatChar gives each kind of seat its character', () => {
  assert.equal(
    [
      seatChar(FREE, NOW, 'alice'),
      seatChar(HELD('h1', 'alice'), NOW),
      seatChar(HELD('h1', 'alice'), NOW, 'alice'),
      seatChar(HELD('h1', 'alice'), NOW, 'bob'),
      seatChar(HELD('h1', 'alice', NOW), NOW, 'alice'),
      seatChar(BOOKED('h1', '1234567897'), NOW, 'alice'),
    ],
    ['.', 'h', 'H', 'h', '.', 'x'],
  );
});

SeatMap.run();

// ================================================================== nextExpiry

const NextExpiry = suite('nextExpiry');

NextExpiry('is undefined when no seat is held', () => {
  assert.equal(nextExpiry(initialState('c1', 3)), undefined);
  assert.equal(nextExpiry(given([held(1, 'h1', 'alice'), booked(1, 'h1', '1234567897')])), undefined);
});

NextExpiry('is the earliest expiry among the holds', () => {
  const state = given([held(5, 'h5', 'alice', NOW + 300), held(2, 'h2', 'bob', NOW + 100), held(8, 'h8', 'bob', NOW + 200)]);
  assert.equal(nextExpiry(state), NOW + 100);
});

NextExpiry('counts an expired hold whose release is not yet written (its release is due)', () => {
  const state = given([held(5, 'h5', 'alice', NOW + 300), held(2, 'h2', 'bob', NOW - 100)]);
  assert.equal(nextExpiry(state), NOW - 100);
});

NextExpiry.run();

// ================================================================== findHold and findBooking

const Find = suite('findHold and findBooking');

const found = given([held(2, 'h2', 'alice', NOW - 1), held(4, 'h4', 'bob'), booked(4, 'h4', '1234567897', 'Anne', 'Lévêque')]);

Find('findHold gives the seat number and seat of a hold', () => {
  assert.equal(findHold(found, 'h2'), { number: 2, seat: HELD('h2', 'alice', NOW - 1) });
});

Find('findHold with a holder finds only that holder’s hold', () => {
  assert.equal(findHold(found, 'h2', 'alice'), { number: 2, seat: HELD('h2', 'alice', NOW - 1) });
  assert.equal(findHold(found, 'h2', 'bob'), undefined);
});

Find('findHold does not find an unknown or booked hold', () => {
  assert.equal(findHold(found, 'nope'), undefined);
  assert.equal(findHold(found, 'h4'), undefined);
});

Find('findBooking gives the seat number and booking of a reference', () => {
  assert.equal(findBooking(found, '1234567897'), { number: 4, seat: BOOKED('h4', '1234567897', 'Anne', 'Lévêque') });
});

Find('findBooking does not find an unknown or cancelled reference', () => {
  assert.equal(findBooking(found, '2345678903'), undefined);
  assert.equal(findBooking(evolve(found, cancelled(4, '1234567897')), '1234567897'), undefined);
});

Find.run();

// ------------------------------------------------------------------ evolveInPlace

const InPlace = suite('evolveInPlace');

InPlace('folds a log to the same seats as evolve, without a copy per event', () => {
  const at = (ms: number) => new Date(Date.parse('2027-01-01T00:00:00Z') + ms).toISOString();
  const log: DomainEvent[] = [];
  for (let i = 0; i < 300; i++) {
    const seat = 1 + ((i * 7) % 12); // 12 > capacity 10: some events name seats the concert lacks
    const k = i % 4;
    log.push(
      k === 0
        ? { type: 'SeatHeld', data: { seat, hold: `h${i}`, holder: `c${i % 3}`, expiresAt: at(i) } }
        : k === 1
          ? { type: 'SeatBooked', data: { seat, hold: `h${i - 1}`, reference: String(1_000_000_000 + i), firstName: 'Ada', lastName: 'Lovelace' } }
          : k === 2
            ? { type: 'BookingCancelled', data: { seat, reference: String(1_000_000_000 + i - 1) } }
            : { type: 'SeatReleased', data: { seat, hold: `h${i}`, reason: 'expired' } },
    );
  }
  const pure = log.reduce(evolve, initialState('c1', 10));
  const seats = [...initialState('c1', 10).seats];
  const before = seats;
  for (const e of log) evolveInPlace(seats, e);
  assert.equal(seats, [...pure.seats]);
  assert.ok(seats === before, 'the same array');
});

InPlace.run();
