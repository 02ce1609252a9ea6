/**
 * A concert state's look-ups by hold, holder and booking reference, so that a command does
 * not scan every seat. A command on a concert of 20,000 seats asked several questions of its
 * seats ("the seats of hold h", "how many seats does x hold", "is reference r in use"), each a
 * pass over all of them: with the copy of the seats per event, about 40 % of the gateway's busy
 * time on a hot concert (`npm run bench -- hot --profile`). The index answers them from the
 * few seats a hold or a booking has.
 *
 * Its maps are persistent (immutable's): the state an event makes shares all but a handful of
 * entries with the state before it, so nothing is copied per event, and an older state (a
 * group's draft, a caller's outcome) keeps answering for itself.
 *
 * The index rides on its state under a symbol key, which JSON, `Object.keys` and deep-equal
 * comparisons do not see: a state is still just its seats, compared, stored and written in
 * snapshots as such. (It was kept in a WeakMap: on a hot concert, a state per event made the
 * garbage collector's weak-table work most of the fold's CPU, 17-25 against 9 µs per booking
 * folded two events at a time; bench/actor-cpu.ts.) A state made without one (a replay, a
 * snapshot, a test's literal) has its index built on first use, by one pass over its seats.
 * The index only points at seats; every answer is read from the seats themselves.
 */
import { Map as PersistentMap } from 'immutable';
import type { ConcertState, Seat } from './concert-state.js';

export interface SeatIndex {
  /** Seats held (live or run out, their release not written), ascending, by hold id. */
  readonly holds: PersistentMap<string, readonly number[]>;
  /**
   * Hold ids that have seats held, by holder. A hold has one holder (its decision gave every
   * seat the same); a log that gives one hold's seats several keeps the hold under each of
   * them until the hold has no seat left (answers stay right: they are read from the seats).
   */
  readonly holdsOfHolder: PersistentMap<string, readonly string[]>;
  /** Seats booked, ascending, by reference. */
  readonly bookings: PersistentMap<string, readonly number[]>;
  /** The reference booked under each hold id that was booked. */
  readonly bookingOfHold: PersistentMap<string, string>;
  /** Seats booked in all. */
  readonly booked: number;
}

const EMPTY: SeatIndex = {
  holds: PersistentMap(),
  holdsOfHolder: PersistentMap(),
  bookings: PersistentMap(),
  bookingOfHold: PersistentMap(),
  booked: 0,
};

const INDEX = Symbol('seat index');

/** A state with its index under a symbol key (unseen by JSON, `Object.keys` and deep-equal comparisons). */
type IndexedState = ConcertState & { [INDEX]?: SeatIndex };

/** The index of a state: kept from the state it was made from, or built now (one pass). */
export function indexOf(state: ConcertState): SeatIndex {
  return ((state as IndexedState)[INDEX] ??= buildIndex(state.seats));
}

/** Records the index of a state just made from another state's index. */
export function keepIndex(state: ConcertState, index: SeatIndex): void {
  (state as IndexedState)[INDEX] = index;
}

export function buildIndex(seats: readonly Seat[]): SeatIndex {
  let index = EMPTY;
  for (let i = 0; i < seats.length; i++) {
    const seat = seats[i]!;
    if (seat.kind !== 'free') index = changeSeat(index, i + 1, FREE, seat);
  }
  return index;
}

const FREE: Seat = { kind: 'free' };

/** The index after seat `n` went from `was` to `now`. */
export function changeSeat(index: SeatIndex, n: number, was: Seat, now: Seat): SeatIndex {
  let { holds, holdsOfHolder, bookings, bookingOfHold, booked } = index;
  if (was.kind === 'held') {
    const left = without(holds.get(was.hold), n);
    if (left.length > 0) holds = holds.set(was.hold, left);
    else {
      holds = holds.delete(was.hold);
      const others = (holdsOfHolder.get(was.holder) ?? []).filter((h) => h !== was.hold);
      holdsOfHolder = others.length > 0 ? holdsOfHolder.set(was.holder, others) : holdsOfHolder.delete(was.holder);
    }
  } else if (was.kind === 'booked') {
    booked--;
    const left = without(bookings.get(was.reference), n);
    if (left.length > 0) bookings = bookings.set(was.reference, left);
    else {
      bookings = bookings.delete(was.reference);
      if (bookingOfHold.get(was.hold) === was.reference) bookingOfHold = bookingOfHold.delete(was.hold);
    }
  }
  if (now.kind === 'held') {
    holds = holds.set(now.hold, withSeat(holds.get(now.hold), n));
    const ofHolder = holdsOfHolder.get(now.holder) ?? [];
    if (!ofHolder.includes(now.hold)) holdsOfHolder = holdsOfHolder.set(now.holder, [...ofHolder, now.hold]);
  } else if (now.kind === 'booked') {
    booked++;
    bookings = bookings.set(now.reference, withSeat(bookings.get(now.reference), n));
    bookingOfHold = bookingOfHold.set(now.hold, now.reference);
  }
  return { holds, holdsOfHolder, bookings, bookingOfHold, booked };
}

/** `seats` (ascending) with `n`, still ascending; events of a group come in seat order. */
function withSeat(seats: readonly number[] | undefined, n: number): readonly number[] {
  if (!seats || seats.length === 0) return [n];
  if (seats.includes(n)) return seats;
  if (n > seats[seats.length - 1]!) return [...seats, n];
  return [...seats, n].sort((a, b) => a - b);
}

function without(seats: readonly number[] | undefined, n: number): readonly number[] {
  return seats ? seats.filter((s) => s !== n) : [];
}
