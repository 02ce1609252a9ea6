/** The event envelope codec and the NATS subjects events are written on. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeEvent,
  encodeEvent,
  isIsoTime,
  validateEnvelope,
  EVENT_VERSION,
  type EventEnvelope,
  type StoredEvent,
} from '../../src/events/envelope.js';
import { ALL_EVENTS, STREAM_NAME, SUBJECT_PREFIX, concertOf, isValidConcertId, subjectFor } from '../../src/events/subjects.js';

const meta = {
  id: '01J0000000000000000000000A',
  v: EVENT_VERSION,
  concert: 'jazz-nocturne',
  at: '2027-01-01T00:00:00.000Z',
  source: 'gw-1',
};

const examples: EventEnvelope[] = [
  { ...meta, type: 'SeatHeld', data: { seat: 3, hold: '01J0000000000000000000000H', holder: 'conn-1', expiresAt: '2027-01-01T00:02:00.000Z' } },
  { ...meta, type: 'SeatBooked', data: { seat: 3, hold: '01J0000000000000000000000H', reference: '1234567897', firstName: 'Zoë', lastName: "O'Brien" } },
  { ...meta, type: 'BookingCancelled', data: { seat: 3, reference: '1234567897' } },
  { ...meta, type: 'SeatReleased', data: { seat: 3, hold: '01J0000000000000000000000H', reason: 'declined' } },
  { ...meta, type: 'SeatReleased', data: { seat: 3, hold: '01J0000000000000000000000H', reason: 'expired' } },
  { ...meta, type: 'SeatReleased', data: { seat: 3, hold: '01J0000000000000000000000H', reason: 'disconnected' } },
];

const [seatHeld, seatBooked, bookingCancelled, seatReleased] = examples as [EventEnvelope, EventEnvelope, EventEnvelope, EventEnvelope];

/** A copy of `event` as plain JSON, with `change` applied to it (to break it). */
function broken(event: EventEnvelope, change: (raw: Record<string, any>) => void): unknown {
  const raw = JSON.parse(JSON.stringify(event)) as Record<string, any>;
  change(raw);
  return raw;
}

/** The message validateEnvelope refuses `raw` with, or 'accepted'. */
function refusal(raw: unknown): string {
  try {
    validateEnvelope(raw);
    return 'accepted';
  } catch (err) {
    return (err as Error).message;
  }
}

// ================================================================== codec

const Codec = suite('encodeEvent / decodeEvent');

Codec('round-trips every event type', () => {
  for (const event of examples) assert.equal(decodeEvent(encodeEvent(event)), event, event.type);
});

Codec('writes UTF-8 JSON with the fields in the documented order', () => {
  const text = new TextDecoder().decode(encodeEvent(bookingCancelled));
  assert.equal(
    text,
    '{"id":"01J0000000000000000000000A","type":"BookingCancelled","v":1,"concert":"jazz-nocturne",' +
      '"at":"2027-01-01T00:00:00.000Z","source":"gw-1","data":{"seat":3,"reference":"1234567897"}}',
  );
});

Codec('writes names as UTF-8', () => {
  const bytes = encodeEvent(seatBooked);
  assert.equal(Buffer.from(bytes).includes(Buffer.from('Zoë', 'utf8')), true);
});

Codec('leaves out fields that are not part of the envelope', () => {
  const withSeq: StoredEvent = { ...seatReleased, seq: 42 };
  assert.equal(decodeEvent(encodeEvent(withSeq)), seatReleased);
});

Codec('decodes a string as well as bytes', () => {
  assert.equal(decodeEvent(JSON.stringify(seatHeld)), seatHeld);
});

Codec('drops unknown data fields on decode', () => {
  assert.equal(decodeEvent(JSON.stringify(broken(bookingCancelled, (r) => (r['data'].extra = 'x')))), bookingCancelled);
});

Codec('refuses bytes that are not UTF-8', () => {
  assert.throws(() => decodeEvent(new Uint8Array([0x7b, 0xff, 0x7d])));
});

Codec('refuses text that is not JSON', () => {
  assert.throws(() => decodeEvent('{"id":'), SyntaxError);
});

Codec.run();

// ================================================================== validateEnvelope

const Validate = suite('validateEnvelope');

Validate('accepts every well-formed example', () => {
  assert.equal(examples.map(refusal), examples.map(() => 'accepted'));
});

Validate('refuses what is not a JSON object', () => {
  assert.equal([null, 42, 'SeatHeld', [seatHeld]].map(refusal), Array(4).fill('event must be a JSON object'));
});

Validate('refuses a missing or empty id, concert, at or source', () => {
  for (const key of ['id', 'concert', 'at', 'source']) {
    assert.equal(refusal(broken(seatHeld, (r) => delete r[key])), `${key} must be a non-empty string`, `missing ${key}`);
    assert.equal(refusal(broken(seatHeld, (r) => (r[key] = ''))), `${key} must be a non-empty string`, `empty ${key}`);
    assert.equal(refusal(broken(seatHeld, (r) => (r[key] = 7))), `${key} must be a non-empty string`, `numeric ${key}`);
  }
});

const NOT_V1 = 'v must be 1 (this reader knows no other version)';

Validate('refuses a version that is not the number 1', () => {
  assert.equal(refusal(broken(seatHeld, (r) => (r['v'] = '1'))), NOT_V1);
  assert.equal(refusal(broken(seatHeld, (r) => delete r['v'])), NOT_V1);
  assert.equal(refusal(broken(seatHeld, (r) => (r['v'] = null))), NOT_V1);
});

Validate('refuses any version other than 1, later ones included', () => {
  const versions = [0, 2, 1.5, -1, 99];
  assert.equal(versions.map((v) => refusal(broken(seatHeld, (r) => (r['v'] = v)))), versions.map(() => NOT_V1));
});

const NOT_A_TIME = 'at must be an ISO-8601 time with a zone';

Validate('refuses an `at` that is not a time', () => {
  assert.equal(refusal(broken(seatHeld, (r) => (r['at'] = 'yesterday'))), NOT_A_TIME);
});

Validate('refuses an `at` that Date.parse reads but is not ISO-8601 with a zone', () => {
  const bad = ['1', 'Jan 1 2027', '2027-01-01', '2027-01-01T00:00:00', '2027-01-01 00:00:00Z', 'Fri, 01 Jan 2027 00:00:00 GMT', '2027-01-01T00:00:00+0100'];
  assert.equal(bad.map((at) => refusal(broken(seatHeld, (r) => (r['at'] = at)))), bad.map(() => NOT_A_TIME));
});

Validate('accepts an `at` with any offset, with or without seconds and fractions', () => {
  const good = ['2027-01-01T00:00Z', '2027-01-01T00:00:00Z', '2027-01-01T01:00:00.5+01:00', '2026-12-31T19:00:00.123456-05:00'];
  assert.equal(good.map((at) => refusal(broken(seatHeld, (r) => (r['at'] = at)))), good.map(() => 'accepted'));
});

Validate('refuses a concert that is not one subject token', () => {
  for (const concert of ['a.b', 'a b', 'a*', '>', 'x'.repeat(65)]) {
    assert.equal(refusal(broken(seatHeld, (r) => (r['concert'] = concert))), 'concert must be a subject token', concert);
  }
});

Validate('refuses missing or non-object data', () => {
  for (const data of [undefined, null, 'x', [1]]) {
    assert.equal(refusal(broken(seatHeld, (r) => (r['data'] = data))), 'data must be an object', String(data));
  }
});

Validate('refuses an unknown or missing type', () => {
  assert.equal(refusal(broken(seatHeld, (r) => (r['type'] = 'SeatSold'))), 'unknown event type "SeatSold"');
  assert.equal(refusal(broken(seatHeld, (r) => delete r['type'])), 'unknown event type undefined');
});

Validate('refuses a seat that is not an integer ≥ 1, for every type', () => {
  for (const event of [seatHeld, seatBooked, bookingCancelled, seatReleased]) {
    for (const seat of [0, -1, 1.5, '3', null]) {
      assert.equal(refusal(broken(event, (r) => (r['data'].seat = seat))), 'seat must be an integer ≥ 1', `${event.type} seat ${seat}`);
    }
    assert.equal(refusal(broken(event, (r) => delete r['data'].seat)), 'seat must be an integer ≥ 1', `${event.type} without seat`);
  }
});

Validate('refuses a missing data field of each type', () => {
  const cases: [EventEnvelope, string][] = [
    [seatHeld, 'hold'],
    [seatHeld, 'holder'],
    [seatHeld, 'expiresAt'],
    [seatBooked, 'hold'],
    [seatBooked, 'reference'],
    [seatBooked, 'firstName'],
    [seatBooked, 'lastName'],
    [bookingCancelled, 'reference'],
    [seatReleased, 'hold'],
    [seatReleased, 'reason'],
  ];
  for (const [event, key] of cases) {
    assert.equal(refusal(broken(event, (r) => delete r['data'][key])), `${key} must be a non-empty string`, `${event.type}.${key}`);
  }
});

Validate('refuses a SeatHeld expiresAt that is not an ISO-8601 time with a zone', () => {
  const bad = ['soon', '1', 'Jan 1 2027', '2027-01-01T00:02:00'];
  assert.equal(
    bad.map((expiresAt) => refusal(broken(seatHeld, (r) => (r['data'].expiresAt = expiresAt)))),
    bad.map(() => 'expiresAt must be an ISO-8601 time with a zone'),
  );
});

const NOT_A_REFERENCE = ['123456789', '12345678970', '12345678a7', ' 1234567897', '１２３４５６７８９７'];

Validate('refuses a SeatBooked reference that is not 10 digits', () => {
  assert.equal(
    NOT_A_REFERENCE.map((reference) => refusal(broken(seatBooked, (r) => (r['data'].reference = reference)))),
    NOT_A_REFERENCE.map(() => 'reference must be 10 digits'),
  );
});

Validate('refuses a BookingCancelled reference that is not 10 digits', () => {
  assert.equal(
    NOT_A_REFERENCE.map((reference) => refusal(broken(bookingCancelled, (r) => (r['data'].reference = reference)))),
    NOT_A_REFERENCE.map(() => 'reference must be 10 digits'),
  );
});

Validate('refuses an unknown release reason', () => {
  assert.equal(refusal(broken(seatReleased, (r) => (r['data'].reason = 'stolen'))), 'unknown release reason stolen');
});

Validate('returns only the envelope fields', () => {
  assert.equal(validateEnvelope(broken(seatHeld, (r) => (r['extra'] = true))), seatHeld);
});

Validate.run();

// ================================================================== isIsoTime

const IsoTime = suite('isIsoTime');

IsoTime('accepts what toISOString writes', () => {
  assert.equal(isIsoTime(new Date(Date.UTC(2027, 0, 1, 12, 34, 56, 789)).toISOString()), true);
});

IsoTime('accepts a zone as Z or as any ±hh:mm offset', () => {
  const good = ['2027-01-01T00:00:00Z', '2027-01-01T00:00:00+01:00', '2027-01-01T00:00:00-05:30', '2027-01-01T00:00:00+14:00'];
  assert.equal(good.map(isIsoTime), good.map(() => true));
});

IsoTime('accepts minutes without seconds, and fractions of a second up to nanoseconds', () => {
  const good = ['2027-01-01T00:00Z', '2027-01-01T00:00:00.1Z', '2027-01-01T00:00:00.123456789Z'];
  assert.equal(good.map(isIsoTime), good.map(() => true));
});

IsoTime('refuses a time without a zone', () => {
  const bad = ['2027-01-01T00:00:00', '2027-01-01T00:00:00.000', '2027-01-01T00:00'];
  assert.equal(bad.map(isIsoTime), bad.map(() => false));
});

IsoTime('refuses what Date.parse reads but ISO-8601 does not write', () => {
  const bad = ['1', '2027', 'Jan 1 2027', 'Fri, 01 Jan 2027 00:00:00 GMT', '2027-01-01', '2027-01-01 00:00:00Z', '2027-01-01t00:00:00z', '2027-01-01T00:00:00+0100'];
  assert.equal(bad.map(isIsoTime), bad.map(() => false));
});

IsoTime('refuses fields out of range', () => {
  const bad = ['2027-13-01T00:00:00Z', '2027-01-32T00:00:00Z', '2027-01-01T25:00:00Z', '2027-01-01T00:60:00Z', '2027-01-01T00:00:60Z', '2027-01-01T00:00:00+24:00'];
  assert.equal(bad.map(isIsoTime), bad.map(() => false));
});

IsoTime('takes the leap days of the proleptic calendar, year 0000 included (Date.UTC reads it as 1900)', () => {
  assert.equal(['0000-02-29T00:00:00Z', '0000-02-29T00:00:00.000Z', '2000-02-29T00:00:00Z', '2024-02-29T12:00:00.000Z'].map(isIsoTime), [true, true, true, true]);
  assert.equal(['1900-02-29T00:00:00Z', '1900-02-29T00:00:00.000Z', '2100-02-29T00:00:00.000Z'].map(isIsoTime), [false, false, false]);
});

IsoTime('refuses a day the month does not have', () => {
  const bad = ['2027-02-29T00:00:00Z', '2027-02-30T00:00:00Z', '2027-02-31T00:00:00Z', '2027-04-31T00:00:00Z'];
  assert.equal(bad.map(isIsoTime), bad.map(() => false));
});

IsoTime('refuses an empty string and trailing text', () => {
  const bad = ['', ' 2027-01-01T00:00:00Z', '2027-01-01T00:00:00Z ', '2027-01-01T00:00:00Z\n', '2027-01-01T00:00:00.Z'];
  assert.equal(bad.map(isIsoTime), bad.map(() => false));
});

// The 24-character form toISOString writes is read by character codes first: the same answers
// as the full check (regular expression, Date.parse, the month's days), field by field.
const fullCheck = (v: string): boolean => {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v))) return false;
  const [y, m, d] = [Number(v.slice(0, 4)), Number(v.slice(5, 7)), Number(v.slice(8, 10))];
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d); // (not Date.UTC, which reads years 0-99 as 1900-1999)
  return date.getUTCDate() === d;
};

IsoTime('the toISOString form, every field at and past its bounds: as the full check says', () => {
  const values: string[] = [];
  for (const year of ['0000', '1900', '2000', '2024', '2027', '2100', '9999'])
    for (const month of ['00', '01', '02', '04', '12', '13'])
      for (const day of ['00', '01', '28', '29', '30', '31', '32'])
        for (const time of ['00:00:00.000', '23:59:59.999', '24:00:00.000', '24:00:01.000', '12:60:00.000', '12:00:60.000'])
          values.push(`${year}-${month}-${day}T${time}Z`);
  values.push('2027-01-01T00:00:00.000z', '2027-01-01T00:00:00,000Z', '2027-01-01T0a:00:00.000Z', '2027/01/01T00:00:00.000Z', '2027-01-01 00:00:00.000Z');
  const differ = values.filter((v) => isIsoTime(v) !== fullCheck(v));
  assert.equal(differ, []);
  assert.ok(values.filter(fullCheck).length > 300, 'many of them valid');
});

IsoTime('random times written by toISOString are accepted, as the full check accepts them', () => {
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 2_000; i++) {
    const v = new Date(Math.floor(random() * 253402300799999)).toISOString();
    assert.ok(isIsoTime(v) && fullCheck(v), v);
  }
});

IsoTime.run();

// ================================================================== subjects

const Subjects = suite('subjects');

Subjects('names the stream and its subjects as the contract says', () => {
  assert.equal({ STREAM_NAME, SUBJECT_PREFIX, ALL_EVENTS }, { STREAM_NAME: 'TICKETS', SUBJECT_PREFIX: 'tickets.events', ALL_EVENTS: 'tickets.events.*' });
});

Subjects('puts the events of concert C on tickets.events.C', () => {
  assert.equal(subjectFor('jazz-nocturne'), 'tickets.events.jazz-nocturne');
});

Subjects('accepts concert ids of 1-64 letters, digits, - and _', () => {
  assert.equal(['a', 'Jazz_2027-b', 'x'.repeat(64)].map(isValidConcertId), [true, true, true]);
});

Subjects('refuses concert ids that are not one subject token', () => {
  const bad = ['', 'a.b', 'a b', '*', '>', 'é', 'x'.repeat(65)];
  assert.equal(bad.map(isValidConcertId), bad.map(() => false));
});

Subjects('subjectFor throws on an invalid concert id', () => {
  assert.throws(() => subjectFor('a.b'), /invalid concert id/);
});

Subjects('concertOf reads the concert back from its subject', () => {
  assert.equal(concertOf(subjectFor('rock-garage')), 'rock-garage');
});

Subjects('concertOf is undefined for other subjects', () => {
  const others = ['tickets.events', 'tickets.events.', 'tickets.events.a.b', 'tickets.other.a', 'other.events.a'];
  assert.equal(others.map(concertOf), others.map(() => undefined));
});

Subjects.run();
