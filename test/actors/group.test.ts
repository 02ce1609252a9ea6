/**
 * Group holds in the decider, given (past events) / when (a command) / then (events or the
 * error code): several seats held, booked, released, cancelled and expired together; best
 * available decided against the state. One event per seat; the seats of a hold share its id,
 * those of a booking its reference.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decide, evolve, initialState, DEFAULT_RULES, type ConcertCommand, type ConcertRules, type ConcertState } from '../../src/actors/concert.js';
import { GuichetError } from '../../src/errors.js';
import type { DomainEvent, ReleaseReason } from '../../src/events/envelope.js';
import { layoutOf } from '../../src/layout.js';

const NOW = Date.parse('2027-01-01T00:00:00Z');
const EXPIRES = new Date(NOW + DEFAULT_RULES.holdMs).toISOString();
const LAYOUT = layoutOf(30); // rows A, B, C of 10

const held = (seats: number[], hold: string, holder: string, expiresAt = EXPIRES): DomainEvent[] =>
  seats.map((seat) => ({ type: 'SeatHeld', data: { seat, hold, holder, expiresAt } }));
const booked = (seats: number[], hold: string, reference: string, firstName = 'Ada', lastName = 'Lovelace'): DomainEvent[] =>
  seats.map((seat) => ({ type: 'SeatBooked', data: { seat, hold, reference, firstName, lastName } }));
const released = (seats: number[], hold: string, reason: ReleaseReason): DomainEvent[] =>
  seats.map((seat) => ({ type: 'SeatReleased', data: { seat, hold, reason } }));
const cancelled = (seats: number[], reference: string): DomainEvent[] =>
  seats.map((seat) => ({ type: 'BookingCancelled', data: { seat, reference } }));

const holdSeats = (seats: number[], hold = 'g1', holder = 'alice'): ConcertCommand => ({ type: 'Hold', seats, hold, holder, layout: LAYOUT });
const holdBest = (best: number, hold = 'g1', holder = 'alice'): ConcertCommand => ({ type: 'Hold', best, hold, holder, layout: LAYOUT });
const book = (hold: string, holder = 'alice', reference = '1234567897'): ConcertCommand => ({
  type: 'Book', hold, holder, firstName: 'Ada', lastName: 'Lovelace', reference,
});

type Result = { events: DomainEvent[] } | { error: string; message: string };

function given(...history: DomainEvent[][]) {
  const state: ConcertState = history.flat().reduce(evolve, initialState('c1', 30));
  return {
    state,
    when(command: ConcertCommand, now = NOW, rules: ConcertRules = DEFAULT_RULES): Result {
      try {
        return { events: decide(state, command, now, rules) };
      } catch (err) {
        if (err instanceof GuichetError) return { error: err.code, message: err.message };
        throw err;
      }
    },
  };
}

const codeOf = (r: Result) => ('error' in r ? r.error : 'events');

// ================================================================== Hold of several seats

const Hold = suite('decide: group Hold');

Hold('holds every seat asked under one hold id, one event per seat, ascending', () => {
  assert.equal(given().when(holdSeats([14, 12, 13])), { events: held([12, 13, 14], 'g1', 'alice') });
});

Hold('one seat given as a list is a plain hold of one seat', () => {
  assert.equal(given().when(holdSeats([5])), { events: held([5], 'g1', 'alice') });
});

Hold('all or nothing: one taken seat refuses the whole hold with SEAT_TAKEN', () => {
  const r = given(held([13], 'b1', 'bob')).when(holdSeats([12, 13, 14]));
  assert.equal(r, { error: 'SEAT_TAKEN', message: 'seat 13 (B3) is not free; nothing was held' });
});

Hold('SEAT_TAKEN names every taken seat, held or booked', () => {
  const r = given(held([12], 'b1', 'bob'), booked([12], 'b1', '1234567897'), held([14], 'c1', 'carol')).when(holdSeats([12, 13, 14]));
  assert.equal(r, { error: 'SEAT_TAKEN', message: 'seats 12 (B2), 14 (B4) are not free; nothing was held' });
});

Hold('a seat given twice is BAD_ARGUMENTS', () => {
  const r = given().when(holdSeats([3, 4, 3]));
  assert.equal(r, { error: 'BAD_ARGUMENTS', message: 'seat 3 (A3) is given twice' });
});

Hold('a seat the hall has not refuses the whole hold with NO_SUCH_SEAT', () => {
  assert.is(codeOf(given().when(holdSeats([29, 30, 31]))), 'NO_SUCH_SEAT');
});

Hold('an empty list, or more seats than maxSeats at once, is BAD_ARGUMENTS', () => {
  assert.is(codeOf(given().when(holdSeats([]))), 'BAD_ARGUMENTS');
  assert.is(codeOf(given().when(holdSeats([1, 2, 3, 4, 5, 6, 7, 8, 9]))), 'BAD_ARGUMENTS');
  assert.is(codeOf(given().when(holdSeats([1, 2, 3, 4, 5, 6, 7, 8]))), 'events');
});

Hold('HOLD_LIMIT counts seats across the holder’s holds, not holds', () => {
  const six = held([1, 2, 3, 4, 5, 6], 'a1', 'alice');
  assert.is(codeOf(given(six).when(holdSeats([11, 12, 13]))), 'HOLD_LIMIT');
  assert.equal(given(six).when(holdSeats([11, 12])), { events: held([11, 12], 'g1', 'alice') });
  assert.equal(given(six).when(holdSeats([11, 12, 13], 'g1', 'bob')), { events: held([11, 12, 13], 'g1', 'bob') });
});

Hold('the same seats held again by their holder (a retry) record nothing', () => {
  assert.equal(given(held([12, 13], 'g0', 'alice')).when(holdSeats([13, 12])), { events: [] });
});

Hold('part of an own hold, or more than it, is SEAT_TAKEN (it is not the same hold)', () => {
  assert.is(codeOf(given(held([12, 13], 'g0', 'alice')).when(holdSeats([12]))), 'SEAT_TAKEN');
  assert.is(codeOf(given(held([12, 13], 'g0', 'alice')).when(holdSeats([12, 13, 14]))), 'SEAT_TAKEN');
});

Hold('seats of an expired hold are free again, for anyone', () => {
  const past = new Date(NOW - 1).toISOString();
  assert.equal(given(held([12, 13], 'g0', 'bob', past)).when(holdSeats([12, 13])), { events: held([12, 13], 'g1', 'alice') });
});

Hold.run();

// ================================================================== best available

const Best = suite('decide: Hold best n');

Best('empty hall: best 4 holds A4–A7, best 2 holds A5–A6', () => {
  assert.equal(given().when(holdBest(4)), { events: held([4, 5, 6, 7], 'g1', 'alice') });
  assert.equal(given().when(holdBest(2)), { events: held([5, 6], 'g1', 'alice') });
});

Best('seats held by others, and expired holds, are judged at now', () => {
  const past = new Date(NOW - 1).toISOString();
  // Row A: A4-A7 held (live), A1-A3 and A8-A10 left: 3 each, a run of 3 there strands nothing.
  assert.equal(given(held([4, 5, 6, 7], 'b1', 'bob')).when(holdBest(3)), { events: held([1, 2, 3], 'g1', 'alice') });
  assert.equal(given(held([4, 5, 6, 7], 'b1', 'bob', past)).when(holdBest(4)), { events: held([4, 5, 6, 7], 'g1', 'alice') });
});

Best('avoids stranding a seat, even going a row further back', () => {
  // Row A: A3-A7 free, the rest booked: a run of 4 there always leaves one seat alone.
  const full = [1, 2, 8, 9, 10];
  const history = [held(full, 'b1', 'bob'), booked(full, 'b1', '1234567897')];
  assert.equal(given(...history).when(holdBest(4)), { events: held([14, 15, 16, 17], 'g1', 'alice') });
});

Best('strands a seat when nothing else fits', () => {
  // Rows A, B, C each with five free seats between booked ones.
  const taken = [1, 2, 8, 9, 10, 11, 12, 18, 19, 20, 21, 22, 28, 29, 30];
  const history = [held(taken, 'b1', 'bob'), booked(taken, 'b1', '1234567897')];
  assert.equal(given(...history).when(holdBest(4)), { events: held([4, 5, 6, 7], 'g1', 'alice') });
});

Best('no row wide enough: NO_ADJACENT_SEATS with the most there are', () => {
  const taken = [4, 8, 14, 18, 24, 28];
  const r = given(held(taken, 'b1', 'bob')).when(holdBest(4));
  assert.equal(r, { error: 'NO_ADJACENT_SEATS', message: 'no row has 4 adjacent free seats; the most there are is 3' });
});

Best('best 0, or more than maxSeats, is BAD_ARGUMENTS', () => {
  assert.is(codeOf(given().when(holdBest(0))), 'BAD_ARGUMENTS');
  assert.is(codeOf(given().when(holdBest(9))), 'BAD_ARGUMENTS');
});

Best('best n counts against HOLD_LIMIT', () => {
  assert.is(codeOf(given(held([21, 22, 23, 24, 25, 26], 'a1', 'alice')).when(holdBest(3))), 'HOLD_LIMIT');
});

Best('passes over the seats it is told to avoid (the address\'s cool-down), as if taken', () => {
  const avoiding = (avoid: number[]): ConcertCommand => ({ type: 'Hold', best: 4, hold: 'g1', holder: 'alice', layout: LAYOUT, avoid });
  // A4-A7 are the best; with A5 to avoid, the run A1-A4 fills a gap exactly, still in row A.
  assert.equal(given().when(avoiding([5])), { events: held([1, 2, 3, 4], 'g1', 'alice') });
  assert.equal(given().when(avoiding([])), { events: held([4, 5, 6, 7], 'g1', 'alice') });
});

Best('when only seats to avoid would fit, COOL_DOWN, not NO_ADJACENT_SEATS', () => {
  // Every row booked but A4-A7: the one run of 4, and A6 is to be avoided.
  const taken = [1, 2, 3, 8, 9, 10, ...Array.from({ length: 20 }, (_, i) => 11 + i)];
  const history = [held(taken, 'b1', 'bob'), booked(taken, 'b1', '1234567897')];
  const r = given(...history).when({ type: 'Hold', best: 4, hold: 'g1', holder: 'alice', layout: LAYOUT, avoid: [6] });
  assert.is(codeOf(r), 'COOL_DOWN');
  assert.is(codeOf(given(...history).when({ type: 'Hold', best: 5, hold: 'g1', holder: 'alice', layout: LAYOUT, avoid: [6] })), 'NO_ADJACENT_SEATS');
});

Best('follows the rows of the layout it is given', () => {
  const layout = layoutOf(30, [4, 12, 14]);
  const command: ConcertCommand = { type: 'Hold', best: 6, hold: 'g1', holder: 'alice', layout };
  // Row A (4 seats) cannot; row B is seats 5-16, its middle six are 8-13.
  assert.equal(given().when(command), { events: held([8, 9, 10, 11, 12, 13], 'g1', 'alice') });
});

Best.run();

// ================================================================== Book, Release, Cancel, expiry

const Group = suite('decide: a group booked, released, cancelled, expired');

const group = held([12, 13, 14], 'g1', 'alice');

Group('Book books every seat of the hold under one reference', () => {
  assert.equal(given(group).when(book('g1')), { events: booked([12, 13, 14], 'g1', '1234567897') });
});

Group('Book of an expired group is HOLD_EXPIRED, and books nothing', () => {
  assert.is(codeOf(given(group).when(book('g1'), NOW + DEFAULT_RULES.holdMs)), 'HOLD_EXPIRED');
});

Group('Book again of a booked group (a retry) records nothing', () => {
  assert.equal(given(group, booked([12, 13, 14], 'g1', '1234567897')).when(book('g1', 'alice', '2345678907')), { events: [] });
});

Group("Book of another holder's group is NO_SUCH_HOLD", () => {
  assert.is(codeOf(given(group).when(book('g1', 'bob'))), 'NO_SUCH_HOLD');
});

Group('Release frees every seat of the hold', () => {
  assert.equal(given(group).when({ type: 'Release', hold: 'g1', holder: 'alice', reason: 'declined' }), {
    events: released([12, 13, 14], 'g1', 'declined'),
  });
});

Group('a disconnect releases the whole group', () => {
  assert.equal(given(group).when({ type: 'Release', hold: 'g1', holder: 'alice', reason: 'disconnected' }), {
    events: released([12, 13, 14], 'g1', 'disconnected'),
  });
});

Group('expiry releases the whole group in one decision, one group at a time', () => {
  const past = new Date(NOW - 1).toISOString();
  const history = [held([20, 21], 'g2', 'bob', past), held([12, 13, 14], 'g1', 'alice', past), held([5], 'g3', 'carol')];
  assert.equal(given(...history).when({ type: 'ReleaseExpired' }), { events: released([12, 13, 14], 'g1', 'expired') });
  const after = given(...history, released([12, 13, 14], 'g1', 'expired'));
  assert.equal(after.when({ type: 'ReleaseExpired' }), { events: released([20, 21], 'g2', 'expired') });
});

Group('Cancel frees every seat of the booking', () => {
  const history = [group, booked([12, 13, 14], 'g1', '1234567897')];
  assert.equal(given(...history).when({ type: 'Cancel', reference: '1234567897', lastName: 'lovelace' }), {
    events: cancelled([12, 13, 14], '1234567897'),
  });
});

Group('the fold: a group held, booked, cancelled leaves every seat free to hold again', () => {
  let state = initialState('c1', 30);
  const run = (command: ConcertCommand) => {
    const events = decide(state, command, NOW);
    state = events.reduce(evolve, state);
    return events.length;
  };
  assert.is(run(holdBest(4)), 4);
  assert.is(run(book('g1')), 4);
  assert.is(run({ type: 'Cancel', reference: '1234567897', lastName: 'Lovelace' }), 4);
  assert.equal(decide(state, holdBest(4, 'g2', 'bob'), NOW), held([4, 5, 6, 7], 'g2', 'bob'));
});

Group.run();
