/**
 * Concert ownership between gateways on one NATS: each concert is decided by one gateway (the
 * one placement prefers), the others forward its commands there and answer their clients with
 * the owner's answer, seeing their own writes; a gateway that stops hands its concerts over.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { Guichet } from '../../src/guichet.js';
import type { Concert } from '../../src/catalog.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { preferredOwner } from '../../src/actors/placement.js';
import { seatAt } from '../../src/actors/concert.js';
import { client, eventually, rejectsWith, startNats, startNode, type TestNats } from '../support/guichet.js';

const CATALOG: Concert[] = Array.from({ length: 8 }, (_, i) => ({
  id: `k${i}`,
  title: `Concert ${i}`,
  venue: 'Hall',
  date: '2027-01-01T20:00:00Z',
  capacity: 20,
}));
const IDS = ['gw-a', 'gw-b'];

interface Ctx {
  nats: TestNats;
  a: Guichet;
  b: Guichet;
}

const Ownership = suite<Ctx>('concert ownership across gateways');

Ownership.before.each(async (ctx) => {
  ctx.nats = await startNats();
  const options = { catalog: CATALOG, ownerLeaseMs: 2_000, snapshotIntervalMs: 0 };
  ctx.a = await startNode(ctx.nats, { ...options, gatewayId: IDS[0] });
  ctx.b = await startNode(ctx.nats, { ...options, gatewayId: IDS[1] });
});
Ownership.after.each(async (ctx) => {
  await ctx.a?.close().catch(() => undefined);
  await ctx.b?.close().catch(() => undefined);
  await ctx.nats?.stop();
});

/** Each concert's owner as both gateways see it, once they agree on the placement. */
function placed(ctx: Ctx): Promise<string[]> {
  const want = CATALOG.map((c) => preferredOwner(c.id, IDS));
  return eventually(
    () => CATALOG.map((c) => `${ctx.a.ownership!.ownerOf(c.id)}/${ctx.b.ownership!.ownerOf(c.id)}`),
    (seen) => seen.every((s, i) => s === `${want[i]}/${want[i]}`),
    5_000,
  ).then(() => want as string[]);
}

Ownership('concerts are spread over the live gateways as placement says, and both agree', async (ctx) => {
  const owners = await placed(ctx);
  assert.ok(owners.includes('gw-a') && owners.includes('gw-b'), `both own some: ${owners.join(' ')}`);
  assert.equal(ctx.a.ownership!.owned.sort(), CATALOG.filter((_, i) => owners[i] === 'gw-a').map((c) => c.id).sort());
});

Ownership("a command sent to a gateway that does not own the concert is decided by the owner, and the sender sees it at once", async (ctx) => {
  const owners = await placed(ctx);
  const i = owners.indexOf('gw-a');
  const concert = CATALOG[i]!.id;
  const written: StoredEvent[] = [];
  ctx.b.registry.onEvent((e) => void written.push(e));
  const c = await client(ctx.b);
  try {
    const hold = await c.request<{ hold: string; seats: number[]; labels: string[] }>('HOLD', concert, 'best', 3);
    assert.equal(hold.labels, ['A4', 'A5', 'A6']);
    // The sender's own copy already has the hold: its seat map shows it as the client's.
    const seats = await c.request<{ map: string }>('SEATS', concert);
    assert.is(seats.map.split('').filter((ch) => ch === 'H').length, 3);
    const booking = await c.request<{ reference: string }>('BOOK', hold.hold, 'Ada', 'Lovelace');
    const found = await c.request<{ seats: number[] }>('LOOKUP', booking.reference, 'Lovelace');
    assert.equal(found.seats, hold.seats);
    assert.ok(written.length >= 6, `b applied the hold and the booking (${written.length} events)`);
    assert.equal([...new Set(written.map((e) => e.source))], ['gw-a'], 'every event was written by the owner');
    // A refusal comes back as the owner's error, code and message.
    const message = await rejectsWith(c.request('HOLD', concert, hold.seats[0]!), 'SEAT_TAKEN');
    assert.match(message, /not free; nothing was held/);
  } finally {
    c.close();
  }
});

Ownership('a hold made through one gateway is released when its connection closes, through the owner', async (ctx) => {
  const owners = await placed(ctx);
  const concert = CATALOG[owners.indexOf('gw-a')]!.id;
  const c = await client(ctx.b);
  await c.request('HOLD', concert, 5);
  c.close();
  await eventually(
    () => seatAt(ctx.a.registry.state(concert)!, 5)?.kind,
    (kind) => kind === 'free',
  );
});

Ownership('a gateway that stops hands its concerts over; the other then decides them all', async (ctx) => {
  const owners = await placed(ctx);
  const concert = CATALOG[owners.indexOf('gw-a')]!.id;
  await ctx.a.close();
  await eventually(
    () => CATALOG.map((c) => ctx.b.ownership!.ownerOf(c.id)),
    (seen) => seen.every((o) => o === 'gw-b'),
    // A clean hand-over is heard at once; well within one lease.
    1_500,
  );
  const c = await client(ctx.b);
  try {
    const hold = await c.request<{ seat: number }>('HOLD', concert, 1);
    assert.is(hold.seat, 1);
    const last = await ctx.b.store.readConcert(concert, 0);
    assert.is(last.at(-1)!.source, 'gw-b');
  } finally {
    c.close();
  }
});

Ownership('a gateway that joins takes the concerts placed on it from the one that had them all', async (ctx) => {
  const owners = await placed(ctx);
  await ctx.b.close();
  await eventually(() => ctx.a.ownership!.owned.length, (n) => n === CATALOG.length, 1_500);
  ctx.b = await startNode(ctx.nats, { catalog: CATALOG, ownerLeaseMs: 2_000, snapshotIntervalMs: 0, gatewayId: 'gw-b' });
  await placed(ctx);
  assert.equal(ctx.b.ownership!.owned.sort(), CATALOG.filter((_, i) => owners[i] === 'gw-b').map((c) => c.id).sort());
});

Ownership("a gateway that stops renewing its leases (cut off from NATS) loses its concerts to the other within about one lease", async (ctx) => {
  const owners = await placed(ctx);
  const concert = CATALOG[owners.indexOf('gw-a')]!.id;
  const cut = Date.now();
  await ctx.a.nc.close(); // no renewal, no hand-over: only the server's expiry can tell
  const moved = await eventually(
    () => CATALOG.map((c) => ctx.b.ownership!.ownerOf(c.id)),
    (seen) => seen.every((o) => o === 'gw-b'),
    6_000,
  ).then(() => Date.now() - cut);
  // The lease is 2 s; the server drops an entry within about a second after it is due.
  assert.ok(moved >= 1_000 && moved < 4_500, `moved after ${moved} ms`);
  const c = await client(ctx.b);
  try {
    await c.request('HOLD', concert, 2);
    const last = await ctx.b.store.readConcert(concert, 0);
    assert.is(last.at(-1)!.source, 'gw-b');
  } finally {
    c.close();
  }
});

Ownership.run();
