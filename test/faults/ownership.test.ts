/**
 * Concert ownership under faults. One gateway owns a concert (a lease in KV `guichet_owners`),
 * the others forward its commands to it; the expected sequence of every append keeps two
 * gateways that both believe they own it from selling a seat twice. Four scenarios, each with
 * gateway processes on one nats-server and the placement computed with `preferredOwner`, so
 * that the test knows which gateway owns the concert:
 *   1. the owner killed with SIGKILL under load, restarted 1.5 s later on its port;
 *   2. the owner frozen (SIGSTOP) past its lease, then resumed (SIGCONT): two gateways
 *      believe they own the concert for a while;
 *   3. a third gateway, preferred for the concert, joins under load (it takes the concert)
 *      and leaves with SIGTERM (it hands it back);
 *   4. 60 clients over three gateways all hold, at once, groups of 2-4 seats sharing one seat.
 * Afterwards the log is folded and compared with what clients were told (nothing lost, nothing
 * sold or held twice), every hold in the log ends, both gateways find every reference told,
 * and the longest pause without a booking is measured: between two successful BOOKs of any
 * worker, and of the workers of the gateway that stayed up.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats-connection.js';
import { GuichetClient } from '../../src/cli/client.js';
import type { Concert } from '../../src/catalog.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { OwnersBucket } from '../../src/events/owners-bucket.js';
import { preferredOwner } from '../../src/actors/placement.js';
import { startNats, type TestNats } from '../support/nats.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';
import {
  assertLogKeptPromises,
  auditLog,
  closeAll,
  compareWithLog,
  connectMany,
  mapOf,
  percentile,
  readLog,
  report,
  settle,
  sleep,
  sortedCounts,
  tally,
  within,
  writeCatalog,
  type Counts,
} from '../support/faults.js';
import { loadFigures, runBookingLoad, type LoadResult } from '../support/faults-load.js';

const LEASE_S = 2;
const LEASE_MS = LEASE_S * 1000;
const HOLD_SECONDS = 2;
/** The longest pause without a booking the scenarios allow around a move of the concert. */
const PAUSE_LIMIT_MS = LEASE_MS + 5_000;
/** Command timeout (10 s) plus slack: no request may wait longer. */
const BOUND_MS = 12_000;
const WORKERS = 40;
const CONCERT = 'stage';
const CATALOG: Concert[] = [{ id: CONCERT, title: 'Stage', venue: 'Hall', date: '2027-06-01T20:00:00Z', capacity: 5_000 }];
const GATEWAY_ARGS = { holdSeconds: HOLD_SECONDS, snapshotSeconds: 1, serverArgs: ['--owner-lease', String(LEASE_S)] };

// ================================================================== shared pieces

/** Every entry of guichet_owners as a watcher heard it, with the time it was heard. */
interface OwnerEntry {
  at: number;
  key: string;
  value: string | undefined;
}

interface OwnersWatch {
  entries: OwnerEntry[];
  /** The concert's owner as last heard (undefined: none). */
  ownerOf(concert: string): string | undefined;
  /** The concert's owner changes heard since `from`: [time, owner]. */
  moves(concert: string, from?: number): Array<{ at: number; owner: string | undefined }>;
  stop(): Promise<void>;
}

/** Watches the bucket from the test's own connection (as the gateways' role). */
async function watchOwners(nats: TestNats): Promise<OwnersWatch> {
  const nc: NatsConnection = await connectNats(nats.url, {}, { timeout: 5_000 });
  const bucket = await OwnersBucket.open(nc, { leaseMs: LEASE_MS, timeoutMs: 5_000 });
  const entries: OwnerEntry[] = [];
  const stopWatch = await bucket.watch(
    (e) => void entries.push({ at: Date.now(), key: e.key, value: e.value }),
    () => undefined,
  );
  const concertEntries = (concert: string) => entries.filter((e) => e.key === `concerts.${concert}`);
  return {
    entries,
    ownerOf: (concert) => concertEntries(concert).at(-1)?.value,
    moves(concert, from = 0) {
      const moves: Array<{ at: number; owner: string | undefined }> = [];
      let last: string | undefined | null = null;
      for (const e of concertEntries(concert)) {
        if (e.value !== last && e.at >= from) moves.push({ at: e.at, owner: e.value });
        last = e.value;
      }
      return moves;
    },
    async stop() {
      stopWatch();
      await nc.close().catch(() => undefined);
    },
  };
}

async function waitFor(what: string, ms: number, ok: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

/** When each successful BOOK was answered, and through which gateway. */
interface BookMark {
  at: number;
  gateway: string;
  worker: number;
}

/** A BOOK refused NO_SUCH_HOLD although its hold, told to the worker, was live until the refusal came. */
interface WrongRefusal {
  hold: string;
  gateway: string;
  sentAt: number;
  answeredAt: number;
  expiresAt: number;
}

/** A booking load whose successful BOOKs are timed, worker w on gateways[w % n]. */
async function timedLoad(gateways: GatewayProcess[], options: { durationMs: number; boundMs?: number }) {
  const marks: BookMark[] = [];
  const wrongRefusals: WrongRefusal[] = [];
  // Each worker books the hold it was told last (HOLD then BOOK, one request at a time).
  const lastHold = new Map<number, { hold: string; expiresAt: number }>();
  /** The messages of UNAVAILABLE and INTERNAL replies, by gateway and verb. */
  const failures: Counts = {};
  const started = Date.now();
  const load = await runBookingLoad({
    ports: gateways.map((g) => g.port),
    workers: WORKERS,
    concert: CONCERT,
    capacity: CATALOG[0]!.capacity,
    durationMs: options.durationMs,
    paceMs: 100,
    abandonEvery: 7,
    boundMs: options.boundMs ?? BOUND_MS,
    onSettled: (verb, r, sentAt, worker) => {
      const gateway = gateways[worker % gateways.length]!.gatewayId;
      if (verb === 'HOLD' && r.ok) {
        const { hold, expiresAt } = r.value as { hold: string; expiresAt: string };
        lastHold.set(worker, { hold, expiresAt: Date.parse(expiresAt) });
      }
      if (verb === 'BOOK' && r.ok) marks.push({ at: sentAt + r.ms, gateway, worker });
      if (!r.ok && (r.code === 'UNAVAILABLE' || r.code === 'INTERNAL')) tally([`${gateway} ${verb} ${r.code}: ${r.message.replace(/\b[0-9A-Z]{26}\b/g, '<id>')}`], failures);
      const told = lastHold.get(worker);
      if (verb === 'BOOK' && !r.ok && r.code === 'NO_SUCH_HOLD' && told && sentAt + r.ms < told.expiresAt) {
        wrongRefusals.push({ hold: told.hold, gateway, sentAt, answeredAt: sentAt + r.ms, expiresAt: told.expiresAt });
      }
    },
  });
  marks.sort((x, y) => x.at - y.at);
  return { load, marks, wrongRefusals, failures: sortedCounts(failures), started, ended: started + options.durationMs };
}

interface Pause {
  ms: number;
  /** Seconds after the load's start. */
  from: number;
  to: number;
}

/**
 * The longest gap between two successful BOOKs (the load's start and end count as marks, so
 * that bookings that stop for good are a pause too), among the gaps that touch `window` if given.
 */
function longestPause(marks: readonly BookMark[], started: number, ended: number, window?: [number, number]): Pause {
  const times = [started, ...marks.map((m) => m.at), ended].sort((a, b) => a - b);
  let best = { ms: 0, from: 0, to: 0 };
  for (let i = 1; i < times.length; i++) {
    const [a, b] = [times[i - 1]!, times[i]!];
    if (window && (b < window[0] || a > window[1])) continue;
    if (b - a > best.ms) best = { ms: b - a, from: a, to: b };
  }
  return { ms: Math.round(best.ms), from: rel(best.from, started), to: rel(best.to, started) };
}

/** The longest stretch one worker went without a booking (a request waiting on a gateway that died or froze). */
function longestWorkerStall(marks: readonly BookMark[], started: number, ended: number): string {
  let worst = { ms: 0, from: 0, to: 0, gateway: '', worker: -1 };
  const byWorker = new Map<number, BookMark[]>();
  for (const m of marks) byWorker.set(m.worker, [...(byWorker.get(m.worker) ?? []), m]);
  for (const [worker, own] of byWorker) {
    const p = longestPause(own, started, ended);
    if (p.ms > worst.ms) worst = { ...p, gateway: own[0]!.gateway, worker };
  }
  return `${worst.ms} ms, worker ${worst.worker} on ${worst.gateway} (from ${worst.from} s to ${worst.to} s)`;
}

const rel = (t: number, started: number): number => Math.round((t - started) / 100) / 10;
const describePause = (p: Pause): string => `${p.ms} ms (from ${p.from} s to ${p.to} s)`;

/** Events whose `at` is in [from, to), counted by source. */
function sourcesBetween(log: readonly StoredEvent[], from: number, to: number): Counts {
  return sortedCounts(tally(log.filter((e) => Date.parse(e.at) >= from && Date.parse(e.at) < to).map((e) => e.source)));
}

/** The error lines the gateways logged (the first few of each), or 0. */
function errorLines(gateways: GatewayProcess[]): string[] | number {
  const lines = gateways.flatMap((g) => g.errors.slice(0, 5).map((l) => `${g.gatewayId}: ${l}`));
  return lines.length > 0 ? lines : 0;
}

function codesOf(load: LoadResult, code: string): number {
  return Object.values(load.codes).reduce((n, counts) => n + (counts[code] ?? 0), 0);
}

/**
 * After a load: waits until every hold in the log has run out (and its release had time to
 * be written), folds the log, compares it with what clients were told, and asks each gateway
 * for every reference told and for the seat map.
 */
async function judgeLoad(nats: TestNats, gateways: GatewayProcess[], load: LoadResult, wrongRefusals: readonly WrongRefusal[] = []) {
  const first = await readLog(nats.url);
  const lastExpiry = Math.max(0, ...first.filter((e) => e.type === 'SeatHeld').map((e) => Date.parse((e.data as { expiresAt: string }).expiresAt)));
  await sleep(Math.max(0, lastExpiry - Date.now()) + 2_000);
  const log = await readLog(nats.url);
  const audit = auditLog(log, CATALOG);
  const comparison = compareWithLog(audit, { booked: load.booked, cancelled: new Set() });
  const ended = new Set<string>();
  const held = new Set<string>();
  const expiryLagMs: number[] = [];
  const expiresAt = new Map<string, number>();
  for (const e of log) {
    if (e.type === 'SeatHeld') {
      held.add(e.data.hold);
      expiresAt.set(e.data.hold, Date.parse(e.data.expiresAt));
    }
    if (e.type === 'SeatBooked') ended.add(e.data.hold);
    if (e.type === 'SeatReleased') {
      ended.add(e.data.hold);
      if (e.data.reason === 'expired') expiryLagMs.push(Date.parse(e.at) - (expiresAt.get(e.data.hold) ?? Date.parse(e.at)));
    }
  }
  const unended = [...held].filter((h) => !ended.has(h));
  // Holds stored that no client was told of (a reply lost or refused): how each went, event by event.
  const untold = [...held].filter((h) => !load.holds.has(h));
  const story = (hold: string) =>
    log
      .filter((e) => e.type !== 'BookingCancelled' && e.data.hold === hold)
      .map((e) => `#${e.seq} ${e.type} seat ${e.data.seat} by ${e.source} at ${e.at.slice(11, 23)}${e.type === 'SeatHeld' ? ` expiresAt ${e.data.expiresAt.slice(11, 23)}` : e.type === 'SeatReleased' ? ` (${e.data.reason})` : ''}`)
      .join(', ');
  const finalMap = mapOf(audit.states.get(CONCERT)!, Date.now());
  const lookups: Counts = {};
  const checkers = await Promise.all(gateways.map((g) => GuichetClient.connect({ port: g.port })));
  const found = await Promise.all(
    [...load.booked].flatMap(([reference, where]) =>
      checkers.map(async (c) => {
        const r = await settle(c.request<{ seat: number }>('LOOKUP', reference, 'Hopper'), BOUND_MS);
        tally([r.ok ? (r.value.seat === where.seat ? 'OK' : 'WRONG_SEAT') : r.code], lookups);
        return r.ok && r.value.seat === where.seat;
      }),
    ),
  );
  const maps = await Promise.all(checkers.map((c) => settle(c.request<{ map: string }>('SEATS', CONCERT), BOUND_MS)));
  closeAll(checkers);
  return {
    log,
    audit,
    comparison,
    unended,
    finalMap,
    lookups,
    allFound: found.every(Boolean),
    wrongRefusals,
    maps: maps.map((m) => (m.ok ? m.value.map : `ERR ${m.ok ? '' : m.code}`)),
    figures: {
      'log events': sortedCounts(audit.byType),
      'log events by source': sortedCounts(tally(log.map((e) => e.source))),
      'bookings lost': comparison.lost.length,
      'double bookings': audit.doubleBookings.length,
      'double holds': audit.doubleHolds.length,
      'booked without a live hold': audit.bookedWithoutLiveHold.length,
      'events stored twice': audit.duplicateIds.length + audit.duplicatedPerHold.length,
      'bookings in the log no client was told of (reply lost)': comparison.bookedButNotTold,
      'LOOKUPs of told references (each gateway)': sortedCounts(lookups),
      'holds never ended': unended.length,
      'holds in the log no client was told of': untold.length,
      'their events (first 3)': untold.slice(0, 3).map(story),
      'BOOKs of a live hold refused NO_SUCH_HOLD': wrongRefusals.length,
      'those holds (first 3): through, sent/answered, then the log': wrongRefusals
        .slice(0, 3)
        .map((w) => `${w.gateway}, ${new Date(w.sentAt).toISOString().slice(11, 23)}/${new Date(w.answeredAt).toISOString().slice(11, 23)}: ${story(w.hold)}`),
      'expiry release lag ms p50/max': expiryLagMs.length ? `${Math.round(percentile(expiryLagMs, 50))}/${Math.round(Math.max(...expiryLagMs))}` : 'none',
      'held seats left on the map': (finalMap.match(/h/g) ?? []).length,
    },
  };
}

/** The checks every load scenario makes once its figures are printed. */
function assertJudged(judged: Awaited<ReturnType<typeof judgeLoad>>, load: LoadResult, gateways: GatewayProcess[]): void {
  assert.is(load.timeouts, 0, 'every request settled within the bound');
  assertLogKeptPromises(judged.audit, judged.comparison);
  assert.equal(judged.comparison.wrongSeat, [], 'every reference is on the seat the client was told');
  assert.ok(judged.allFound, `every gateway finds every reference told, on its seat: ${JSON.stringify(judged.lookups)}`);
  assert.equal(judged.unended, [], 'every hold in the log ends: booked or released');
  assert.is((judged.finalMap.match(/h/g) ?? []).length, 0, 'no seat is left held after the holds ran out');
  for (const map of judged.maps) assert.is(map, judged.finalMap, 'each gateway shows the seats the whole log folds to');
  assert.is(codesOf(load, 'INTERNAL'), 0, 'no request answered INTERNAL');
  assert.equal(judged.wrongRefusals, [], 'no BOOK of a hold told and still live is refused NO_SUCH_HOLD');
  assert.is(load.codes.BOOK?.OK ?? 0, load.booked.size);
  assert.ok(load.booked.size > 100, 'bookings went through (else this proves nothing)');
  for (const g of gateways) assert.equal(g.errors, [], `${g.gatewayId} logged no error`);
}

interface PairCtx {
  nats: TestNats;
  owner: GatewayProcess;
  other: GatewayProcess;
  owners: OwnersWatch;
  extra: GatewayProcess[];
}

/** A nats-server, two gateway processes (the concert's owner and the other) and a watch on the bucket. */
function withTwoGateways(s: ReturnType<typeof suite<PairCtx>>, ids: [string, string]): void {
  s.before(async (ctx) => {
    ctx.extra = [];
    ctx.nats = await startNats();
    const concerts = await writeCatalog(CATALOG);
    const [a, b] = await Promise.all(ids.map((gatewayId) => startGatewayProcess({ natsUrl: ctx.nats.url, concerts, gatewayId, ...GATEWAY_ARGS })));
    const owner = preferredOwner(CONCERT, ids);
    [ctx.owner, ctx.other] = owner === a!.gatewayId ? [a!, b!] : [b!, a!];
    ctx.owners = await watchOwners(ctx.nats);
    await waitFor(`the concert owned by ${owner}`, 10_000, () => ctx.owners.ownerOf(CONCERT) === owner);
  });
  s.after(async (ctx) => {
    await ctx.owners?.stop();
    for (const g of [ctx.owner, ctx.other, ...(ctx.extra ?? [])]) {
      if (g?.pid !== undefined && g.alive) process.kill(g.pid, 'SIGCONT');
    }
    await Promise.all([ctx.owner, ctx.other, ...(ctx.extra ?? [])].map((g) => g?.stop()));
    await ctx.nats?.stop();
  });
}

// ================================================================== 1. the owner killed

const Kill = suite<PairCtx>("faults: the concert's owner killed with SIGKILL under load");
withTwoGateways(Kill, ['gw-own-a', 'gw-own-b']);

Kill('kill -9 of the owner: the other takes the concert, nothing lost or sold twice, bookings pause less than lease + 5 s', (ctx) =>
  within(150_000, 'owner kill', async () => {
    const KILL_AT_MS = 2_500;
    const DOWN_MS = 1_500;
    const t = { killedAt: 0, restartBeganAt: 0, restartedAt: 0 };
    const chaos = (async () => {
      await sleep(KILL_AT_MS);
      await ctx.owner.kill('SIGKILL');
      t.killedAt = Date.now();
      await sleep(DOWN_MS);
      t.restartBeganAt = Date.now();
      await ctx.owner.start();
      t.restartedAt = Date.now();
    })();
    chaos.catch(() => undefined);
    const { load, marks, wrongRefusals, failures, started, ended } = await timedLoad([ctx.owner, ctx.other], { durationMs: 8_000 });
    await chaos;
    const judged = await judgeLoad(ctx.nats, [ctx.owner, ctx.other], load, wrongRefusals);

    const survivor = ctx.other.gatewayId;
    const downEvents = sourcesBetween(judged.log, t.killedAt, t.restartBeganAt);
    const survivorMarks = marks.filter((m) => m.gateway === survivor);
    const survivorBooksWhileDown = survivorMarks.filter((m) => m.at > t.killedAt && m.at < t.restartBeganAt).length;
    const moves = ctx.owners.moves(CONCERT, started);
    const takeOver = moves.find((m) => m.at >= t.killedAt && m.owner === survivor);
    const takeBack = moves.find((m) => m.at >= t.restartBeganAt && m.owner === ctx.owner.gatewayId);
    const pauseAll = longestPause(marks, started, ended);
    const pauseSurvivor = longestPause(survivorMarks, started, ended);
    await report("the concert's owner killed (SIGKILL)", {
      owner: `${ctx.owner.gatewayId} (killed), other: ${survivor}`,
      workers: `${WORKERS / 2} on each gateway`,
      'killed / restart began / listening at s': `${rel(t.killedAt, started)} / ${rel(t.restartBeganAt, started)} / ${rel(t.restartedAt, started)}`,
      'owner moves in guichet_owners (s: owner)': moves.map((m) => `${rel(m.at, started)}: ${m.owner ?? 'none'}`).join(', '),
      'take-over after the kill ms': takeOver ? takeOver.at - t.killedAt : 'never',
      ...loadFigures(load),
      'UNAVAILABLE and INTERNAL replies, by gateway, verb and message': failures,
      'events written while the owner was down, by source': downEvents,
      "survivor's workers' bookings while the owner was down": survivorBooksWhileDown,
      'longest pause between two bookings, all workers': describePause(pauseAll),
      'longest stretch one worker went without a booking': longestWorkerStall(marks, started, ended),
      "longest pause between two bookings, survivor's workers": describePause(pauseSurvivor),
      ...judged.figures,
      'gateway errors logged': errorLines([ctx.owner, ctx.other]),
    });

    assertJudged(judged, load, [ctx.owner, ctx.other]);
    assert.ok(takeOver, 'the survivor took the lease of the concert after the kill');
    assert.ok(takeOver!.at - t.killedAt < LEASE_MS + 2_000, 'within the lease (and some)');
    assert.ok(takeBack, 'the restarted owner took the concert back (it is preferred)');
    assert.ok(Object.keys(downEvents).length > 0, 'events were written while the owner was down');
    assert.equal(Object.keys(downEvents), [survivor], 'every event written while the owner was down is the survivor\'s');
    assert.ok(survivorBooksWhileDown > 0, "bookings went through on the survivor's workers while the owner was down");
    assert.ok(pauseAll.ms < PAUSE_LIMIT_MS, `longest pause (all workers) ${pauseAll.ms} ms < ${PAUSE_LIMIT_MS}`);
    assert.ok(pauseSurvivor.ms < PAUSE_LIMIT_MS, `longest pause (survivor's workers) ${pauseSurvivor.ms} ms < ${PAUSE_LIMIT_MS}`);
    assert.ok(load.reconnects > 0, "the killed owner's workers reconnected to it once restarted");
  }),
);

Kill.run();

// ================================================================== 2. the owner frozen past its lease

const Freeze = suite<PairCtx>("faults: the concert's owner frozen (SIGSTOP) past its lease, then resumed");
withTwoGateways(Freeze, ['gw-stop-a', 'gw-stop-b']);

Freeze('SIGSTOP of the owner for 5 s: the other takes over, two believe they own it for a while, nothing sold twice', (ctx) =>
  within(180_000, 'owner freeze', async () => {
    const STOP_AT_MS = 2_000;
    const FROZEN_MS = 5_000;
    const t = { stoppedAt: 0, contAt: 0 };
    const chaos = (async () => {
      await sleep(STOP_AT_MS);
      process.kill(ctx.owner.pid!, 'SIGSTOP');
      t.stoppedAt = Date.now();
      await sleep(FROZEN_MS);
      // Taken before the signal: the resumed gateway may date an event before this line runs again.
      t.contAt = Date.now();
      process.kill(ctx.owner.pid!, 'SIGCONT');
    })();
    chaos.catch(() => undefined);
    // Requests of the frozen gateway's workers (and those forwarded to it) wait for it.
    const { load, marks, wrongRefusals, failures, started, ended } = await timedLoad([ctx.owner, ctx.other], { durationMs: 11_000, boundMs: BOUND_MS + FROZEN_MS });
    await chaos;
    const judged = await judgeLoad(ctx.nats, [ctx.owner, ctx.other], load, wrongRefusals);

    const frozen = ctx.owner.gatewayId;
    const other = ctx.other.gatewayId;
    // From 50 ms after the signal: the gateway may date an event while SIGSTOP is on its way.
    const frozenEvents = sourcesBetween(judged.log, t.stoppedAt + 50, t.contAt);
    const moves = ctx.owners.moves(CONCERT, started);
    const takeOver = moves.find((m) => m.at >= t.stoppedAt && m.owner === other);
    const afterCont = (g: string) => marks.filter((m) => m.gateway === g && m.at > t.contAt + 500).length;
    const otherMarks = marks.filter((m) => m.gateway === other);
    const pauseAll = longestPause(marks, started, ended);
    const pauseOther = longestPause(otherMarks, started, ended);
    // Per event sequence, who wrote it, in the stretch where both may have believed they owned the concert.
    const overlapEnd = (moves.find((m) => m.at > t.contAt && m.owner !== other)?.at ?? t.contAt + LEASE_MS) + 1_000;
    const overlap = sourcesBetween(judged.log, t.contAt - 1, overlapEnd);
    await report("the concert's owner frozen (SIGSTOP) past its lease", {
      owner: `${frozen} (frozen), other: ${other}`,
      workers: `${WORKERS / 2} on each gateway`,
      'frozen / resumed at s': `${rel(t.stoppedAt, started)} / ${rel(t.contAt, started)} (lease ${LEASE_S} s)`,
      'owner moves in guichet_owners (s: owner)': moves.map((m) => `${rel(m.at, started)}: ${m.owner ?? 'none'}`).join(', '),
      'take-over after the freeze ms': takeOver ? takeOver.at - t.stoppedAt : 'never',
      ...loadFigures(load),
      'UNAVAILABLE and INTERNAL replies, by gateway, verb and message': failures,
      'events written during the freeze, by source': frozenEvents,
      'events written from the resume until the concert settled, by source': overlap,
      'bookings answered after the resume (+0.5 s), by gateway': { [frozen]: afterCont(frozen), [other]: afterCont(other) },
      'longest pause between two bookings, all workers': describePause(pauseAll),
      'longest stretch one worker went without a booking': longestWorkerStall(marks, started, ended),
      "longest pause between two bookings, the other gateway's workers": describePause(pauseOther),
      ...judged.figures,
      'gateway errors logged': errorLines([ctx.owner, ctx.other]),
      'warnings of the frozen gateway': ctx.owner.stderr.split('\n').filter((l) => /WARN/.test(l)).slice(-5),
    });

    assertJudged(judged, load, [ctx.owner, ctx.other]);
    assert.ok(takeOver, 'the other gateway took the lease of the concert during the freeze');
    assert.ok((frozenEvents[other] ?? 0) > 0, 'the other gateway wrote events during the freeze (it took over)');
    assert.is(frozenEvents[frozen] ?? 0, 0, 'nothing the frozen gateway decided is dated inside its freeze');
    assert.ok(afterCont(frozen) > 0, "the frozen gateway's workers book again after the resume");
    assert.ok(afterCont(other) > 0, "the other gateway's workers book after the resume");
    assert.ok(pauseAll.ms < FROZEN_MS + PAUSE_LIMIT_MS, `longest pause (all workers) ${pauseAll.ms} ms < freeze + lease + 5 s`);
  }),
);

Freeze.run();

// ================================================================== 3. a gateway joins and leaves

const Join = suite<PairCtx>('faults: a gateway preferred for the concert joins under load, then leaves (SIGTERM)');
withTwoGateways(Join, ['gw-join-a', 'gw-join-b']);

/** The first of gw-join-0, gw-join-1, … that placement prefers for the concert over the two others. */
function joinerId(ids: readonly string[]): string {
  for (let i = 0; ; i++) {
    const candidate = `gw-join-${i}`;
    if (preferredOwner(CONCERT, [...ids, candidate]) === candidate) return candidate;
  }
}

Join('a joiner takes the concert and hands it back when it stops; nothing lost or sold twice; short pauses', (ctx) =>
  within(150_000, 'join and leave', async () => {
    const JOIN_AT_MS = 2_000;
    const LEAVE_AT_MS = 5_000;
    const ids = [ctx.owner.gatewayId, ctx.other.gatewayId];
    const joinerName = joinerId(ids);
    const concerts = await writeCatalog(CATALOG);
    const t = { joinBeganAt: 0, joinedAt: 0, stopBeganAt: 0, stoppedAt: 0 };
    let joiner: GatewayProcess | undefined;
    const loadStart = Date.now();
    const chaos = (async () => {
      await sleep(JOIN_AT_MS);
      t.joinBeganAt = Date.now();
      joiner = await startGatewayProcess({ natsUrl: ctx.nats.url, concerts, gatewayId: joinerName, ...GATEWAY_ARGS });
      ctx.extra.push(joiner);
      t.joinedAt = Date.now();
      await sleep(Math.max(0, loadStart + LEAVE_AT_MS - Date.now()));
      t.stopBeganAt = Date.now();
      await joiner.stop();
      t.stoppedAt = Date.now();
    })();
    chaos.catch(() => undefined);
    const { load, marks, wrongRefusals, failures, started, ended } = await timedLoad([ctx.owner, ctx.other], { durationMs: 9_000 });
    await chaos;
    const judged = await judgeLoad(ctx.nats, [ctx.owner, ctx.other], load, wrongRefusals);

    const moves = ctx.owners.moves(CONCERT, started);
    const taken = moves.find((m) => m.owner === joinerName);
    const given = moves.find((m) => m.at > (taken?.at ?? Infinity) && m.owner !== joinerName);
    const back = moves.find((m) => m.at > (taken?.at ?? Infinity) && m.owner !== undefined && m.owner !== joinerName);
    const around = (at: number | undefined) => (at === undefined ? undefined : longestPause(marks, started, ended, [at - 1_000, at + 1_000]));
    const pauseJoin = around(taken?.at);
    const pauseLeave = around(given?.at);
    const pauseAll = longestPause(marks, started, ended);
    const joinerEvents = judged.log.filter((e) => e.source === joinerName);
    const afterStop = sourcesBetween(judged.log, t.stoppedAt, Infinity);
    await report('a gateway joins under load, then leaves (SIGTERM)', {
      gateways: `${ids.join(', ')} (owner ${ctx.owner.gatewayId}), joiner ${joinerName} (no workers)`,
      workers: `${WORKERS / 2} on each of the two`,
      'join began / listening / stop began / stopped at s': [t.joinBeganAt, t.joinedAt, t.stopBeganAt, t.stoppedAt].map((x) => rel(x, started)).join(' / '),
      'owner moves in guichet_owners (s: owner)': moves.map((m) => `${rel(m.at, started)}: ${m.owner ?? 'none'}`).join(', '),
      ...loadFigures(load),
      'UNAVAILABLE and INTERNAL replies, by gateway, verb and message': failures,
      'events written by the joiner': sortedCounts(tally(joinerEvents.map((e) => e.type))),
      'events written while the joiner owned the concert, by source': taken && given ? sourcesBetween(judged.log, taken.at, given.at) : 'n/a',
      'events written after the joiner stopped, by source': afterStop,
      'longest pause around the join (take-over ±1 s)': pauseJoin ? describePause(pauseJoin) : 'no move',
      'longest pause around the leave (hand-over ±1 s)': pauseLeave ? describePause(pauseLeave) : 'no move',
      'longest pause between two bookings, all workers': describePause(pauseAll),
      'longest stretch one worker went without a booking': longestWorkerStall(marks, started, ended),
      ...judged.figures,
      'gateway errors logged': errorLines([ctx.owner, ctx.other, ...(joiner ? [joiner] : [])]),
    });

    assertJudged(judged, load, [ctx.owner, ctx.other]);
    assert.ok(taken, 'the joiner took the lease of the concert');
    assert.ok(taken!.at < t.stopBeganAt, 'while it lived');
    assert.ok(given && given.at <= t.stoppedAt + 500, 'and handed it over when it stopped, at once');
    assert.ok(back && back.at - t.stoppedAt < LEASE_MS + 1_000, 'a or b owns the concert again');
    assert.ok(joinerEvents.length > 0, 'the joiner wrote events while it owned the concert');
    assert.ok(joinerEvents.every((e) => Date.parse(e.at) >= t.joinBeganAt && Date.parse(e.at) <= t.stoppedAt), "the joiner's events are dated within its life");
    assert.ok(Object.keys(afterStop).length > 0, 'events were written after the joiner stopped');
    for (const source of Object.keys(afterStop)) assert.ok(ids.includes(source), `events after the joiner stopped come from a or b, not ${source}`);
    assert.ok(pauseJoin && pauseJoin.ms < PAUSE_LIMIT_MS, `pause around the join ${pauseJoin?.ms} ms < ${PAUSE_LIMIT_MS}`);
    assert.ok(pauseLeave && pauseLeave.ms < PAUSE_LIMIT_MS, `pause around the leave ${pauseLeave?.ms} ms < ${PAUSE_LIMIT_MS}`);
    assert.ok(pauseAll.ms < PAUSE_LIMIT_MS, `longest pause ${pauseAll.ms} ms < ${PAUSE_LIMIT_MS}`);
    assert.equal(joiner?.errors ?? [], [], 'the joiner logged no error');
    // A move made in good order costs no answer: nobody waits for a gateway that left.
    assert.equal(failures, {}, 'no request answered UNAVAILABLE (or INTERNAL) across the join and the leave');
    assert.ok(load.maxLatencyMs < PAUSE_LIMIT_MS, `the slowest request took ${Math.round(load.maxLatencyMs)} ms < ${PAUSE_LIMIT_MS}`);
  }),
);

Join.run();

// ================================================================== 4. overlapping groups through three gateways

interface TrioCtx {
  nats: TestNats;
  gateways: GatewayProcess[];
  clients: GuichetClient[];
  owners: OwnersWatch;
}

const GROUP_CLIENTS = 60;
const ROUNDS = 20;
const GROUP_CATALOG: Concert[] = [{ id: 'groups', title: 'Groups', venue: 'Hall', date: '2027-06-01T20:00:00Z', capacity: 10 * ROUNDS + 20 }];

const Groups = suite<TrioCtx>('faults: overlapping group holds through three gateways (one owner)');

Groups.before(async (ctx) => {
  ctx.clients = [];
  ctx.nats = await startNats();
  const concerts = await writeCatalog(GROUP_CATALOG);
  const ids = ['gw-grp-0', 'gw-grp-1', 'gw-grp-2'];
  ctx.gateways = await Promise.all(ids.map((gatewayId) => startGatewayProcess({ natsUrl: ctx.nats.url, concerts, gatewayId, serverArgs: ['--owner-lease', String(LEASE_S)] })));
  ctx.owners = await watchOwners(ctx.nats);
  const owner = preferredOwner('groups', ids);
  await waitFor(`the concert owned by ${owner}`, 10_000, () => ctx.owners.ownerOf('groups') === owner);
});

Groups.after(async (ctx) => {
  closeAll(ctx.clients ?? []);
  await ctx.owners?.stop();
  await Promise.all((ctx.gateways ?? []).map((g) => g.stop()));
  await ctx.nats?.stop();
});

/** Client i's group of round seat x: 2 to 4 adjacent seats, x among them at a place of its own. */
function groupOf(i: number, x: number): number[] {
  const size = 2 + (i % 3);
  const offset = Math.floor(i / 3) % size;
  return Array.from({ length: size }, (_, k) => x - offset + k);
}

Groups('60 clients on 3 gateways hold groups sharing one seat at once: one winner per round, its group whole in one batch', (ctx) =>
  within(120_000, 'overlapping groups', async () => {
    ctx.clients = await connectMany(ctx.gateways.map((g) => g.port), GROUP_CLIENTS);
    const owner = ctx.owners.ownerOf('groups')!;
    const codes: Counts = {};
    const winsByGateway: Counts = {};
    const latencies: number[] = [];
    const winners: Array<{ x: number; hold: string; seats: number[]; gateway: string } | undefined> = [];
    const problems: string[] = [];
    const bookCodes: Counts = {};
    for (let round = 0; round < ROUNDS; round++) {
      const x = 10 + 10 * round;
      const results = await Promise.all(
        ctx.clients.map(async (c, i) => {
          const seats = groupOf(i, x);
          return { c, seats, r: await settle(c.request<{ hold: string; seats: number[] }>('HOLD', 'groups', ...seats), BOUND_MS) };
        }),
      );
      for (const { r } of results) {
        latencies.push(r.ms);
        tally([r.ok ? 'OK' : r.code], codes);
      }
      const won = results.filter((x) => x.r.ok);
      const lost = tally(results.filter((x) => !x.r.ok).map((x) => (x.r.ok ? '' : x.r.code)));
      if (won.length !== 1 || JSON.stringify(lost) !== JSON.stringify({ SEAT_TAKEN: GROUP_CLIENTS - 1 })) {
        problems.push(`round ${round} (seat ${x}): ${won.length} OK, losers ${JSON.stringify(lost)}`);
      }
      const w = won[0];
      if (w && w.r.ok) {
        tally([w.c.hello.gateway], winsByGateway);
        winners.push({ x, hold: w.r.value.hold, seats: w.r.value.seats, gateway: w.c.hello.gateway });
        if (JSON.stringify(w.r.value.seats) !== JSON.stringify(w.seats)) problems.push(`round ${round}: held ${w.r.value.seats} for ${w.seats}`);
        // The winner books its group, so that no client reaches its limit of seats held.
        const b = await settle(w.c.request('BOOK', w.r.value.hold, 'Ada', 'Lovelace'), BOUND_MS);
        tally([b.ok ? 'OK' : b.code], bookCodes);
      } else {
        winners.push(undefined);
      }
    }

    const log = await readLog(ctx.nats.url);
    const holds = new Map<string, StoredEvent[]>();
    for (const e of log) if (e.type === 'SeatHeld') holds.set(e.data.hold, [...(holds.get(e.data.hold) ?? []), e]);
    const logProblems: string[] = [];
    winners.forEach((w, round) => {
      const x = 10 + 10 * round;
      const covering = [...holds].filter(([, events]) => events.some((e) => e.data.seat === x));
      if (covering.length !== 1) logProblems.push(`round ${round}: ${covering.length} holds cover seat ${x} in the log`);
      const [hold, events] = covering[0] ?? [];
      if (!w || !events) return;
      if (hold !== w.hold) logProblems.push(`round ${round}: the hold in the log is ${hold}, the winner was told ${w.hold}`);
      const seats = events.map((e) => e.data.seat);
      const seqs = events.map((e) => e.seq);
      if (JSON.stringify(seats) !== JSON.stringify(w.seats)) logProblems.push(`round ${round}: the log holds ${seats}, the winner was told ${w.seats}`);
      if (seqs.some((s, i) => i > 0 && s !== seqs[i - 1]! + 1)) logProblems.push(`round ${round}: not one batch (${seqs.join(', ')})`);
    });
    const audit = auditLog(log, GROUP_CATALOG);
    const sources = sortedCounts(tally(log.map((e) => e.source)));
    await report('overlapping group holds through three gateways', {
      gateways: `${ctx.gateways.map((g) => g.gatewayId).join(', ')} (owner ${owner})`,
      clients: GROUP_CLIENTS,
      rounds: ROUNDS,
      'HOLD replies by code': sortedCounts(codes),
      'HOLD latency ms p50/p99/max': `${percentile(latencies, 50).toFixed(0)}/${percentile(latencies, 99).toFixed(0)}/${Math.max(...latencies).toFixed(0)}`,
      'winners by the gateway they came through': sortedCounts(winsByGateway),
      'winners BOOK replies': sortedCounts(bookCodes),
      'rounds not one OK and the rest SEAT_TAKEN': problems,
      'holds in the log': holds.size,
      'log events': sortedCounts(audit.byType),
      'log events by source': sources,
      'log problems (holds covering X, whole, one batch)': logProblems,
      'double holds / double bookings': `${audit.doubleHolds.length} / ${audit.doubleBookings.length}`,
    });

    assert.equal(problems, [], 'every round: exactly one OK, all the others SEAT_TAKEN');
    assert.equal(logProblems, [], "every round: one SeatHeld hold covering X in the log, the winner's, all its seats, one batch");
    assert.is(holds.size, ROUNDS, 'no other hold in the log');
    assert.equal(bookCodes, { OK: ROUNDS }, 'every winner booked its group');
    assert.equal(audit.doubleHolds, [], 'no seat held twice');
    assert.equal(audit.doubleBookings, [], 'no seat sold twice');
    assert.equal(Object.keys(sources), [owner], 'every event was written by the owner');
    for (const g of ctx.gateways) assert.equal(g.errors, [], `${g.gatewayId} logged no error`);
  }),
);

Groups.run();
