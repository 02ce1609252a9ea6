/**
 * The event envelope and the four event types, exactly as written to the `TICKETS` stream.
 * docs/events.md and schemas/ describe the same shapes for other services; keep them in step.
 */
import { isValidConcertId } from './subjects.js';

export const EVENT_VERSION = 1;

export type ReleaseReason = 'declined' | 'expired' | 'disconnected';
export const RELEASE_REASONS: readonly ReleaseReason[] = ['declined', 'expired', 'disconnected'];

export interface SeatHeldData {
  seat: number;
  hold: string;
  holder: string;
  expiresAt: string;
}
export interface SeatBookedData {
  seat: number;
  hold: string;
  reference: string;
  firstName: string;
  lastName: string;
}
export interface BookingCancelledData {
  seat: number;
  reference: string;
}
export interface SeatReleasedData {
  seat: number;
  hold: string;
  reason: ReleaseReason;
}

/** What the domain decides: an event's type and data, before it has an id or a place in the log. */
export type DomainEvent =
  | { type: 'SeatHeld'; data: SeatHeldData }
  | { type: 'SeatBooked'; data: SeatBookedData }
  | { type: 'BookingCancelled'; data: BookingCancelledData }
  | { type: 'SeatReleased'; data: SeatReleasedData };

export type EventType = DomainEvent['type'];
export const EVENT_TYPES: readonly EventType[] = ['SeatHeld', 'SeatBooked', 'BookingCancelled', 'SeatReleased'];

export interface EnvelopeMeta {
  /** ulid; also the `Nats-Msg-Id` that makes a retried append harmless. */
  id: string;
  v: number;
  concert: string;
  /** ISO-8601 time the event was decided. */
  at: string;
  /** Id of the gateway that wrote it. */
  source: string;
}

/** An event as it travels on the wire: the domain event plus its envelope fields. */
export type EventEnvelope = EnvelopeMeta & DomainEvent;

/** An envelope read back from the stream, with its stream sequence. */
export type StoredEvent = EventEnvelope & { seq: number };

export function encodeEvent(event: EventEnvelope): Uint8Array {
  const { id, type, v, concert, at, source, data } = event;
  // Field order is fixed so that the bytes in the log read the same as the docs.
  return new TextEncoder().encode(JSON.stringify({ id, type, v, concert, at, source, data }));
}

/** Parses and checks an envelope; throws an Error that says what is wrong. */
/** One decoder for all (making one per event cost as much as parsing the JSON). */
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeEvent(bytes: Uint8Array | string): EventEnvelope {
  const text = typeof bytes === 'string' ? bytes : utf8.decode(bytes);
  const raw: unknown = JSON.parse(text);
  return validateEnvelope(raw);
}

/**
 * The event as stored at `seq`. Not `{ ...event, seq }`, which takes V8's slow path for a spread
 * with more fields (1 µs against 14 ns), and every append's events are made so; and made as
 * validateEnvelope makes a decoded one (the envelope's literal, then `seq`), so that both have
 * one hidden class and the fold that reads them stays monomorphic.
 */
export function storedAt(event: EventEnvelope, seq: number): StoredEvent {
  const { id, v, concert, at, source, type, data } = event;
  const stored = { id, v, concert, at, source, type, data } as StoredEvent;
  stored.seq = seq;
  return stored;
}

/** `decodeEvent` of a message read from the stream at `seq`: the stored event made at once, not copied to add its sequence. */
export function decodeStoredEvent(bytes: Uint8Array, seq: number): StoredEvent {
  return validateEnvelope(JSON.parse(utf8.decode(bytes)), seq) as StoredEvent;
}

class InvalidEvent extends Error {
  override readonly name = 'InvalidEvent';
}

function fail(what: string): never {
  throw new InvalidEvent(what);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(o: Record<string, unknown>, key: string): string {
  const value = o[key];
  if (typeof value !== 'string' || value.length === 0) fail(`${key} must be a non-empty string`);
  return value;
}

function seatNumber(o: Record<string, unknown>): number {
  const seat = o['seat'];
  if (typeof seat !== 'number' || !Number.isInteger(seat) || seat < 1) fail('seat must be an integer ≥ 1');
  return seat;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 date and time with a zone, as `toISOString()` writes (any offset accepted). */
export function isIsoTime(value: string): boolean {
  if (isPlainUtcTime(value)) return true;
  if (!ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) return false;
  // Date.parse rolls 2027-02-30 over to March 2: check that the day exists in its month
  // (only days past the 28th can fail, so the common case costs nothing more).
  const d = Number(value.slice(8, 10));
  if (d <= 28) return true;
  const y = Number(value.slice(0, 4));
  const m = Number(value.slice(5, 7));
  return d <= daysInMonth(y, m);
}

/** (Date.UTC reads years 0-99 as 1900-1999: it took 0000-02-29, a leap day, for a day 1900 lacks.) */
function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1]!;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

const DIGIT_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The common case read by character codes: `YYYY-MM-DDTHH:MM:SS.sssZ` exactly as
 * `toISOString()` writes it, with every field in range (hour 0-23; a February 29th only in a
 * leap year). True only for strings the full check accepts too; anything else (another offset,
 * fewer digits, hour 24) goes to it. (The regular expression and `Date.parse` were most of what
 * decoding an event cost.)
 */
function isPlainUtcTime(v: string): boolean {
  if (v.length !== 24 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(10) !== 84) return false;
  if (v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58 || v.charCodeAt(19) !== 46 || v.charCodeAt(23) !== 90) return false;
  for (const i of DIGIT_AT) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  const two = (i: number) => (v.charCodeAt(i) - 48) * 10 + v.charCodeAt(i + 1) - 48;
  const month = two(5);
  const day = two(8);
  if (month < 1 || month > 12 || day < 1 || two(11) > 23 || two(14) > 59 || two(17) > 59) return false;
  return day <= daysInMonth(two(0) * 100 + two(2), month);
}

function isoTime(o: Record<string, unknown>, key: string): string {
  const value = str(o, key);
  if (!isIsoTime(value)) fail(`${key} must be an ISO-8601 time with a zone`);
  return value;
}

function concertId(o: Record<string, unknown>): string {
  const concert = str(o, 'concert');
  if (!isValidConcertId(concert)) fail('concert must be a subject token');
  return concert;
}

function referenceOf(o: Record<string, unknown>): string {
  const reference = str(o, 'reference');
  if (!/^\d{10}$/.test(reference)) fail('reference must be 10 digits');
  return reference;
}

/**
 * Checks a parsed envelope and returns it rebuilt from the fields it should have (with `seq`
 * when given: a stored event). Each type's object is made in one literal: the same fields in
 * the same order for every event of a type, which the engine keeps to one shape.
 */
export function validateEnvelope(raw: unknown, seq?: number): EventEnvelope {
  if (!isRecord(raw)) fail('event must be a JSON object');
  const id = str(raw, 'id');
  // Only version 1 exists; a reader must not guess at the meaning of a later one.
  if (raw['v'] !== EVENT_VERSION) fail(`v must be ${EVENT_VERSION} (this reader knows no other version)`);
  const v = EVENT_VERSION;
  const concert = concertId(raw);
  const at = isoTime(raw, 'at');
  const source = str(raw, 'source');
  const data = raw['data'];
  if (!isRecord(data)) fail('data must be an object');
  const type = raw['type'];
  let event: EventEnvelope;
  switch (type) {
    case 'SeatHeld':
      event = {
        id,
        v,
        concert,
        at,
        source,
        type,
        data: { seat: seatNumber(data), hold: str(data, 'hold'), holder: str(data, 'holder'), expiresAt: isoTime(data, 'expiresAt') },
      };
      break;
    case 'SeatBooked':
      event = {
        id,
        v,
        concert,
        at,
        source,
        type,
        data: {
          seat: seatNumber(data),
          hold: str(data, 'hold'),
          reference: referenceOf(data),
          firstName: str(data, 'firstName'),
          lastName: str(data, 'lastName'),
        },
      };
      break;
    case 'BookingCancelled':
      event = { id, v, concert, at, source, type, data: { seat: seatNumber(data), reference: referenceOf(data) } };
      break;
    case 'SeatReleased': {
      const reason = str(data, 'reason');
      if (!(RELEASE_REASONS as readonly string[]).includes(reason)) fail(`unknown release reason ${reason}`);
      event = { id, v, concert, at, source, type, data: { seat: seatNumber(data), hold: str(data, 'hold'), reason: reason as ReleaseReason } };
      break;
    }
    default:
      return fail(`unknown event type ${JSON.stringify(type)}`);
  }
  if (seq !== undefined) (event as StoredEvent).seq = seq;
  return event;
}
