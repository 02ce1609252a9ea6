/**
 * A concert's state at a point of the log, so that a starting gateway can begin its replay
 * there instead of at the first event. A snapshot is a cache of the fold, never a source of
 * truth: the log is. It says which events it covers, and the gateway checks that against the
 * log before it trusts it (src/actors/snapshotting.ts); one that is missing, unreadable, from
 * another fold version or another catalog is ignored, and that concert is replayed in full.
 *
 * The seats are written compactly (a free seat is `0`), so that large halls fit in one NATS
 * message: about 100 bytes per booked seat.
 */
import { stateOfSeats, type ConcertState, type Seat } from './concert.js';

/**
 * The meaning of the fold. Bump it whenever `evolve` changes what a state means: snapshots
 * written under another version are then ignored (and rewritten after a full replay).
 */
export const FOLD_VERSION = 1;

export interface ConcertSnapshot {
  readonly state: ConcertState;
  /** Every event of this concert with a stream sequence up to here is folded into `state`. */
  readonly throughSeq: number;
  /** The concert's last event folded in (0 and '' when it has none): checked against the log. */
  readonly lastSeq: number;
  readonly lastEventId: string;
  /** References of the concert's cancelled bookings: never to be issued again. */
  readonly cancelledReferences: readonly string[];
}

type WireSeat = 0 | ['h', string, string, number] | ['b', string, string, string, string];

interface WireSnapshot {
  fold: number;
  concert: string;
  capacity: number;
  throughSeq: number;
  lastSeq: number;
  lastEventId: string;
  seats: WireSeat[];
  cancelled: string[];
}

export function encodeSnapshot(snapshot: ConcertSnapshot): string {
  const { state, throughSeq, lastSeq, lastEventId, cancelledReferences } = snapshot;
  const wire: WireSnapshot = {
    fold: FOLD_VERSION,
    concert: state.concert,
    capacity: state.capacity,
    throughSeq,
    lastSeq,
    lastEventId,
    seats: state.seats.map(toWire),
    cancelled: [...cancelledReferences],
  };
  return JSON.stringify(wire);
}

function toWire(seat: Seat): WireSeat {
  switch (seat.kind) {
    case 'free':
      return 0;
    case 'held':
      return ['h', seat.hold, seat.holder, seat.expiresAt];
    case 'booked':
      return ['b', seat.hold, seat.reference, seat.firstName, seat.lastName];
  }
}

const FREE: Seat = { kind: 'free' };
const REFERENCE = /^\d{10}$/;

/** Parses and checks a snapshot; throws an Error that says why it cannot be used. */
export function decodeSnapshot(text: string): ConcertSnapshot {
  const raw: unknown = JSON.parse(text);
  if (typeof raw !== 'object' || raw === null) throw new Error('not a JSON object');
  const w = raw as Partial<WireSnapshot>;
  if (w.fold !== FOLD_VERSION) throw new Error(`fold version ${String(w.fold)}, this gateway folds version ${FOLD_VERSION}`);
  if (typeof w.concert !== 'string' || w.concert === '') throw new Error('no concert');
  if (!isCount(w.capacity) || w.capacity < 1) throw new Error('capacity must be a whole number ≥ 1');
  if (!isCount(w.throughSeq) || !isCount(w.lastSeq) || w.lastSeq > w.throughSeq) throw new Error('lastSeq ≤ throughSeq must be whole numbers');
  if (typeof w.lastEventId !== 'string' || (w.lastSeq > 0) !== (w.lastEventId !== '')) throw new Error('lastEventId must name the event at lastSeq');
  if (!Array.isArray(w.seats) || w.seats.length !== w.capacity) throw new Error(`seats must list the ${w.capacity} seats`);
  const seats = w.seats.map((seat, i) => fromWire(seat as unknown, i + 1));
  if (!Array.isArray(w.cancelled) || !w.cancelled.every((r: unknown) => typeof r === 'string' && REFERENCE.test(r))) {
    throw new Error('cancelled must list 10-digit references');
  }
  return {
    state: stateOfSeats(w.concert, seats),
    throughSeq: w.throughSeq,
    lastSeq: w.lastSeq,
    lastEventId: w.lastEventId,
    cancelledReferences: w.cancelled,
  };
}

function fromWire(seat: unknown, number: number): Seat {
  if (seat === 0) return FREE;
  if (Array.isArray(seat) && seat[0] === 'h' && seat.length === 4 && strings(seat, 1, 2) && typeof seat[3] === 'number' && Number.isFinite(seat[3])) {
    const [, hold, holder, expiresAt] = seat as ['h', string, string, number];
    return { kind: 'held', hold, holder, expiresAt };
  }
  if (Array.isArray(seat) && seat[0] === 'b' && seat.length === 5 && strings(seat, 1, 4)) {
    const [, hold, reference, firstName, lastName] = seat as ['b', string, string, string, string];
    return { kind: 'booked', hold, reference, firstName, lastName };
  }
  throw new Error(`seat ${number} is not 0, ['h', hold, holder, expiresAt] or ['b', hold, reference, first, last]`);
}

function strings(values: unknown[], from: number, to: number): boolean {
  for (let i = from; i <= to; i++) if (typeof values[i] !== 'string' || values[i] === '') return false;
  return true;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
