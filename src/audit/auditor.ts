/**
 * The audit of the event log as a pure fold: feed it the stream's messages in stream order,
 * then ask for the report. No I/O and no clock of its own (the caller says what "now" is).
 *
 * Two kinds of checks:
 * - the log's shape, on every message read: it decodes as a valid event, it is on its
 *   concert's subject, stream sequences have no holes (when the whole stream is read), each
 *   event's `Nats-Expected-Last-Subject-Sequence` names the event before it on its subject,
 *   event ids are unique;
 * - the booking rules, on the events folded (those up to `--until`): a seat is held only when
 *   free, booked only through a live hold of its own, never booked twice without a
 *   cancellation between; a cancellation names a live booking, a release a live hold; every
 *   reference is used by one booking;
 * - groups: the seats of a hold are held in one batch (consecutive events), and booked,
 *   released and cancelled together: a batch that leaves some of the hold's (or booking's)
 *   seats behind is a violation, and so is a reference shared by two holds.
 *
 * The seat map mirrors `evolve` in actors/concert.ts (an event that breaks a rule is still
 * applied the way every gateway applies it), so the audit shows what the gateways show.
 * It keeps its own mutable state instead of calling `evolve`, which copies the seat array
 * on every event: too slow for a million events on large halls.
 */
import { decodeEvent, type EventEnvelope, type ReleaseReason } from '../events/envelope.js';
import { concertOf } from '../events/subjects.js';
import { IdSet } from './id-set.js';

/** One message of the stream, as the reader hands it over. */
export interface LogMessage {
  seq: number;
  subject: string;
  data: Uint8Array | string;
  /** The `Nats-Msg-Id` header, if any. */
  msgId?: string;
  /** The `Nats-Expected-Last-Subject-Sequence` header, if any. */
  expectedLastSubjectSeq?: number;
}

export const VIOLATION_CODES = {
  INVALID_EVENT: 'a message in the stream is not a valid event (not UTF-8 JSON, unknown type or version, a field missing or malformed)',
  WRONG_SUBJECT: "an event is not on its concert's subject tickets.events.<concert>",
  SEQUENCE_GAP: 'stream sequences are missing: messages were deleted or purged',
  SEQUENCE_ORDER: 'stream sequences do not increase',
  CHAIN_BROKEN: "an event's Nats-Expected-Last-Subject-Sequence is not the sequence of the event before it on its subject",
  DUPLICATE_ID: 'two events have the same id',
  MSG_ID_MISMATCH: "an event's Nats-Msg-Id header is not its id",
  NO_SUCH_SEAT: 'an event names a seat the concert does not have',
  SEAT_NOT_FREE: 'SeatHeld on a seat that is booked or held by a live hold',
  DUPLICATE_HOLD: "SeatHeld with a hold id already used, outside the batch that took it (a hold's seats are held together, in one batch)",
  DOUBLE_BOOKING: 'SeatBooked on a seat already booked, with no cancellation between',
  BOOKING_WITHOUT_LIVE_HOLD: 'SeatBooked without a live SeatHeld of the same hold on the same seat (never held, expired at the booking, released, booked already or taken over)',
  DUPLICATE_REFERENCE: "a reference used by two bookings: shared by two holds, or used again after its booking's batch",
  PARTIAL_BOOKING: 'a booking covers only part of its hold: seats of the hold are left held (a hold is booked whole, in one batch)',
  PARTIAL_RELEASE: 'a release covers only part of its hold: seats of the hold are left held (a hold is released whole, in one batch)',
  PARTIAL_CANCELLATION: 'a cancellation covers only part of its booking: seats of it are left booked (a booking is cancelled whole, in one batch)',
  CANCEL_WITHOUT_BOOKING: 'BookingCancelled that names no live booking on that seat',
  RELEASE_WITHOUT_HOLD: 'SeatReleased that names no live hold on that seat',
  EARLY_EXPIRY: "SeatReleased with reason expired before the hold's expiresAt",
} as const;

export type ViolationCode = keyof typeof VIOLATION_CODES;

export interface Violation {
  seq: number;
  /** The event's type; `?` when the message has none that can be read. */
  type: string;
  /** The event's concert (from the subject when the message does not decode); `?` when unknown. */
  concert: string;
  code: ViolationCode;
  message: string;
}

export interface AuditOptions {
  /**
   * The whole stream is read from sequence 1 without a subject filter, so any hole between
   * stream sequences is a missing message. Off when one concert's subject is read.
   */
  contiguous?: boolean;
  /** Fold only the events decided at or before this time (ms); later ones are still checked for shape. */
  untilTime?: number;
  /** Seat counts from the catalog; a concert not in it has as many seats as the highest one named. */
  capacities?: ReadonlyMap<string, number>;
  /** Violations kept in the report (all are counted). */
  maxViolations?: number;
}

export interface ConcertReport {
  concert: string;
  capacity: number;
  /** The capacity comes from the catalog (otherwise it is the highest seat number seen). */
  capacityKnown: boolean;
  /** Events folded. */
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Holds taken (a hold is one or several seats). */
  holds: number;
  /** Bookings made (one reference each, however many seats). */
  bookings: number;
  /** Bookings cancelled. */
  cancellations: number;
  /** Holds released, by reason. */
  releases: Record<ReleaseReason, number>;
  /** Seats, one per event: held, booked, cancelled and released. */
  seats: { held: number; booked: number; cancelled: number; released: number };
  /** Holds that ran out with no booking and no release written (free all the same). */
  lapsed: number;
  occupancy: { free: number; held: number; booked: number };
  /** One character per seat as of the report's clock: `.` free, `h` held, `x` booked. */
  map: string;
}

export interface AuditReport {
  ok: boolean;
  /** Messages read from the stream, and of those the valid events. */
  messages: number;
  events: number;
  invalid: number;
  /** Events read but decided after `--until` (not folded). */
  afterUntil: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The time the seat maps and occupancy are as of (ISO-8601). */
  clock: string;
  concerts: ConcertReport[];
  violationCount: number;
  violationsByCode: Partial<Record<ViolationCode, number>>;
  /** The first `maxViolations` violations, in stream order. */
  violations: Violation[];
}

/**
 * How a hold or a booking ended: by its own event (booked, released, cancelled) or because
 * another event overwrote its seat (taken). Kept as data; the words are made only for a report.
 */
interface End {
  seq: number;
  kind: 'booked' | 'released' | 'cancelled' | 'taken';
  /** The reference (booked, or taken by a SeatBooked/BookingCancelled), the reason (released) or the hold (taken by a SeatHeld/SeatReleased). */
  by?: string;
  /** For `taken`: the type of the event that took the seat. */
  byType?: EventEnvelope['type'];
  /** For a hold taken after it ran out: when it did. */
  ranOutAt?: number;
}

function describeEnd(end: End): string {
  switch (end.kind) {
    case 'booked':
      return `booked (reference ${end.by})`;
    case 'released':
      return `released (${end.by})`;
    case 'cancelled':
      return 'cancelled';
    case 'taken': {
      const ranOut = end.ranOutAt === undefined ? '' : `ran out at ${iso(end.ranOutAt)}; `;
      const by =
        end.byType === 'SeatHeld'
          ? `seat held again by hold ${end.by}`
          : end.byType === 'SeatBooked'
            ? `seat booked by reference ${end.by}`
            : end.byType === 'BookingCancelled'
              ? `seat freed by the cancellation of ${end.by}`
              : `seat freed by the release of hold ${end.by}`;
      return ranOut + by;
    }
  }
}

/** One seat of a hold. */
interface HoldRecord {
  seat: number;
  expiresAt: number;
  seq: number;
  end?: End;
}

/** A hold: its seats, held in one batch (consecutive events with the same expiry). */
interface HoldGroup {
  firstSeq: number;
  lastSeq: number;
  expiresAt: number;
  seats: Map<number, HoldRecord>;
}

/** One seat of a booking. */
interface BookingRecord {
  concert: string;
  seat: number;
  seq: number;
  end?: End;
}

/** A booking: one reference, the seats of one hold. */
interface BookingGroup {
  concert: string;
  hold: string;
  firstSeq: number;
  seats: Map<number, BookingRecord>;
}

/**
 * A batch being read: consecutive events of one kind about one hold (SeatBooked,
 * SeatReleased) or one reference (BookingCancelled). `remaining`: seats of the hold or
 * booking that the batch has still to cover; any left when it ends is a violation.
 */
interface Run {
  type: 'SeatBooked' | 'SeatReleased' | 'BookingCancelled';
  concert: string;
  key: string;
  firstSeq: number;
  lastSeq: number;
  covered: number[];
  remaining: Set<number>;
}

const list = (seats: Iterable<number>) => [...seats].sort((a, b) => a - b).join(', ');

type Cell =
  | { kind: 'held'; hold: string; rec: HoldRecord }
  | { kind: 'booked'; reference: string; rec: BookingRecord };

class Ledger {
  /** What each seat is, as evolve sees it (seat n at index n - 1). */
  readonly seats: Array<Cell | undefined> = [];
  /** The last booking of each seat until a cancellation of it: a second booking before one is a double booking. */
  readonly uncancelled: Array<{ reference: string; rec: BookingRecord } | undefined> = [];
  readonly holds = new Map<string, HoldGroup>();
  highestSeat = 0;
  events = 0;
  firstSeq: number | null = null;
  lastSeq: number | null = null;
  holdCount = 0;
  bookings = 0;
  cancellations = 0;
  releases: Record<ReleaseReason, number> = { declined: 0, expired: 0, disconnected: 0 };
  seatCounts = { held: 0, booked: 0, cancelled: 0, released: 0 };
  lapsed = 0;

  constructor(
    readonly concert: string,
    readonly capacity: number | undefined,
  ) {
    // Packed arrays from the start: writing seat 900 of an empty array would make it sparse (slow).
    if (capacity !== undefined) this.grow(capacity);
  }

  setSeat(seat: number, cell: Cell | undefined): void {
    if (seat > this.seats.length) this.grow(seat);
    this.seats[seat - 1] = cell;
  }

  private grow(length: number): void {
    while (this.seats.length < length) this.seats.push(undefined);
    while (this.uncancelled.length < length) this.uncancelled.push(undefined);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

export class Auditor {
  private readonly ledgers = new Map<string, Ledger>();
  private readonly references = new Map<string, BookingGroup>();
  /** The batch being read, if its events may continue with the next message. */
  private run?: Run;
  private readonly ids = new IdSet();
  private readonly lastBySubject = new Map<string, number>();
  private readonly violations: Violation[] = [];
  private readonly byCode: Partial<Record<ViolationCode, number>> = {};
  private violationCount = 0;
  private messages = 0;
  private valid = 0;
  private invalid = 0;
  private afterUntil = 0;
  private firstSeq: number | null = null;
  private lastSeqRead = 0;
  private lastAt: number | undefined;

  constructor(private readonly options: AuditOptions = {}) {}

  /** Stream sequence of the last message read (0: none). */
  get lastSeq(): number {
    return this.lastSeqRead;
  }

  /** Time (ms) of the last event folded: what "now" is when the audit stops at a sequence. */
  get lastEventTime(): number | undefined {
    return this.lastAt;
  }

  /** Makes sure a concert is in the report even when it has no events. */
  include(concert: string): void {
    this.ledger(concert);
  }

  add(message: LogMessage): void {
    const { seq, subject } = message;
    if (seq <= this.lastSeqRead) {
      this.flag(seq, '?', concertOf(subject) ?? '?', 'SEQUENCE_ORDER', `stream sequence ${seq} comes after ${this.lastSeqRead}`);
      return;
    }
    const expectedNext = this.lastSeqRead + 1;
    if (this.options.contiguous && seq > expectedNext) {
      const missing = seq - 1 === expectedNext ? `sequence ${expectedNext} is` : `sequences ${expectedNext}–${seq - 1} are`;
      this.flag(seq, '-', '-', 'SEQUENCE_GAP', `stream ${missing} missing before this one (deleted or purged)`);
    }
    this.messages++;
    this.firstSeq ??= seq;
    this.lastSeqRead = seq;

    const subjectConcert = concertOf(subject);
    const previousOnSubject = this.lastBySubject.get(subject) ?? 0;
    this.lastBySubject.set(subject, seq);

    let event: EventEnvelope;
    try {
      event = decodeEvent(message.data);
    } catch (err) {
      this.invalid++;
      this.flag(seq, typeHint(message.data), subjectConcert ?? '?', 'INVALID_EVENT', `not a valid event: ${(err as Error).message}`);
      return;
    }
    const expected = message.expectedLastSubjectSeq;
    if (expected !== undefined && expected !== previousOnSubject) {
      this.flag(
        seq,
        event.type,
        event.concert,
        'CHAIN_BROKEN',
        expected > previousOnSubject
          ? `written after sequence ${expected} of ${subject}, which the stream no longer has (the event before it there is ${previousOnSubject || 'none'})`
          : `written expecting sequence ${expected} to be the last of ${subject}, but ${previousOnSubject} came after it`,
      );
    }
    if (message.msgId !== undefined && message.msgId !== event.id) {
      this.flag(seq, event.type, event.concert, 'MSG_ID_MISMATCH', `Nats-Msg-Id ${message.msgId} is not the event id ${event.id}`);
    }
    const sameId = this.ids.add(event.id, seq);
    if (sameId !== undefined) {
      this.flag(seq, event.type, event.concert, 'DUPLICATE_ID', `event id ${event.id} was already used by sequence ${sameId}`);
    }
    if (subjectConcert !== event.concert) {
      this.invalid++;
      this.flag(seq, event.type, event.concert, 'WRONG_SUBJECT', `an event of concert ${event.concert} published on ${subject}`);
      return;
    }
    this.valid++;
    const at = Date.parse(event.at);
    if (this.options.untilTime !== undefined && at > this.options.untilTime) {
      this.afterUntil++;
      return;
    }
    this.lastAt = at;
    this.fold(event, seq, at);
  }

  /**
   * Says where the stream ended when the reading started: messages missing after the last one
   * read are a gap too (only when the whole stream is read).
   */
  expectEnd(lastSeq: number): void {
    if (!this.options.contiguous || lastSeq <= this.lastSeqRead) return;
    const first = this.lastSeqRead + 1;
    const missing = first === lastSeq ? `sequence ${lastSeq} is` : `sequences ${first}–${lastSeq} are`;
    this.flag(lastSeq, '-', '-', 'SEQUENCE_GAP', `stream ${missing} missing at the end (deleted)`);
  }

  /** The report as of `clock` (ms): holds whose expiresAt is later count as held. */
  report(clock: number): AuditReport {
    this.closeRun();
    const concerts = [...this.ledgers.values()]
      .sort((a, b) => (a.concert < b.concert ? -1 : a.concert > b.concert ? 1 : 0))
      .map((l) => concertReport(l, clock));
    return {
      ok: this.violationCount === 0,
      messages: this.messages,
      events: this.valid,
      invalid: this.invalid,
      afterUntil: this.afterUntil,
      firstSeq: this.firstSeq,
      lastSeq: this.messages > 0 ? this.lastSeqRead : null,
      clock: iso(clock),
      concerts,
      violationCount: this.violationCount,
      violationsByCode: { ...this.byCode },
      violations: [...this.violations],
    };
  }

  // ------------------------------------------------------------------ the booking rules

  private fold(event: EventEnvelope, seq: number, at: number): void {
    const ledger = this.ledger(event.concert);
    const seat = event.data.seat;
    ledger.events++;
    ledger.firstSeq ??= seq;
    ledger.lastSeq = seq;
    const inRange = ledger.capacity === undefined || seat <= ledger.capacity;
    if (!inRange) {
      this.flag(seq, event.type, event.concert, 'NO_SUCH_SEAT', `seat ${seat} of a concert of ${ledger.capacity} seats`);
    } else if (seat > ledger.highestSeat) {
      ledger.highestSeat = seat;
    }
    const cell = inRange ? ledger.seats[seat - 1] : undefined;
    const v = (code: ViolationCode, message: string) => this.flag(seq, event.type, event.concert, code, message);
    // A batch ends at the first event that does not continue it.
    const continuing = this.continuesRun(event, seq);
    if (!continuing) this.closeRun();

    switch (event.type) {
      case 'SeatHeld': {
        ledger.seatCounts.held++;
        const { hold } = event.data;
        const expiresAt = Date.parse(event.data.expiresAt);
        if (cell?.kind === 'booked') {
          v('SEAT_NOT_FREE', `seat ${seat} is booked (reference ${cell.reference}, sequence ${cell.rec.seq})`);
        } else if (cell?.kind === 'held' && cell.rec.expiresAt > at) {
          v('SEAT_NOT_FREE', `seat ${seat} is held by hold ${cell.hold} (sequence ${cell.rec.seq}) until ${iso(cell.rec.expiresAt)}`);
        }
        let group = ledger.holds.get(hold);
        // The next seat of the same batch: the message right after, with the same expiry.
        const sameBatch = group !== undefined && seq === group.lastSeq + 1 && group.expiresAt === expiresAt && !group.seats.has(seat);
        if (group && !sameBatch) {
          v('DUPLICATE_HOLD', `hold ${hold} was already taken at sequence ${group.firstSeq} (seats ${list(group.seats.keys())}); a hold's seats are held in one batch`);
        }
        if (!inRange) return;
        if (!group) {
          ledger.holdCount++;
          group = { firstSeq: seq, lastSeq: seq, expiresAt, seats: new Map() };
          ledger.holds.set(hold, group);
        }
        const rec: HoldRecord = { seat, expiresAt, seq };
        group.seats.set(seat, rec);
        group.lastSeq = seq;
        this.displace(ledger, cell, seq, 'SeatHeld', hold, at);
        ledger.setSeat(seat, { kind: 'held', hold, rec });
        return;
      }
      case 'SeatBooked': {
        ledger.seatCounts.booked++;
        const { hold, reference } = event.data;
        const used = this.references.get(reference);
        if (used && !continuing) {
          const whose = used.hold === hold ? 'by an earlier batch of the same hold' : `by hold ${used.hold}`;
          v('DUPLICATE_REFERENCE', `reference ${reference} was already used at sequence ${used.firstSeq} (${used.concert}, seats ${list(used.seats.keys())}) ${whose}`);
        }
        const previous = inRange ? ledger.uncancelled[seat - 1] : undefined;
        if (previous) {
          v('DOUBLE_BOOKING', `seat ${seat} was booked at sequence ${previous.rec.seq} (reference ${previous.reference}) with no cancellation since`);
        }
        const group = ledger.holds.get(hold);
        const rec = group?.seats.get(seat);
        // A hold that was the previous booking of this very seat is the double booking just reported.
        const sameCause = previous !== undefined && rec?.end !== undefined && rec.end.seq === previous.rec.seq;
        if (!sameCause) {
          const problem = holdProblem(group, rec, hold, seat, at);
          if (problem) v('BOOKING_WITHOUT_LIVE_HOLD', problem);
        }
        if (!continuing) {
          ledger.bookings++;
          this.startRun(event, seq, rec ? openSeats(group, seat) : new Set());
        }
        if (!inRange) return;
        const booking: BookingRecord = { concert: event.concert, seat, seq };
        let bookingGroup = continuing ? used : undefined;
        if (!bookingGroup) {
          bookingGroup = { concert: event.concert, hold, firstSeq: seq, seats: new Map() };
          this.references.set(reference, bookingGroup);
        }
        bookingGroup.seats.set(seat, booking);
        if (rec && !rec.end) rec.end = { seq, kind: 'booked', by: reference };
        this.displace(ledger, cell, seq, 'SeatBooked', reference, at);
        ledger.setSeat(seat, { kind: 'booked', reference, rec: booking });
        ledger.uncancelled[seat - 1] = { reference, rec: booking };
        return;
      }
      case 'BookingCancelled': {
        ledger.seatCounts.cancelled++;
        const { reference } = event.data;
        const group = this.references.get(reference);
        const booking = group?.concert === event.concert ? group.seats.get(seat) : undefined;
        const problem = bookingProblem(group, booking, reference, event.concert, seat);
        if (problem) v('CANCEL_WITHOUT_BOOKING', problem);
        if (!continuing) {
          ledger.cancellations++;
          this.startRun(event, seq, booking ? openSeats(group, seat) : new Set());
        }
        if (!inRange) return;
        if (booking && !booking.end) booking.end = { seq, kind: 'cancelled' };
        if (ledger.uncancelled[seat - 1]?.reference === reference) ledger.uncancelled[seat - 1] = undefined;
        this.displace(ledger, cell, seq, 'BookingCancelled', reference, at);
        ledger.setSeat(seat, undefined);
        return;
      }
      case 'SeatReleased': {
        ledger.seatCounts.released++;
        const { hold, reason } = event.data;
        const group = ledger.holds.get(hold);
        const rec = group?.seats.get(seat);
        const problem = releaseProblem(group, rec, hold, seat);
        if (problem) v('RELEASE_WITHOUT_HOLD', problem);
        else if (reason === 'expired' && rec && at < rec.expiresAt) {
          v('EARLY_EXPIRY', `hold ${hold} released as expired at ${event.at}, but it runs until ${iso(rec.expiresAt)}`);
        }
        if (!continuing) {
          ledger.releases[reason]++;
          this.startRun(event, seq, rec ? openSeats(group, seat) : new Set());
        }
        if (!inRange) return;
        if (rec && !rec.end) rec.end = { seq, kind: 'released', by: reason };
        this.displace(ledger, cell, seq, 'SeatReleased', hold, at);
        ledger.setSeat(seat, undefined);
        return;
      }
    }
  }

  /** Whether an event is the next of the batch being read: same kind, concert, hold or reference, the very next message. */
  private continuesRun(event: EventEnvelope, seq: number): boolean {
    const run = this.run;
    if (!run || run.type !== event.type || run.concert !== event.concert || seq !== run.lastSeq + 1) return false;
    if (!run.remaining.has(event.data.seat)) return false;
    const key = event.type === 'SeatReleased' ? event.data.hold : event.data.reference;
    if (key !== run.key) return false;
    run.remaining.delete(event.data.seat);
    run.covered.push(event.data.seat);
    run.lastSeq = seq;
    return true;
  }

  private startRun(event: EventEnvelope, seq: number, remaining: Set<number>): void {
    if (event.type === 'SeatHeld') return;
    const key = event.type === 'SeatReleased' ? event.data.hold : event.data.reference;
    this.run = { type: event.type, concert: event.concert, key, firstSeq: seq, lastSeq: seq, covered: [event.data.seat], remaining };
  }

  /** Ends the batch being read: seats it should have covered and did not are a violation. */
  private closeRun(): void {
    const run = this.run;
    this.run = undefined;
    if (!run || run.remaining.size === 0) return;
    const covered = `seat${run.covered.length === 1 ? '' : 's'} ${list(run.covered)}`;
    const left = `seat${run.remaining.size === 1 ? '' : 's'} ${list(run.remaining)}`;
    const where = run.firstSeq === run.lastSeq ? `sequence ${run.firstSeq}` : `sequences ${run.firstSeq}–${run.lastSeq}`;
    const [code, message]: [ViolationCode, string] =
      run.type === 'SeatBooked'
        ? ['PARTIAL_BOOKING', `booking ${run.key} (${where}) covers ${covered} of its hold; ${left} of the hold left held`]
        : run.type === 'SeatReleased'
          ? ['PARTIAL_RELEASE', `the release of hold ${run.key} (${where}) covers ${covered}; ${left} of the hold left held`]
          : ['PARTIAL_CANCELLATION', `the cancellation of ${run.key} (${where}) covers ${covered}; ${left} of the booking left booked`];
    this.flag(run.lastSeq, run.type, run.concert, code, message);
  }

  /** Ends whatever occupied a seat that an event overwrites (what evolve does without a word). */
  private displace(ledger: Ledger, cell: Cell | undefined, seq: number, byType: EventEnvelope['type'], by: string, at: number): void {
    if (!cell || cell.rec.end) return;
    if (cell.kind === 'held' && cell.rec.expiresAt <= at) {
      ledger.lapsed++;
      cell.rec.end = { seq, kind: 'taken', byType, by, ranOutAt: cell.rec.expiresAt };
    } else {
      cell.rec.end = { seq, kind: 'taken', byType, by };
    }
  }

  private ledger(concert: string): Ledger {
    let ledger = this.ledgers.get(concert);
    if (!ledger) {
      ledger = new Ledger(concert, this.options.capacities?.get(concert));
      this.ledgers.set(concert, ledger);
    }
    return ledger;
  }

  private flag(seq: number, type: string, concert: string, code: ViolationCode, message: string): void {
    this.violationCount++;
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
    if (this.violations.length < (this.options.maxViolations ?? 10_000)) this.violations.push({ seq, type, concert, code, message });
  }
}

/**
 * The seats of a hold or booking still open (not ended), other than `seat`: what its batch
 * must also cover. Asked only when `seat` is one of them: an event about a seat its hold or
 * booking has not is reported as such, not also as a partial batch.
 */
function openSeats(group: { seats: Map<number, { end?: End }> } | undefined, seat: number): Set<number> {
  const open = new Set<number>();
  for (const [n, rec] of group?.seats ?? []) if (n !== seat && !rec.end) open.add(n);
  return open;
}

const seatsText = (seats: Iterable<number>) => {
  const all = [...seats];
  return `${all.length === 1 ? 'seat' : 'seats'} ${list(all)}`;
};

function holdProblem(group: HoldGroup | undefined, rec: HoldRecord | undefined, hold: string, seat: number, at: number): string | undefined {
  if (!group) return `hold ${hold} was never taken on this concert`;
  if (!rec) return `hold ${hold} is for ${seatsText(group.seats.keys())}, not seat ${seat}`;
  if (rec.end) return `hold ${hold} ended at sequence ${rec.end.seq}: ${describeEnd(rec.end)}`;
  if (rec.expiresAt <= at) return `hold ${hold} expired at ${iso(rec.expiresAt)}, before this booking at ${iso(at)}`;
  return undefined;
}

function bookingProblem(group: BookingGroup | undefined, rec: BookingRecord | undefined, reference: string, concert: string, seat: number): string | undefined {
  if (!group) return `reference ${reference} was never booked`;
  if (group.concert !== concert) return `reference ${reference} is a booking of ${group.concert}, not ${concert}`;
  if (!rec) return `reference ${reference} is for ${seatsText(group.seats.keys())}, not seat ${seat}`;
  if (rec.end) return `booking ${reference} ended at sequence ${rec.end.seq}: ${describeEnd(rec.end)}`;
  return undefined;
}

function releaseProblem(group: HoldGroup | undefined, rec: HoldRecord | undefined, hold: string, seat: number): string | undefined {
  if (!group) return `hold ${hold} was never taken on this concert`;
  if (!rec) return `hold ${hold} is for ${seatsText(group.seats.keys())}, not seat ${seat}`;
  if (rec.end) return `hold ${hold} ended at sequence ${rec.end.seq}: ${describeEnd(rec.end)}`;
  return undefined;
}

function concertReport(l: Ledger, clock: number): ConcertReport {
  const capacity = l.capacity ?? l.highestSeat;
  let map = '';
  let held = 0;
  let booked = 0;
  let lapsed = l.lapsed;
  for (let i = 0; i < capacity; i++) {
    const cell = l.seats[i];
    if (cell?.kind === 'booked') {
      booked++;
      map += 'x';
    } else if (cell?.kind === 'held' && cell.rec.expiresAt > clock) {
      held++;
      map += 'h';
    } else {
      if (cell?.kind === 'held') lapsed++;
      map += '.';
    }
  }
  return {
    concert: l.concert,
    capacity,
    capacityKnown: l.capacity !== undefined,
    events: l.events,
    firstSeq: l.firstSeq,
    lastSeq: l.lastSeq,
    holds: l.holdCount,
    bookings: l.bookings,
    cancellations: l.cancellations,
    releases: { ...l.releases },
    seats: { ...l.seatCounts },
    lapsed,
    occupancy: { free: capacity - held - booked, held, booked },
    map,
  };
}

/** The `type` of a message that does not validate, when it can be read at all. */
function typeHint(data: Uint8Array | string): string {
  try {
    const raw: unknown = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
    const type = (raw as { type?: unknown } | null)?.type;
    return typeof type === 'string' && type.length > 0 && type.length <= 64 ? type : '?';
  } catch {
    return '?';
  }
}
