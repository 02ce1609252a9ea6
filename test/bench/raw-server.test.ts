/**
 * The raw benchmark server (bench/raw-server.ts) speaks what it claims: protocol 2's HELLO,
 * holds of several seats all or nothing, bookings and releases by the holder only, EVENT
 * pushes with labels, and ERR UNKNOWN_COMMAND for the verbs it leaves out (not a false OK).
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient, ServerError, type SeatEvent } from '../../src/cli/client.js';
import { spawnRawServer, type ServerProcess } from '../../bench/lib/proc.js';

const Raw = suite<{ server: ServerProcess; clients: GuichetClient[] }>('raw benchmark server');

Raw.before(async (ctx) => {
  ctx.server = await spawnRawServer({});
  ctx.clients = [];
});
Raw.after(async (ctx) => {
  for (const c of ctx.clients) c.close();
  await ctx.server?.stop();
});

async function connect(ctx: { server: ServerProcess; clients: GuichetClient[] }): Promise<GuichetClient> {
  const c = await GuichetClient.connect({ host: ctx.server.host, port: ctx.server.port });
  ctx.clients.push(c);
  return c;
}

const refusal = (p: Promise<unknown>) => p.then(() => 'OK', (e: unknown) => (e instanceof ServerError ? e.code : String(e)));

Raw('HELLO says protocol 2 and maxSeats, as the gateway does', async (ctx) => {
  const c = await connect(ctx);
  assert.is(c.hello.protocol, 2);
  assert.is(c.hello.maxSeats, 8);
  assert.is(c.hello.holdSeconds, 120);
});

Raw('a hold of several seats (numbers or labels), all or nothing; book and release by the holder only', async (ctx) => {
  const [a, b] = [await connect(ctx), await connect(ctx)];
  const held = await a.request<{ hold: string; seats: number[]; labels: string[]; seat: number }>('HOLD', 'x', 'a4', 5, 6);
  assert.equal({ seats: held.seats, labels: held.labels, seat: held.seat }, { seats: [4, 5, 6], labels: ['A4', 'A5', 'A6'], seat: 4 });
  assert.is(await refusal(b.request('HOLD', 'x', 3, 4)), 'SEAT_TAKEN');
  assert.is(await refusal(b.request('HOLD', 'x', 101)), 'NO_SUCH_SEAT');
  assert.is(await refusal(b.request('HOLD', 'x', 1, 2, 3, 7, 8, 9, 10, 11, 12)), 'HOLD_LIMIT');
  assert.is(await refusal(b.request('BOOK', held.hold, 'Ada', 'Lovelace')), 'NO_SUCH_HOLD', "another connection's hold");
  const booked = await a.request<{ seats: number[]; labels: string[] }>('BOOK', held.hold, 'Ada', 'Lovelace');
  assert.equal([booked.seats, booked.labels], [[4, 5, 6], ['A4', 'A5', 'A6']]);
  const three = await b.request<{ hold: string }>('HOLD', 'x', 3);
  assert.equal(await b.request('RELEASE', three.hold), {});
  assert.is(await refusal(b.request('RELEASE', three.hold)), 'NO_SUCH_HOLD');
});

Raw('WATCH: the map in rows, then one EVENT per seat with its label; the holder reads H', async (ctx) => {
  const [watcher, holder] = [await connect(ctx), await connect(ctx)];
  const seen: SeatEvent[] = [];
  const own: SeatEvent[] = [];
  watcher.on('event', (e: SeatEvent) => seen.push(e));
  holder.on('event', (e: SeatEvent) => own.push(e));
  const map = await watcher.request<{ map: string; rows: unknown[] }>('WATCH', 'w');
  await holder.request('WATCH', 'w');
  assert.is(map.map, '.'.repeat(100));
  assert.is(map.rows.length, 10);
  await holder.request('HOLD', 'w', 'B1', 'B2');
  await watcher.request('PING');
  assert.equal(seen.map((e) => [e.type, e.seat, e.label, e.state]), [['SeatHeld', 11, 'B1', 'h'], ['SeatHeld', 12, 'B2', 'h']]);
  assert.equal(own.map((e) => e.state), ['H', 'H']);
});

Raw('a verb it does not serve is ERR UNKNOWN_COMMAND, not a false OK', async (ctx) => {
  const c = await connect(ctx);
  assert.is(await refusal(c.request('CONCERTS')), 'UNKNOWN_COMMAND');
  assert.is(await refusal(c.request('LOOKUP', '1234567897', 'x')), 'UNKNOWN_COMMAND');
});

Raw.run();
