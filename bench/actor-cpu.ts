/**
 * CPU of the concert actor alone: `concertMachine` with in-memory ports whose appends are
 * stored at once (no NATS, no sockets), `clients` callers each looping HOLD + BOOK on seats
 * of their own, as bench `hot` does over the network. Prints CPU µs per booking for each
 * (capacity, clients) pair: the part of the gateway's CPU per booking that the actor and the
 * decider cost, measured without the noise of the network and of other processes.
 *
 *   node dist/bench/actor-cpu.js [--bookings N] [--runs R] [--case SEATSxCLIENTS] [--one-by-one]
 *
 * One line per case on stderr; the last line on stdout is the JSON of every case (what
 * `npm run bench -- actor` reads).
 */
import { createActor } from 'xstate';
import { concertMachine, type ConcertPorts, type Outcome, type Request } from '../src/actors/machine.js';
import { initialState, type ConcertCommand } from '../src/actors/concert.js';
import { layoutOf } from '../src/layout.js';
import { decodeEvent, encodeEvent, EVENT_VERSION, type EventEnvelope, type StoredEvent } from '../src/events/envelope.js';
import { median } from './lib/stats.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const BOOKINGS = flag('--bookings', 20_000);
const RUNS = flag('--runs', 5);
const ONE_BY_ONE = args.includes('--one-by-one');

async function run(capacity: number, clients: number, bookings: number): Promise<number> {
  let seq = 0;
  let ids = 0;
  const ports: ConcertPorts = {
    append: (events: readonly EventEnvelope[]) => {
      seq += events.length;
      return Promise.resolve(seq);
    },
    readAfter: () => Promise.resolve([] as StoredEvent[]),
    applied: () => undefined,
    now: Date.now,
    newId: () => `e${++ids}`,
    source: 'bench',
  };
  const actor = createActor(concertMachine, { input: { state: initialState('hot', capacity), rules: { holdMs: 120_000, maxSeats: 8 }, ports } });
  actor.start();
  actor.send({ type: 'loaded', state: initialState('hot', capacity), lastSeq: 0 });
  // As the registry hands them over: to an idle actor at once, else the commands of one turn of
  // the event loop in one message (`--one-by-one`: a message each, as before).
  let turn: Request[] | undefined;
  const execute = (command: ConcertCommand) =>
    new Promise<Outcome>((resolve, reject) => {
      const request: Request = { command, deadline: Date.now() + 60_000, resolve, reject };
      if (ONE_BY_ONE || (!turn && actor.getSnapshot().value === 'ready')) return actor.send({ type: 'command', request });
      if (turn) return void turn.push(request);
      turn = [request];
      setImmediate(() => {
        const requests = turn!;
        turn = undefined;
        actor.send({ type: 'commands', requests });
      });
    });
  // Client c books seats c + 1, c + 1 + clients, …: each seat once.
  const perClient = Math.floor(Math.min(bookings, capacity) / clients);
  // The layout comes with every HOLD, as the gateway sends it (from the catalog).
  const layout = layoutOf(capacity);
  const started = process.cpuUsage();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient; i++) {
        const seat = 1 + c + i * clients;
        const hold = `h${c}-${i}`;
        await execute({ type: 'Hold', hold, holder: `x${c}`, seat, layout });
        await execute({ type: 'Book', hold, holder: `x${c}`, firstName: 'Ada', lastName: 'Lovelace', reference: String(1_000_000_000 + c * perClient + i) });
      }
    }),
  );
  const used = process.cpuUsage(started);
  actor.stop();
  return (used.user + used.system) / (perClient * clients);
}

/**
 * A follower's copy (a gateway that does not own the concert): the events of `clients` callers'
 * bookings (HOLD then BOOK, seat by seat) arrive from the stream as bytes and reach the actor
 * `perTurn` at a time, as the registry hands them over (decoded, then one `stream.events`).
 */
/** The events of the bookings as the stream holds them: every event with a time of its own (no two decided in the same millisecond). */
function followerWire(capacity: number, clients: number, bookings: number): Uint8Array[] {
  const start = Date.now();
  const wire: Uint8Array[] = [];
  for (let b = 0; b < Math.min(bookings, capacity); b++) {
    const meta = (i: number) => ({ id: `e${i}`, v: EVENT_VERSION, concert: 'hot', at: new Date(start + i).toISOString(), source: 'owner' });
    const hold = `h${b}`;
    const expiresAt = new Date(start + 2 * b + 600_000).toISOString();
    wire.push(encodeEvent({ ...meta(2 * b), type: 'SeatHeld', data: { seat: b + 1, hold, holder: `x${b % clients}`, expiresAt } }));
    wire.push(encodeEvent({ ...meta(2 * b + 1), type: 'SeatBooked', data: { seat: b + 1, hold, reference: String(1_000_000_000 + b), firstName: 'Ada', lastName: 'Lovelace' } }));
  }
  return wire;
}

/** `decodeEvent` alone over the same events: what checking and parsing an envelope costs. */
function decodeOnly(capacity: number, clients: number, bookings: number): number {
  const wire = followerWire(capacity, clients, bookings);
  const started = process.cpuUsage();
  for (const bytes of wire) decodeEvent(bytes);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / (wire.length / 2);
}

async function follow(capacity: number, clients: number, bookings: number, perTurn: number): Promise<number> {
  const wire = followerWire(capacity, clients, bookings);
  const ports: ConcertPorts = {
    append: () => Promise.reject(new Error('a follower does not append')),
    readAfter: () => Promise.resolve([] as StoredEvent[]),
    applied: () => undefined,
    decidesExpiry: () => false,
    now: Date.now,
    newId: () => 'unused',
    source: 'bench',
  };
  const actor = createActor(concertMachine, { input: { state: initialState('hot', capacity), rules: { holdMs: 120_000, maxSeats: 8 }, ports } });
  actor.start();
  actor.send({ type: 'loaded', state: initialState('hot', capacity), lastSeq: 0 });
  const started = process.cpuUsage();
  for (let i = 0; i < wire.length; i += perTurn) {
    const events = wire.slice(i, i + perTurn).map((bytes, j) => ({ ...decodeEvent(bytes), seq: i + j + 1 }));
    actor.send({ type: 'stream.events', events });
    // One turn of the event loop per delivery, as from the stream (timers and microtasks run).
    if (i % (perTurn * 64) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(started);
  actor.stop();
  return (used.user + used.system) / (wire.length / 2);
}

const only = args.includes("--case") ? args[args.indexOf("--case") + 1]!.split("x").map(Number) as [number, number] : undefined;
const cases: Array<[number, number]> = only ? [only] : [
  [20_000, 1],
  [20_000, 50],
  [20_000, 200],
  [2_000, 1],
  [2_000, 10],
];
const results: Array<{ capacity: number; clients: number; follower?: number; decodeOnly?: boolean; cpuPerBookingUs: number; runs: number[] }> = [];
for (const [capacity, clients] of cases) {
  await run(capacity, clients, BOOKINGS / 4); // warm-up
  const figures: number[] = [];
  for (let r = 0; r < RUNS; r++) figures.push(await run(capacity, clients, BOOKINGS));
  results.push({ capacity, clients, cpuPerBookingUs: median(figures), runs: figures });
  process.stderr.write(`${String(capacity).padStart(6)} seats, ${String(clients).padStart(3)} clients: ${median(figures).toFixed(1)} µs CPU per booking (median of ${RUNS}; ${figures.map((f) => f.toFixed(0)).join(' ')})\n`);
}
// A follower's copy of the hot concert, its events handed over 2 and 32 at a time.
for (const perTurn of only ? [] : [2, 32]) {
  const [capacity, clients] = [20_000, 200];
  await follow(capacity, clients, BOOKINGS / 4, perTurn);
  const figures: number[] = [];
  for (let r = 0; r < RUNS; r++) figures.push(await follow(capacity, clients, BOOKINGS, perTurn));
  results.push({ capacity, clients, follower: perTurn, cpuPerBookingUs: median(figures), runs: figures });
  process.stderr.write(`${String(capacity).padStart(6)} seats, follower, ${perTurn} events a turn: ${median(figures).toFixed(1)} µs CPU per booking, decoding included (median of ${RUNS}; ${figures.map((f) => f.toFixed(0)).join(' ')})\n`);
}
if (!only) {
  decodeOnly(20_000, 200, BOOKINGS / 4);
  const figures = Array.from({ length: RUNS }, () => decodeOnly(20_000, 200, BOOKINGS));
  results.push({ capacity: 20_000, clients: 200, decodeOnly: true, cpuPerBookingUs: median(figures), runs: figures });
  process.stderr.write(` decodeEvent alone, two events: ${median(figures).toFixed(1)} µs CPU per booking (median of ${RUNS}; ${figures.map((f) => f.toFixed(1)).join(' ')})\n`);
}
process.stdout.write(`${JSON.stringify(results)}\n`);
