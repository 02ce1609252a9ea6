import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { GuichetClient, SeatEvent } from '../../src/cli/client.js';
import type { Guichet } from '../../src/guichet.js';
import { isWellFormedReference } from '../../src/actors/reference.js';
import { client, eventually, rejectsWith, startNats, startNode, type TestNats } from '../support/guichet.js';

interface Ctx {
  nats: TestNats;
  node: Guichet;
  open: GuichetClient[];
}

const Booking = suite<Ctx>('booking and cancellation over TCP');

Booking.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.node = await startNode(ctx.nats);
  ctx.open = [];
});
Booking.after.each((ctx) => {
  for (const c of ctx.open.splice(0)) c.close();
});
Booking.after(async (ctx) => {
  await ctx.node?.close();
  await ctx.nats?.stop();
});

async function connect(ctx: Ctx): Promise<GuichetClient> {
  const c = await client(ctx.node);
  ctx.open.push(c);
  return c;
}

type Seats = { concert: string; capacity: number; map: string; free: number; held: number; booked: number };

Booking('HELLO lists the concerts with their occupancy and the hold time', async (ctx) => {
  const c = await connect(ctx);
  assert.is(c.hello.server, 'guichet');
  assert.is(c.hello.protocol, 2);
  assert.is(c.hello.holdSeconds, 120);
  assert.is(c.hello.maxSeats, 8);
  assert.equal(
    c.hello.concerts.map((x) => [x.id, x.capacity, x.free]),
    [
      ['c1', 100, 100],
      ['c2', 10, 10],
    ],
  );
});

Booking('a seat is held, booked with names, looked up and cancelled', async (ctx) => {
  const me = await connect(ctx);
  const other = await connect(ctx);
  const hold = await me.request<{ hold: string; concert: string; seat: number; expiresAt: string }>('HOLD', 'c1', 7);
  assert.is(hold.concert, 'c1');
  assert.is(hold.seat, 7);
  assert.ok(Date.parse(hold.expiresAt) > Date.now() + 100_000, 'the hold lasts the configured 120 s');

  const mine = await me.request<Seats>('SEATS', 'c1');
  const theirs = await other.request<Seats>('SEATS', 'c1');
  assert.is(mine.map[6], 'H', 'held by me');
  assert.is(theirs.map[6], 'h', 'held by another');
  assert.equal([theirs.free, theirs.held, theirs.booked], [99, 1, 0]);

  const booking = await me.request<{ reference: string; concert: string; seat: number; firstName: string; lastName: string }>(
    'BOOK',
    hold.hold,
    'Jean  Pierre',
    ' Le Gall ',
  );
  assert.ok(isWellFormedReference(booking.reference), booking.reference);
  assert.equal({ ...booking, reference: '' }, { reference: '', concert: 'c1', seats: [7], labels: ['A7'], seat: 7, firstName: 'Jean Pierre', lastName: 'Le Gall' });
  assert.is((await other.request<Seats>('SEATS', 'c1')).map[6], 'x');

  const found = await other.request('LOOKUP', booking.reference, 'le gall');
  assert.equal(found, { reference: booking.reference, concert: 'c1', seats: [7], labels: ['A7'], seat: 7, firstName: 'Jean Pierre', lastName: 'Le Gall' });
  const cancelled = await other.request('CANCEL', booking.reference, 'LE', 'GALL');
  assert.equal(cancelled, { reference: booking.reference, concert: 'c1', seats: [7], labels: ['A7'], seat: 7 });
  assert.is((await me.request<Seats>('SEATS', 'c1')).map[6], '.');
  await rejectsWith(me.request('LOOKUP', booking.reference, 'Le Gall'), 'NOT_FOUND');
});

Booking('IDENT names are used by BOOK without names', async (ctx) => {
  const me = await connect(ctx);
  assert.equal(await me.request('IDENT', 'Zoë', "O'Brien"), { firstName: 'Zoë', lastName: "O'Brien" });
  const hold = await me.request<{ hold: string }>('HOLD', 'c2', 1);
  const booking = await me.request<{ firstName: string; lastName: string }>('BOOK', hold.hold);
  assert.equal([booking.firstName, booking.lastName], ['Zoë', "O'Brien"]);
});

Booking('a watcher sees holds, bookings and cancellations live, never names', async (ctx) => {
  const watcher = await connect(ctx);
  const me = await connect(ctx);
  const events: SeatEvent[] = [];
  const lines: string[] = [];
  watcher.on('event', (e: SeatEvent) => events.push(e));
  watcher.on('line', (l: string) => lines.push(l));
  const initial = await watcher.request<Seats>('WATCH', 'c2');
  assert.is(initial.capacity, 10);

  const hold = await me.request<{ hold: string }>('HOLD', 'c2', 5);
  const booking = await me.request<{ reference: string }>('BOOK', hold.hold, 'Ada', 'Lovelace');
  await me.request('CANCEL', booking.reference, 'Lovelace');
  await eventually(() => events.length, (n) => n >= 3);
  assert.equal(
    events.map((e) => [e.type, e.seat, e.state]),
    [
      ['SeatHeld', 5, 'h'],
      ['SeatBooked', 5, 'x'],
      ['BookingCancelled', 5, '.'],
    ],
  );
  assert.ok(events[0]!.seq < events[1]!.seq && events[1]!.seq < events[2]!.seq, 'in stream order');
  assert.not.ok(lines.some((l) => l.startsWith('EVENT') && /Ada|Lovelace|hold"/.test(l)), 'no names or hold ids in pushes');

  await watcher.request('UNWATCH', 'c2');
  const before = events.length;
  await me.request('HOLD', 'c2', 6);
  await new Promise((r) => setTimeout(r, 150));
  assert.is(events.length, before, 'no pushes after UNWATCH');
});

Booking('the holder sees its own hold as H in pushes', async (ctx) => {
  const me = await connect(ctx);
  const events: SeatEvent[] = [];
  // Only seat 9: connections of earlier tests may still be releasing their holds on c2.
  me.on('event', (e: SeatEvent) => e.seat === 9 && events.push(e));
  await me.request('WATCH', 'c2');
  await me.request('HOLD', 'c2', 9);
  await eventually(() => events.length, (n) => n >= 1);
  assert.equal([events[0]!.seat, events[0]!.state], [9, 'H']);
});

Booking('a closed connection releases its holds', async (ctx) => {
  const watcher = await connect(ctx);
  const events: SeatEvent[] = [];
  watcher.on('event', (e: SeatEvent) => events.push(e));
  await watcher.request('WATCH', 'c1');
  const leaver = await client(ctx.node);
  await leaver.request('HOLD', 'c1', 50);
  await leaver.request('HOLD', 'c1', 51);
  leaver.close();
  await eventually(() => events.filter((e) => e.type === 'SeatReleased').length, (n) => n === 2);
  assert.equal(
    events.filter((e) => e.type === 'SeatReleased').map((e) => [e.seat, e.reason]).sort(),
    [
      [50, 'disconnected'],
      [51, 'disconnected'],
    ],
  );
  const seats = await watcher.request<Seats>('SEATS', 'c1');
  assert.is(seats.map.slice(49, 51), '..');
});

Booking('QUIT answers then closes; PING and HELP answer', async (ctx) => {
  const c = await connect(ctx);
  assert.equal(await c.request('PING'), {});
  const help = await c.request<{ commands: Array<{ verb: string }> }>('HELP');
  assert.ok(['CONCERTS', 'SEATS', 'WATCH', 'UNWATCH', 'IDENT', 'HOLD', 'BOOK', 'RELEASE', 'LOOKUP', 'CANCEL', 'PING', 'HELP', 'QUIT'].every((v) => help.commands.some((x) => x.verb === v)));
  assert.equal(await c.request('QUIT'), {});
  await c.waitClosed();
  assert.ok(c.closed);
});

Booking('LIST is CONCERTS; replies carry the tag they were sent with, in pipelined order', async (ctx) => {
  const c = await connect(ctx);
  const lines: string[] = [];
  c.on('line', (l: string) => lines.push(l));
  c.sendRaw('#a PING\n#b LIST\nPING\n#c NOPE\n');
  await eventually(() => lines.length, (n) => n >= 4);
  assert.ok(lines[0]!.startsWith('#a OK {}'));
  assert.ok(lines[1]!.startsWith('#b OK {"concerts":['));
  assert.is(lines[2], 'OK {}');
  assert.ok(lines[3]!.startsWith('#c ERR UNKNOWN_COMMAND '));
});

Booking.run();
