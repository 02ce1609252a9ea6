/** The audit as a pure fold: figures, seat maps, and each rule it checks (no NATS here). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Auditor, type AuditOptions, type ConcertReport, type LogMessage } from '../../src/audit/auditor.js';
import { evolve, initialState, seatMap } from '../../src/actors/concert.js';
import { decodeEvent, type EventEnvelope } from '../../src/events/envelope.js';
import { subjectFor } from '../../src/events/subjects.js';
import { parseLogPoint } from '../../src/audit/point.js';
import { CraftedLog, HOLD_MS, REF, T0, booked, cancelled, held, released } from './support.js';

function audit(messages: readonly LogMessage[], options: AuditOptions = { contiguous: true }) {
  const auditor = new Auditor(options);
  for (const m of messages) auditor.add(m);
  return auditor;
}

/** [seq, code] of each violation, in order. */
function violations(log: CraftedLog, options: AuditOptions = { contiguous: true }): Array<[number, string]> {
  return audit(log.messages, options)
    .report(T0 + 3_600_000)
    .violations.map((v) => [v.seq, v.code]);
}

// ================================================================== figures

const Figures = suite('audit figures');

Figures('counts each kind of event per concert and draws the seat map as of the clock', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'));
  log.add(booked('c1', 10, 1, 'H1', REF[0]));
  log.add(held('c1', 20, 2, 'H2'));
  log.add(held('c2', 25, 1, 'H9')); // never released: lapses at 145 s
  log.add(released('c1', 30, 2, 'H2', 'declined'));
  log.add(held('c1', 40, 3, 'H3'));
  log.add(released('c1', 160, 3, 'H3', 'expired'));
  log.add(held('c1', 200, 4, 'H4'));
  log.add(booked('c1', 210, 4, 'H4', REF[1]));
  log.add(cancelled('c1', 220, 4, REF[1]));
  log.add(held('c1', 230, 5, 'H5'));
  log.add(released('c1', 240, 5, 'H5', 'disconnected'));
  log.add(held('c1', 250, 2, 'H6'));
  const auditor = audit(log.messages, { contiguous: true, capacities: new Map([['c1', 6], ['c2', 3]]) });
  const report = auditor.report(T0 + 300_000);
  assert.equal(report.violations, []);
  assert.is(report.ok, true);
  assert.is(report.messages, 13);
  assert.is(report.events, 13);
  assert.equal(report.concerts, [
    {
      concert: 'c1',
      capacity: 6,
      capacityKnown: true,
      events: 12,
      firstSeq: 1,
      lastSeq: 13,
      holds: 6,
      bookings: 2,
      cancellations: 1,
      releases: { declined: 1, expired: 1, disconnected: 1 },
      seats: { held: 6, booked: 2, cancelled: 1, released: 3 },
      lapsed: 0,
      occupancy: { free: 4, held: 1, booked: 1 },
      map: 'xh....',
    },
    {
      concert: 'c2',
      capacity: 3,
      capacityKnown: true,
      events: 1,
      firstSeq: 4,
      lastSeq: 4,
      holds: 1,
      bookings: 0,
      cancellations: 0,
      releases: { declined: 0, expired: 0, disconnected: 0 },
      seats: { held: 1, booked: 0, cancelled: 0, released: 0 },
      lapsed: 1,
      occupancy: { free: 3, held: 0, booked: 0 },
      map: '...',
    },
  ] satisfies ConcertReport[]);
});

Figures('a concert not in the catalog has as many seats as the highest one named', () => {
  const log = new CraftedLog();
  log.add(held('c9', 0, 7, 'H1'));
  const [c9] = audit(log.messages).report(T0 + 1_000).concerts;
  assert.is(c9?.capacity, 7);
  assert.is(c9?.capacityKnown, false);
  assert.is(c9?.map, '......h');
});

Figures('a hold counts as held until its expiresAt, then as free', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'));
  const auditor = audit(log.messages, { capacities: new Map([['c1', 2]]) });
  assert.is(auditor.report(T0 + HOLD_MS - 1).concerts[0]?.map, 'h.');
  assert.is(auditor.report(T0 + HOLD_MS).concerts[0]?.map, '..');
  assert.is(auditor.report(T0 + HOLD_MS).concerts[0]?.lapsed, 1);
});

Figures('--until a time folds only the events decided by then (later ones are counted apart)', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'));
  log.add(booked('c1', 10, 1, 'H1', REF[0]));
  log.add(held('c1', 20, 2, 'H2'));
  log.add(cancelled('c1', 30, 1, REF[0]));
  const until = parseLogPoint(new Date(T0 + 25_000).toISOString());
  assert.is(until.kind, 'time');
  const auditor = audit(log.messages, { capacities: new Map([['c1', 3]]), untilTime: until.kind === 'time' ? until.time : 0 });
  const report = auditor.report(T0 + 25_000);
  assert.is(report.afterUntil, 1);
  assert.is(report.concerts[0]?.map, 'xh.');
  assert.is(report.concerts[0]?.cancellations, 0);
});

Figures('the seat map is the one evolve folds, even from events that break the rules', () => {
  // A seeded random walk of plausible and implausible events on a 6-seat concert.
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  for (let round = 0; round < 50; round++) {
    const log = new CraftedLog();
    const holds = ['H1', 'H2', 'H3', 'H4'];
    let fold = initialState('c1', 6);
    for (let i = 0; i < 40; i++) {
      const seat = 1 + Math.floor(random() * 6);
      const s = i * 30;
      const kind = random();
      const event: EventEnvelope =
        kind < 0.35
          ? held('c1', s, seat, pick(holds), 60)
          : kind < 0.6
            ? booked('c1', s, seat, pick(holds), pick(REF))
            : kind < 0.8
              ? cancelled('c1', s, seat, pick(REF))
              : released('c1', s, seat, pick(holds), pick(['declined', 'expired', 'disconnected'] as const));
      log.add(event);
      fold = evolve(fold, decodeEvent(JSON.stringify(event)));
    }
    const clock = T0 + 40 * 30_000 - 30_000;
    const report = audit(log.messages, { capacities: new Map([['c1', 6]]) }).report(clock);
    assert.is(report.concerts[0]?.map, seatMap(fold, clock), `round ${round}`);
  }
});

Figures.run();

// ================================================================== the booking rules

const Rules = suite('audit: each booking rule');

Rules('a clean log has no violation', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'));
  log.add(booked('c1', 10, 1, 'H1', REF[0]));
  log.add(cancelled('c1', 20, 1, REF[0]));
  log.add(held('c1', 30, 1, 'H2'));
  log.add(booked('c1', 40, 1, 'H2', REF[1]));
  assert.equal(violations(log), []);
});

Rules('a seat booked twice without a cancellation between', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'));
  log.add(booked('c1', 10, 1, 'H1', REF[0]));
  const seq = log.add(booked('c1', 20, 1, 'H1', REF[1]));
  assert.equal(violations(log), [[seq, 'DOUBLE_BOOKING']]);
});

Rules('a seat booked again through a hold taken over the booking is a double booking too', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'));
  log.add(booked('c1', 10, 1, 'H1', REF[0]));
  const hold = log.add(held('c1', 20, 1, 'H2'));
  const book = log.add(booked('c1', 30, 1, 'H2', REF[1]));
  assert.equal(violations(log), [
    [hold, 'SEAT_NOT_FREE'],
    [book, 'DOUBLE_BOOKING'],
  ]);
});

Rules('a booking needs a SeatHeld of the same hold', () => {
  const log = new CraftedLog();
  const seq = log.add(booked('c1', 10, 1, 'H1', REF[0]));
  assert.equal(violations(log), [[seq, 'BOOKING_WITHOUT_LIVE_HOLD']]);
});

Rules('a booking needs the hold to be live at its time', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1', 60));
  const seq = log.add(booked('c1', 60, 1, 'H1', REF[0]));
  const report = audit(log.messages).report(T0);
  assert.equal(report.violations.map((v) => [v.seq, v.code]), [[seq, 'BOOKING_WITHOUT_LIVE_HOLD']]);
  assert.match(report.violations[0]!.message, /expired at 2027-01-01T10:01:00.000Z/);
});

Rules('a booking of a released hold, of a hold on another seat, of another concert', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'));
  log.add(released('c1', 5, 1, 'H1', 'declined'));
  const a = log.add(booked('c1', 10, 1, 'H1', REF[0]));
  log.add(held('c1', 20, 2, 'H2'));
  const b = log.add(booked('c1', 30, 3, 'H2', REF[1]));
  log.add(held('c2', 40, 4, 'H3'));
  const c = log.add(booked('c1', 50, 4, 'H3', REF[2]));
  assert.equal(violations(log), [
    [a, 'BOOKING_WITHOUT_LIVE_HOLD'],
    [b, 'BOOKING_WITHOUT_LIVE_HOLD'],
    [c, 'BOOKING_WITHOUT_LIVE_HOLD'],
  ]);
});

Rules('a hold that lapsed and whose seat was held again cannot be booked', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1', 60));
  log.add(held('c1', 70, 1, 'H2'));
  const seq = log.add(booked('c1', 80, 1, 'H1', REF[0]));
  const report = audit(log.messages).report(T0);
  assert.equal(report.violations.map((v) => [v.seq, v.code]), [[seq, 'BOOKING_WITHOUT_LIVE_HOLD']]);
  assert.match(report.violations[0]!.message, /held again by hold H2/);
});

Rules('a cancellation names a live booking of that seat', () => {
  const log = new CraftedLog();
  const never = log.add(cancelled('c1', 0, 1, REF[0]));
  log.add(held('c1', 10, 2, 'H1'));
  log.add(booked('c1', 20, 2, 'H1', REF[1]));
  const wrongSeat = log.add(cancelled('c1', 30, 3, REF[1]));
  log.add(cancelled('c1', 40, 2, REF[1]));
  const twice = log.add(cancelled('c1', 50, 2, REF[1]));
  const otherConcert = log.add(cancelled('c2', 60, 2, REF[1]));
  assert.equal(violations(log), [
    [never, 'CANCEL_WITHOUT_BOOKING'],
    [wrongSeat, 'CANCEL_WITHOUT_BOOKING'],
    [twice, 'CANCEL_WITHOUT_BOOKING'],
    [otherConcert, 'CANCEL_WITHOUT_BOOKING'],
  ]);
});

Rules('every reference is used once, across concerts and after a cancellation', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'));
  log.add(booked('c1', 10, 1, 'H1', REF[0]));
  log.add(held('c2', 20, 1, 'H2'));
  const again = log.add(booked('c2', 30, 1, 'H2', REF[0]));
  assert.equal(violations(log), [[again, 'DUPLICATE_REFERENCE']]);
});

Rules('a hold is taken only on a free seat, with an id of its own', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'));
  const taken = log.add(held('c1', 10, 1, 'H2'));
  log.add(held('c1', 200, 2, 'H3'));
  const reused = log.add(held('c1', 210, 3, 'H3'));
  assert.equal(violations(log), [
    [taken, 'SEAT_NOT_FREE'],
    [reused, 'DUPLICATE_HOLD'],
  ]);
});

Rules('a seat whose hold ran out may be held again without a release', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1', 60));
  log.add(held('c1', 60, 1, 'H2'));
  assert.equal(violations(log), []);
});

Rules('a release names a live hold of that seat; an expiry comes after expiresAt', () => {
  const log = new CraftedLog();
  const never = log.add(released('c1', 0, 1, 'H0', 'declined'));
  log.add(held('c1', 10, 2, 'H1'));
  const wrongSeat = log.add(released('c1', 20, 3, 'H1', 'declined'));
  const early = log.add(released('c1', 30, 2, 'H1', 'expired'));
  const twice = log.add(released('c1', 40, 2, 'H1', 'disconnected'));
  log.add(held('c1', 50, 4, 'H2'));
  log.add(booked('c1', 60, 4, 'H2', REF[0]));
  const ofBooking = log.add(released('c1', 70, 4, 'H2', 'declined'));
  assert.equal(violations(log), [
    [never, 'RELEASE_WITHOUT_HOLD'],
    [wrongSeat, 'RELEASE_WITHOUT_HOLD'],
    [early, 'EARLY_EXPIRY'],
    [twice, 'RELEASE_WITHOUT_HOLD'],
    [ofBooking, 'RELEASE_WITHOUT_HOLD'],
  ]);
});

Rules('a seat the concert does not have', () => {
  const log = new CraftedLog();
  const seq = log.add(held('c1', 0, 11, 'H1'));
  assert.equal(violations(log, { capacities: new Map([['c1', 10]]) }), [[seq, 'NO_SUCH_SEAT']]);
});

Rules.run();

// ================================================================== the log's shape

const Shape = suite("audit: the log's shape");

Shape('messages that are not valid events, named with what is wrong', () => {
  const log = new CraftedLog();
  const notJson = log.add('{"id":', { concert: 'c1' });
  const v2 = log.add(JSON.stringify({ ...held('c1', 0, 1, 'H1'), v: 2 }), { concert: 'c1' });
  const unknownType = log.add(JSON.stringify({ ...held('c1', 0, 1, 'H2'), type: 'SeatPainted' }), { concert: 'c1' });
  const notUtf8 = log.add(new Uint8Array([0x7b, 0xff, 0x7d]), { concert: 'c1' });
  const report = audit(log.messages).report(T0);
  assert.equal(
    report.violations.map((v) => [v.seq, v.type, v.concert, v.code]),
    [
      [notJson, '?', 'c1', 'INVALID_EVENT'],
      [v2, 'SeatHeld', 'c1', 'INVALID_EVENT'],
      [unknownType, 'SeatPainted', 'c1', 'INVALID_EVENT'],
      [notUtf8, '?', 'c1', 'INVALID_EVENT'],
    ],
  );
  assert.match(report.violations[1]!.message, /v must be 1/);
  assert.is(report.invalid, 4);
  assert.is(report.events, 0);
});

Shape('an event on another concert\'s subject', () => {
  const log = new CraftedLog();
  const seq = log.add(held('c1', 0, 1, 'H1'), { subject: subjectFor('c2') });
  assert.equal(violations(log), [[seq, 'WRONG_SUBJECT']]);
});

Shape('holes between stream sequences, at the start, in the middle and at the end', () => {
  const log = new CraftedLog();
  const first = log.add(held('c1', 0, 1, 'H1'), { seq: 3, expected: null });
  const middle = log.add(held('c1', 10, 2, 'H2'), { seq: 6, expected: null });
  const auditor = audit(log.messages);
  auditor.expectEnd(9);
  assert.equal(
    auditor.report(T0).violations.map((v) => [v.seq, v.code, v.message]),
    [
      [first, 'SEQUENCE_GAP', 'stream sequences 1–2 are missing before this one (deleted or purged)'],
      [middle, 'SEQUENCE_GAP', 'stream sequences 4–5 are missing before this one (deleted or purged)'],
      [9, 'SEQUENCE_GAP', 'stream sequences 7–9 are missing at the end (deleted)'],
    ],
  );
});

Shape('holes are not looked for when one concert is read (its sequences are not consecutive)', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'), { seq: 3, expected: null });
  assert.equal(violations(log, { contiguous: false }), []);
});

Shape('sequences that do not increase', () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'), { seq: 5, expected: null });
  const back = log.add(held('c1', 10, 2, 'H2'), { seq: 4, expected: null });
  assert.equal(violations(log, { contiguous: false }), [[back, 'SEQUENCE_ORDER']]);
});

Shape("each event's expected last subject sequence names the event before it on its subject", () => {
  const log = new CraftedLog();
  log.add(held('c1', 0, 1, 'H1'));
  log.add(held('c2', 0, 1, 'H9'));
  log.add(held('c1', 10, 2, 'H2')); // expects 1: right, c2's event between does not count
  const lost = log.add(held('c1', 20, 3, 'H3'), { expected: 7 });
  const noHeader = log.add(held('c1', 30, 4, 'H4'), { expected: null });
  assert.equal(violations(log, { contiguous: false }), [[lost, 'CHAIN_BROKEN']]);
  assert.ok(noHeader > lost);
});

Shape('event ids are unique, and are the Nats-Msg-Id', () => {
  const log = new CraftedLog();
  const event = held('c1', 0, 1, 'H1');
  log.add(event);
  const again = log.add({ ...held('c1', 10, 2, 'H2'), id: event.id }, { msgId: null });
  const other = log.add(held('c1', 20, 3, 'H3'), { msgId: 'not-the-id' });
  assert.equal(violations(log), [
    [again, 'DUPLICATE_ID'],
    [other, 'MSG_ID_MISMATCH'],
  ]);
});

Shape('all violations are counted; the report keeps the first maxViolations', () => {
  const log = new CraftedLog();
  for (let i = 0; i < 10; i++) log.add(cancelled('c1', i, 1, REF[0]));
  const report = audit(log.messages, { maxViolations: 3 }).report(T0);
  assert.is(report.violationCount, 10);
  assert.is(report.violations.length, 3);
  assert.equal(report.violationsByCode, { CANCEL_WITHOUT_BOOKING: 10 });
  assert.is(report.ok, false);
});

Shape.run();

// ================================================================== --until and --from

const Points = suite('parseLogPoint');

Points('reads sequences, times, dates, times ago and new', () => {
  const now = Date.parse('2027-01-01T12:00:00Z');
  assert.equal(parseLogPoint('1234'), { kind: 'seq', seq: 1234 });
  assert.equal(parseLogPoint('2027-01-01T10:00:00+01:00'), { kind: 'time', time: Date.parse('2027-01-01T09:00:00Z') });
  assert.equal(parseLogPoint('2027-01-01'), { kind: 'time', time: Date.parse('2027-01-01T00:00:00Z') });
  assert.equal(parseLogPoint('15m', { now }), { kind: 'time', time: now - 15 * 60_000 });
  assert.equal(parseLogPoint('2h', { now }), { kind: 'time', time: now - 7_200_000 });
  assert.equal(parseLogPoint('new', { allowNew: true }), { kind: 'new' });
});

Points('refuses what it cannot read', () => {
  for (const bad of ['0', 'new', 'yesterday', '2027-01-01T10:00', '2027-13-01', '-5', '1.5']) {
    assert.throws(() => parseLogPoint(bad), /is not|starts at 1/, bad);
  }
});

Points.run();
