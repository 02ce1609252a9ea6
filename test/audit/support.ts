/** Crafting event logs by hand for the audit tests: envelopes at given times, in stream order. */
import { ulid } from 'ulid';
import { encodeEvent, EVENT_VERSION, type DomainEvent, type EventEnvelope } from '../../src/events/envelope.js';
import { subjectFor } from '../../src/events/subjects.js';
import type { LogMessage } from '../../src/audit/auditor.js';

export const T0 = Date.parse('2027-01-01T10:00:00.000Z');
export const HOLD_MS = 120_000;
export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

export function envelope(concert: string, seconds: number, event: DomainEvent, id: string = ulid()): EventEnvelope {
  return { id, v: EVENT_VERSION, concert, at: at(seconds), source: 'gw-test', ...event } as EventEnvelope;
}

export const held = (concert: string, s: number, seat: number, hold: string, expiresIn = HOLD_MS / 1000) =>
  envelope(concert, s, { type: 'SeatHeld', data: { seat, hold, holder: 'conn-1', expiresAt: at(s + expiresIn) } });
export const booked = (concert: string, s: number, seat: number, hold: string, reference: string) =>
  envelope(concert, s, { type: 'SeatBooked', data: { seat, hold, reference, firstName: 'Zoë', lastName: "O'Brien" } });
export const cancelled = (concert: string, s: number, seat: number, reference: string) =>
  envelope(concert, s, { type: 'BookingCancelled', data: { seat, reference } });
export const released = (concert: string, s: number, seat: number, hold: string, reason: 'declined' | 'expired' | 'disconnected') =>
  envelope(concert, s, { type: 'SeatReleased', data: { seat, hold, reason } });

export interface Extra {
  /** Publish on this subject instead of the event's own. */
  subject?: string;
  /** Nats-Msg-Id; default the event id, null for none. */
  msgId?: string | null;
  /** Nats-Expected-Last-Subject-Sequence; default the previous message on the subject, null for none. */
  expected?: number | null;
  /** Jump the stream sequence to this (messages deleted before it). */
  seq?: number;
}

/** A stream in memory: messages as a gateway would append them (msg id and expected sequence set). */
export class CraftedLog {
  readonly messages: LogMessage[] = [];
  private seq = 0;
  private readonly last = new Map<string, number>();

  add(event: EventEnvelope | string | Uint8Array, extra: Extra & { concert?: string } = {}): number {
    const isEvent = typeof event === 'object' && !(event instanceof Uint8Array);
    const subject = extra.subject ?? (isEvent ? subjectFor(event.concert) : subjectFor(extra.concert ?? 'c1'));
    this.seq = extra.seq ?? this.seq + 1;
    const message: LogMessage = { seq: this.seq, subject, data: isEvent ? encodeEvent(event) : event };
    const msgId = extra.msgId === undefined ? (isEvent ? event.id : undefined) : extra.msgId;
    if (msgId) message.msgId = msgId;
    const expected = extra.expected === undefined ? (this.last.get(subject) ?? 0) : extra.expected;
    if (expected !== null) message.expectedLastSubjectSeq = expected;
    this.last.set(subject, this.seq);
    this.messages.push(message);
    return this.seq;
  }
}

/** Luhn-valid references for tests. */
export const REF = ['1000000008', '1000000016', '1000000024', '1000000032', '1000000040', '1000000057'] as const;
