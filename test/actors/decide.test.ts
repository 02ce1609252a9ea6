/**
 * The concert decider, given (past events) / when (a command) / then (new events, or the
 * error the client will see). Time is fixed: every test decides at NOW unless it says otherwise.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decide,
  evolve,
  initialState,
  DEFAULT_RULES,
  type ConcertCommand,
  type ConcertRules,
  type ConcertState,
} from '../../src/actors/concert.js';
import { GuichetError } from '../../src/errors.js';
import type { DomainEvent, ReleaseReason } from '../../src/events/envelope.js';

const NOW = Date.parse('2027-01-01T00:00:00Z');
const HOLD_MS = DEFAULT_RULES.holdMs;
const iso = (ms: number): string => new Date(ms).toISOString();

// ------------------------------------------------------------------ events

const held = (seat: number, hold: string, holder: string, expiresAt = NOW + HOLD_MS): DomainEvent => ({
  type: 'SeatHeld',
  data: { seat, hold, holder, expiresAt: iso(expiresAt) },
});
const booked = (seat: number, hold: string, reference: string, firstName = 'Ada', lastName = 'Lovelace'): DomainEvent => ({
  type: 'SeatBooked',
  data: { seat, hold, reference, firstName, lastName },
});
const released = (seat: number, hold: string, reason: ReleaseReason): DomainEvent => ({
  type: 'SeatReleased',
  data: { seat, hold, reason },
});
const cancelled = (seat: number, reference: string): DomainEvent => ({
  type: 'BookingCancelled',
  data: { seat, reference },
});

// ------------------------------------------------------------------ commands

const hold = (seat: number, holdId = 'h1', holder = 'alice'): ConcertCommand => ({ type: 'Hold', seat, hold: holdId, holder });
const book = (holdId: string, holder: string, firstName: string, lastName: string, reference = '1234567897'): ConcertCommand => ({
  type: 'Book',
  hold: holdId,
  holder,
  firstName,
  lastName,
  reference,
});
const release = (holdId: string, holder: string, reason: 'declined' | 'disconnected' = 'declined'): ConcertCommand => ({
  type: 'Release',
  hold: holdId,
  holder,
  reason,
});
const releaseExpired: ConcertCommand = { type: 'ReleaseExpired' };
const cancel = (reference: string, lastName: string): ConcertCommand => ({ type: 'Cancel', reference, lastName });

// ------------------------------------------------------------------ given / when / then

type Outcome = { events: DomainEvent[] } | { error: string };

function given(events: DomainEvent[] = []) {
  const state: ConcertState = events.reduce(evolve, initialState('c1', 10));
  return {
    state,
    /** The events decided, or the code of the GuichetError refusing the command. */
    when(command: ConcertCommand, now = NOW, rules: ConcertRules = DEFAULT_RULES): Outcome {
      try {
        return { events: decide(state, command, now, rules) };
      } catch (err) {
        if (err instanceof GuichetError) return { error: err.code };
        throw err;
      }
    },
  };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

// ================================================================== Hold

const Hold = suite('decide: Hold');

Hold('holds a free seat until now + holdMs', () => {
  assert.equal(given().when(hold(3)), { events: [held(3, 'h1', 'alice', NOW + HOLD_MS)] });
});

Hold('expiresAt follows the rules passed in', () => {
  const rules = { holdMs: 5_000, maxSeats: 4 };
  assert.equal(given().when(hold(3), NOW, rules), { events: [held(3, 'h1', 'alice', NOW + 5_000)] });
});

Hold('holds the first and the last seat', () => {
  assert.equal(given().when(hold(1)), { events: [held(1, 'h1', 'alice')] });
  assert.equal(given().when(hold(10)), { events: [held(10, 'h1', 'alice')] });
});

Hold('refuses seat 0 with NO_SUCH_SEAT', () => {
  assert.equal(given().when(hold(0)), { error: 'NO_SUCH_SEAT' });
});

Hold('refuses seat capacity + 1 with NO_SUCH_SEAT', () => {
  assert.equal(given().when(hold(11)), { error: 'NO_SUCH_SEAT' });
});

Hold('refuses a non-integer seat with NO_SUCH_SEAT', () => {
  assert.equal(given().when(hold(2.5)), { error: 'NO_SUCH_SEAT' });
  assert.equal(given().when(hold(Number.NaN)), { error: 'NO_SUCH_SEAT' });
  assert.equal(given().when(hold(-1)), { error: 'NO_SUCH_SEAT' });
});

Hold('refuses a seat held by another with SEAT_TAKEN', () => {
  assert.equal(given([held(3, 'h0', 'bob')]).when(hold(3)), { error: 'SEAT_TAKEN' });
});

Hold('records nothing for a seat the holder already holds (a retry): the hold stands', () => {
  assert.equal(given([held(3, 'h0', 'alice')]).when(hold(3)), { events: [] });
});

Hold('takes again a seat whose own hold has run out', () => {
  assert.equal(given([held(3, 'h0', 'alice', NOW - 1)]).when(hold(3)), {
    events: [{ type: 'SeatHeld', data: { seat: 3, hold: 'h1', holder: 'alice', expiresAt: iso(NOW + HOLD_MS) } }],
  });
});

Hold('refuses a booked seat with SEAT_TAKEN', () => {
  assert.equal(given([held(3, 'h0', 'bob'), booked(3, 'h0', '1234567897')]).when(hold(3)), { error: 'SEAT_TAKEN' });
});

Hold('holds again the seat of an expired hold whose release is not written', () => {
  const state = given([held(3, 'h0', 'bob', NOW - 1)]);
  assert.equal(state.when(hold(3)), { events: [held(3, 'h1', 'alice')] });
});

Hold('a hold expiring exactly now no longer takes the seat', () => {
  assert.equal(given([held(3, 'h0', 'bob', NOW)]).when(hold(3)), { events: [held(3, 'h1', 'alice')] });
});

Hold('holds again a released seat', () => {
  assert.equal(given([held(3, 'h0', 'bob'), released(3, 'h0', 'declined')]).when(hold(3)), { events: [held(3, 'h1', 'alice')] });
});

Hold('holds again the seat of a cancelled booking', () => {
  const events = [held(3, 'h0', 'bob'), booked(3, 'h0', '1234567897'), cancelled(3, '1234567897')];
  assert.equal(given(events).when(hold(3)), { events: [held(3, 'h1', 'alice')] });
});

const fourLiveHolds = [held(1, 'a1', 'alice'), held(2, 'a2', 'alice'), held(3, 'a3', 'alice'), held(4, 'a4', 'alice')];
const FOUR_SEATS: ConcertRules = { ...DEFAULT_RULES, maxSeats: 4 };

Hold('refuses a hold beyond maxSeats live seats with HOLD_LIMIT', () => {
  assert.equal(given(fourLiveHolds).when(hold(5), NOW, FOUR_SEATS), { error: 'HOLD_LIMIT' });
});

Hold('allows up to maxSeats live seats', () => {
  assert.equal(given(fourLiveHolds.slice(0, 3)).when(hold(5), NOW, FOUR_SEATS), { events: [held(5, 'h1', 'alice')] });
});

Hold('maxSeats is 8 by default', () => {
  assert.equal(DEFAULT_RULES.maxSeats, 8);
  assert.equal(given(fourLiveHolds).when(hold(5)), { events: [held(5, 'h1', 'alice')] });
});

Hold('expired holds do not count towards HOLD_LIMIT', () => {
  const events = [...fourLiveHolds.slice(0, 3), held(4, 'a4', 'alice', NOW - 1)];
  assert.equal(given(events).when(hold(5), NOW, FOUR_SEATS), { events: [held(5, 'h1', 'alice')] });
});

Hold('released holds and bookings do not count towards HOLD_LIMIT', () => {
  const events = [...fourLiveHolds, released(1, 'a1', 'declined'), booked(2, 'a2', '1234567897')];
  assert.equal(given(events).when(hold(5), NOW, FOUR_SEATS), { events: [held(5, 'h1', 'alice')] });
});

Hold("other holders' holds do not count towards HOLD_LIMIT", () => {
  assert.equal(given(fourLiveHolds).when(hold(5, 'h1', 'bob'), NOW, FOUR_SEATS), { events: [held(5, 'h1', 'bob')] });
});

Hold('HOLD_LIMIT follows the rules passed in', () => {
  const rules = { holdMs: HOLD_MS, maxSeats: 1 };
  assert.equal(given([held(1, 'a1', 'alice')]).when(hold(5), NOW, rules), { error: 'HOLD_LIMIT' });
});

Hold.run();

// ================================================================== Book

const Book = suite('decide: Book');

Book('books a live hold with the reference and names given', () => {
  assert.equal(given([held(3, 'h1', 'alice')]).when(book('h1', 'alice', 'Ada', 'Lovelace', '1234567897')), {
    events: [booked(3, 'h1', '1234567897', 'Ada', 'Lovelace')],
  });
});

Book('books a hold a moment before it expires', () => {
  assert.equal(given([held(3, 'h1', 'alice', NOW + 1)]).when(book('h1', 'alice', 'Ada', 'Lovelace')), {
    events: [booked(3, 'h1', '1234567897', 'Ada', 'Lovelace')],
  });
});

Book('refuses an unknown hold with NO_SUCH_HOLD', () => {
  assert.equal(given([held(3, 'h1', 'alice')]).when(book('nope', 'alice', 'Ada', 'Lovelace')), { error: 'NO_SUCH_HOLD' });
});

Book("refuses another holder's hold with NO_SUCH_HOLD", () => {
  assert.equal(given([held(3, 'h1', 'alice')]).when(book('h1', 'bob', 'Ada', 'Lovelace')), { error: 'NO_SUCH_HOLD' });
});

Book('records nothing for a hold already booked (a retry): the booking stands', () => {
  const events = [held(3, 'h1', 'alice'), booked(3, 'h1', '1234567897')];
  assert.equal(given(events).when(book('h1', 'alice', 'Ada', 'Lovelace', '2345678907')), { events: [] });
});

Book('refuses a hold whose booking was cancelled with NO_SUCH_HOLD', () => {
  const events = [held(3, 'h1', 'alice'), booked(3, 'h1', '1234567897'), cancelled(3, '1234567897')];
  assert.equal(given(events).when(book('h1', 'alice', 'Ada', 'Lovelace', '2345678907')), { error: 'NO_SUCH_HOLD' });
});

Book('refuses a released hold with NO_SUCH_HOLD', () => {
  const events = [held(3, 'h1', 'alice'), released(3, 'h1', 'declined')];
  assert.equal(given(events).when(book('h1', 'alice', 'Ada', 'Lovelace')), { error: 'NO_SUCH_HOLD' });
});

Book('refuses an expired hold with HOLD_EXPIRED', () => {
  assert.equal(given([held(3, 'h1', 'alice', NOW - 1)]).when(book('h1', 'alice', 'Ada', 'Lovelace')), { error: 'HOLD_EXPIRED' });
});

Book('refuses a hold at its expiry instant with HOLD_EXPIRED', () => {
  assert.equal(given([held(3, 'h1', 'alice', NOW)]).when(book('h1', 'alice', 'Ada', 'Lovelace')), { error: 'HOLD_EXPIRED' });
});

const aHold = [held(3, 'h1', 'alice')];
const withNames = (firstName: string, lastName: string) => given(aHold).when(book('h1', 'alice', firstName, lastName));

Book('refuses an empty name with INVALID_NAME', () => {
  assert.equal(withNames('', 'Lovelace'), { error: 'INVALID_NAME' });
  assert.equal(withNames('Ada', ''), { error: 'INVALID_NAME' });
  assert.equal(withNames('   ', 'Lovelace'), { error: 'INVALID_NAME' });
});

Book('refuses a name with digits with INVALID_NAME', () => {
  assert.equal(withNames('Ada2', 'Lovelace'), { error: 'INVALID_NAME' });
  assert.equal(withNames('Ada', '1234'), { error: 'INVALID_NAME' });
});

Book('refuses a name that does not start with a letter with INVALID_NAME', () => {
  assert.equal(withNames('\u0301', 'Lovelace'), { error: 'INVALID_NAME' });
  assert.equal(withNames('Ada', '\u0301Lovelace'), { error: 'INVALID_NAME' });
});

Book('refuses a 65-character name with INVALID_NAME', () => {
  assert.equal(withNames('A'.repeat(65), 'Lovelace'), { error: 'INVALID_NAME' });
  assert.equal(withNames('Ada', 'L'.repeat(65)), { error: 'INVALID_NAME' });
});

Book('accepts a 64-character name', () => {
  assert.equal(withNames('Ada', 'L'.repeat(64)), { events: [booked(3, 'h1', '1234567897', 'Ada', 'L'.repeat(64))] });
});

Book('accepts names with spaces, apostrophes and letters of any script', () => {
  for (const name of ['Jean Pierre', "O'Brien", 'Zoë', 'Łukasz', '李', 'Dupont-Lévêque']) {
    assert.equal(withNames(name, name), { events: [booked(3, 'h1', '1234567897', name, name)] }, name);
  }
});

Book('writes names trimmed with inner spaces collapsed', () => {
  assert.equal(withNames('  Jean   Pierre ', ' de  la Tour  '), {
    events: [booked(3, 'h1', '1234567897', 'Jean Pierre', 'de la Tour')],
  });
});

Book('an invalid name leaves the hold in place to try again', () => {
  const state = given(aHold);
  assert.equal(state.when(book('h1', 'alice', 'Ada2', 'Lovelace')), { error: 'INVALID_NAME' });
  assert.equal(state.when(book('h1', 'alice', 'Ada', 'Lovelace')), { events: [booked(3, 'h1', '1234567897', 'Ada', 'Lovelace')] });
});

Book('refuses a reference already in use with INTERNAL', () => {
  const events = [held(2, 'h0', 'bob'), booked(2, 'h0', '1234567897'), held(3, 'h1', 'alice')];
  assert.equal(given(events).when(book('h1', 'alice', 'Ada', 'Lovelace', '1234567897')), { error: 'INTERNAL' });
});

Book.run();

// ================================================================== Release

const Release = suite('decide: Release');

Release('releases a live hold as declined', () => {
  assert.equal(given(aHold).when(release('h1', 'alice', 'declined')), { events: [released(3, 'h1', 'declined')] });
});

Release('releases a live hold as disconnected', () => {
  assert.equal(given(aHold).when(release('h1', 'alice', 'disconnected')), { events: [released(3, 'h1', 'disconnected')] });
});

Release('refuses an unknown hold with NO_SUCH_HOLD', () => {
  assert.equal(given(aHold).when(release('nope', 'alice')), { error: 'NO_SUCH_HOLD' });
});

Release('refuses an expired hold with NO_SUCH_HOLD', () => {
  assert.equal(given([held(3, 'h1', 'alice', NOW - 1)]).when(release('h1', 'alice')), { error: 'NO_SUCH_HOLD' });
  assert.equal(given([held(3, 'h1', 'alice', NOW)]).when(release('h1', 'alice')), { error: 'NO_SUCH_HOLD' });
});

Release("refuses another holder's hold with NO_SUCH_HOLD", () => {
  assert.equal(given(aHold).when(release('h1', 'bob')), { error: 'NO_SUCH_HOLD' });
});

Release('refuses a booked hold with NO_SUCH_HOLD', () => {
  assert.equal(given([...aHold, booked(3, 'h1', '1234567897')]).when(release('h1', 'alice')), { error: 'NO_SUCH_HOLD' });
});

Release('refuses a hold released already with NO_SUCH_HOLD', () => {
  assert.equal(given([...aHold, released(3, 'h1', 'declined')]).when(release('h1', 'alice')), { error: 'NO_SUCH_HOLD' });
});

Release.run();

// ================================================================== ReleaseExpired

const ReleaseExpired = suite('decide: ReleaseExpired');

ReleaseExpired('releases the lowest-numbered expired hold', () => {
  const events = [held(7, 'h7', 'alice', NOW - 10), held(5, 'h5', 'bob', NOW + 10), held(2, 'h2', 'carol', NOW - 1), held(9, 'h9', 'bob', NOW - 99)];
  assert.equal(given(events).when(releaseExpired), { events: [released(2, 'h2', 'expired')] });
});

ReleaseExpired('releases a hold expiring exactly now', () => {
  assert.equal(given([held(4, 'h4', 'alice', NOW)]).when(releaseExpired), { events: [released(4, 'h4', 'expired')] });
});

ReleaseExpired('decides nothing when every hold is live', () => {
  assert.equal(given([held(4, 'h4', 'alice', NOW + 1)]).when(releaseExpired), { events: [] });
});

ReleaseExpired('decides nothing when no seat is held', () => {
  assert.equal(given().when(releaseExpired), { events: [] });
  assert.equal(given([held(4, 'h4', 'alice', NOW - 1), booked(4, 'h4', '1234567897')]).when(releaseExpired), { events: [] });
});

ReleaseExpired.run();

// ================================================================== Cancel

const Cancel = suite('decide: Cancel');

const aBooking = [held(3, 'h1', 'alice'), booked(3, 'h1', '1234567897', 'Anne', 'Lévêque')];

Cancel('cancels a booking given its reference and last name', () => {
  assert.equal(given(aBooking).when(cancel('1234567897', 'Lévêque')), { events: [cancelled(3, '1234567897')] });
});

Cancel('matches the last name ignoring case, accents and extra spaces', () => {
  assert.equal(given(aBooking).when(cancel('1234567897', '  leveque ')), { events: [cancelled(3, '1234567897')] });
  assert.equal(given(aBooking).when(cancel('1234567897', 'LÉVÊQUE')), { events: [cancelled(3, '1234567897')] });
});

Cancel('matches a last name with ł, ø or ß typed without them', () => {
  for (const [lastName, typed] of [['Łukasiewicz', 'lukasiewicz'], ['Østergaard', 'OSTERGAARD'], ['Straße', 'strasse']] as const) {
    const events = [held(3, 'h1', 'alice'), booked(3, 'h1', '1234567897', 'Anne', lastName)];
    assert.equal(given(events).when(cancel('1234567897', typed)), { events: [cancelled(3, '1234567897')] }, lastName);
  }
});

Cancel('refuses an unknown reference with NOT_FOUND', () => {
  assert.equal(given(aBooking).when(cancel('2345678907', 'Lévêque')), { error: 'NOT_FOUND' });
});

Cancel('refuses a wrong last name with NOT_FOUND', () => {
  assert.equal(given(aBooking).when(cancel('1234567897', 'Dupont')), { error: 'NOT_FOUND' });
});

Cancel('an unknown reference and a wrong name get the same error', () => {
  const state = given(aBooking).state;
  const describe = (err: unknown) => {
    const e = err as GuichetError;
    return { code: e.code, message: e.message };
  };
  assert.equal(
    describe(thrown(() => decide(state, cancel('2345678907', 'Lévêque'), NOW))),
    describe(thrown(() => decide(state, cancel('1234567897', 'Dupont'), NOW))),
  );
});

Cancel('refuses a booking cancelled already with NOT_FOUND', () => {
  assert.equal(given([...aBooking, cancelled(3, '1234567897')]).when(cancel('1234567897', 'Lévêque')), { error: 'NOT_FOUND' });
});

Cancel('refuses the reference of a hold never booked with NOT_FOUND', () => {
  assert.equal(given([held(3, 'h1', 'alice')]).when(cancel('1234567897', 'Lévêque')), { error: 'NOT_FOUND' });
});

Cancel.run();

// ================================================================== errors and purity

const Errors = suite('decide: refusals and purity');

Errors('refuses with a GuichetError carrying the wire code', () => {
  const err = thrown(() => decide(given().state, hold(0), NOW));
  assert.instance(err, GuichetError);
  assert.equal((err as GuichetError).code, 'NO_SUCH_SEAT');
});

Errors('decide leaves the state it is given unchanged', () => {
  const { state } = given(aHold);
  const before = structuredClone(state);
  decide(state, hold(4), NOW);
  decide(state, book('h1', 'alice', 'Ada', 'Lovelace'), NOW);
  decide(state, release('h1', 'alice'), NOW);
  assert.equal(state, before);
});

Errors('the same state, command and time decide the same events', () => {
  const { state } = given(aHold);
  assert.equal(decide(state, hold(4), NOW), decide(state, hold(4), NOW));
});

Errors('the events decided fold into the expected state: hold, book, cancel, hold again', () => {
  let state = initialState('c1', 10);
  const run = (command: ConcertCommand) => {
    const events = decide(state, command, NOW);
    state = events.reduce(evolve, state);
    return events;
  };
  run(hold(3, 'h1', 'alice'));
  run(book('h1', 'alice', 'Ada', 'Lovelace'));
  run(cancel('1234567897', 'lovelace'));
  assert.equal(run(hold(3, 'h2', 'bob')), [held(3, 'h2', 'bob')]);
});

Errors.run();
