/**
 * Scenario 2 — a gateway killed (SIGKILL) in the middle of holds and bookings. Two gateway
 * processes share one NATS; workers book through both; gateway A is killed, stays down a
 * moment and is restarted on the same port. Afterwards every reference a client received
 * is in the log and found by the restarted gateway; the seats A held when it died come free
 * by expiry (--hold-seconds 2); no request waited longer than the bound. The gateways write
 * snapshots every second, so A restarts from a snapshot taken under load plus the log's tail,
 * and must show exactly the seats the whole log folds to. A is the concert's owner (it decides
 * every command, B forwards its clients' to it), so its death leaves holds of both gateways'
 * clients behind; restarted with the same id it takes its leases back at once.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient } from '../../src/cli/client.js';
import type { Concert } from '../../src/catalog.js';
import { startNats, type TestNats } from '../support/nats.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { assertLogKeptPromises, auditLog, compareWithLog, mapOf, readLog, report, settle, sleep, sortedCounts, tally, within, writeCatalog } from '../support/faults.js';
import { loadFigures, runBookingLoad } from '../support/faults-load.js';
import { preferredOwner } from '../../src/actors/placement.js';

const HOLD_SECONDS = 2;
const WORKERS_A = 40;
const WORKERS_B = 20;
const LOAD_MS = 8_000;
const KILL_AT_MS = 2_500;
const DOWN_MS = 1_500;
/** Command timeout (10 s) plus slack: nothing may wait longer. */
const BOUND_MS = 12_000;
const CATALOG: Concert[] = [{ id: 'crash', title: 'Crash', venue: 'Hall', date: '2027-06-01T20:00:00Z', capacity: 5_000 }];
const ID_B = 'gw-kill-b';
/** An id for A that placement makes the owner of 'crash' (the first of gw-kill-a, gw-kill-a1, … that is). */
const ID_A = ['gw-kill-a', ...Array.from({ length: 20 }, (_, i) => `gw-kill-a${i + 1}`)].find((id) => preferredOwner('crash', [id, ID_B]) === id)!;

interface Ctx {
  nats: TestNats;
  a: GatewayProcess;
  b: GatewayProcess;
}

const Kill = suite<Ctx>('faults: a gateway killed with SIGKILL mid-load');

Kill.before(async (ctx) => {
  ctx.nats = await startNats();
  const concerts = await writeCatalog(CATALOG);
  [ctx.a, ctx.b] = await Promise.all([
    startGatewayProcess({ natsUrl: ctx.nats.url, concerts, holdSeconds: HOLD_SECONDS, gatewayId: ID_A, snapshotSeconds: 1 }),
    startGatewayProcess({ natsUrl: ctx.nats.url, concerts, holdSeconds: HOLD_SECONDS, gatewayId: ID_B, snapshotSeconds: 1 }),
  ]);
});

Kill.after(async (ctx) => {
  await ctx.a?.stop();
  await ctx.b?.stop();
  await ctx.nats?.stop();
});

Kill('kill -9 of a gateway under load: no reference lost, its holds expire, nobody waits forever', (ctx) =>
  within(120_000, 'gateway kill', async () => {
    const started = Date.now();
    let killedAt = 0;
    let restartedAt = 0;
    const chaos = (async () => {
      await sleep(KILL_AT_MS);
      await ctx.a.kill('SIGKILL');
      killedAt = Date.now();
      await sleep(DOWN_MS);
      await ctx.a.start();
      restartedAt = Date.now();
    })();
    chaos.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    // A's workers first (ports list: a, b, a → two of three on A).
    const load = await runBookingLoad({
      ports: [ctx.a.port, ctx.b.port, ctx.a.port],
      workers: WORKERS_A + WORKERS_B,
      concert: 'crash',
      capacity: CATALOG[0]!.capacity,
      durationMs: LOAD_MS,
      paceMs: 100,
      abandonEvery: 7,
      boundMs: BOUND_MS,
    });
    await chaos;
    // The holds A's actor had when it died expire by themselves; wait for their releases.
    const lastExpiry = Math.max(...[...load.holds.values()].map((h) => h.expiresAt));
    await sleep(Math.max(0, lastExpiry - Date.now()) + 1_500);

    const log = await readLog(ctx.nats.url);
    const audit = auditLog(log, CATALOG);
    const comparison = compareWithLog(audit, { booked: load.booked, cancelled: new Set() });

    // Every hold in the log ends: booked, or released (expired or disconnected).
    const holdEnds = new Map<string, string>();
    const endedAt = new Map<string, number>();
    const heldAt = new Map<string, { expiresAt: number; source: string }>();
    const expiryLagMs: number[] = [];
    for (const e of log) {
      if (e.type === 'SeatHeld') heldAt.set(e.data.hold, { expiresAt: Date.parse(e.data.expiresAt), source: e.source });
      if (e.type === 'SeatBooked') holdEnds.set(e.data.hold, 'booked');
      if (e.type === 'SeatBooked' || e.type === 'SeatReleased') endedAt.set(e.data.hold, Date.parse(e.at));
      if (e.type === 'SeatReleased') {
        holdEnds.set(e.data.hold, `released ${e.data.reason}`);
        const h = heldAt.get(e.data.hold);
        if (e.data.reason === 'expired' && h) expiryLagMs.push(Date.parse(e.at) - h.expiresAt);
      }
    }
    const unended = [...heldAt.keys()].filter((h) => !holdEnds.has(h));
    // The holds A had written and not yet ended when it was killed: nobody can book them now.
    const liveAtKill = [...heldAt].filter(
      ([hold, h]) => h.source === ID_A && h.expiresAt > killedAt && h.expiresAt - HOLD_SECONDS * 1000 <= killedAt && (endedAt.get(hold) ?? Infinity) >= killedAt,
    );
    const liveAtKillEnds = tally(liveAtKill.map(([hold]) => holdEnds.get(hold) ?? 'not ended'));
    const now = Date.now();
    const finalMap = mapOf(audit.states.get('crash')!, now);

    // The restarted gateway (and the other one) find every reference told.
    const lookups: Record<string, number> = {};
    const checkers = await Promise.all([GuichetClient.connect({ port: ctx.a.port }), GuichetClient.connect({ port: ctx.b.port })]);
    const lookupResults = await Promise.all(
      [...load.booked].flatMap(([reference, where]) =>
        checkers.map(async (c) => {
          const r = await settle(c.request<{ seat: number; concert: string }>('LOOKUP', reference, 'Hopper'), BOUND_MS);
          tally([r.ok ? (r.value.seat === where.seat ? 'OK' : 'WRONG_SEAT') : r.code], lookups);
          return r.ok && r.value.seat === where.seat;
        }),
      ),
    );
    const maps = await Promise.all(checkers.map((c) => settle(c.request<{ map: string }>('SEATS', 'crash'), BOUND_MS)));
    checkers.forEach((c) => c.close());

    const restartLine = /listening on [^\n]*/.exec(ctx.a.stderr.slice(ctx.a.stderr.lastIndexOf('listening on')))?.[0] ?? '';
    await report('gateway killed (SIGKILL)', {
      'A restarted': /; (.*)\)\. Connect/.exec(restartLine)?.[1] ?? restartLine,
      'gateway processes': 2,
      workers: `${WORKERS_A} on A (killed), ${WORKERS_B} on B`,
      'killed at s': ((killedAt - started) / 1000).toFixed(1),
      'restarted at s': ((restartedAt - started) / 1000).toFixed(1),
      ...loadFigures(load),
      'log events': sortedCounts(audit.byType),
      'bookings lost': comparison.lost.length,
      'double bookings': audit.doubleBookings.length,
      'double holds': audit.doubleHolds.length,
      'events stored twice': audit.duplicateIds.length + audit.duplicatedPerHold.length,
      'bookings in the log whose reference no client received (BOOK in flight at the kill)': comparison.bookedButNotTold,
      'LOOKUPs of told references after the restart (A and B)': sortedCounts(lookups),
      'holds A had written, live at the kill, ended by': sortedCounts(liveAtKillEnds),
      'holds never ended': unended.length,
      'expiry release lag ms p50/max': expiryLagMs.length ? `${Math.round(expiryLagMs.sort((x, y) => x - y)[Math.floor(expiryLagMs.length / 2)]!)}/${Math.round(Math.max(...expiryLagMs))}` : 'none',
      'held seats left on the map': (finalMap.match(/h/g) ?? []).length,
      'gateway errors logged': ctx.a.errors.length + ctx.b.errors.length,
    });

    assert.is(load.timeouts, 0, 'every request settled within the bound');
    assertLogKeptPromises(audit, comparison);
    assert.ok(lookupResults.every(Boolean), 'both gateways find every reference told, on its seat');
    assert.equal(unended, [], 'every hold ends: booked or released');
    assert.ok((liveAtKillEnds['released expired'] ?? 0) > 0, 'the kill left holds behind, and they expired (else this scenario proves nothing)');
    // The seat is free from expiresAt whatever the log says (a hold past its expiry counts as
    // free); the release event follows, one per turn of the actor, behind the commands queued.
    assert.ok(Math.max(...expiryLagMs) < 5_000, 'expired holds are released within 5 s of their expiry');
    assert.is((finalMap.match(/h/g) ?? []).length, 0, 'no seat is left held');
    for (const m of maps) assert.ok(m.ok && !m.value.map.includes('h'), 'the gateways show no held seat');
    assert.match(restartLine, /concerts? from (?:its snapshot|their snapshots)/, 'A restarted from its snapshot');
    for (const m of maps) assert.is(m.ok && m.value.map, finalMap, 'each gateway shows the seats the whole log folds to');
    assert.is(load.codes.BOOK?.OK ?? 0, load.booked.size);
    assert.ok((load.codes.BOOK?.OK ?? 0) > 100, 'bookings went through');
    assert.ok(load.reconnects > 0, "A's workers reconnected to the restarted gateway");
    assert.equal([...ctx.a.errors, ...ctx.b.errors], [], 'no internal error logged');
  }),
);

Kill.run();
