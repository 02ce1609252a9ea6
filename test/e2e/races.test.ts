import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient } from '../../src/cli/client.js';
import type { Guichet } from '../../src/guichet.js';
import { eventually, startNats, startNode, type TestNats } from '../support/guichet.js';

const Races = suite<{ nats: TestNats; a: Guichet; b: Guichet }>('races for the same seat');

Races.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.a = await startNode(ctx.nats, { gatewayId: 'gw-a' });
  ctx.b = await startNode(ctx.nats, { gatewayId: 'gw-b' });
});
Races.after(async (ctx) => {
  await ctx.a?.close();
  await ctx.b?.close();
  await ctx.nats?.stop();
});

async function race(nodes: Guichet[], clients: number, concert: string, seat: number) {
  const conns = await Promise.all(
    // From ten addresses, as people in a rush are: one address may hold 32 seats at once, and
    // a HOLD waiting for its answer counts (so 50 pipelined HOLDs of one address cannot pass it together).
    Array.from({ length: clients }, (_, i) =>
      GuichetClient.connect({ port: nodes[i % nodes.length]!.gateway.port, localAddress: `127.0.0.${2 + (i % 10)}` }),
    ),
  );
  const results = await Promise.allSettled(conns.map((c) => c.request('HOLD', concert, seat)));
  const codes = results.map((r) => (r.status === 'fulfilled' ? 'OK' : (r.reason as { code: string }).code));
  return { conns, codes };
}

function tally(codes: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const c of codes) t[c] = (t[c] ?? 0) + 1;
  return t;
}

Races('50 connections to one gateway racing for one seat: exactly one wins', async (ctx) => {
  const { conns, codes } = await race([ctx.a], 50, 'c1', 1);
  assert.equal(tally(codes), { OK: 1, SEAT_TAKEN: 49 });
  conns.forEach((c) => c.close());
});

Races('two gateways on one NATS racing for one seat: exactly one winner, every time', async (ctx) => {
  for (let seat = 2; seat <= 11; seat++) {
    const { conns, codes } = await race([ctx.a, ctx.b], 20, 'c1', seat);
    assert.equal(tally(codes), { OK: 1, SEAT_TAKEN: 19 }, `seat ${seat}`);
    conns.forEach((c) => c.close());
  }
});

Races('both gateways agree on the seat map after a race, and bookings from one are seen by the other', async (ctx) => {
  const { conns, codes } = await race([ctx.a, ctx.b], 10, 'c2', 3);
  const winner = conns[codes.indexOf('OK')]!;
  const hold = await winner.request<{ hold: string }>('HOLD', 'c2', 4);
  const booking = await winner.request<{ reference: string }>('BOOK', hold.hold, 'Grace', 'Hopper');
  const onA = await GuichetClient.connect({ port: ctx.a.gateway.port });
  const onB = await GuichetClient.connect({ port: ctx.b.gateway.port });
  // The other gateway learns of the events through the stream, a moment later.
  const maps = await eventually(
    async () => [(await onA.request<{ map: string }>('SEATS', 'c2')).map, (await onB.request<{ map: string }>('SEATS', 'c2')).map],
    ([a, b]) => a === b && a!.slice(2, 4) === 'hx',
  );
  assert.is(maps[0]!.slice(2, 4), 'hx');
  // Either gateway can find and cancel a booking made through the other.
  const other = winner.hello.gateway === 'gw-a' ? onB : onA;
  assert.equal(await other.request('CANCEL', booking.reference, 'Hopper'), { reference: booking.reference, concert: 'c2', seats: [4], labels: ['A4'], seat: 4 });
  [...conns, onA, onB].forEach((c) => c.close());
});

Races('pipelined HOLDs on one connection cannot pass the hold limit together', async (ctx) => {
  const c = await GuichetClient.connect({ port: ctx.a.gateway.port });
  const results = await Promise.allSettled([20, 21, 22, 23, 24, 25, 26, 27, 28, 29].map((s) => c.request('HOLD', 'c1', s)));
  const codes = results.map((r) => (r.status === 'fulfilled' ? 'OK' : (r.reason as { code: string }).code));
  assert.equal(codes, ['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'HOLD_LIMIT', 'HOLD_LIMIT']);
  c.close();
});

Races.run();
