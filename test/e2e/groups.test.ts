/**
 * Group bookings over real sockets and a real nats-server: several seats held, booked,
 * looked up, cancelled and released together; seats by number or label; best available;
 * rows in SEATS; one EVENT per seat with its label; what the log records (one event per seat,
 * one hold id, one reference, consecutive sequences); expiry and disconnect of a whole group;
 * a race of two groups overlapping by one seat over two gateways.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient, type SeatEvent } from '../../src/cli/client.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import type { Guichet } from '../../src/guichet.js';
import type { Concert } from '../../src/catalog.js';
import { client, eventually, rejectsWith, startNats, startNode, type TestNats } from '../support/guichet.js';

const CATALOG: Concert[] = [
  { id: 'hall', title: 'Hall', venue: 'V', date: '2027-01-01T20:00:00Z', capacity: 100 },
  { id: 'shaped', title: 'Shaped', venue: 'V', date: '2027-01-01T20:00:00Z', capacity: 30, rows: [8, 10, 12] },
  { id: 'race', title: 'Race', venue: 'V', date: '2027-01-01T20:00:00Z', capacity: 100 },
];

interface Ctx {
  nats: TestNats;
  node: Guichet;
  other: Guichet;
  log: StoredEvent[];
  open: GuichetClient[];
}

const Groups = suite<Ctx>('group bookings over TCP');

Groups.before(async (ctx) => {
  ctx.nats = await startNats();
  // All clients come from 127.0.0.1 and hold again seats they let go: the per-address limits
  // and cool-down (tested in address-limits.test.ts) would decide these races instead.
  const gateway = { addressLimits: { coolDownMs: 0, maxSeatsHeld: 1_000_000 } };
  ctx.node = await startNode(ctx.nats, { catalog: CATALOG, gatewayId: 'gw-a', gateway });
  ctx.other = await startNode(ctx.nats, { catalog: CATALOG, gatewayId: 'gw-b', gateway });
  ctx.log = [];
  ctx.node.registry.onEvent((e) => void ctx.log.push(e));
  ctx.open = [];
});
Groups.after.each((ctx) => {
  for (const c of ctx.open.splice(0)) c.close();
});
Groups.after(async (ctx) => {
  await ctx.node?.close();
  await ctx.other?.close();
  await ctx.nats?.stop();
});

async function connect(ctx: Ctx, node: Guichet = ctx.node): Promise<GuichetClient> {
  const c = await client(node);
  ctx.open.push(c);
  return c;
}

interface HoldReply {
  hold: string;
  concert: string;
  seats: number[];
  labels: string[];
  seat: number;
  expiresAt: string;
}
interface Booking {
  reference: string;
  concert: string;
  seats: number[];
  labels: string[];
  seat: number;
  firstName: string;
  lastName: string;
}
type Seats = { map: string; rows: Array<{ name: string; first: number; count: number }>; held: number; booked: number; free: number };

const eventsOf = (ctx: Ctx, concert: string, type: string) => ctx.log.filter((e) => e.concert === concert && e.type === type);
/** The releases of one hold, in the order they were applied. */
const releasesOf = (log: StoredEvent[], hold: string) => log.filter((e) => e.type === 'SeatReleased' && e.data.hold === hold);

Groups('HELLO says protocol 2 and maxSeats', async (ctx) => {
  const c = await connect(ctx);
  assert.is(c.hello.protocol, 2);
  assert.is(c.hello.maxSeats, 8);
});

Groups('SEATS gives the rows: rows of 10 by default, the catalog’s rows when it has them', async (ctx) => {
  const c = await connect(ctx);
  const hall = await c.request<Seats>('SEATS', 'hall');
  assert.is(hall.rows.length, 10);
  assert.equal(hall.rows[1], { name: 'B', first: 11, count: 10 });
  const shaped = await c.request<Seats>('SEATS', 'shaped');
  assert.equal(shaped.rows, [
    { name: 'A', first: 1, count: 8 },
    { name: 'B', first: 9, count: 10 },
    { name: 'C', first: 19, count: 12 },
  ]);
});

Groups('a group is held, booked under one reference, looked up and cancelled, all its seats together', async (ctx) => {
  const me = await connect(ctx);
  const watcher = await connect(ctx);
  await watcher.request('WATCH', 'hall');
  const pushes: SeatEvent[] = [];
  watcher.on('event', (e: SeatEvent) => pushes.push(e));

  const hold = await me.request<HoldReply>('HOLD', 'hall', 14, 12, 13);
  assert.equal({ ...hold, hold: '', expiresAt: '' }, { hold: '', concert: 'hall', seats: [12, 13, 14], labels: ['B2', 'B3', 'B4'], seat: 12, expiresAt: '' });
  const held = eventsOf(ctx, 'hall', 'SeatHeld');
  assert.equal(held.map((e) => e.data.seat), [12, 13, 14]);
  assert.ok(held.every((e) => e.type === 'SeatHeld' && e.data.hold === hold.hold), 'one hold id for every seat');
  assert.equal(held.map((e) => e.seq - held[0]!.seq), [0, 1, 2], 'one atomic batch: consecutive sequences');

  const booking = await me.request<Booking>('BOOK', hold.hold, 'Ada', 'Lovelace');
  assert.equal({ ...booking, reference: '' }, {
    reference: '', concert: 'hall', seats: [12, 13, 14], labels: ['B2', 'B3', 'B4'], seat: 12, firstName: 'Ada', lastName: 'Lovelace',
  });
  const booked = eventsOf(ctx, 'hall', 'SeatBooked');
  assert.ok(booked.every((e) => e.type === 'SeatBooked' && e.data.reference === booking.reference && e.data.hold === hold.hold));
  assert.is(booked.length, 3);

  const theirs = await connect(ctx, ctx.other);
  assert.equal(await theirs.request('LOOKUP', booking.reference, 'lovelace'), {
    reference: booking.reference, concert: 'hall', seats: [12, 13, 14], labels: ['B2', 'B3', 'B4'], seat: 12, firstName: 'Ada', lastName: 'Lovelace',
  });
  assert.equal(await theirs.request('CANCEL', booking.reference, 'Lovelace'), {
    reference: booking.reference, concert: 'hall', seats: [12, 13, 14], labels: ['B2', 'B3', 'B4'], seat: 12,
  });
  const map = (await eventually(() => me.request<Seats>('SEATS', 'hall'), (s) => s.map.slice(11, 14) === '...')).map;
  assert.is(map.slice(11, 14), '...');

  // One push per event, each with its seat's label: 3 held, 3 booked, 3 cancelled.
  await eventually(() => pushes.length, (n) => n >= 9);
  assert.equal(pushes.map((p) => `${p.type} ${p.label}`), [
    'SeatHeld B2', 'SeatHeld B3', 'SeatHeld B4',
    'SeatBooked B2', 'SeatBooked B3', 'SeatBooked B4',
    'BookingCancelled B2', 'BookingCancelled B3', 'BookingCancelled B4',
  ]);
});

Groups('seats may be given as labels, in any case, and by number mixed', async (ctx) => {
  const c = await connect(ctx);
  const hold = await c.request<HoldReply>('HOLD', 'shaped', 'b1', 'B2', 11);
  assert.equal(hold.seats, [9, 10, 11]);
  assert.equal(hold.labels, ['B1', 'B2', 'B3']);
  await c.request('RELEASE', hold.hold);
});

Groups('HOLD best n: the server picks the seats by the rule; NO_ADJACENT_SEATS says the most there are', async (ctx) => {
  const c = await connect(ctx);
  const four = await c.request<HoldReply>('HOLD', 'shaped', 'best', 4);
  // Row A has 8 seats: the centred run of 4 is A3-A6.
  assert.equal(four.labels, ['A3', 'A4', 'A5', 'A6']);
  const two = await c.request<HoldReply>('HOLD', 'shaped', 'BEST', 2);
  // A1-A2 and A7-A8 are left in row A, as near its middle as each other: the lower wins.
  assert.equal(two.labels, ['A1', 'A2']);
  const message = await rejectsWith(c.request('HOLD', 'shaped', 'best', 3), 'HOLD_LIMIT');
  assert.match(message, 'at most 8 seats');
  await c.request('RELEASE', four.hold);
  await c.request('RELEASE', two.hold);
  const big = await connect(ctx);
  await rejectsWith(big.request('HOLD', 'shaped', 'best', 9), 'BAD_ARGUMENTS');
  await rejectsWith(big.request('HOLD', 'shaped', 'best'), 'BAD_ARGUMENTS');
  await rejectsWith(big.request('HOLD', 'shaped', 'best', 'four'), 'BAD_ARGUMENTS');
  // Leave no 5 adjacent free seats: the longest runs left are A5-A8 (4 seats).
  const filler = await connect(ctx);
  await filler.request('HOLD', 'shaped', 'A4', 'B4', 'B8', 'C4', 'C8', 'C12');
  const none = await rejectsWith(big.request('HOLD', 'shaped', 'best', 5), 'NO_ADJACENT_SEATS');
  assert.is(none, 'no row has 5 adjacent free seats; the most there are is 4');
  assert.equal((await big.request<HoldReply>('HOLD', 'shaped', 'best', 4)).labels, ['A5', 'A6', 'A7', 'A8']);
});

Groups('all or nothing: SEAT_TAKEN names every taken seat and holds none; a seat twice is BAD_ARGUMENTS', async (ctx) => {
  const a = await connect(ctx);
  const b = await connect(ctx);
  await a.request('HOLD', 'hall', 31);
  await a.request('HOLD', 'hall', 33);
  const message = await rejectsWith(b.request('HOLD', 'hall', 31, 32, 33, 34), 'SEAT_TAKEN');
  assert.is(message, 'seats 31 (D1), 33 (D3) are not free; nothing was held');
  assert.is((await b.request<Seats>('SEATS', 'hall')).map.slice(30, 34), 'h.h.');
  await rejectsWith(b.request('HOLD', 'hall', 40, 'd10'), 'BAD_ARGUMENTS');
  await rejectsWith(b.request('HOLD', 'hall', 1, 2, 3, 4, 5, 6, 7, 8, 9), 'BAD_ARGUMENTS');
  await rejectsWith(b.request('HOLD', 'hall', 'K1'), 'NO_SUCH_SEAT');
  await rejectsWith(b.request('HOLD', 'hall', 'x1y'), 'BAD_ARGUMENTS');
});

Groups('RELEASE frees every seat of the hold', async (ctx) => {
  const c = await connect(ctx);
  const hold = await c.request<HoldReply>('HOLD', 'hall', 51, 52, 53);
  assert.equal(await c.request('RELEASE', hold.hold), {});
  assert.is((await c.request<Seats>('SEATS', 'hall')).map.slice(50, 53), '...');
  const released = releasesOf(ctx.log, hold.hold);
  assert.equal(released.map((e) => e.data.seat), [51, 52, 53]);
});

Groups('a closed connection releases its whole group (disconnected), one event per seat', async (ctx) => {
  const c = await GuichetClient.connect({ port: ctx.node.gateway.port });
  const hold = await c.request<HoldReply>('HOLD', 'hall', 'best', 3);
  c.close();
  const released = await eventually(
    () => releasesOf(ctx.log, hold.hold),
    (r) => r.length === 3,
  );
  assert.equal(released.map((e) => e.data.seat), hold.seats);
  assert.ok(released.every((e) => e.type === 'SeatReleased' && e.data.reason === 'disconnected'));
  assert.equal(released.map((e) => e.seq - released[0]!.seq), [0, 1, 2]);
});

Groups('an expired group is released whole (expired), and cannot be booked', async (ctx) => {
  const quick = await startNode(ctx.nats, { catalog: CATALOG, holdSeconds: 1, gateway: { addressLimits: { coolDownMs: 0 } } });
  try {
    const log: StoredEvent[] = [];
    quick.registry.onEvent((e) => void log.push(e));
    const c = await client(quick);
    const hold = await c.request<HoldReply>('HOLD', 'hall', 91, 92, 93, 94);
    const released = await eventually(
      () => releasesOf(log, hold.hold),
      (r) => r.length === 4,
    );
    assert.ok(released.every((e) => e.type === 'SeatReleased' && e.data.reason === 'expired'));
    await rejectsWith(c.request('BOOK', hold.hold, 'Ada', 'Lovelace'), 'HOLD_EXPIRED');
    c.close();
  } finally {
    await quick.close();
  }
});

Groups('a protocol-1 client, one seat per HOLD and reading `seat`, works unchanged', async (ctx) => {
  const c = await connect(ctx);
  const hold = await c.request<{ hold: string; seat: number }>('HOLD', 'hall', 77);
  assert.is(hold.seat, 77);
  const booking = await c.request<{ reference: string; seat: number }>('BOOK', hold.hold, 'Grace', 'Hopper');
  assert.is(booking.seat, 77);
  assert.is((await c.request<{ seat: number }>('CANCEL', booking.reference, 'Hopper')).seat, 77);
});

Groups('two groups overlapping by one seat, 40 clients over two gateways: exactly one group wins whole', async (ctx) => {
  for (let round = 0; round < 3; round++) {
    const base = 60 + round * 10; // groups `base base+1` and `base+1 base+2`: 60 61 and 61 62 first
    const clients = await Promise.all(
      Array.from({ length: 40 }, (_, i) => GuichetClient.connect({ port: (i % 2 === 0 ? ctx.node : ctx.other).gateway.port })),
    );
    const groups = clients.map((_, i) => (i % 4 < 2 ? [base, base + 1] : [base + 1, base + 2]));
    const results = await Promise.allSettled(clients.map((c, i) => c.request<HoldReply>('HOLD', 'race', ...groups[i]!)));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [groups[i]!] : []));
    const codes = new Set(results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : [])));
    assert.is(won.length, 1, `round ${round}: one winner`);
    assert.equal([...codes], ['SEAT_TAKEN']);
    const expected = won[0]![0] === base ? 'hh.' : '.hh';
    for (const node of [ctx.node, ctx.other]) {
      const c = await client(node);
      const seen = await eventually(() => c.request<Seats>('SEATS', 'race'), (s) => s.map.slice(base - 1, base + 2) === expected);
      assert.is(seen.held, 2 * (round + 1));
      c.close();
    }
    // The winner keeps its hold until the end (its seats stay held); the others hold nothing.
    clients.forEach((c, i) => (results[i]!.status === 'rejected' ? c.close() : ctx.open.push(c)));
  }
});

Groups.run();
