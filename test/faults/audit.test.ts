/**
 * The fault scenarios judge the log with auditLog and compareWithLog: check that they do
 * catch what they are there to catch, on logs written by hand.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Concert } from '../../src/catalog.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { auditLog, compareWithLog } from '../support/faults.js';

const CATALOG: Concert[] = [{ id: 'c', title: 'C', venue: '', date: '', capacity: 3 }];
const T0 = Date.parse('2027-01-01T00:00:00Z');
let seq = 0;

function ev(type: StoredEvent['type'], data: Record<string, unknown>, atMs = 0, id?: string): StoredEvent {
  seq++;
  return { id: id ?? `E${seq}`, v: 1, concert: 'c', at: new Date(T0 + atMs).toISOString(), source: 'gw', seq, type, data } as unknown as StoredEvent;
}
const held = (seat: number, hold: string, atMs = 0, forMs = 60_000) => ev('SeatHeld', { seat, hold, holder: 'h', expiresAt: new Date(T0 + atMs + forMs).toISOString() }, atMs);
const booked = (seat: number, hold: string, reference: string, atMs = 1) => ev('SeatBooked', { seat, hold, reference, firstName: 'A', lastName: 'B' }, atMs);

const Audit = suite('faults: the log audit catches broken promises');

Audit('a clean history passes', () => {
  const log = [held(1, 'h1'), booked(1, 'h1', 'R1'), ev('BookingCancelled', { seat: 1, reference: 'R1' }, 2), held(1, 'h2', 3), booked(1, 'h2', 'R2', 4)];
  const a = auditLog(log, CATALOG);
  assert.equal([a.doubleBookings, a.doubleHolds, a.bookedWithoutLiveHold, a.duplicateIds, a.duplicatedPerHold], [[], [], [], [], []]);
  const told = { booked: new Map([['R1', { concert: 'c', seat: 1 }], ['R2', { concert: 'c', seat: 1 }]]), cancelled: new Set(['R1']) };
  assert.equal(compareWithLog(a, told), { lost: [], wrongSeat: [], cancelledButBooked: [], bookedButNotTold: 0 });
});

Audit('a seat sold twice is caught, even when something else freed it between', () => {
  const log = [held(2, 'h1'), booked(2, 'h1', 'R1'), ev('SeatReleased', { seat: 2, hold: 'h1', reason: 'expired' }, 2), held(2, 'h2', 3), booked(2, 'h2', 'R2', 4)];
  const a = auditLog(log, CATALOG);
  assert.is(a.doubleBookings.length, 1);
  assert.ok(a.doubleHolds.length >= 1, 'the release and the hold of a sold seat are reported');
});

Audit('a second live hold, a booking after expiry, a stored-twice event are caught', () => {
  const log = [held(3, 'h1', 0, 1_000), held(3, 'h2', 500), booked(3, 'h1', 'R1', 2_000)];
  log.push({ ...log[0]!, seq: 99 });
  const a = auditLog(log, CATALOG);
  assert.is(a.doubleHolds.length >= 1, true);
  assert.is(a.bookedWithoutLiveHold.length, 1);
  assert.equal(a.duplicateIds, [log[0]!.id]);
  assert.equal(a.duplicatedPerHold.map((d) => d.hold), ['h1']);
});

Audit('a reference told but missing, or cancelled in the log but told booked, is lost', () => {
  const log = [held(1, 'h1'), booked(1, 'h1', 'R1'), ev('BookingCancelled', { seat: 1, reference: 'R1' }, 2)];
  const a = auditLog(log, CATALOG);
  const told = { booked: new Map([['R1', { concert: 'c', seat: 1 }], ['R9', { concert: 'c', seat: 2 }]]), cancelled: new Set<string>() };
  assert.equal(compareWithLog(a, told).lost.sort(), ['R1', 'R9']);
});

Audit.run();
