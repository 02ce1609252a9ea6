/**
 * A synthetic event log that keeps every booking rule, with the figures an audit of it must
 * find. Seeded, so the same options give the same log (ids aside). Used by the 1 M audit
 * benchmark (bench/audit-1m.ts) and by test/audit/.
 *
 * Each step picks a concert and does one thing there: hold a free seat; settle the oldest
 * pending hold (book it, or release it as declined or disconnected, or abandon it so that it
 * is released as expired once its time is up — or, now and then, never released at all: it
 * lapses, as when a gateway dies); or cancel a booking (more often as the hall fills).
 */
import { monotonicFactory } from 'ulid';
import { luhnCheckDigit } from '../src/actors/reference.js';
import { encodeEvent, EVENT_VERSION, type EventEnvelope, type ReleaseReason } from '../src/events/envelope.js';
import type { EventStore } from '../src/events/store.js';
import { subjectFor } from '../src/events/subjects.js';
import type { Concert } from '../src/catalog.js';
import { seededRandom as prng } from '../test/support/random.js';
import type { ConcertReport } from '../src/audit/auditor.js';

export interface GenerateOptions {
  events: number;
  concerts?: number;
  capacity?: number;
  seed?: number;
  /** Time of the first event (ms). */
  start?: number;
  /** Time between two events (ms). */
  stepMs?: number;
  holdMs?: number;
}

/** What the audit must report for a concert of the generated log, as of `end`. */
export type ExpectedConcert = Pick<ConcertReport, 'holds' | 'bookings' | 'cancellations' | 'releases' | 'lapsed' | 'occupancy' | 'map'>;

export interface GeneratedLog {
  catalog: Concert[];
  /** Time of the last event: the clock the expected occupancy is as of. */
  end: number;
  expected: Map<string, ExpectedConcert>;
}

type SeatState = { kind: 'free' } | { kind: 'held'; hold: string; expiresAt: number } | { kind: 'booked'; reference: string };

interface Hall {
  id: string;
  seats: SeatState[];
  free: number[];
  freeIndex: Int32Array;
  booked: number[];
  bookedIndex: Int32Array;
  /** Holds waiting to be settled, oldest first. */
  pending: Array<{ seat: number; hold: string; expiresAt: number }>;
  figures: ExpectedConcert;
}


const FIRST = ['Zoë', 'Jean Pierre', 'Amélie', 'Łukasz', 'Søren', 'Inès', 'Noah', 'Mía'];
const LAST = ["O'Brien", 'Dupont-Lévêque', 'Nguyễn', 'Müller', 'García Márquez', 'Smith', 'Østergaard', 'Kowalski'];

function add(list: number[], index: Int32Array, seat: number): void {
  index[seat] = list.length;
  list.push(seat);
}

function remove(list: number[], index: Int32Array, seat: number): void {
  const at = index[seat]!;
  const last = list.pop()!;
  if (last !== seat) {
    list[at] = last;
    index[last] = at;
  }
  index[seat] = -1;
}

/**
 * Generates the log, one event at a time; when done, returns the catalog it assumed and the
 * figures an audit as of `end` must report.
 */
export function* generateLog(options: GenerateOptions): Generator<EventEnvelope, GeneratedLog, undefined> {
  const concerts = options.concerts ?? 20;
  const capacity = options.capacity ?? 500;
  const stepMs = options.stepMs ?? 20;
  const holdMs = options.holdMs ?? 120_000;
  let t = options.start ?? Date.parse('2027-01-01T09:00:00.000Z');
  const random = prng(options.seed ?? 1);
  const ulid = monotonicFactory(() => random());
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const sources = ['gw-bench-a', 'gw-bench-b'];
  const holders = Array.from({ length: 64 }, () => ulid(t));
  let nextReference = 100_000_000;

  const halls: Hall[] = [];
  for (let c = 0; c < concerts; c++) {
    const hall: Hall = {
      id: `bench-${String(c + 1).padStart(3, '0')}`,
      seats: Array.from({ length: capacity + 1 }, () => ({ kind: 'free' }) as SeatState),
      free: [],
      freeIndex: new Int32Array(capacity + 1).fill(-1),
      booked: [],
      bookedIndex: new Int32Array(capacity + 1).fill(-1),
      pending: [],
      figures: {
        holds: 0,
        bookings: 0,
        cancellations: 0,
        releases: { declined: 0, expired: 0, disconnected: 0 },
        lapsed: 0,
        occupancy: { free: capacity, held: 0, booked: 0 },
        map: '',
      },
    };
    for (let s = 1; s <= capacity; s++) add(hall.free, hall.freeIndex, s);
    halls.push(hall);
  }
  /** Abandoned holds, by expiry (they are taken in time order, so the list stays sorted). */
  const abandoned: Array<{ hall: Hall; seat: number; hold: string; expiresAt: number }> = [];
  let abandonedHead = 0;

  let written = 0;
  const queue: EventEnvelope[] = [];
  const write = (hall: Hall, event: Omit<EventEnvelope, 'id' | 'v' | 'concert' | 'at' | 'source'>) => {
    queue.push({ id: ulid(t), v: EVENT_VERSION, concert: hall.id, at: new Date(t).toISOString(), source: pick(sources), ...event } as EventEnvelope);
    written++;
  };
  const free = (hall: Hall, seat: number) => {
    hall.seats[seat] = { kind: 'free' };
    add(hall.free, hall.freeIndex, seat);
  };
  const release = (hall: Hall, seat: number, hold: string, reason: ReleaseReason) => {
    hall.figures.releases[reason]++;
    free(hall, seat);
    write(hall, { type: 'SeatReleased', data: { seat, hold, reason } });
  };

  while (written < options.events) {
    yield* queue.splice(0);
    t += stepMs;
    // Abandoned holds whose time is up: released as expired, or (one in five) lapsing unwritten.
    const due = abandoned[abandonedHead];
    if (due && due.expiresAt <= t) {
      abandonedHead++;
      if (random() < 0.8) {
        release(due.hall, due.seat, due.hold, 'expired');
      } else {
        due.hall.figures.lapsed++;
        free(due.hall, due.seat);
      }
      continue;
    }
    const hall = pick(halls);
    const r = random();
    const bookedShare = hall.booked.length / capacity;
    if (hall.pending.length > 0 && (r < 0.45 || hall.free.length === 0)) {
      const { seat, hold, expiresAt } = hall.pending.shift()!;
      if (expiresAt <= t) {
        release(hall, seat, hold, 'expired');
        continue;
      }
      const outcome = random();
      if (outcome < 0.65) {
        const body = String(nextReference++);
        const reference = body + String(luhnCheckDigit(body));
        hall.figures.bookings++;
        hall.seats[seat] = { kind: 'booked', reference };
        add(hall.booked, hall.bookedIndex, seat);
        write(hall, { type: 'SeatBooked', data: { seat, hold, reference, firstName: pick(FIRST), lastName: pick(LAST) } });
      } else if (outcome < 0.8) {
        release(hall, seat, hold, 'declined');
      } else if (outcome < 0.9) {
        release(hall, seat, hold, 'disconnected');
      } else {
        abandoned.push({ hall, seat, hold, expiresAt });
      }
    } else if (hall.booked.length > 0 && (r < 0.45 + 0.5 * bookedShare || hall.free.length === 0)) {
      const seat = pick(hall.booked);
      const state = hall.seats[seat]!;
      if (state.kind !== 'booked') throw new Error('generator: booked list out of step');
      remove(hall.booked, hall.bookedIndex, seat);
      hall.figures.cancellations++;
      free(hall, seat);
      write(hall, { type: 'BookingCancelled', data: { seat, reference: state.reference } });
    } else if (hall.free.length > 0) {
      const seat = pick(hall.free);
      remove(hall.free, hall.freeIndex, seat);
      const hold = ulid(t);
      const expiresAt = t + holdMs;
      hall.figures.holds++;
      hall.seats[seat] = { kind: 'held', hold, expiresAt };
      hall.pending.push({ seat, hold, expiresAt });
      write(hall, { type: 'SeatHeld', data: { seat, hold, holder: pick(holders), expiresAt: new Date(expiresAt).toISOString() } });
    }
  }

  yield* queue.splice(0);
  // The figures as of the last event: a hold whose time is up counts as free (and lapsed).
  const expected = new Map<string, ExpectedConcert>();
  for (const hall of halls) {
    let held = 0;
    let booked = 0;
    let lapsedNow = 0;
    let map = '';
    for (let s = 1; s <= capacity; s++) {
      const state = hall.seats[s]!;
      if (state.kind === 'booked') {
        booked++;
        map += 'x';
      } else if (state.kind === 'held' && state.expiresAt > t) {
        held++;
        map += 'h';
      } else {
        if (state.kind === 'held') lapsedNow++;
        map += '.';
      }
    }
    hall.figures.occupancy = { free: capacity - held - booked, held, booked };
    hall.figures.lapsed += lapsedNow;
    hall.figures.map = map;
    expected.set(hall.id, hall.figures);
  }
  const catalog: Concert[] = halls.map((h) => ({ id: h.id, title: `Bench ${h.id}`, venue: 'Bench hall', date: '2027-06-01T20:00:00Z', capacity }));
  return { catalog, end: t, expected };
}

/** Runs a generator to its end, handing each event to `each`; returns the generator's result. */
export function drain<T, R>(generator: Generator<T, R, undefined>, each: (item: T) => void): R {
  for (;;) {
    const step = generator.next();
    if (step.done) return step.value;
    each(step.value);
  }
}

export interface PublishOptions {
  /** Appends in flight at once. */
  window?: number;
  onProgress?: (written: number) => void;
}

/**
 * Appends events straight to the stream, as fast as JetStream acknowledges them, each with
 * its `Nats-Msg-Id` and the `Nats-Expected-Last-Subject-Sequence` a gateway would have sent.
 * The expected sequences are worked out ahead (this must be the stream's only writer:
 * appends are stored in the order sent), so appends can be pipelined; a wrong guess is
 * refused by the server and fails the run. Returns the count written.
 */
export async function publishEvents(store: EventStore, events: Iterator<EventEnvelope, unknown, undefined>, options: PublishOptions = {}): Promise<number> {
  const window = options.window ?? 1_000;
  let seq = (await store.position()).lastSeq;
  const lastBySubject = new Map<string, number>();
  let written = 0;
  let inflight = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const settled = () => {
    inflight--;
    written++;
    if (options.onProgress && written % 10_000 === 0) options.onProgress(written);
    wake?.();
    wake = undefined;
  };
  for (;;) {
    while (inflight >= window) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
    const step = events.next();
    if (step.done) break;
    const event = step.value;
    const subject = subjectFor(event.concert);
    seq++;
    const expected = lastBySubject.get(subject) ?? (await store.lastSeqOf(event.concert));
    lastBySubject.set(subject, seq);
    const wanted = seq;
    inflight++;
    store.js
      .publish(subject, encodeEvent(event), { msgID: event.id, expect: { lastSubjectSequence: expected }, timeout: 30_000 })
      .then((ack) => {
        if (ack.seq !== wanted || ack.duplicate) throw new Error(`append stored at ${ack.seq}${ack.duplicate ? ' (duplicate)' : ''}, expected ${wanted}`);
      })
      .catch((err: unknown) => (failure ??= err))
      .finally(settled);
  }
  while (inflight > 0) await new Promise<void>((resolve) => (wake = resolve));
  if (failure) throw failure;
  options.onProgress?.(written);
  return written;
}
