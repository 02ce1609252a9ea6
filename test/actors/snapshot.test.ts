import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSnapshot, encodeSnapshot, FOLD_VERSION, type ConcertSnapshot } from '../../src/actors/snapshot.js';
import { evolve, initialState, type ConcertState } from '../../src/actors/concert.js';

const Codec = suite('concert snapshots: encode and decode');

/** A state reached by real events: seat 1 booked, 2 held, 3 booked then cancelled, the rest free. */
function someState(): ConcertState {
  let state = initialState('c1', 5);
  state = evolve(state, { type: 'SeatHeld', data: { seat: 1, hold: 'h1', holder: 'conn-1', expiresAt: '2027-01-01T20:02:00.000Z' } });
  state = evolve(state, { type: 'SeatBooked', data: { seat: 1, hold: 'h1', reference: '1234567897', firstName: 'Zoë', lastName: "O'Brien" } });
  state = evolve(state, { type: 'SeatHeld', data: { seat: 2, hold: 'h2', holder: 'conn-2', expiresAt: '2027-01-01T20:03:00.000Z' } });
  state = evolve(state, { type: 'SeatHeld', data: { seat: 3, hold: 'h3', holder: 'conn-2', expiresAt: '2027-01-01T20:03:00.000Z' } });
  state = evolve(state, { type: 'SeatBooked', data: { seat: 3, hold: 'h3', reference: '2345678901', firstName: 'A', lastName: 'B' } });
  state = evolve(state, { type: 'BookingCancelled', data: { seat: 3, reference: '2345678901' } });
  return state;
}

const snapshot = (over: Partial<ConcertSnapshot> = {}): ConcertSnapshot => ({
  state: someState(),
  throughSeq: 40,
  lastSeq: 37,
  lastEventId: '01J0000000000000000000000X',
  cancelledReferences: ['2345678901'],
  ...over,
});

Codec('given a state of free, held and booked seats and a cancelled reference, when encoded and decoded, then the same comes back', () => {
  const back = decodeSnapshot(encodeSnapshot(snapshot()));
  assert.equal(back, snapshot());
  assert.is(back.state.seats[1]!.kind, 'held');
  assert.is(back.state.seats[2]!.kind, 'free');
});

Codec('given a concert with no events, then it encodes with lastSeq 0 and no event id', () => {
  const empty = { state: initialState('c2', 3), throughSeq: 12, lastSeq: 0, lastEventId: '', cancelledReferences: [] };
  assert.equal(decodeSnapshot(encodeSnapshot(empty)), empty);
  assert.is(encodeSnapshot(empty).includes('"seats":[0,0,0]'), true, 'a free seat is written as 0');
});

function rejects(mutate: (wire: Record<string, unknown>) => void, why: RegExp) {
  const wire = JSON.parse(encodeSnapshot(snapshot())) as Record<string, unknown>;
  mutate(wire);
  assert.throws(() => decodeSnapshot(JSON.stringify(wire)), why);
}

Codec('when written by another fold version, then it is refused', () => {
  rejects((w) => (w['fold'] = FOLD_VERSION + 1), /fold version/);
  rejects((w) => delete w['fold'], /fold version/);
});

Codec('when its figures do not hold together, then it is refused', () => {
  rejects((w) => (w['lastSeq'] = 41), /lastSeq ≤ throughSeq/);
  rejects((w) => (w['throughSeq'] = -1), /lastSeq ≤ throughSeq/);
  rejects((w) => (w['throughSeq'] = 1.5), /lastSeq ≤ throughSeq/);
  rejects((w) => (w['lastEventId'] = ''), /lastEventId/);
  rejects((w) => (w['capacity'] = 0), /capacity/);
  rejects((w) => (w['concert'] = ''), /no concert/);
  rejects((w) => (w['cancelled'] = ['12345']), /cancelled must list 10-digit references/);
  rejects((w) => delete w['cancelled'], /cancelled must list/);
});

Codec('when its seats are not the concert\'s seats, then it is refused, naming the seat', () => {
  rejects((w) => (w['seats'] as unknown[]).pop(), /seats must list the 5 seats/);
  rejects((w) => ((w['seats'] as unknown[])[2] = 1), /seat 3 is not/);
  rejects((w) => ((w['seats'] as unknown[])[0] = ['b', 'h1', '1234567897', 'Zoë']), /seat 1 is not/);
  rejects((w) => ((w['seats'] as unknown[])[1] = ['h', 'h2', '', 5]), /seat 2 is not/);
  rejects((w) => ((w['seats'] as unknown[])[1] = ['h', 'h2', 'conn-2', 'soon']), /seat 2 is not/);
});

Codec('when it is not JSON, then it is refused', () => {
  assert.throws(() => decodeSnapshot('{"fold":'), SyntaxError);
  assert.throws(() => decodeSnapshot('null'), /not a JSON object/);
});

Codec.run();
