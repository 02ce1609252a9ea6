/**
 * A concert's state: its seats, a pure fold of its events (`evolve`). A state is never
 * changed once made: an event makes a new one, which shares what did not change (see
 * seat-index.ts for its look-ups). The decisions taken against it are in concert.ts.
 */
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
  /** Seat n is at index n - 1. */
  readonly seats: readonly Seat[];
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
function inRange(seats: readonly Seat[], event: DomainEvent): boolean {
  const seat = event.data.seat;
  return Number.isInteger(seat) && seat >= 1 && seat <= seats.length;
}

export function evolve(state: ConcertState, event: DomainEvent): ConcertState {
  return evolveAll(state, [event]);
}

/** The state after several events, in order: one copy of the seats for all of them. */
export function evolveAll(state: ConcertState, events: readonly DomainEvent[]): ConcertState {
  if (!events.some((e) => inRange(state.seats, e))) return state;
  const draft = new StateDraft(state);
  draft.apply(events);
  return draft.state;
}

/**
 * The same change as `evolve`, made in place on a seat array the caller owns, index and all
 * left aside: a replay of a long log folds without copying the array once per event, and
 * the state it ends with (`stateOfSeats`) builds its index once, when first asked.
 */
export function evolveInPlace(seats: Seat[], event: DomainEvent): void {
  if (inRange(seats, event)) seats[event.data.seat - 1] = seatAfter(event);
}

/**
 * A state being changed by one owner, event after event, with one copy of its seats: a group
 * of decisions, each taken against the state the previous ones leave. `state` is the state
 * so far; a `state` read before the next `apply` sees that apply's seats too (they share the
 * array), so read it again after each.
 */
export class StateDraft {
  private seats?: Seat[];
  private index: SeatIndex;
  private current: ConcertState;

  constructor(from: ConcertState) {
    this.current = from;
    this.index = indexOf(from);
  }

  get state(): ConcertState {
    return this.current;
  }

  apply(events: readonly DomainEvent[]): void {
    const seats = (this.seats ??= this.current.seats.slice());
    let index = this.index;
    for (const event of events) {
      if (!inRange(seats, event)) continue;
      const n = event.data.seat;
      const now = seatAfter(event);
      index = changeSeat(index, n, seats[n - 1]!, now);
      seats[n - 1] = now;
    }
    this.index = index;
    this.current = { ...this.current, seats };
    keepIndex(this.current, index);
  }
}
