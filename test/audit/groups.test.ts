/**
 * The audit of group holds (pure): a hold's seats are held in one batch and booked, released
 * and cancelled together; a batch that leaves some behind, or a reference shared by two
 * holds, is a violation; the report counts holds and bookings, and seats.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Auditor } from '../../src/audit/auditor.js';
import { decide, evolve, initialState, type ConcertCommand, type ConcertState } from '../../src/actors/concert.js';
import { CraftedLog, REF, T0, booked, cancelled, envelope, held, released } from './support.js';

const report = (log: CraftedLog, clock = T0 + 3_600_000) => {
  const auditor = new Auditor({ contiguous: true, capacities: new Map([['c1', 20]]) });
  for (const m of log.messages) auditor.add(m);
  return auditor.report(clock);
};
const codes = (log: CraftedLog) => report(log).violations.map((v) => [v.seq, v.code]);
/** The seats of one group, as one batch: consecutive messages. */
const batch = (log: CraftedLog, make: (seat: number) => Parameters<CraftedLog['add']>[0], seats: number[]) => seats.map((s) => log.add(make(s)));

const Groups = suite('audit: groups of seats');

Groups('a group held, booked and cancelled together is clean; the report counts holds, bookings and seats', () => {
  const log = new CraftedLog();
  batch(log, (s) => held('c1', 0, s, 'G1'), [4, 5, 6]);
  batch(log, (s) => booked('c1', 10, s, 'G1', REF[0]), [4, 5, 6]);
  batch(log, (s) => held('c1', 20, s, 'G2'), [11, 12]);
  batch(log, (s) => released('c1', 30, s, 'G2', 'declined'), [11, 12]);
  batch(log, (s) => cancelled('c1', 40, s, REF[0]), [4, 5, 6]);
  const r = report(log);
  assert.equal(r.violations, []);
  const c1 = r.concerts[0]!;
  assert.equal(
    { holds: c1.holds, bookings: c1.bookings, cancellations: c1.cancellations, releases: c1.releases, seats: c1.seats },
    { holds: 2, bookings: 1, cancellations: 1, releases: { declined: 1, expired: 0, disconnected: 0 }, seats: { held: 5, booked: 3, cancelled: 3, released: 2 } },
  );
  assert.is(c1.map, '.'.repeat(20));
});

Groups('a booking that covers only part of its hold is PARTIAL_BOOKING', () => {
  const log = new CraftedLog();
  batch(log, (s) => held('c1', 0, s, 'G1'), [4, 5, 6]);
  const [, last] = batch(log, (s) => booked('c1', 10, s, 'G1', REF[0]), [4, 5]);
  const r = report(log);
  assert.equal(r.violations.map((v) => [v.seq, v.code, v.message]), [
    [last, 'PARTIAL_BOOKING', `booking ${REF[0]} (sequences 4–5) covers seats 4, 5 of its hold; seat 6 of the hold left held`],
  ]);
});

Groups('the rest of a hold booked later, under the same reference, is a second batch: partial, and the reference reused', () => {
  const log = new CraftedLog();
  batch(log, (s) => held('c1', 0, s, 'G1'), [4, 5]);
  const first = log.add(booked('c1', 10, 4, 'G1', REF[0]));
  log.add(held('c1', 11, 9, 'OTHER'));
  const second = log.add(booked('c1', 12, 5, 'G1', REF[0]));
  assert.equal(codes(log), [
    [first, 'PARTIAL_BOOKING'],
    [second, 'DUPLICATE_REFERENCE'],
  ]);
});

Groups('a reference shared by two holds is DUPLICATE_REFERENCE, naming the other hold', () => {
  const log = new CraftedLog();
  batch(log, (s) => held('c1', 0, s, 'G1'), [1, 2]);
  batch(log, (s) => held('c1', 1, s, 'G2'), [3, 4]);
  batch(log, (s) => booked('c1', 10, s, 'G1', REF[0]), [1, 2]);
  const [shared] = batch(log, (s) => booked('c1', 11, s, 'G2', REF[0]), [3, 4]);
  const r = report(log);
  assert.equal(r.violations.map((v) => [v.seq, v.code]), [[shared, 'DUPLICATE_REFERENCE']]);
  assert.match(r.violations[0]!.message, 'by hold G1');
});

Groups('seats of one hold id held in two batches is DUPLICATE_HOLD', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'G1'));
  log.add(held('c1', 0, 9, 'OTHER'));
  const again = log.add(held('c1', 0, 2, 'G1'));
  assert.equal(codes(log), [[again, 'DUPLICATE_HOLD']]);
});

Groups('a release of part of a hold is PARTIAL_RELEASE; of part of a booking, PARTIAL_CANCELLATION', () => {
  const log = new CraftedLog();
  batch(log, (s) => held('c1', 0, s, 'G1'), [1, 2, 3]);
  const release = log.add(released('c1', 5, 2, 'G1', 'disconnected'));
  batch(log, (s) => held('c1', 6, s, 'G2'), [7, 8]);
  batch(log, (s) => booked('c1', 7, s, 'G2', REF[1]), [7, 8]);
  const cancel = log.add(cancelled('c1', 8, 8, REF[1]));
  assert.equal(codes(log), [
    [release, 'PARTIAL_RELEASE'],
    [cancel, 'PARTIAL_CANCELLATION'],
  ]);
});

Groups('an expired group is released whole; a seat of it held again meanwhile need not be', () => {
  const log = new CraftedLog();
  batch(log, (s) => held('c1', 0, s, 'G1', 60), [1, 2, 3]);
  log.add(held('c1', 70, 2, 'G2')); // G1 ran out at 60 s: seat 2 may be held again
  batch(log, (s) => released('c1', 71, s, 'G1', 'expired'), [1, 3]);
  const r = report(log, T0 + 100_000);
  assert.equal(r.violations, []);
  assert.equal(r.concerts[0]!.releases.expired, 1);
  assert.is(r.concerts[0]!.map.slice(0, 3), '.h.');
});

Groups('what the decider writes for groups passes the audit: hold, best, book, cancel, release, expiry', () => {
  const log = new CraftedLog();
  let state: ConcertState = initialState('c1', 20);
  let seconds = 0;
  const run = (command: ConcertCommand) => {
    const now = T0 + seconds * 1000;
    for (const event of decide(state, command, now)) {
      state = evolve(state, event);
      log.add(envelope('c1', seconds, event));
    }
    seconds += 10;
  };
  run({ type: 'Hold', seats: [12, 13, 14], hold: 'G1', holder: 'alice' });
  run({ type: 'Hold', best: 4, hold: 'G2', holder: 'bob', layout: { capacity: 20, rows: [{ name: 'A', first: 1, count: 10 }, { name: 'B', first: 11, count: 10 }] } });
  run({ type: 'Book', hold: 'G1', holder: 'alice', firstName: 'Ada', lastName: 'Lovelace', reference: REF[2] });
  run({ type: 'Release', hold: 'G2', holder: 'bob', reason: 'declined' });
  run({ type: 'Hold', seats: [1, 2], hold: 'G3', holder: 'carol' });
  run({ type: 'Cancel', reference: REF[2], lastName: 'lovelace' });
  seconds += 200;
  run({ type: 'ReleaseExpired' });
  const r = report(log);
  assert.equal(r.violations, []);
  assert.equal(r.concerts[0]!.seats, { held: 9, booked: 3, cancelled: 3, released: 6 });
  assert.is(r.concerts[0]!.holds, 3);
});

Groups.run();
