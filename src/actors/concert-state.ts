/**
 * A concert's state: its seats, a pure fold of its events (`evolve`). A state is never
 * changed once made: an event makes a new one, which shares what did not change (its seats,
 * below; its look-ups, seat-index.ts). The decisions taken against it are in concert.ts.
 */
import { List } from 'immutable';
import type { DomainEvent } from '../events/envelope.js';
import { changeSeat, indexOf, keepIndex, type SeatIndex } from './seat-index.js';

export type Seat =
  | { readonly kind: 'free' }
  | { readonly kind: 'held'; readonly hold: string; readonly holder: string; readonly expiresAt: number }
  | {
      readonly kind: 'booked';
      readonly hold: string;
      readonly reference: string;
      readonly firstName: string;
      readonly lastName: string;
    };

export interface ConcertState {
  readonly concert: string;
  readonly capacity: number;
  /** Seat n is at index n - 1 (`seatAt` reads one seat, cheaper on a state events made). */
  readonly seats: readonly Seat[];
}

/**
 * The seats of each state made by events, as a persistent list (immutable's `List`): the
 * state an event makes shares all of it but one short path with the state before. (An array
 * copied per event was most of the actor's CPU on a hot concert at low load, and its GC:
 * 20,000 seats are 160 KB a copy; bench/actor-cpu.ts.) The list rides on its state under a
 * symbol key, like the index: the state is still a plain `{ concert, capacity, seats }`, whose `seats` is made
 * from the list on its first read and kept (a seat map, a snapshot); decisions read seat by
 * seat, with `seatAt`.
 */
const LIST = Symbol('seat list');

/** A state events made: its list under a symbol key, which JSON, `Object.keys` and deep-equal comparisons do not see. */
type EvolvedState = ConcertState & { readonly [LIST]?: List<Seat> };

function evolvedState(concert: string, list: List<Seat>): ConcertState {
  let array: readonly Seat[] | undefined;
  const state: EvolvedState = {
    concert,
    capacity: list.size,
    get seats() {
      return (array ??= list.toArray());
    },
    [LIST]: list,
  };
  return state;
}

/** Seat `n` (1-based), or undefined when the concert has no such seat. */
export function seatAt(state: ConcertState, n: number): Seat | undefined {
  if (!Number.isInteger(n) || n < 1 || n > state.capacity) return undefined;
  const list = (state as EvolvedState)[LIST];
  return list ? list.get(n - 1) : state.seats[n - 1];
}

const FREE: Seat = { kind: 'free' };

export function initialState(concert: string, capacity: number): ConcertState {
  return stateOfSeats(concert, Array.from({ length: capacity }, () => FREE));
}

/**
 * The state whose seats are `seats` (seat n at index n - 1), taken over by the state: the
 * caller no longer changes the array. A replay, a snapshot or a test builds states here.
 */
export function stateOfSeats(concert: string, seats: Seat[]): ConcertState {
  return { concert, capacity: seats.length, seats };
}

/** A held seat whose time has run out is free, whether or not its release is written yet. */
export function isFree(seat: Seat, now: number): boolean {
  return seat.kind === 'free' || (seat.kind === 'held' && seat.expiresAt <= now);
}

export function isLiveHold(seat: Seat, now: number): seat is Extract<Seat, { kind: 'held' }> {
  return seat.kind === 'held' && seat.expiresAt > now;
}

/** The seat an event leaves behind: the one place the rules of the fold live. */
function seatAfter(event: DomainEvent): Seat {
  switch (event.type) {
    case 'SeatHeld': {
      const { hold, holder, expiresAt } = event.data;
      return { kind: 'held', hold, holder, expiresAt: Date.parse(expiresAt) };
    }
    case 'SeatBooked': {
      const { hold, reference, firstName, lastName } = event.data;
      return { kind: 'booked', hold, reference, firstName, lastName };
    }
    case 'BookingCancelled':
    case 'SeatReleased':
      return FREE;
  }
}

/** Whether an event is about a seat the concert has (one about another is the audit's to report). */
function inRange(capacity: number, event: DomainEvent): boolean {
  const seat = event.data.seat;
  return Number.isInteger(seat) && seat >= 1 && seat <= capacity;
}

export function evolve(state: ConcertState, event: DomainEvent): ConcertState {
  return evolveAll(state, [event]);
}

/**
 * The state after several events, in order. Each changes one seat of the persistent list and
 * a few entries of the index: nothing is copied whole, whatever the concert's size.
 */
export function evolveAll(state: ConcertState, events: readonly DomainEvent[]): ConcertState {
  let list: List<Seat> | undefined;
  let index: SeatIndex | undefined;
  for (const event of events) {
    if (!inRange(state.capacity, event)) continue;
    list ??= (state as EvolvedState)[LIST] ?? List(state.seats);
    index ??= indexOf(state);
    const n = event.data.seat;
    const now = seatAfter(event);
    index = changeSeat(index, n, list.get(n - 1)!, now);
    list = list.set(n - 1, now);
  }
  if (!list || !index) return state;
  const next = evolvedState(state.concert, list);
  keepIndex(next, index);
  return next;
}

/**
 * The same change as `evolve`, made in place on a seat array the caller owns, index and all
 * left aside: a replay of a long log folds fastest so, and the state it ends with
 * (`stateOfSeats`) builds its index once, when first asked.
 */
export function evolveInPlace(seats: Seat[], event: DomainEvent): void {
  if (inRange(seats.length, event)) seats[event.data.seat - 1] = seatAfter(event);
}
