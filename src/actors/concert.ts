/**
 * One concert's seats as a decider: the state is a pure fold of its events (`evolve`), and
 * `decide` turns a command into the events that record it, or refuses it with the error the
 * client will see. No I/O, no clock of its own: `now` is an argument.
 */
import { GuichetError } from '../errors.js';
import type { DomainEvent, ReleaseReason } from '../events/envelope.js';
import { bestAvailable, defaultLayout, labelOf, type Layout } from '../layout.js';
import { isFree, isLiveHold, seatAt, type ConcertState, type Seat } from './concert-state.js';
import { cleanName, sameLastName } from './names.js';
import { indexOf } from './seat-index.js';

export * from './concert-state.js';

export interface ConcertRules {
  /** How long a hold lasts before the seat counts as free again. */
  readonly holdMs: number;
  /** Seats one holder (connection) may hold at once on one concert, across its holds. */
  readonly maxSeats: number;
}

export const DEFAULT_RULES: ConcertRules = { holdMs: 120_000, maxSeats: 8 };

/**
 * Which seats a hold asks for: one seat (protocol 1), several (all or nothing), or the best
 * `best` adjacent seats by the rule of src/layout.ts. `layout` gives rows and labels.
 */
export type HoldRequest =
  | { readonly seat: number; readonly layout?: Layout }
  | { readonly seats: readonly number[]; readonly layout?: Layout }
  | {
      readonly best: number;
      readonly layout: Layout;
      /** Seats not to choose although free: the holder's address held them a moment ago (its cool-down). */
      readonly avoid?: readonly number[];
    };

export type ConcertCommand =
  | ({ readonly type: 'Hold'; readonly hold: string; readonly holder: string } & HoldRequest)
  | {
      readonly type: 'Book';
      readonly hold: string;
      readonly holder: string;
      readonly firstName: string;
      readonly lastName: string;
      /** A fresh reference, drawn by the caller (randomness is I/O). */
      readonly reference: string;
    }
  | { readonly type: 'Release'; readonly hold: string; readonly holder: string; readonly reason: Exclude<ReleaseReason, 'expired'> }
  | { readonly type: 'ReleaseExpired' }
  | { readonly type: 'Cancel'; readonly reference: string; readonly lastName: string };

// ---------------------------------------------------------------- decide

export function decide(state: ConcertState, command: ConcertCommand, now: number, rules: ConcertRules = DEFAULT_RULES): DomainEvent[] {
  switch (command.type) {
    case 'Hold':
      return decideHold(state, command, now, rules);
    case 'Book':
      return decideBook(state, command, now);
    case 'Release':
      return decideRelease(state, command, now);
    case 'ReleaseExpired':
      return decideReleaseExpired(state, now);
    case 'Cancel':
      return decideCancel(state, command);
  }
}

type HoldCommand = Extract<ConcertCommand, { type: 'Hold' }>;

/** A hold of one or several seats: all of them or none (SEAT_TAKEN names every seat not free). */
function decideHold(state: ConcertState, c: HoldCommand, now: number, rules: ConcertRules): DomainEvent[] {
  const layout = c.layout ?? defaultLayout(state.capacity);
  const seats = seatsAsked(state, c, now, rules, layout);
  // Already held by this holder under one hold, exactly these seats (a retry whose first
  // answer was lost): nothing new to record.
  if (!('best' in c) && isOwnHold(state, seats, c.holder, now)) return [];
  const taken = seats.filter((n) => !isFree(seatAt(state, n)!, now));
  if (taken.length > 0) {
    const list = taken.map((n) => `${n} (${labelOf(layout, n)})`).join(', ');
    throw new GuichetError('SEAT_TAKEN', `${taken.length === 1 ? 'seat' : 'seats'} ${list} ${taken.length === 1 ? 'is' : 'are'} not free; nothing was held`);
  }
  const holding = holdsOf(state, c.holder, now).length;
  if (holding + seats.length > rules.maxSeats) {
    throw new GuichetError('HOLD_LIMIT', `at most ${rules.maxSeats} seats may be held at once (${holding} held already)`);
  }
  const expiresAt = new Date(now + rules.holdMs).toISOString();
  return seats.map((seat) => ({ type: 'SeatHeld', data: { seat, hold: c.hold, holder: c.holder, expiresAt } }) as DomainEvent);
}

/** The seats a hold asks for, ascending, checked: they exist, none twice, not too many. */
function seatsAsked(state: ConcertState, c: HoldCommand, now: number, rules: ConcertRules, layout: Layout): number[] {
  if ('best' in c) {
    checkCount(c.best, rules);
    // A pass over every seat: read from the array (made once per state), not seat by seat.
    const seats = state.seats;
    const avoid = new Set(c.avoid ?? []);
    const choice = bestAvailable(layout, (n) => isFree(seats[n - 1]!, now) && !avoid.has(n), c.best);
    if (!('most' in choice)) return choice.seats;
    if (avoid.size > 0 && !('most' in bestAvailable(layout, (n) => isFree(seats[n - 1]!, now), c.best))) {
      throw new GuichetError('COOL_DOWN', `the only ${c.best} adjacent free seats include seats this address held until a moment ago; they are left to others for a while`);
    }
    throw new GuichetError('NO_ADJACENT_SEATS', `no row has ${c.best} adjacent free seats; the most there are is ${choice.most}`);
  }
  const asked = 'seats' in c ? [...c.seats] : [c.seat];
  checkCount(asked.length, rules);
  for (const n of asked) existingSeat(state, n);
  const sorted = asked.sort((a, b) => a - b);
  const twice = sorted.find((n, i) => i > 0 && sorted[i - 1] === n);
  if (twice !== undefined) throw new GuichetError('BAD_ARGUMENTS', `seat ${twice} (${labelOf(layout, twice)}) is given twice`);
  return sorted;
}

function checkCount(n: number, rules: ConcertRules): void {
  if (!Number.isInteger(n) || n < 1) throw new GuichetError('BAD_ARGUMENTS', 'a hold is of at least one seat');
  if (n > rules.maxSeats) throw new GuichetError('BAD_ARGUMENTS', `a hold is of at most ${rules.maxSeats} seats`);
}

/** Whether exactly `seats` are the seats of one live hold of `holder`. */
function isOwnHold(state: ConcertState, seats: readonly number[], holder: string, now: number): boolean {
  const first = seatAt(state, seats[0]!)!;
  if (!isLiveHold(first, now) || first.holder !== holder) return false;
  const group = seatsOfHold(state, first.hold);
  return group.length === seats.length && group.every((n, i) => n === seats[i]);
}

function decideBook(state: ConcertState, c: Extract<ConcertCommand, { type: 'Book' }>, now: number): DomainEvent[] {
  const group = heldSeatsOf(state, c.hold, c.holder);
  if (group.length === 0) {
    // Booked by this very hold already (a retry whose first answer was lost): nothing new to
    // record; the caller answers with the stored booking. A hold id is known only to its holder.
    if (seatsBookedBy(state, c.hold).length > 0) return [];
    throw new GuichetError('NO_SUCH_HOLD', `no hold ${c.hold} on this connection`);
  }
  if (group.some((g) => g.seat.expiresAt <= now)) throw new GuichetError('HOLD_EXPIRED', `hold ${c.hold} expired; hold the seats again`);
  const firstName = cleanName(c.firstName);
  const lastName = cleanName(c.lastName);
  if (!firstName || !lastName) throw new GuichetError('INVALID_NAME', invalidNameMessage);
  if (findBooking(state, c.reference)) throw new GuichetError('INTERNAL', `reference ${c.reference} is already in use`);
  return group.map(({ number }) => ({
    type: 'SeatBooked',
    data: { seat: number, hold: c.hold, reference: c.reference, firstName, lastName },
  }));
}

function decideRelease(state: ConcertState, c: Extract<ConcertCommand, { type: 'Release' }>, now: number): DomainEvent[] {
  const group = heldSeatsOf(state, c.hold, c.holder);
  if (group.length === 0 || group.some((g) => g.seat.expiresAt <= now)) {
    throw new GuichetError('NO_SUCH_HOLD', `no live hold ${c.hold} on this connection`);
  }
  return group.map(({ number }) => ({ type: 'SeatReleased', data: { seat: number, hold: c.hold, reason: c.reason } }));
}

/**
 * Writes the release of one expired hold, every seat of it (the hold of the lowest expired
 * seat first); the timer asks again for the next.
 */
function decideReleaseExpired(state: ConcertState, now: number): DomainEvent[] {
  let lowest: { number: number; hold: string } | undefined;
  for (const [hold, seats] of indexOf(state).holds) {
    for (const n of seats) {
      const seat = seatAt(state, n)!;
      if (seat.kind === 'held' && seat.expiresAt <= now && (!lowest || n < lowest.number)) lowest = { number: n, hold };
    }
  }
  if (!lowest) return [];
  const hold = lowest.hold;
  return heldSeatsOf(state, hold).map(({ number }) => ({ type: 'SeatReleased', data: { seat: number, hold, reason: 'expired' } }));
}

function decideCancel(state: ConcertState, c: Extract<ConcertCommand, { type: 'Cancel' }>): DomainEvent[] {
  const booking = findBooking(state, c.reference);
  // The same answer for an unknown reference and a wrong name, so neither can be probed alone.
  if (!booking || !sameLastName(booking.seat.lastName, c.lastName)) {
    throw new GuichetError('NOT_FOUND', 'no booking with that reference and last name');
  }
  return seatsOfBooking(state, c.reference).map((seat) => ({ type: 'BookingCancelled', data: { seat, reference: c.reference } }));
}

export const invalidNameMessage = "names are 1-64 letters, spaces, hyphens or apostrophes";

/** Seat `seat` of the concert, or NO_SUCH_SEAT. */
function existingSeat(state: ConcertState, seat: number): Seat {
  const value = seatAt(state, seat);
  if (!value) throw new GuichetError('NO_SUCH_SEAT', `seats are numbered 1 to ${state.capacity}`);
  return value;
}

// ---------------------------------------------------------------- queries

// Answered from the state's index (seat-index.ts): the seats of a hold or a booking, not a
// pass over every seat. Each answer is read from the seats themselves.

type HeldSeat = Extract<Seat, { kind: 'held' }>;
type BookedSeat = Extract<Seat, { kind: 'booked' }>;

export function findHold(state: ConcertState, hold: string, holder?: string): { number: number; seat: HeldSeat } | undefined {
  const first = heldSeatsOf(state, hold)[0];
  if (!first || (holder !== undefined && first.seat.holder !== holder)) return undefined;
  return first;
}

export function findBooking(state: ConcertState, reference: string): { number: number; seat: BookedSeat } | undefined {
  const n = indexOf(state).bookings.get(reference)?.[0];
  const seat = n === undefined ? undefined : seatAt(state, n);
  return seat?.kind === 'booked' && seat.reference === reference ? { number: n!, seat } : undefined;
}

/** The held seats of a hold (live or run out), ascending; of `holder`'s only when given. */
export function heldSeatsOf(state: ConcertState, hold: string, holder?: string): Array<{ number: number; seat: HeldSeat }> {
  const group: Array<{ number: number; seat: HeldSeat }> = [];
  for (const n of indexOf(state).holds.get(hold) ?? []) {
    const seat = seatAt(state, n)!;
    if (seat.kind === 'held' && seat.hold === hold && (holder === undefined || seat.holder === holder)) group.push({ number: n, seat });
  }
  return group;
}

/** Numbers of the seats held under a hold, ascending. */
export function seatsOfHold(state: ConcertState, hold: string): number[] {
  return heldSeatsOf(state, hold).map((g) => g.number);
}

/** Numbers of the seats booked under a reference, ascending. */
export function seatsOfBooking(state: ConcertState, reference: string): number[] {
  return (indexOf(state).bookings.get(reference) ?? []).filter((n) => {
    const seat = seatAt(state, n)!;
    return seat.kind === 'booked' && seat.reference === reference;
  });
}

/** Numbers of the seats booked by a hold, ascending. */
export function seatsBookedBy(state: ConcertState, hold: string): number[] {
  const reference = indexOf(state).bookingOfHold.get(hold);
  return reference === undefined ? [] : seatsOfBooking(state, reference).filter((n) => (seatAt(state, n) as BookedSeat).hold === hold);
}

/** Seat numbers of a holder's live holds, ascending. */
export function holdsOf(state: ConcertState, holder: string, now: number): number[] {
  const index = indexOf(state);
  const found: number[] = [];
  for (const hold of index.holdsOfHolder.get(holder) ?? []) {
    for (const n of index.holds.get(hold) ?? []) {
      const seat = seatAt(state, n)!;
      if (seat.kind === 'held' && seat.holder === holder && seat.expiresAt > now) found.push(n);
    }
  }
  return found.sort((a, b) => a - b);
}

/** Every held seat (live or run out), by the index: what occupancy and expiry look at. */
function* heldSeats(state: ConcertState): Generator<HeldSeat> {
  for (const seats of indexOf(state).holds.values()) {
    for (const n of seats) {
      const seat = seatAt(state, n)!;
      if (seat.kind === 'held') yield seat;
    }
  }
}

export interface Occupancy {
  free: number;
  held: number;
  booked: number;
}

export function occupancy(state: ConcertState, now: number): Occupancy {
  return occupancyUntil(state, now).occupancy;
}

/**
 * The occupancy at `now`, and until when it stays so if no event comes: the earliest expiry
 * of a live hold (then a held seat counts as free), or Infinity when no hold is live.
 */
export function occupancyUntil(state: ConcertState, now: number): { occupancy: Occupancy; until: number } {
  let held = 0;
  const booked = indexOf(state).booked;
  let until = Number.POSITIVE_INFINITY;
  for (const s of heldSeats(state)) {
    if (s.expiresAt <= now) continue;
    held++;
    if (s.expiresAt < until) until = s.expiresAt;
  }
  return { occupancy: { free: state.capacity - held - booked, held, booked }, until };
}

/** One character per seat: `.` free, `h` held by another, `H` held by `viewer`, `x` booked. */
export function seatMap(state: ConcertState, now: number, viewer?: string): string {
  let map = '';
  for (const s of state.seats) map += seatChar(s, now, viewer);
  return map;
}

export function seatChar(s: Seat, now: number, viewer?: string): '.' | 'h' | 'H' | 'x' {
  if (s.kind === 'booked') return 'x';
  if (isLiveHold(s, now)) return viewer !== undefined && s.holder === viewer ? 'H' : 'h';
  return '.';
}

/**
 * When the next hold runs out (ms since the epoch), or undefined when none is held. Holds that
 * ran out but whose release is not written yet count too: the expiry timer must still fire.
 */
export function nextExpiry(state: ConcertState): number | undefined {
  let next: number | undefined;
  for (const s of heldSeats(state)) if (next === undefined || s.expiresAt < next) next = s.expiresAt;
  return next;
}
