/**
 * The raw TCP ceiling: the same wire protocol (HELLO, tagged OK/ERR replies, EVENT pushes)
 * answered straight from memory, with no actor, no event store and no NATS. What the
 * gateway is compared with in the rush, fan-out and memory benchmarks: the cost of Node,
 * TCP on loopback and the load processes themselves.
 *
 *   node dist/bench/raw-server.js --port 0 [--capacity 100] [--backlog 511]
 */
import { createServer, type Socket } from 'node:net';
import { ulid } from 'ulid';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const port = Number(flag('--port', '0'));
const capacity = Number(flag('--capacity', '100'));
/** Node's default listen backlog is 511, as the gateway has it. */
const backlog = Number(flag('--backlog', '511'));

interface Conn {
  socket: Socket;
  buffer: string;
  watching: Set<string>;
}

const conns = new Set<Conn>();
const holds = new Map<string, { concert: string; seat: number }>();
const taken = new Map<string, Set<number>>();
let seq = 0;

function seats(concert: string): Set<number> {
  let s = taken.get(concert);
  if (!s) taken.set(concert, (s = new Set()));
  return s;
}

function broadcast(concert: string, type: string, seat: number, state: string): void {
  const used = seats(concert).size;
  const line = `EVENT ${JSON.stringify({
    concert,
    seq: ++seq,
    type,
    seat,
    state,
    at: new Date().toISOString(),
    ...(type === 'SeatHeld' ? { expiresAt: new Date(Date.now() + 120_000).toISOString() } : { reason: 'declined' }),
    free: capacity - used,
    held: used,
    booked: 0,
  })}\n`;
  for (const c of conns) if (c.watching.has(concert)) c.socket.write(line);
}

function answer(c: Conn, line: string): string {
  const words = line.trim().split(/\s+/);
  const tag = words[0]?.startsWith('#') ? `${words.shift()} ` : '';
  const verb = (words[0] ?? '').toUpperCase();
  switch (verb) {
    case 'HOLD': {
      const concert = words[1] ?? '';
      const seat = Number(words[2]);
      const s = seats(concert);
      if (s.has(seat)) return `${tag}ERR SEAT_TAKEN seat ${seat} is not free`;
      s.add(seat);
      const hold = ulid();
      holds.set(hold, { concert, seat });
      broadcast(concert, 'SeatHeld', seat, 'h');
      return `${tag}OK ${JSON.stringify({ hold, concert, seat, expiresAt: new Date(Date.now() + 120_000).toISOString() })}`;
    }
    case 'BOOK': {
      const h = holds.get(words[1] ?? '');
      if (!h) return `${tag}ERR NO_SUCH_HOLD no hold ${words[1]} on this connection`;
      holds.delete(words[1]!);
      return `${tag}OK ${JSON.stringify({ reference: '1234567897', concert: h.concert, seat: h.seat, firstName: words[2] ?? 'A', lastName: words[3] ?? 'B' })}`;
    }
    case 'RELEASE': {
      const h = holds.get(words[1] ?? '');
      if (!h) return `${tag}ERR NO_SUCH_HOLD no hold ${words[1]} on this connection`;
      holds.delete(words[1]!);
      seats(h.concert).delete(h.seat);
      broadcast(h.concert, 'SeatReleased', h.seat, '.');
      return `${tag}OK {}`;
    }
    case 'WATCH':
      c.watching.add(words[1] ?? '');
      return `${tag}OK ${JSON.stringify({ concert: words[1], capacity, map: '.'.repeat(capacity) })}`;
    default:
      return `${tag}OK {}`;
  }
}

const server = createServer((socket) => {
  const c: Conn = { socket, buffer: '', watching: new Set() };
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
      if (line.trim()) socket.write(`${answer(c, line)}\n`);
    }
  });
  socket.write(
    `HELLO ${JSON.stringify({ server: 'raw', protocol: 1, gateway: 'raw', connection: ulid(), holdSeconds: 120, maxHolds: 4, concerts: [] })}\n`,
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
