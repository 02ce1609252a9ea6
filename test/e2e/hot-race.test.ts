/**
 * A 1,000-client race on the same seats of one concert, through two gateways on one NATS:
 * every client asks at once for one of 20 seats (50 clients per seat), the winners book.
 * With group commit the actors decide many of these in one batch and the two gateways
 * contend for the concert's expected sequence; still exactly one winner per seat, and the
 * log folds to exactly those bookings.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient } from '../../src/cli/client.js';
import type { Concert } from '../../src/catalog.js';
import { EventStore } from '../../src/events/store.js';
import { evolve, initialState } from '../../src/actors/concert.js';
import type { Guichet } from '../../src/guichet.js';
import { startNats, startNode, type TestNats } from '../support/guichet.js';

const CLIENTS = 1_000;
const SEATS = 20;
const CATALOG: Concert[] = [{ id: 'hot', title: 'Hot', venue: 'Hall', date: '2027-01-01T20:00:00Z', capacity: 200 }];

const Race = suite<{ nats: TestNats; a: Guichet; b: Guichet; clients: GuichetClient[] }>('a 1,000-client race on the same seats of one concert');

Race.before(async (ctx) => {
  ctx.nats = await startNats();
  // 1,000 clients from one address stand for 1,000 people: lift the per-address limits.
  const gateway = { addressLimits: { maxConnections: 1_000_000, maxSeatsHeld: 1_000_000, coolDownMs: 0 } };
  ctx.a = await startNode(ctx.nats, { gatewayId: 'gw-race-a', catalog: CATALOG, gateway });
  ctx.b = await startNode(ctx.nats, { gatewayId: 'gw-race-b', catalog: CATALOG, gateway });
  ctx.clients = [];
  for (let i = 0; i < CLIENTS; i += 100) {
    ctx.clients.push(
      ...(await Promise.all(Array.from({ length: Math.min(100, CLIENTS - i) }, (_, j) => GuichetClient.connect({ port: (i + j) % 2 ? ctx.b.gateway.port : ctx.a.gateway.port })))),
    );
  }
});

Race.after(async (ctx) => {
  for (const c of ctx.clients ?? []) c.close();
  await ctx.a?.close();
  await ctx.b?.close();
  await ctx.nats?.stop();
});

Race('exactly one winner per seat, every loser told SEAT_TAKEN, and the log holds exactly the winners\' bookings', async ({ clients, nats }) => {
  const seatOf = (i: number) => 1 + (i % SEATS);
  const holds = await Promise.allSettled(clients.map((c, i) => c.request<{ hold: string; seat: number }>('HOLD', 'hot', seatOf(i))));
  const winners = new Map<number, number[]>();
  const codes: Record<string, number> = {};
  holds.forEach((r, i) => {
    const code = r.status === 'fulfilled' ? 'OK' : (r.reason as { code: string }).code;
    codes[code] = (codes[code] ?? 0) + 1;
    if (r.status === 'fulfilled') winners.set(seatOf(i), [...(winners.get(seatOf(i)) ?? []), i]);
  });
  assert.equal(codes, { OK: SEATS, SEAT_TAKEN: CLIENTS - SEATS });
  for (let seat = 1; seat <= SEATS; seat++) assert.is(winners.get(seat)?.length, 1, `seat ${seat}: one winner`);

  const references = await Promise.all(
    [...winners.values()].map(([i]) => {
      const r = holds[i!] as PromiseFulfilledResult<{ hold: string }>;
      return clients[i!]!.request<{ reference: string; seat: number }>('BOOK', r.value.hold, 'Grace', 'Hopper');
    }),
  );
  assert.equal(references.map((r) => r.seat).sort((x, y) => x - y), Array.from({ length: SEATS }, (_, i) => i + 1));

  // The log, folded: exactly those seats booked, under those references; nothing else held.
  const nc = await nats.connect();
  try {
    const store = await EventStore.open(nc);
    const events = await store.readConcert('hot', 0);
    const state = events.reduce(evolve, initialState('hot', 200));
    const booked = state.seats.flatMap((s, i) => (s.kind === 'booked' ? [[i + 1, s.reference] as const] : []));
    assert.equal(new Map(booked), new Map(references.map((r) => [r.seat, r.reference] as const)));
    assert.is(events.filter((e) => e.type === 'SeatHeld').length, SEATS, 'one hold written per seat');
    assert.is(state.seats.filter((s) => s.kind === 'held').length, 0);
  } finally {
    await nc.close();
  }
});

Race.run();
