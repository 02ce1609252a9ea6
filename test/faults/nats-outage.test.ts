/**
 * Scenario 3 — NATS restarted and NATS killed under load. Two gateway processes share one
 * nats-server run as nats.conf runs it (`sync_interval: always`). Mid-load the server is
 * killed and restarted at once, later killed and left down for a few seconds. While it is
 * away clients get ERR UNAVAILABLE at once (no hang); the gateways reconnect by themselves;
 * no acknowledged booking is lost; no append is stored twice (SeatBooked per hold ≤ 1).
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient, type SeatEvent } from '../../src/cli/client.js';
import type { Concert } from '../../src/catalog.js';
import { startNats, type TestNats } from '../support/nats.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { auditLog, compareWithLog, mapOf, percentile, readLog, report, settle, sleep, sortedCounts, tally, within, writeCatalog, type Counts } from '../support/faults.js';
import { loadFigures, runBookingLoad } from '../support/faults-load.js';

const WORKERS = 30;
const LOAD_MS = 20_000;
const RESTART_AT_MS = 2_500;
const KILL_AT_MS = 6_500;
const DOWN_MS = 4_000;
/** Time the gateways get to notice NATS is gone (the TCP connection drops at once). */
const NOTICE_MS = 1_000;
/** An answer while NATS is known to be away must come within this. */
const FAST_MS = 1_000;
/** Time the gateways get to be back after NATS is. */
const RECOVER_MS = 5_000;
/** Nothing may wait longer than this, in flight across an outage included. */
const BOUND_MS = 20_000;
/** Each gateway must show every event of the log (its followers caught up) within this, once the load stops. */
const CONVERGE_MS = 30_000;
const CATALOG: Concert[] = [
  { id: 'outage', title: 'Outage', venue: 'Hall', date: '2027-06-01T20:00:00Z', capacity: 20_000 },
  { id: 'probe', title: 'Probe', venue: 'Hall', date: '2027-06-01T20:00:00Z', capacity: 100_000 },
  { id: 'frozen', title: 'Frozen', venue: 'Hall', date: '2027-06-01T20:00:00Z', capacity: 10 },
];
/** How long NATS stays frozen (SIGSTOP) under a BOOK: longer than the append's 3 attempts × 2 s. */
const FREEZE_MS = 8_000;
/** A probe (HOLD and RELEASE on its own concert and connection) goes to each gateway this often. */
const PROBE_EVERY_MS = 100;

interface Ctx {
  nats: TestNats;
  a: GatewayProcess;
  b: GatewayProcess;
}

const Outage = suite<Ctx>('faults: NATS restarted and killed under load');

Outage.before(async (ctx) => {
  ctx.nats = await startNats({ sync: 'always' });
  const concerts = await writeCatalog(CATALOG);
  [ctx.a, ctx.b] = await Promise.all([
    startGatewayProcess({ natsUrl: ctx.nats.url, concerts, holdSeconds: 30, gatewayId: 'gw-out-a' }),
    startGatewayProcess({ natsUrl: ctx.nats.url, concerts, holdSeconds: 30, gatewayId: 'gw-out-b' }),
  ]);
});

Outage.after(async (ctx) => {
  await ctx.a?.stop();
  await ctx.b?.stop();
  await ctx.nats?.stop();
});

interface Settlement {
  verb: string;
  code: string;
  ms: number;
  sentAt: number;
  worker: number;
}

Outage('NATS killed and restarted under load: UNAVAILABLE at once, back by itself, nothing lost or stored twice', (ctx) =>
  within(150_000, 'NATS outage', async () => {
    const settled: Settlement[] = [];
    const start = Date.now();
    const times = { restartedAt: 0, restartedUpAt: 0, killedAt: 0, upAt: 0 };
    const chaos = (async () => {
      await sleep(RESTART_AT_MS);
      times.restartedAt = Date.now();
      await ctx.nats.restart({ signal: 'SIGKILL' });
      times.restartedUpAt = Date.now();
      await sleep(Math.max(0, start + KILL_AT_MS - Date.now()));
      times.killedAt = Date.now();
      await ctx.nats.kill('SIGKILL');
      await sleep(DOWN_MS);
      await ctx.nats.start();
      times.upAt = Date.now();
    })();
    chaos.catch(() => undefined);
    const ports = [ctx.a.port, ctx.b.port];
    // Watchers: an EVENT about a seat the other gateway's workers book shows that this gateway's
    // follower of the stream works (its own events it applies from the append's ack).
    const watchers = await Promise.all(ports.map((port) => GuichetClient.connect({ port })));
    const crossEvents: number[][] = [[], []];
    watchers.forEach((w, g) => {
      // Worker k books seats k+1, k+1+WORKERS, …: workers on gateway A (even k) book odd seats.
      w.on('event', (e: SeatEvent) => {
        if (e.concert === 'outage' && e.seat % 2 === g) crossEvents[g]!.push(Date.now());
      });
    });
    await Promise.all(watchers.map((w) => w.request('WATCH', 'outage')));
    // Probes: every PROBE_EVERY_MS, on each gateway, a HOLD (then RELEASE) on a fresh
    // connection, so that requests keep going out whatever the workers are waiting for.
    let probeSeat = 0;
    const probes: Array<Promise<void>> = [];
    const probing = (async () => {
      while (Date.now() - start < LOAD_MS) {
        for (const [g, port] of ports.entries()) {
          probes.push(
            (async () => {
              const c = await settle(GuichetClient.connect({ port, timeoutMs: 2_000 }), 3_000);
              if (!c.ok) return;
              const sentAt = Date.now();
              const r = await settle(c.value.request<{ hold: string }>('HOLD', 'probe', ++probeSeat), BOUND_MS);
              settled.push({ verb: 'PROBE', code: r.ok ? 'OK' : r.code, ms: r.ms, sentAt, worker: g });
              if (r.ok) await settle(c.value.request('RELEASE', r.value.hold), BOUND_MS);
              c.value.close();
            })(),
          );
        }
        await sleep(PROBE_EVERY_MS);
      }
      await Promise.all(probes);
    })();
    const load = await runBookingLoad({
      ports,
      workers: WORKERS,
      concert: 'outage',
      capacity: CATALOG[0]!.capacity,
      durationMs: LOAD_MS,
      paceMs: 50,
      abandonEvery: 0,
      boundMs: BOUND_MS,
      bookRetries: 60,
      onSettled: (verb, r, sentAt, worker) => settled.push({ verb, code: r.ok ? 'OK' : r.code, ms: r.ms, sentAt, worker }),
    });
    await chaos;
    await probing;
    watchers.forEach((w) => w.close());
    const crossResumedMs = crossEvents.map((times_) => Math.min(...times_.filter((t) => t >= times.upAt)) - times.upAt);

    // While NATS was known to be away: every answer UNAVAILABLE, and at once.
    const whileDown = settled.filter((s) => s.sentAt >= times.killedAt + NOTICE_MS && s.sentAt + FAST_MS <= times.upAt);
    const whileDownCodes = tally(whileDown.map((s) => s.code));
    const whileDownMs = whileDown.map((s) => s.ms);
    // In flight when NATS died: how long they took to settle.
    const inFlightAtKill = settled.filter((s) => s.sentAt < times.killedAt && s.sentAt + s.ms > times.killedAt);
    const inFlightAtRestart = settled.filter((s) => s.sentAt < times.restartedAt && s.sentAt + s.ms > times.restartedAt);
    // Back by itself: the first OK on each gateway after NATS came back, and nothing but OK after RECOVER_MS.
    const firstOkAfterUp = ports.map((_, g) =>
      Math.min(...settled.filter((s) => s.worker % ports.length === g && s.code === 'OK' && s.sentAt >= times.upAt).map((s) => s.sentAt + s.ms - times.upAt)),
    );
    const afterRecovery = settled.filter((s) => s.sentAt >= times.upAt + RECOVER_MS);
    const afterRecoveryCodes = tally(afterRecovery.map((s) => s.code));
    const afterRecoveryFailures = afterRecovery
      .filter((s) => s.code !== 'OK')
      .map((s) => `${s.verb} ${s.code} sent ${s.sentAt - times.upAt} ms after NATS was back, answered in ${Math.round(s.ms)} ms, gateway ${'AB'[s.worker % 2]}`);
    const firstOkAfterRestart = Math.min(...settled.filter((s) => s.code === 'OK' && s.sentAt >= times.restartedUpAt).map((s) => s.sentAt + s.ms - times.restartedUpAt));

    // Give the gateways' expiry timers and followers a moment, then read the log.
    await sleep(500);
    const log = await readLog(ctx.nats.url);
    const audit = auditLog(log, CATALOG);
    const comparison = compareWithLog(audit, { booked: load.booked, cancelled: new Set() });
    const seatBookedPerHold = new Map<string, number>();
    for (const e of log) if (e.type === 'SeatBooked') seatBookedPerHold.set(e.data.hold, (seatBookedPerHold.get(e.data.hold) ?? 0) + 1);
    // BOOKs whose client never got an OK, but whose hold is booked in the log: the client was
    // told UNAVAILABLE (the outcome was unknown), and retrying answered NO_SUCH_HOLD.
    const outcomes: Counts = {};
    const bookedUntold: string[][] = [];
    for (const b of load.books) {
      const path = b.codes.map((c, i) => (i > 0 && c === b.codes[i - 1] ? '' : c)).filter(Boolean).join('→');
      tally([path], outcomes);
      if (!b.codes.includes('OK') && seatBookedPerHold.has(b.hold)) bookedUntold.push(b.codes);
    }
    const heldUntold = log.filter((e) => e.type === 'SeatHeld' && e.concert === 'outage' && !load.holds.has(e.data.hold)).length;

    const checkers = await Promise.all(ports.map((port) => GuichetClient.connect({ port })));
    const expectedMap = mapOf(audit.states.get('outage')!, Date.now());
    // The gateways learn every event from the stream, their own and the other's: within a bound.
    const convergedAfterMs: number[] = [];
    let checkStarted: number | undefined;
    const maps = await Promise.all(
      checkers.map(async (c, g) => {
        let map = '';
        const polling = Date.now();
        checkStarted ??= polling;
        while (map !== expectedMap && Date.now() - polling < CONVERGE_MS) {
          if (map) await sleep(100);
          const r = await settle(c.request<{ map: string }>('SEATS', 'outage'), 5_000);
          map = r.ok ? r.value.map.replace(/H/g, 'h') : `ERR ${r.ok ? '' : r.code}`;
        }
        convergedAfterMs[g] = Date.now() - polling;
        return map;
      }),
    );
    checkers.forEach((c) => c.close());
    const sameMaps = maps.filter((m) => m === expectedMap).length;
    const mapDiffs = maps.map((m) => [...m].flatMap((ch, i) => (ch === expectedMap[i] ? [] : [`${i + 1}:${ch}≠${expectedMap[i]}`])).slice(0, 10));

    await report('NATS restarted and killed', {
      'nats-server': `sync_interval: always; SIGKILL+restart at ${((times.restartedAt - start) / 1000).toFixed(1)} s, SIGKILL at ${((times.killedAt - start) / 1000).toFixed(1)} s, back at ${((times.upAt - start) / 1000).toFixed(1)} s`,
      workers: `${WORKERS} over 2 gateway processes`,
      ...loadFigures(load),
      'requests sent while NATS was down (after 1 s)': whileDown.length,
      'their replies': sortedCounts(whileDownCodes),
      'their latency ms p50/max': `${percentile(whileDownMs, 50).toFixed(0)}/${Math.max(0, ...whileDownMs).toFixed(0)}`,
      'in flight at the kill: count, longest ms': `${inFlightAtKill.length}, ${Math.max(0, ...inFlightAtKill.map((s) => s.ms)).toFixed(0)} (${JSON.stringify(sortedCounts(tally(inFlightAtKill.map((s) => s.code))))})`,
      'in flight at the restart: count, longest ms': `${inFlightAtRestart.length}, ${Math.max(0, ...inFlightAtRestart.map((s) => s.ms)).toFixed(0)} (${JSON.stringify(sortedCounts(tally(inFlightAtRestart.map((s) => s.code))))})`,
      'first OK after the restart (ms after NATS up)': Math.round(firstOkAfterRestart),
      'first OK per gateway after the outage (ms after NATS up)': firstOkAfterUp.map((ms) => Math.round(ms)),
      "first EVENT of the other gateway's bookings after the outage, on A and B (ms after NATS up)": crossResumedMs,
      'probes (HOLD then RELEASE on a fresh connection, every 100 ms per gateway) by code': sortedCounts(tally(settled.filter((x) => x.verb === 'PROBE').map((x) => x.code))),
      [`replies ${RECOVER_MS / 1000} s after NATS is back`]: sortedCounts(afterRecoveryCodes),
      'failures among them (first 5)': afterRecoveryFailures.slice(0, 5),
      'BOOK paths (codes per hold, retries collapsed)': sortedCounts(outcomes),
      'log events': sortedCounts(audit.byType),
      'bookings lost (acknowledged, not in the log)': comparison.lost.length,
      'double bookings': audit.doubleBookings.length,
      'SeatBooked per hold, max': Math.max(0, ...seatBookedPerHold.values()),
      'events stored twice': audit.duplicateIds.length + audit.duplicatedPerHold.length,
      'holds booked in the log whose client never got the reference': bookedUntold.length,
      'holds in the log whose HOLD was not acknowledged': heldUntold,
      'gateways agreeing with the log': sameMaps,
      'each gateway agreed with the log (ms after the check began, at N s after NATS was back)': `${JSON.stringify(convergedAfterMs)} at ${(((checkStarted ?? 0) - times.upAt) / 1000).toFixed(1)} s`,
      'seats where a gateway disagrees with the log (first 10)': mapDiffs,
      'gateway errors logged': ctx.a.errors.length + ctx.b.errors.length,
    });

    assert.is(load.timeouts, 0, `every request settled within ${BOUND_MS} ms`);
    assert.ok(whileDown.length >= 20, 'requests were made while NATS was down');
    assert.equal(Object.keys(whileDownCodes), ['UNAVAILABLE'], 'while NATS is down, every HOLD and BOOK answers UNAVAILABLE');
    assert.ok(Math.max(...whileDownMs) < FAST_MS, `and within ${FAST_MS} ms`);
    assert.ok(firstOkAfterUp.every((ms) => ms < RECOVER_MS), 'both gateways book again by themselves');
    assert.equal(Object.keys(afterRecoveryCodes), ['OK'], `after recovery every request succeeds: ${JSON.stringify(afterRecoveryFailures.slice(0, 5))}`);
    assert.equal(comparison.lost, [], 'no acknowledged booking is lost');
    assert.equal(audit.doubleBookings, [], 'no seat sold twice');
    assert.equal(audit.doubleHolds, [], 'no seat held twice');
    assert.equal(audit.duplicateIds, [], 'no event id stored twice');
    assert.equal(audit.duplicatedPerHold, [], 'at most one SeatHeld, SeatBooked, SeatReleased per hold');
    assert.is(sameMaps, 2, 'both gateways show the seat map of the log');
    assert.equal([...ctx.a.errors, ...ctx.b.errors], [], 'no internal error logged');
    // Not asserted here (it depends on timing); the next test makes it happen every time.
    if (bookedUntold.length > 0) console.log(`    note: ${bookedUntold.length} BOOK(s) answered ${JSON.stringify(bookedUntold)} whose hold is booked in the log`);
  }),
);

Outage('NATS frozen (SIGSTOP) under a BOOK: answered within the bound; the retried BOOK gives the booking that was stored', (ctx) =>
  within(60_000, 'NATS frozen', async () => {
    const c = await GuichetClient.connect({ port: ctx.a.port });
    const other = await GuichetClient.connect({ port: ctx.b.port });
    const { hold } = await c.request<{ hold: string }>('HOLD', 'frozen', 1);
    ctx.nats.pause();
    const frozenAt = Date.now();
    let first: Awaited<ReturnType<typeof settle<{ reference: string }>>>;
    let ping: Awaited<ReturnType<typeof settle<unknown>>>;
    try {
      [first, ping] = await Promise.all([
        settle(c.request<{ reference: string }>('BOOK', hold, 'Grace', 'Hopper'), BOUND_MS),
        settle(other.request('PING'), 1_000),
      ]);
      // Frozen a little longer than the append's three attempts of 2 s each.
      await sleep(Math.max(0, frozenAt + FREEZE_MS - Date.now()));
    } finally {
      ctx.nats.resume();
    }
    await sleep(1_000);
    const log = (await readLog(ctx.nats.url)).filter((e) => e.concert === 'frozen');
    const stored = log.filter((e) => e.type === 'SeatBooked' && e.data.hold === hold);
    // As the client was told ("try again"): BOOK the same hold again.
    const retry = await settle(c.request<{ reference: string }>('BOOK', hold, 'Grace', 'Hopper'), BOUND_MS);
    const afterRetry = (await readLog(ctx.nats.url)).filter((e) => e.concert === 'frozen' && e.type === 'SeatBooked' && e.data.hold === hold);
    c.close();
    other.close();

    await report('NATS frozen (SIGSTOP) under a BOOK', {
      'frozen for ms': FREEZE_MS,
      'BOOK during the freeze': first.ok ? `OK after ${first.ms.toFixed(0)} ms` : `${first.code} after ${first.ms.toFixed(0)} ms`,
      'PING on the other gateway meanwhile': ping.ok ? `OK in ${ping.ms.toFixed(0)} ms` : ping.code,
      'SeatBooked stored for the hold once NATS went on': stored.length,
      'the retried BOOK': retry.ok ? `OK ${retry.value.reference}` : `${retry.code} ${retry.message}`,
      'SeatBooked for the hold after the retry': afterRetry.length,
      'reference in the log': stored[0]?.type === 'SeatBooked' ? stored[0].data.reference : 'none',
    });

    assert.ok(first.ok || first.code === 'UNAVAILABLE', `the BOOK is answered (OK or UNAVAILABLE), not left hanging: ${first.ok ? 'OK' : first.code}`);
    assert.ok(first.ms < BOUND_MS, 'within the bound');
    assert.ok(ping.ok, 'the gateway keeps answering what needs no NATS');
    assert.ok(afterRetry.length <= 1, 'the append retried three times with one Nats-Msg-Id is stored at most once');
    if (!first.ok && stored.length === 1) {
      // The booking was made although the client was told UNAVAILABLE: retrying must hand it
      // its reference, else the person has a seat they can neither look up nor cancel.
      assert.ok(retry.ok, `the retried BOOK answers OK with the stored booking, not ${retry.ok ? '' : retry.code}`);
      if (retry.ok && stored[0]!.type === 'SeatBooked') assert.is(retry.value.reference, stored[0]!.data.reference);
    }
  }),
);

Outage.run();
