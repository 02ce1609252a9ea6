/**
 * Shared pieces of the fault suites (test/faults/): figures that every scenario prints,
 * requests with a time bound, and the audit of the event log against what clients were told.
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats } from '../../src/nats-connection.js';
import { GuichetClient, ServerError } from '../../src/cli/client.js';
import { evolve, initialState, type ConcertState } from '../../src/actors/concert.js';
import type { Concert } from '../../src/catalog.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { EventStore } from '../../src/events/store.js';

// ------------------------------------------------------------------ figures

export type Counts = Record<string, number>;

export function tally(values: Iterable<string>, into: Counts = {}): Counts {
  for (const v of values) into[v] = (into[v] ?? 0) + 1;
  return into;
}

export function sortedCounts(counts: Counts): Counts {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * Prints a scenario's figures as one block (and appends them as a JSON line to the file named
 * by GUICHET_FAULTS_REPORT, for docs/reliability.md).
 */
export async function report(scenario: string, figures: Record<string, unknown>): Promise<void> {
  const lines = Object.entries(figures).map(([k, v]) => `    ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  console.log(`\n  ── ${scenario}\n${lines.join('\n')}`);
  const file = process.env.GUICHET_FAULTS_REPORT;
  if (file) await appendFile(file, `${JSON.stringify({ scenario, at: new Date().toISOString(), ...figures })}\n`);
}

// ------------------------------------------------------------------ requests with bounds

/** The code a failed request ends with: the ERR code, or CLOSED / TIMEOUT / CONNECT. */
export function codeOf(err: unknown): string {
  if (err instanceof ServerError) return err.code;
  const message = err instanceof Error ? err.message : String(err);
  if (/^TIMEOUT/.test(message)) return 'TIMEOUT';
  if (/cannot connect|closed the connection before|no answer from/.test(message)) return 'CONNECT';
  return 'CLOSED';
}

export type Settled<T> = { ok: true; value: T; ms: number } | { ok: false; code: string; message: string; ms: number };

/** Waits for a request at most `ms`; a request still unanswered then settles as TIMEOUT (it waited too long). */
export async function settle<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`TIMEOUT after ${ms} ms`)), ms);
  });
  try {
    const value = await Promise.race([promise, timeout]);
    return { ok: true, value, ms: performance.now() - started };
  } catch (err) {
    promise.catch(() => undefined);
    return { ok: false, code: codeOf(err), message: err instanceof Error ? err.message : String(err), ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** Fails a test body that runs longer than `ms` (uvu has no timeout of its own). */
export async function within<T>(ms: number, what: string, body: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      body(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: still running after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function connectMany(ports: readonly number[], count: number, timeoutMs = 10_000): Promise<GuichetClient[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => GuichetClient.connect({ port: ports[i % ports.length]!, timeoutMs, localAddress: loopbackAddress(i) })));
}

/**
 * The local address of load client `i`: one of 100 loopback addresses, as clients of a sale
 * come from many addresses; from one, they would meet the per-address limits (32 seats held).
 */
export function loopbackAddress(i: number): string {
  return `127.0.1.${1 + (i % 100)}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A sleep that does not keep the process alive: the losing side of a Promise.race. */
export const deadline = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export function closeAll(clients: Iterable<GuichetClient | undefined>): void {
  for (const c of clients) c?.close();
}

// ------------------------------------------------------------------ files

const tempDirs: string[] = [];
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory, removed when the test process exits. */
export async function tempDir(prefix = 'guichet-faults-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export async function writeCatalog(concerts: readonly Concert[]): Promise<string> {
  const file = join(await tempDir(), 'concerts.json');
  await writeFile(file, JSON.stringify(concerts));
  return file;
}

// ------------------------------------------------------------------ the log

/** Every event of the TICKETS stream, read with the store's replay (a connection of its own). */
export async function readLog(natsUrl: string): Promise<StoredEvent[]> {
  const nc = await connectNats(natsUrl, {}, { timeout: 5_000 });
  try {
    const store = await EventStore.open(nc);
    const { lastSeq } = await store.position();
    return await store.readUntil({ untilSeq: lastSeq });
  } finally {
    await nc.close().catch(() => undefined);
  }
}

export interface SeatHistoryFault {
  concert: string;
  seat: number;
  seq: number;
  what: string;
}

export interface Audit {
  events: number;
  byType: Counts;
  /** The state of each concert, folded with `evolve`. */
  states: Map<string, ConcertState>;
  /** A SeatBooked on a seat already sold, with no BookingCancelled of that booking between. */
  doubleBookings: SeatHistoryFault[];
  /** A SeatHeld (or SeatReleased) on a seat that was booked, or a SeatHeld on a seat held by a hold still live at the event's time. */
  doubleHolds: SeatHistoryFault[];
  /** A SeatBooked for a hold that was not the seat's live hold at the event's time. */
  bookedWithoutLiveHold: SeatHistoryFault[];
  /** Hold ids with more than one SeatHeld, SeatBooked or SeatReleased: a retried append stored twice. */
  duplicatedPerHold: Array<{ hold: string; type: string; count: number }>;
  /** Event ids (Nats-Msg-Id) present more than once. */
  duplicateIds: string[];
  /** Every reference ever booked: where, and whether it was cancelled since. */
  references: Map<string, { concert: string; seat: number; hold: string; cancelled: boolean }>;
}

/**
 * Folds the log with `evolve` and checks it seat by seat: nothing sold twice, no seat held by
 * two live holds, nothing booked without the hold, no event stored twice.
 */
export function auditLog(events: readonly StoredEvent[], catalog: readonly Concert[]): Audit {
  const states = new Map(catalog.map((c) => [c.id, initialState(c.id, c.capacity)]));
  const audit: Audit = {
    events: events.length,
    byType: {},
    states,
    doubleBookings: [],
    doubleHolds: [],
    bookedWithoutLiveHold: [],
    duplicatedPerHold: [],
    duplicateIds: [],
    references: new Map(),
  };
  const ids = new Set<string>();
  const perHold = new Map<string, number>();
  // Per seat, the reference booked on it, cleared by its BookingCancelled only (kept apart from
  // `evolve`, so that a fold that frees a booked seat some other way is caught too).
  const soldTo = new Map<string, string>();
  for (const event of events) {
    tally([event.type], audit.byType);
    if (ids.has(event.id)) audit.duplicateIds.push(event.id);
    ids.add(event.id);
    const state = states.get(event.concert);
    if (!state) continue;
    const seat = event.data.seat;
    const before = state.seats[seat - 1];
    const at = Date.parse(event.at);
    const fault = (what: string) => ({ concert: event.concert, seat, seq: event.seq, what });
    const seatKey = `${event.concert} ${seat}`;
    const sold = soldTo.get(seatKey);
    switch (event.type) {
      case 'SeatHeld':
        if (sold !== undefined) audit.doubleHolds.push(fault(`held while sold to ${sold}`));
        else if (before?.kind === 'booked') audit.doubleHolds.push(fault(`held while booked (${before.reference})`));
        if (before?.kind === 'held' && before.expiresAt > at) audit.doubleHolds.push(fault(`held while hold ${before.hold} was live`));
        break;
      case 'SeatBooked':
        if (sold !== undefined) audit.doubleBookings.push(fault(`booked ${event.data.reference} while sold to ${sold}, not cancelled since`));
        else if (before?.kind !== 'held' || before.hold !== event.data.hold || before.expiresAt <= at) {
          audit.bookedWithoutLiveHold.push(fault(`booked ${event.data.reference} for hold ${event.data.hold}; seat was ${JSON.stringify(before)}`));
        }
        audit.references.set(event.data.reference, { concert: event.concert, seat, hold: event.data.hold, cancelled: false });
        soldTo.set(seatKey, event.data.reference);
        break;
      case 'BookingCancelled': {
        const r = audit.references.get(event.data.reference);
        if (r) r.cancelled = true;
        if (sold === event.data.reference) soldTo.delete(seatKey);
        break;
      }
      case 'SeatReleased':
        if (sold !== undefined) audit.doubleHolds.push(fault(`released (${event.data.reason}) while sold to ${sold}`));
        break;
    }
    if (event.type !== 'BookingCancelled') {
      const key = `${event.type} ${event.data.hold}`;
      perHold.set(key, (perHold.get(key) ?? 0) + 1);
    }
    states.set(event.concert, evolve(state, event));
  }
  for (const [key, count] of perHold) {
    if (count > 1) {
      const [type, hold] = key.split(' ') as [string, string];
      audit.duplicatedPerHold.push({ hold, type, count });
    }
  }
  return audit;
}

/** The seat map of a folded state, as SEATS shows it to a third party at `now`. */
export function mapOf(state: ConcertState, now: number): string {
  return state.seats.map((s) => (s.kind === 'booked' ? 'x' : s.kind === 'held' && s.expiresAt > now ? 'h' : '.')).join('');
}

/**
 * What clients were told against the log: every reference a client received is booked in the
 * final state, unless a client was told it was cancelled (and the log says so).
 */
export function compareWithLog(
  audit: Audit,
  told: { booked: ReadonlyMap<string, { concert: string; seat: number }>; cancelled: ReadonlySet<string> },
): { lost: string[]; wrongSeat: string[]; cancelledButBooked: string[]; bookedButNotTold: number } {
  const lost: string[] = [];
  const wrongSeat: string[] = [];
  const cancelledButBooked: string[] = [];
  for (const [reference, where] of told.booked) {
    const inLog = audit.references.get(reference);
    if (!inLog) {
      lost.push(reference);
      continue;
    }
    if (inLog.concert !== where.concert || inLog.seat !== where.seat) wrongSeat.push(reference);
    const state = audit.states.get(inLog.concert)!;
    const seat = state.seats[inLog.seat - 1];
    const bookedNow = seat?.kind === 'booked' && seat.reference === reference;
    if (told.cancelled.has(reference)) {
      if (bookedNow || !inLog.cancelled) cancelledButBooked.push(reference);
    } else if (!bookedNow) {
      lost.push(reference);
    }
  }
  let bookedButNotTold = 0;
  for (const reference of audit.references.keys()) if (!told.booked.has(reference)) bookedButNotTold++;
  return { lost, wrongSeat, cancelledButBooked, bookedButNotTold };
}

/** The promises every load scenario checks on the log: nothing lost, nothing sold, held or stored twice. */
export function assertLogKeptPromises(audit: Audit, comparison: ReturnType<typeof compareWithLog>): void {
  assert.equal(comparison.lost, [], 'every reference told is in the log, booked');
  assert.equal(audit.doubleBookings, [], 'no seat sold twice');
  assert.equal(audit.doubleHolds, [], 'no seat held twice');
  assert.equal(audit.bookedWithoutLiveHold, [], 'nothing booked without its live hold');
  assert.equal(audit.duplicateIds, [], 'no event stored twice');
  assert.equal(audit.duplicatedPerHold, [], 'no hold recorded twice');
}

// ------------------------------------------------------------------ a client from another loopback address

/**
 * A minimal wire client that can choose its local address (127.0.0.2, …: all of 127/8 is
 * loopback on Linux), so that the gateway sees different client addresses. One request at a
 * time; replies are matched by tag.
 */
export class AddressedClient {
  private buffer = '';
  private waiting = new Map<string, (line: string) => void>();
  private tag = 0;

  private constructor(private readonly socket: Socket) {}

  static async connect(port: number, localAddress: string): Promise<AddressedClient> {
    const socket = connectTcp({ host: '127.0.0.1', port, localAddress });
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    const client = new AddressedClient(socket);
    const hello = new Promise<void>((resolve, reject) => {
      client.waiting.set('HELLO', () => resolve());
      socket.once('close', () => reject(new Error('closed before HELLO')));
    });
    socket.on('data', (chunk: string) => client.onData(chunk));
    await hello;
    return client;
  }

  /** Resolves with the reply's payload, rejects with a ServerError. */
  request<T = unknown>(...words: Array<string | number>): Promise<T> {
    const tag = `#a${++this.tag}`;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(tag, (line) => {
        const rest = line.slice(tag.length + 1);
        if (rest.startsWith('OK')) resolve(JSON.parse(rest.slice(3) || '{}') as T);
        else {
          const [, code = '', message = ''] = /^ERR (\S+) ?(.*)$/.exec(rest) ?? [];
          reject(new ServerError(code, message));
        }
      });
      this.socket.write(`${tag} ${words.join(' ')}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const key = line.startsWith('HELLO ') ? 'HELLO' : line.split(' ', 1)[0]!;
      const waiter = this.waiting.get(key);
      if (waiter) {
        this.waiting.delete(key);
        waiter(line);
      }
    }
  }
}
