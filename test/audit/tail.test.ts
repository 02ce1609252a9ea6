/** `guichet tail`: follows the events of every gateway live, in stream order, one line each. */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StoredEvent } from '../../src/events/envelope.js';
import { EventStore } from '../../src/events/store.js';
import type { Guichet } from '../../src/guichet.js';
import type { GuichetClient } from '../../src/cli/client.js';
import type { LogReading } from '../../src/audit/reader.js';
import { describeStoredEvent, startTail } from '../../src/cli/tail.js';
import { client, eventually, startNats, startNode, type TestNats } from '../support/guichet.js';

const MAIN = join(process.cwd(), 'dist/src/cli/main.js');

interface Ctx {
  nats: TestNats;
  gw1: Guichet;
  gw2: Guichet;
  nc: NatsConnection;
  store: EventStore;
  a: GuichetClient;
  b: GuichetClient;
  /** What the gateways were asked to do, in order: [gateway id, type, concert, seat]. */
  done: Array<[string, string, string, number]>;
}

const Tail = suite<Ctx>('tail');

Tail.before(async (ctx) => {
  ctx.nats = await startNats();
  // Ownership off: each gateway writes what its own clients ask, so the log holds the events of
  // two writers (with ownership, each concert's owner would write all of that concert's).
  ctx.gw1 = await startNode(ctx.nats, { gatewayId: 'gw-one', ownerLeaseMs: 0 });
  ctx.gw2 = await startNode(ctx.nats, { gatewayId: 'gw-two', ownerLeaseMs: 0 });
  ctx.nc = await ctx.nats.connect();
  ctx.store = await EventStore.open(ctx.nc);
  ctx.a = await client(ctx.gw1);
  ctx.b = await client(ctx.gw2);
  ctx.done = [];
});
Tail.after(async (ctx) => {
  ctx.a?.close();
  ctx.b?.close();
  await ctx.gw1?.close();
  await ctx.gw2?.close();
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

function follow(ctx: Ctx, options: Partial<Parameters<typeof startTail>[1]> = {}) {
  const lines: string[] = [];
  const warnings: string[] = [];
  const reading = startTail(ctx.store, {
    from: { kind: 'new' },
    json: true,
    write: (line) => lines.push(line),
    warn: (line) => warnings.push(line),
    ...options,
  });
  return { lines, warnings, reading };
}

Tail('sees the events of two gateways as they happen, in stream order', async (ctx) => {
  const tail = follow(ctx);
  const reading: LogReading = await tail.reading;
  const { a, b } = ctx;
  const h1 = await a.request<{ hold: string }>('HOLD', 'c1', 1);
  ctx.done.push(['gw-one', 'SeatHeld', 'c1', 1]);
  const h2 = await b.request<{ hold: string }>('HOLD', 'c1', 2);
  ctx.done.push(['gw-two', 'SeatHeld', 'c1', 2]);
  await a.request('BOOK', h1.hold, 'Zoë', 'Lévêque');
  ctx.done.push(['gw-one', 'SeatBooked', 'c1', 1]);
  await b.request('RELEASE', h2.hold);
  ctx.done.push(['gw-two', 'SeatReleased', 'c1', 2]);
  const h3 = await b.request<{ hold: string }>('HOLD', 'c2', 3);
  ctx.done.push(['gw-two', 'SeatHeld', 'c2', 3]);
  const booking = await b.request<{ reference: string }>('BOOK', h3.hold, 'Jean Pierre', 'Martin');
  ctx.done.push(['gw-two', 'SeatBooked', 'c2', 3]);
  await a.request('CANCEL', booking.reference, 'martin');
  ctx.done.push(['gw-one', 'BookingCancelled', 'c2', 3]);

  await eventually(() => tail.lines.length, (n) => n >= ctx.done.length);
  await reading.stop();
  const events = tail.lines.map((line) => JSON.parse(line) as StoredEvent);
  assert.equal(
    events.map((e) => [e.source, e.type, e.concert, e.data.seat]),
    ctx.done,
  );
  const seqs = events.map((e) => e.seq);
  assert.equal(seqs, seqs.map((_, i) => seqs[0]! + i), 'consecutive stream sequences: nothing missed, nothing twice');
  assert.equal(tail.warnings, []);
});

Tail('--from a sequence replays, --type and --concert filter', async (ctx) => {
  const tail = follow(ctx, { from: { kind: 'seq', seq: 1 }, types: new Set(['SeatBooked', 'BookingCancelled'] as const), concert: 'c2', json: false });
  const reading = await tail.reading;
  await eventually(() => tail.lines.length, (n) => n >= 2);
  await new Promise((r) => setTimeout(r, 100));
  await reading.stop();
  assert.is(tail.lines.length, 2);
  assert.match(tail.lines[0]!, /^#\d+ \S+ c2 SeatBooked seat 3 booked for Jean Pierre Martin, reference \d{10} \(hold [0-9A-Z]{26}\) \[gw-two\]$/);
  assert.match(tail.lines[1]!, /^#\d+ \S+ c2 BookingCancelled seat 3 freed: booking \d{10} cancelled \[gw-one\]$/);
});

Tail('--from a time starts at the first event stored since', async (ctx) => {
  const before = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  await ctx.a.request('HOLD', 'c1', 9);
  const tail = follow(ctx, { from: { kind: 'time', time: before } });
  const reading = await tail.reading;
  await eventually(() => tail.lines.length, (n) => n >= 1);
  await new Promise((r) => setTimeout(r, 100));
  await reading.stop();
  const events = tail.lines.map((line) => JSON.parse(line) as StoredEvent);
  assert.equal(events.map((e) => [e.type, e.data.seat]), [['SeatHeld', 9]]);
});

Tail('the command prints one line per event and stops on Ctrl-C', async (ctx) => {
  const child = spawn(process.execPath, [MAIN, 'tail', '--nats', ctx.nats.url, '--from', '1', '--concert', 'c1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const c1 = ctx.done.filter(([, , concert]) => concert === 'c1').length + 1; // and the hold of seat 9
  await eventually(() => out.split('\n').filter(Boolean).length, (n) => n >= c1, 10_000);
  child.kill('SIGINT');
  assert.is(await exited, 0);
  const lines = out.trim().split('\n');
  assert.is(lines.length, c1);
  assert.match(lines[0]!, /^#1 \S+ c1 SeatHeld seat 1 held until \S+ \(hold [0-9A-Z]{26}, connection \S+\) \[gw-one\]$/);
  assert.match(lines[2]!, /c1 SeatBooked seat 1 booked for Zoë Lévêque/);
});

Tail.run();

const Line = suite('describeStoredEvent');

Line('says what happened to which seat, and who wrote it', () => {
  const base = { id: '01JQ8Z6X4K3V9M2N7P5R8S0T1W', v: 1, concert: 'c1', at: '2027-01-01T10:00:00.000Z', source: 'gw-a', seq: 7 };
  assert.is(
    describeStoredEvent({ ...base, type: 'SeatReleased', data: { seat: 4, hold: 'H', reason: 'expired' } }),
    '#7 2027-01-01T10:00:00.000Z c1 SeatReleased seat 4 released (expired) (hold H) [gw-a]',
  );
});

Line.run();
