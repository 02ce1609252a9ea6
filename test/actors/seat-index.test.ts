/**
 * The state's index (seat-index.ts) against the seats themselves: whatever events a state
 * went through, the index it carries equals the one built from its seats by a full pass, and
 * every query answers what a pass over every seat answers.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  evolve,
  evolveAll,
  findBooking,
  heldSeatsOf,
  holdsOf,
  initialState,
  nextExpiry,
  occupancyUntil,
  seatsBookedBy,
  seatsOfBooking,
  stateOfSeats,
  seatAt,
  type ConcertState,
  type Seat,
} from '../../src/actors/concert.js';
import { buildIndex, indexOf, type SeatIndex } from '../../src/actors/seat-index.js';
import type { DomainEvent } from '../../src/events/envelope.js';

const NOW = Date.parse('2027-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

/** A small deterministic PRNG (mulberry32): the same runs every time. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Events as a busy concert writes them (groups held, booked, released, cancelled, some holds
 * run out, seats held again under another hold), and now and then one no decider would write:
 * a booking of a seat in any state, a release of a seat not held, a seat out of range. The
 * fold takes them all. (One rule of every decision is kept: a hold has one holder and is
 * booked once, under one reference.)
 */
function randomEvents(rand: () => number, capacity: number, count: number): DomainEvent[][] {
  const events: DomainEvent[][] = [];
  const pick = (n: number) => Math.floor(rand() * n);
  const holds: Array<{ hold: string; seats: number[] }> = [];
  const bookings: Array<{ reference: string; seats: number[] }> = [];
  for (let i = 0; i < count; i++) {
    const r = rand();
    if (r < 0.4) {
      const first = 1 + pick(capacity);
      const seats = Array.from({ length: 1 + pick(4) }, (_, k) => first + k).filter((n) => n <= capacity);
      const hold = `h${i}`;
      const expiresAt = iso(NOW + (pick(5) - 2) * 60_000);
      const holder = `x${pick(6)}`;
      holds.push({ hold, seats });
      events.push(seats.map((seat) => ({ type: 'SeatHeld', data: { seat, hold, holder, expiresAt } })));
    } else if (r < 0.65 && holds.length > 0) {
      const { hold, seats } = holds.splice(pick(holds.length), 1)[0]!;
      const reference = String(1_000_000_000 + i);
      bookings.push({ reference, seats });
      events.push(seats.map((seat) => ({ type: 'SeatBooked', data: { seat, hold, reference, firstName: 'Ada', lastName: 'Lovelace' } })));
    } else if (r < 0.8 && holds.length > 0) {
      const { hold, seats } = holds.splice(pick(holds.length), 1)[0]!;
      events.push(seats.map((seat) => ({ type: 'SeatReleased', data: { seat, hold, reason: 'declined' } })));
    } else if (r < 0.92 && bookings.length > 0) {
      const { reference, seats } = bookings.splice(pick(bookings.length), 1)[0]!;
      events.push(seats.map((seat) => ({ type: 'BookingCancelled', data: { seat, reference } })));
    } else {
      // Off the rules: a booking of a seat whatever it is, a stray release, a seat past the end.
      const seat = pick(capacity + 3) + 1;
      events.push([
        rand() < 0.5
          ? { type: 'SeatBooked', data: { seat, hold: `stray${i}`, reference: String(2_000_000_000 + i), firstName: 'Bo', lastName: 'Diddley' } }
          : { type: 'SeatReleased', data: { seat, hold: `h${pick(i + 1)}`, reason: 'expired' } },
      ]);
    }
  }
  return events;
}

/** An index as plain sorted data, to compare two by value. */
function plain(index: SeatIndex) {
  const sorted = <V>(m: Iterable<[string, V]>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    holds: sorted(index.holds),
    holdsOfHolder: sorted(index.holdsOfHolder).map(([k, v]) => [k, [...v].sort()]),
    bookings: sorted(index.bookings),
    bookingOfHold: sorted(index.bookingOfHold),
    booked: index.booked,
  };
}

// What the queries answered when they were passes over every seat.
const scan = {
  held: (s: ConcertState, hold: string) => s.seats.flatMap((x, i) => (x.kind === 'held' && x.hold === hold ? [i + 1] : [])),
  holdsOf: (s: ConcertState, holder: string, now: number) =>
    s.seats.flatMap((x, i) => (x.kind === 'held' && x.holder === holder && x.expiresAt > now ? [i + 1] : [])),
  booking: (s: ConcertState, reference: string) => s.seats.flatMap((x, i) => (x.kind === 'booked' && x.reference === reference ? [i + 1] : [])),
  bookedBy: (s: ConcertState, hold: string) => s.seats.flatMap((x, i) => (x.kind === 'booked' && x.hold === hold ? [i + 1] : [])),
  nextExpiry: (s: ConcertState) => {
    const all = s.seats.flatMap((x) => (x.kind === 'held' ? [x.expiresAt] : []));
    return all.length ? Math.min(...all) : undefined;
  },
  occupancy: (s: ConcertState, now: number) => {
    const booked = s.seats.filter((x) => x.kind === 'booked').length;
    const live = s.seats.filter((x): x is Extract<Seat, { kind: 'held' }> => x.kind === 'held' && x.expiresAt > now);
    return {
      occupancy: { free: s.capacity - booked - live.length, held: live.length, booked },
      until: live.length ? Math.min(...live.map((x) => x.expiresAt)) : Number.POSITIVE_INFINITY,
    };
  },
};

function checkQueries(state: ConcertState, steps: number): void {
  const ids = new Set<string>();
  const references = new Set<string>();
  for (const seat of state.seats) {
    if (seat.kind === 'held') ids.add(seat.hold);
    if (seat.kind === 'booked') {
      ids.add(seat.hold);
      references.add(seat.reference);
    }
  }
  for (const hold of [...ids, 'h-none']) {
    assert.equal(heldSeatsOf(state, hold).map((g) => g.number), scan.held(state, hold), `after ${steps} steps, hold ${hold}`);
    assert.equal(seatsBookedBy(state, hold), scan.bookedBy(state, hold), `after ${steps} steps, booked by ${hold}`);
  }
  for (const reference of [...references, '0000000000']) {
    assert.equal(seatsOfBooking(state, reference), scan.booking(state, reference), `after ${steps} steps, booking ${reference}`);
    assert.is(findBooking(state, reference)?.number, scan.booking(state, reference)[0]);
  }
  for (let holder = 0; holder < 6; holder++) {
    for (const now of [NOW - 90_000, NOW, NOW + 90_000]) assert.equal(holdsOf(state, `x${holder}`, now), scan.holdsOf(state, `x${holder}`, now));
  }
  for (const now of [NOW - 90_000, NOW, NOW + 90_000]) assert.equal(occupancyUntil(state, now), scan.occupancy(state, now));
  assert.is(nextExpiry(state), scan.nextExpiry(state));
}

const Index = suite('seat index');

Index('given any run of events, the index each state carries is the one its seats give', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const rand = random(seed);
    const capacity = 12 + Math.floor(rand() * 30);
    let state = initialState('c1', capacity);
    const groups = randomEvents(rand, capacity, 150);
    groups.forEach((events, step) => {
      state = rand() < 0.5 ? evolveAll(state, events) : events.reduce(evolve, state);
      assert.equal(plain(indexOf(state)), plain(buildIndex(state.seats)), `seed ${seed}, after ${step + 1} steps`);
      if (step % 10 === 0) checkQueries(state, step + 1);
    });
    checkQueries(state, groups.length);
  }
});

Index('given a state made from bare seats, its index is built on first use', () => {
  const seats: Seat[] = [
    { kind: 'held', hold: 'h1', holder: 'alice', expiresAt: NOW + 1 },
    { kind: 'free' },
    { kind: 'booked', hold: 'h0', reference: '1234567897', firstName: 'Ada', lastName: 'Lovelace' },
    { kind: 'held', hold: 'h1', holder: 'alice', expiresAt: NOW + 1 },
  ];
  const state = stateOfSeats('c1', seats);
  assert.equal(heldSeatsOf(state, 'h1').map((g) => g.number), [1, 4]);
  assert.equal(holdsOf(state, 'alice', NOW), [1, 4]);
  assert.equal(seatsBookedBy(state, 'h0'), [3]);
  assert.equal(occupancyUntil(state, NOW).occupancy, { free: 1, held: 2, booked: 1 });
});

Index('an older state still answers for itself after later events', () => {
  const held = evolveAll(initialState('c1', 5), [
    { type: 'SeatHeld', data: { seat: 2, hold: 'h1', holder: 'alice', expiresAt: iso(NOW + 60_000) } },
    { type: 'SeatHeld', data: { seat: 3, hold: 'h1', holder: 'alice', expiresAt: iso(NOW + 60_000) } },
  ]);
  const booked = evolveAll(held, [2, 3].map((seat) => ({ type: 'SeatBooked', data: { seat, hold: 'h1', reference: '1234567897', firstName: 'Ada', lastName: 'Lovelace' } }) as DomainEvent));
  assert.equal(seatsOfBooking(booked, '1234567897'), [2, 3]);
  assert.equal(heldSeatsOf(booked, 'h1'), []);
  assert.equal(heldSeatsOf(held, 'h1').map((g) => g.number), [2, 3]);
  assert.equal(seatsOfBooking(held, '1234567897'), []);
});

Index('given a state from bare seats, the states events make from it leave it as it was', () => {
  const start = stateOfSeats('c1', [{ kind: 'free' }, { kind: 'free' }, { kind: 'free' }, { kind: 'free' }]);
  const one = evolve(start, { type: 'SeatHeld', data: { seat: 1, hold: 'h1', holder: 'alice', expiresAt: iso(NOW + 60_000) } });
  const two = evolve(one, { type: 'SeatHeld', data: { seat: 4, hold: 'h2', holder: 'bob', expiresAt: iso(NOW + 60_000) } });
  assert.equal(holdsOf(two, 'alice', NOW), [1]);
  assert.equal(holdsOf(two, 'bob', NOW), [4]);
  assert.equal(holdsOf(one, 'bob', NOW), []);
  assert.equal(one.seats.map((s) => s.kind), ['held', 'free', 'free', 'free']);
  assert.equal(start.seats.map((s) => s.kind), ['free', 'free', 'free', 'free']);
  assert.equal(holdsOf(start, 'alice', NOW), []);
  assert.is(seatAt(two, 4)?.kind, 'held');
  assert.is(seatAt(two, 5), undefined);
  assert.is(seatAt(two, 0), undefined);
});

Index.run();
