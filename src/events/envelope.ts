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
  if (!ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) return false;
  // Date.parse rolls 2027-02-30 over to March 2: check that the day exists in its month
  // (only days past the 28th can fail, so the common case costs nothing more).
  const d = Number(value.slice(8, 10));
  if (d <= 28) return true;
  const y = Number(value.slice(0, 4));
  const m = Number(value.slice(5, 7));
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

function isoTime(o: Record<string, unknown>, key: string): string {
  const value = str(o, key);
  if (!isIsoTime(value)) fail(`${key} must be an ISO-8601 time with a zone`);
  return value;
}

function referenceOf(o: Record<string, unknown>): string {
  const reference = str(o, 'reference');
  if (!/^\d{10}$/.test(reference)) fail('reference must be 10 digits');
  return reference;
}

export function validateEnvelope(raw: unknown): EventEnvelope {
  if (!isRecord(raw)) fail('event must be a JSON object');
  const meta: EnvelopeMeta = {
    id: str(raw, 'id'),
    // Only version 1 exists; a reader must not guess at the meaning of a later one.
    v: raw['v'] === EVENT_VERSION ? EVENT_VERSION : fail(`v must be ${EVENT_VERSION} (this reader knows no other version)`),
    concert: str(raw, 'concert'),
    at: isoTime(raw, 'at'),
    source: str(raw, 'source'),
  };
  if (!isValidConcertId(meta.concert)) fail('concert must be a subject token');
  const data = raw['data'];
  if (!isRecord(data)) fail('data must be an object');
  const type = raw['type'];
  switch (type) {
    case 'SeatHeld':
      return {
        ...meta,
        type,
        data: {
          seat: seatNumber(data),
          hold: str(data, 'hold'),
          holder: str(data, 'holder'),
          expiresAt: isoTime(data, 'expiresAt'),
        },
      };
    case 'SeatBooked':
      return {
        ...meta,
        type,
        data: {
          seat: seatNumber(data),
          hold: str(data, 'hold'),
          reference: referenceOf(data),
          firstName: str(data, 'firstName'),
          lastName: str(data, 'lastName'),
        },
      };
    case 'BookingCancelled':
      return { ...meta, type, data: { seat: seatNumber(data), reference: referenceOf(data) } };
    case 'SeatReleased': {
      const reason = str(data, 'reason');
      if (!(RELEASE_REASONS as readonly string[]).includes(reason)) fail(`unknown release reason ${reason}`);
      return { ...meta, type, data: { seat: seatNumber(data), hold: str(data, 'hold'), reason: reason as ReleaseReason } };
    }
    default:
      return fail(`unknown event type ${JSON.stringify(type)}`);
  }
}
