/**
 * The raw TCP ceiling: the part of the wire protocol (version 2) that the rush, fan-out and
 * memory benchmarks use, answered straight from memory, with no actor, no event store and no
 * NATS. What the gateway is compared with there: the cost of Node, TCP on loopback and the
 * load processes themselves.
 *
 * What it speaks, as the gateway does: HELLO (protocol 2; no catalog: `concerts` is empty and
 * any concert id names a hall of `--capacity` seats in rows of 10); tagged replies;
 * `HOLD <concert> <seat>…` (numbers or labels; one hold, all or nothing; `SEAT_TAKEN`,
 * `NO_SUCH_SEAT`, `HOLD_LIMIT` past `maxSeats` per connection); `BOOK <hold> [<first> <last>]`
 * and `RELEASE <hold>` by the connection that holds it; `WATCH <concert>` and an `EVENT` push
 * per seat changed (with its label, `H` to the holder); `PING`; `QUIT`. Anything else is
 * `ERR UNKNOWN_COMMAND`.
 *
 * What it leaves out, on purpose (none of it is on the benchmarks' path): holds never run
 * out and are kept when their connection closes; every booking gets the same reference
 * (1234567897, well formed, not unique); arguments are split on spaces (no quoted names);
 * no `best`, `SEATS`, `CONCERTS`, `LOOKUP`, `CANCEL`, `IDENT`, limits, idle timeout or
 * backpressure.
 *
 *   node dist/bench/raw-server.js --port 0 [--capacity 100] [--backlog 511]
 */
import { createServer, type Socket } from 'node:net';
import { ulid } from 'ulid';
import { GuichetError } from '../src/errors.js';
import { PROTOCOL_VERSION, formatError, formatOk, formatPush } from '../src/gateway/protocol.js';
import { labelOf, labelsOf, layoutOf, parseSeat } from '../src/layout.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const port = Number(flag('--port', '0'));
const capacity = Number(flag('--capacity', '100'));
/** Node's default listen backlog is 511, as the gateway has it. */
const backlog = Number(flag('--backlog', '511'));
const HOLD_SECONDS = 120;
/** The gateway's default `--max-seats`. */
const MAX_SEATS = 8;
const REFERENCE = '1234567897';
const layout = layoutOf(capacity);

interface Conn {
  socket: Socket;
  buffer: string;
  watching: Set<string>;
  /** Seats this connection holds, over its holds. */
  seatsHeld: number;
}

interface Hold {
  concert: string;
  seats: number[];
  holder: Conn;
}

interface Hall {
  held: Set<number>;
  booked: Set<number>;
}

const conns = new Set<Conn>();
const holds = new Map<string, Hold>();
const halls = new Map<string, Hall>();
let seq = 0;

function hall(concert: string): Hall {
  let h = halls.get(concert);
  if (!h) halls.set(concert, (h = { held: new Set(), booked: new Set() }));
  return h;
}

function stateOf(h: Hall, seat: number): '.' | 'h' | 'x' {
  return h.booked.has(seat) ? 'x' : h.held.has(seat) ? 'h' : '.';
}

/** One EVENT per seat to every watcher of the concert; the holder reads its own seats as `H`. */
function broadcast(concert: string, type: 'SeatHeld' | 'SeatBooked' | 'SeatReleased', hold: Hold): void {
  const h = hall(concert);
  const at = new Date().toISOString();
  for (const seat of hold.seats) {
    const event = {
      concert,
      seq: ++seq,
      type,
      seat,
      label: labelOf(layout, seat),
      state: stateOf(h, seat),
      at,
      ...(type === 'SeatHeld' ? { expiresAt: new Date(Date.now() + HOLD_SECONDS * 1000).toISOString() } : {}),
      ...(type === 'SeatReleased' ? { reason: 'declined' } : {}),
      free: capacity - h.held.size - h.booked.size,
      held: h.held.size,
      booked: h.booked.size,
    };
    const line = `${formatPush('EVENT', event)}\n`;
    const own = type === 'SeatHeld' ? `${formatPush('EVENT', { ...event, state: 'H' })}\n` : line;
    for (const c of conns) if (c.watching.has(concert)) c.socket.write(c === hold.holder ? own : line);
  }
}

function holdSeats(c: Conn, concert: string, given: string[]): unknown {
  if (!concert || given.length === 0) throw new GuichetError('BAD_ARGUMENTS', 'usage: HOLD <concert> <seat> [<seat>…]');
  const seats = [...new Set(given.map((s) => parseSeat(layout, s)))].sort((a, b) => a - b);
  if (seats.length !== given.length) throw new GuichetError('BAD_ARGUMENTS', 'a seat is given twice');
  if (c.seatsHeld + seats.length > MAX_SEATS) throw new GuichetError('HOLD_LIMIT', `a connection holds at most ${MAX_SEATS} seats at once`);
  const h = hall(concert);
  const taken = seats.filter((s) => stateOf(h, s) !== '.');
  if (taken.length > 0) throw new GuichetError('SEAT_TAKEN', `seats ${taken.join(', ')} are not free; nothing was held`);
  const id = ulid();
  const hold: Hold = { concert, seats, holder: c };
  for (const s of seats) h.held.add(s);
  holds.set(id, hold);
  c.seatsHeld += seats.length;
  broadcast(concert, 'SeatHeld', hold);
  const expiresAt = new Date(Date.now() + HOLD_SECONDS * 1000).toISOString();
  return { hold: id, concert, seats, labels: labelsOf(layout, seats), seat: seats[0], expiresAt };
}

/** The hold `id` of this connection, taken out of the holds and its seats out of `held`. */
function takeHold(c: Conn, id: string | undefined): Hold {
  const hold = id === undefined ? undefined : holds.get(id);
  if (!hold || hold.holder !== c) throw new GuichetError('NO_SUCH_HOLD', `no hold ${id ?? ''} on this connection`);
  holds.delete(id!);
  c.seatsHeld -= hold.seats.length;
  const h = hall(hold.concert);
  for (const s of hold.seats) h.held.delete(s);
  return hold;
}

function answer(c: Conn, words: string[]): unknown {
  const verb = (words[0] ?? '').toUpperCase();
  switch (verb) {
    case 'HOLD':
      return holdSeats(c, words[1] ?? '', words.slice(2));
    case 'BOOK': {
      const hold = takeHold(c, words[1]);
      const h = hall(hold.concert);
      for (const s of hold.seats) h.booked.add(s);
      broadcast(hold.concert, 'SeatBooked', hold);
      const { concert, seats } = hold;
      return { reference: REFERENCE, concert, seats, labels: labelsOf(layout, seats), seat: seats[0], firstName: words[2] ?? 'A', lastName: words[3] ?? 'B' };
    }
    case 'RELEASE': {
      const hold = takeHold(c, words[1]);
      broadcast(hold.concert, 'SeatReleased', hold);
      return {};
    }
    case 'WATCH': {
      const concert = words[1] ?? '';
      c.watching.add(concert);
      const h = hall(concert);
      let map = '';
      for (let s = 1; s <= capacity; s++) map += stateOf(h, s);
      return { concert, capacity, rows: layout.rows, map, free: capacity - h.held.size - h.booked.size, held: h.held.size, booked: h.booked.size };
    }
    case 'PING':
    case 'QUIT':
      return {};
    default:
      throw new GuichetError('UNKNOWN_COMMAND', `the raw benchmark server answers HOLD, BOOK, RELEASE, WATCH, PING and QUIT, not ${JSON.stringify(words[0] ?? '')}`);
  }
}

const server = createServer((socket) => {
  const c: Conn = { socket, buffer: '', watching: new Set(), seatsHeld: 0 };
  conns.add(c);
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  socket.on('close', () => conns.delete(c));
  socket.on('data', (chunk: string) => {
    c.buffer += chunk;
    let nl: number;
    while ((nl = c.buffer.indexOf('\n')) >= 0) {
      const line = c.buffer.slice(0, nl);
      c.buffer = c.buffer.slice(nl + 1);
      const words = line.trim().split(/\s+/).filter(Boolean);
      if (words.length === 0) continue;
      const tag = words[0]!.startsWith('#') ? words.shift() : undefined;
      let reply: string;
      try {
        reply = formatOk(tag, answer(c, words));
      } catch (err) {
        if (!(err instanceof GuichetError)) throw err;
        reply = formatError(tag, err.code, err.message);
      }
      socket.write(`${reply}\n`);
      if ((words[0] ?? '').toUpperCase() === 'QUIT') socket.end();
    }
  });
  socket.write(
    `${formatPush('HELLO', { server: 'raw', protocol: PROTOCOL_VERSION, gateway: 'raw', connection: ulid(), holdSeconds: HOLD_SECONDS, maxSeats: MAX_SEATS, maxHolds: MAX_SEATS, concerts: [] })}\n`,
  );
});
server.listen({ port, host: '127.0.0.1', backlog }, () => {
  const a = server.address();
  process.stderr.write(`raw server listening on 127.0.0.1:${typeof a === 'object' && a ? a.port : port}\n`);
});
const stop = () => {
  for (const c of conns) c.socket.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
