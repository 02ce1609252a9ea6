import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient, type SeatEvent } from '../../src/cli/client.js';
import { client, eventually, rejectsWith, startNats, startNode, type TestNats } from '../support/guichet.js';

const Restart = suite<{ nats: TestNats }>('restarts');

Restart.before(async (ctx) => {
  ctx.nats = await startNats();
});
Restart.after(async (ctx) => {
  await ctx.nats?.stop();
});

Restart('a restarted gateway keeps every booking and cancellation', async ({ nats }) => {
  const first = await startNode(nats);
  const c = await client(first);
  const references: string[] = [];
  for (const seat of [1, 2, 3]) {
    const hold = await c.request<{ hold: string }>('HOLD', 'c2', seat);
    references.push((await c.request<{ reference: string }>('BOOK', hold.hold, 'Marie', 'Curie')).reference);
  }
  await c.request('CANCEL', references[1]!, 'Curie');
  const before = (await c.request<{ map: string }>('SEATS', 'c2')).map;
  c.close();
  await first.close();

  const second = await startNode(nats);
  assert.is(second.startup.untilSeq >= 7, true, 'replayed the log');
  const d = await client(second);
  assert.is((await d.request<{ map: string }>('SEATS', 'c2')).map, before);
  assert.is(before.slice(0, 3), 'x.x');
  assert.equal(await d.request('LOOKUP', references[0]!, 'curie'), { reference: references[0], concert: 'c2', seats: [1], labels: ['A1'], seat: 1, firstName: 'Marie', lastName: 'Curie' });
  await rejectsWith(d.request('LOOKUP', references[1]!, 'Curie'), 'NOT_FOUND');
  // A seat booked before the restart cannot be taken after it.
  await rejectsWith(d.request('HOLD', 'c2', 3), 'SEAT_TAKEN');
  d.close();
  await second.close();
});

Restart('a hold survives a gateway restart until it expires, then its seat is free', async ({ nats }) => {
  const first = await startNode(nats, { holdSeconds: 2 });
  const c = await client(first);
  await c.request('HOLD', 'c2', 9);
  // Killed without releasing: the connection's close handler never runs.
  await first.registry.stop();
  await first.nc.close();
  c.close();
  const second = await startNode(nats, { holdSeconds: 2 });
  const watcher = await client(second);
  const events: SeatEvent[] = [];
  watcher.on('event', (e: SeatEvent) => events.push(e));
  const seats = await watcher.request<{ map: string }>('WATCH', 'c2');
  assert.is(seats.map[8], 'h', 'still held after the restart');
  await eventually(() => events.find((e) => e.seat === 9 && e.type === 'SeatReleased'), Boolean, 5_000);
  assert.is(events.find((e) => e.seat === 9)!.reason, 'expired');
  await watcher.request('HOLD', 'c2', 9);
  watcher.close();
  await second.close();
  await first.gateway.close();
});

Restart('while NATS is away commands fail fast with UNAVAILABLE; afterwards all works again', async ({ nats }) => {
  const node = await startNode(nats);
  const c = await client(node);
  await c.request('HOLD', 'c1', 1);
  await nats.kill();
  await eventually(() => node.registry.isAvailable, (up) => !up, 5_000);
  const started = Date.now();
  await rejectsWith(c.request('HOLD', 'c1', 2), 'UNAVAILABLE');
  assert.ok(Date.now() - started < 1_000, 'answered at once, not after a timeout');
  // Reads are served from memory meanwhile.
  assert.is((await c.request<{ map: string }>('SEATS', 'c1')).map[0], 'H');
  await nats.start();
  await eventually(() => node.registry.isAvailable, Boolean, 10_000);
  const hold = await eventually(
    () => c.request<{ hold: string }>('HOLD', 'c1', 2).catch((e: { code: string }) => e.code),
    (r) => typeof r === 'object',
    10_000,
  );
  const booking = await c.request<{ seat: number }>('BOOK', (hold as { hold: string }).hold, 'Alan', 'Turing');
  assert.is(booking.seat, 2);
  c.close();
  await node.close();
});

Restart('NATS restarted under a gateway: events written meanwhile by another gateway still arrive', async ({ nats }) => {
  const a = await startNode(nats, { gatewayId: 'gw-a' });
  const b = await startNode(nats, { gatewayId: 'gw-b' });
  const watcher = await client(a);
  const events: SeatEvent[] = [];
  watcher.on('event', (e: SeatEvent) => events.push(e));
  await watcher.request('WATCH', 'c1');
  await nats.restart();
  await eventually(() => a.registry.isAvailable && b.registry.isAvailable, Boolean, 10_000);
  const writer = await GuichetClient.connect({ port: b.gateway.port });
  await eventually(
    () => writer.request('HOLD', 'c1', 99).then(() => true, () => false),
    Boolean,
    10_000,
  );
  await eventually(() => events.some((e) => e.seat === 99 && e.type === 'SeatHeld'), Boolean, 10_000);
  writer.close();
  watcher.close();
  await a.close();
  await b.close();
});

Restart('a command the state already refuses is answered while an append waits on NATS', async ({ nats }) => {
  const node = await startNode(nats);
  const a = await client(node);
  const b = await client(node);
  try {
    const hold = await a.request<{ hold: string }>('HOLD', 'c2', 5);
    await a.request('BOOK', hold.hold, 'Ada', 'Lovelace');
    nats.pause();
    const pending = a.request('HOLD', 'c2', 6).then(
      () => 'OK',
      (e: { code: string }) => e.code,
    );
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await rejectsWith(b.request('HOLD', 'c2', 5), 'SEAT_TAKEN');
    assert.ok(Date.now() - started < 500, 'not queued behind the append in flight');
    nats.resume();
    assert.is(await pending, 'OK');
  } finally {
    nats.resume();
    a.close();
    b.close();
    await node.close();
  }
});

Restart.run();
