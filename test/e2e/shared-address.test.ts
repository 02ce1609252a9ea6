/**
 * Many honest people behind one address (a school, an office, a mobile operator's NAT): a
 * refusal states its true cause (SEAT_TAKEN for a taken seat, HOLD_LIMIT only when granting
 * the HOLD would pass the address's limit), and an operator can give known shared networks
 * limits of their own (--address-limits). Issue 20, item 1.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient, ServerError } from '../../src/cli/client.js';
import type { Guichet } from '../../src/guichet.js';
import { rejectsWith, startNats, startNode, type TestNats } from '../support/guichet.js';

const Shared = suite<{ nats: TestNats; nodes: Guichet[]; clients: GuichetClient[] }>('one shared address');

Shared.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.nodes = [];
  ctx.clients = [];
});
Shared.after.each((ctx) => {
  for (const c of ctx.clients.splice(0)) c.close();
});
Shared.after(async (ctx) => {
  await Promise.all((ctx.nodes ?? []).map((n) => n.close()));
  await ctx.nats?.stop();
});

async function node(ctx: { nats: TestNats; nodes: Guichet[] }, gateway: Parameters<typeof startNode>[1] = {}): Promise<Guichet> {
  const n = await startNode(ctx.nats, { snapshotIntervalMs: 0, ...gateway });
  ctx.nodes.push(n);
  return n;
}

async function connections(ctx: { clients: GuichetClient[] }, n: Guichet, count: number, localAddress: string): Promise<GuichetClient[]> {
  const made = await Promise.all(Array.from({ length: count }, () => GuichetClient.connect({ port: n.gateway.port, localAddress })));
  ctx.clients.push(...made);
  return made;
}

const settle = (p: Promise<unknown>) => p.then(() => 'OK', (err: Error) => (err instanceof ServerError ? err.code : err.message));

function tally(codes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of codes) counts[c] = (counts[c] ?? 0) + 1;
  return counts;
}

Shared('50 connections of one address race for one seat: 1 OK, 49 SEAT_TAKEN, no HOLD_LIMIT (none of them holds anything)', async (ctx) => {
  const n = await node(ctx);
  const conns = await connections(ctx, n, 50, '127.0.0.1');
  // Sent together: most are still being answered when the rest arrive.
  const codes = await Promise.all(conns.map((c) => settle(c.request('HOLD', 'c1', 7))));
  assert.equal(tally(codes), { OK: 1, SEAT_TAKEN: 49 });
});

Shared('the limit still holds: racers for one seat then askers of other seats, limit 10: exactly 10 granted, HOLD_LIMIT only for what would pass it, SEAT_TAKEN only for the taken seat', async (ctx) => {
  const n = await node(ctx, { gateway: { addressLimits: { maxSeatsHeld: 10 } } });
  const racers = await connections(ctx, n, 20, '127.0.0.12');
  const others = await connections(ctx, n, 20, '127.0.0.12');
  // The racers first: with the old count the first 10 to arrive (all racers, of whom 1 wins)
  // filled the address's limit and every other seat was refused HOLD_LIMIT.
  const raced = racers.map((c) => settle(c.request('HOLD', 'c1', 60)));
  const asked = others.map((c, i) => settle(c.request('HOLD', 'c1', 61 + i)));
  const [racing, asking] = [await Promise.all(raced), await Promise.all(asked)];
  const all = tally([...racing, ...asking]);
  assert.is(all['OK'], 10, JSON.stringify({ racing: tally(racing), asking: tally(asking) }));
  assert.ok((tally(racing)['OK'] ?? 0) <= 1, 'one seat, one holder');
  assert.not.ok(asking.includes('SEAT_TAKEN'), 'the other seats were free');
  assert.ok(racing.every((c) => c === 'OK' || c === 'SEAT_TAKEN' || c === 'HOLD_LIMIT'), racing.join(' '));
  // Every refusal said HOLD_LIMIT once the address held 10: its message says so.
  const message = await rejectsWith(others[0]!.request('HOLD', 'c1', 90), 'HOLD_LIMIT');
  assert.match(message, /may hold at most 10 seats at once over all its connections, the address's limit; it holds 10/);
});

Shared('--address-limits: addresses of a listed network get its limits; an address outside it keeps the defaults', async (ctx) => {
  const n = await node(ctx, {
    gateway: {
      addressLimits: {
        maxSeatsHeld: 2,
        maxConnections: 3,
        overrides: [{ cidr: '127.0.0.16/28', maxSeats: 6, maxConnections: 5 }],
      },
    },
  });
  // 127.0.0.20 is in 127.0.0.16/28: 5 connections, 6 seats.
  const school = await connections(ctx, n, 5, '127.0.0.20');
  const held = await Promise.all(school.map((c, i) => settle(c.request('HOLD', 'c1', 20 + i))));
  assert.equal(tally(held), { OK: 5 });
  await school[0]!.request('HOLD', 'c1', 30);
  const message = await rejectsWith(school[1]!.request('HOLD', 'c1', 31), 'HOLD_LIMIT');
  assert.match(message, /this address \(127\.0\.0\.20\) may hold at most 6 seats/);
  const sixth = await GuichetClient.connect({ port: n.gateway.port, localAddress: '127.0.0.20' }).then(
    (c) => (c.close(), 'connected'),
    (err: Error) => (err instanceof ServerError ? err.code : err.message),
  );
  assert.is(sixth, 'TOO_MANY_CONNECTIONS');
  // Each address of the network has its own budget: 127.0.0.21 is not counted with .20.
  const [neighbour] = await connections(ctx, n, 1, '127.0.0.21');
  await neighbour!.request('HOLD', 'c1', 40);
  // 127.0.0.40 is outside it: the gateway's figures (3 connections, 2 seats).
  const outside = await connections(ctx, n, 3, '127.0.0.40');
  await outside[0]!.request('HOLD', 'c1', 50, 51);
  const refused = await rejectsWith(outside[1]!.request('HOLD', 'c1', 52), 'HOLD_LIMIT');
  assert.match(refused, /at most 2 seats/);
  const fourth = await GuichetClient.connect({ port: n.gateway.port, localAddress: '127.0.0.40' }).then(
    (c) => (c.close(), 'connected'),
    (err: Error) => (err instanceof ServerError ? err.code : err.message),
  );
  assert.is(fourth, 'TOO_MANY_CONNECTIONS');
});

Shared.run();
