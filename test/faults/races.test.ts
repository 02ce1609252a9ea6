/**
 * Scenario 1 — races. 200 connections spread over 3 gateway processes on one NATS race for
 * the same seats of one concert, round after round: exactly one winner per seat, every time;
 * then what clients were told is compared with the log (folded with `evolve`).
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { GuichetClient } from '../../src/cli/client.js';
import type { Concert } from '../../src/catalog.js';
import { startNats, type TestNats } from '../support/nats.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { assertLogKeptPromises,
  auditLog,
  closeAll,
  compareWithLog,
  connectMany,
  mapOf,
  percentile,
  readLog,
  report,
  settle,
  sortedCounts,
  tally,
  within,
  writeCatalog,
  type Counts,
} from '../support/faults.js';

const CONNECTIONS = 200;
const GATEWAYS = 3;
const ROUNDS = 15;
const SEATS_PER_ROUND = 3;
/** No request may wait longer than this. */
const BOUND_MS = 15_000;
const CATALOG: Concert[] = [{ id: 'rush', title: 'Rush', venue: 'Hall', date: '2027-06-01T20:00:00Z', capacity: 40 }];

interface Ctx {
  nats: TestNats;
  gateways: GatewayProcess[];
  clients: GuichetClient[];
}

const Races = suite<Ctx>('faults: races over 3 gateway processes');

Races.before(async (ctx) => {
  ctx.nats = await startNats();
  const concerts = await writeCatalog(CATALOG);
  ctx.gateways = await Promise.all(
    Array.from({ length: GATEWAYS }, (_, i) => startGatewayProcess({ natsUrl: ctx.nats.url, concerts, gatewayId: `gw-race-${i}` })),
  );
  ctx.clients = [];
});

Races.after(async (ctx) => {
  closeAll(ctx.clients ?? []);
  await Promise.all((ctx.gateways ?? []).map((g) => g.stop()));
  await ctx.nats?.stop();
});

const shuffle = <T>(items: T[]): T[] => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
};

Races('200 connections, 3 gateways, the same seats round after round: one winner per seat; the log agrees with the clients', (ctx) =>
  within(180_000, 'races', async () => {
    const started = performance.now();
    ctx.clients = await connectMany(
      ctx.gateways.map((g) => g.port),
      CONNECTIONS,
    );
    const holdCodes: Counts = {};
    const otherCodes: Counts = {};
    const holdLatencies: number[] = [];
    const winnersPerRace: number[] = [];
    const told = { booked: new Map<string, { concert: string; seat: number }>(), cancelled: new Set<string>() };
    let holdsWon = 0;
    let doubleBookReplies = 0;
    let cancelRaces = 0;
    let cancelRaceWinners = 0;
    const free = shuffle(Array.from({ length: CATALOG[0]!.capacity }, (_, i) => i + 1));
    let nextCanceller = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const seats = free.splice(0, SEATS_PER_ROUND);
      assert.is(seats.length, SEATS_PER_ROUND, `round ${round}: free seats left`);
      // Every connection asks for every seat of the round, in its own order, all at once.
      const attempts = ctx.clients.flatMap((c) =>
        shuffle([...seats]).map(async (seat) => ({ c, seat, r: await settle(c.request<{ hold: string; seat: number }>('HOLD', 'rush', seat), BOUND_MS) })),
      );
      const results = await Promise.all(attempts);
      for (const { r } of results) {
        holdLatencies.push(r.ms);
        tally([r.ok ? 'OK' : r.code], holdCodes);
      }
      for (const seat of seats) {
        const winners = results.filter((x) => x.seat === seat && x.r.ok);
        winnersPerRace.push(winners.length);
        assert.is(winners.length, 1, `round ${round} seat ${seat}: ${winners.length} winners`);
        const losers = results.filter((x) => x.seat === seat && !x.r.ok).map((x) => (x.r.ok ? 'OK' : x.r.code));
        // A seat given back in an earlier round cools down for the address that gave it back:
        // its connections are refused before the race (COOL_DOWN) rather than losing it.
        const { COOL_DOWN: cooling = 0, ...lost } = tally(losers);
        assert.equal(lost, { SEAT_TAKEN: CONNECTIONS - 1 - cooling }, `round ${round} seat ${seat}: the losers`);
        holdsWon++;
      }
      // Each winner books (twice at once: one booking, whose reference both are told, since a
      // BOOK sent again answers that booking), or gives the seat back; some
      // bookings are then cancelled by three connections at once, one on each gateway.
      await Promise.all(
        results
          .filter((x) => x.r.ok)
          .map(async ({ c, seat, r }, i) => {
            const hold = (r as { value: { hold: string } }).value.hold;
            const action = (round * SEATS_PER_ROUND + i) % 5;
            if (action === 4) {
              const released = await settle(c.request('RELEASE', hold), BOUND_MS);
              tally([`RELEASE ${released.ok ? 'OK' : released.code}`], otherCodes);
              assert.ok(released.ok, 'release');
              free.push(seat);
              return;
            }
            const [first, second] = await Promise.all([
              settle(c.request<{ reference: string; seat: number; concert: string }>('BOOK', hold, 'Ada', 'Lovelace'), BOUND_MS),
              settle(c.request<{ reference: string; seat: number; concert: string }>('BOOK', hold, 'Ada', 'Lovelace'), BOUND_MS),
            ]);
            for (const b of [first, second]) tally([`BOOK ${b.ok ? 'OK' : b.code}`], otherCodes);
            const booked = [first, second].filter((b) => b.ok);
            const references = new Set(booked.map((b) => (b as { value: { reference: string } }).value.reference));
            if (references.size !== 1) doubleBookReplies++;
            assert.is(references.size, 1, `the two BOOKs of hold ${hold} give one booking`);
            const { reference, seat: bookedSeat, concert } = (booked[0] as { value: { reference: string; seat: number; concert: string } }).value;
            assert.is(bookedSeat, seat);
            told.booked.set(reference, { concert, seat: bookedSeat });
            if (action === 2 && cancelRaces < 8) {
              cancelRaces++;
              // Three connections, one per gateway, none of which failed before.
              const cancellers = [0, 1, 2].map(() => ctx.clients[(nextCanceller = (nextCanceller + 7) % CONNECTIONS)]!);
              const cancels = await Promise.all(
                cancellers.map(async (k) => {
                  // A gateway must know the booking before it can cancel it: wait until it does.
                  for (let i = 0; i < 100; i++) {
                    const seen = await settle(k.request<{ map: string }>('SEATS', 'rush'), BOUND_MS);
                    if (seen.ok && seen.value.map[seat - 1] === 'x') break;
                    await new Promise((res) => setTimeout(res, 20));
                  }
                  return settle(k.request('CANCEL', reference, 'Lovelace'), BOUND_MS);
                }),
              );
              for (const x of cancels) tally([`CANCEL ${x.ok ? 'OK' : x.code}`], otherCodes);
              const ok = cancels.filter((x) => x.ok).length;
              cancelRaceWinners += ok;
              assert.is(ok, 1, `exactly one of three CANCELs of ${reference} succeeds`);
              assert.equal(
                cancels.filter((x) => !x.ok).map((x) => (x.ok ? '' : x.code)),
                ['NOT_FOUND', 'NOT_FOUND'],
              );
              told.cancelled.add(reference);
              free.push(seat);
            }
          }),
      );
    }

    // The log, folded, against what the clients were told.
    const log = await readLog(ctx.nats.url);
    const audit = auditLog(log, CATALOG);
    const comparison = compareWithLog(audit, told);
    const now = Date.now();
    const expectedMap = mapOf(audit.states.get('rush')!, now);
    // Every gateway shows the map of the log (they learn other gateways' events from the stream).
    const maps: string[] = [];
    for (const g of ctx.gateways) {
      const c = ctx.clients.find((k) => k.hello.gateway === g.gatewayId)!;
      let map = '';
      for (let i = 0; i < 100 && map !== expectedMap; i++) {
        const r = await settle(c.request<{ map: string }>('SEATS', 'rush'), BOUND_MS);
        map = r.ok ? r.value.map.replace(/H/g, 'h') : `ERR ${r.ok ? '' : r.code}`;
        if (map !== expectedMap) await new Promise((res) => setTimeout(res, 20));
      }
      maps.push(map);
    }

    await report('races', {
      connections: CONNECTIONS,
      gateways: GATEWAYS,
      rounds: ROUNDS,
      'seat races': winnersPerRace.length,
      'HOLD attempts': holdLatencies.length,
      'HOLD successes': holdsWon,
      'HOLD replies by code': sortedCounts(holdCodes),
      'winners per race (min/max)': `${Math.min(...winnersPerRace)}/${Math.max(...winnersPerRace)}`,
      'HOLD latency ms p50/p99/max': `${percentile(holdLatencies, 50).toFixed(0)}/${percentile(holdLatencies, 99).toFixed(0)}/${Math.max(...holdLatencies).toFixed(0)}`,
      'BOOK/RELEASE/CANCEL replies': sortedCounts(otherCodes),
      'pipelined double BOOKs with two references': doubleBookReplies,
      'cancel races (3 gateways at once)': `${cancelRaces}, winners ${cancelRaceWinners}`,
      'references told': told.booked.size,
      'references told cancelled': told.cancelled.size,
      'log events': sortedCounts(audit.byType),
      'bookings lost': comparison.lost.length,
      'double bookings': audit.doubleBookings.length,
      'double holds': audit.doubleHolds.length,
      'booked without a live hold': audit.bookedWithoutLiveHold.length,
      'events stored twice': audit.duplicateIds.length + audit.duplicatedPerHold.length,
      'bookings in the log no client was told of': comparison.bookedButNotTold,
      'gateways agreeing with the log': maps.filter((m) => m === expectedMap).length,
      'gateway processes alive': ctx.gateways.filter((g) => g.alive).length,
      'elapsed s': ((performance.now() - started) / 1000).toFixed(1),
    });

    assertLogKeptPromises(audit, comparison);
    assert.equal(comparison.wrongSeat, [], 'every reference is on the seat the client was told');
    assert.equal(comparison.cancelledButBooked, [], 'every cancellation told is in the log');
    assert.is(comparison.bookedButNotTold, 0, 'every booking in the log was told to a client');
    assert.is(audit.byType.SeatHeld ?? 0, holdsWon, 'one SeatHeld per winner, none for the losers');
    assert.equal(maps, ctx.gateways.map(() => expectedMap), 'every gateway shows the seat map of the log');
    for (const g of ctx.gateways) assert.equal(g.errors, [], `${g.gatewayId} logged no error`);
  }),
);

Races.run();
