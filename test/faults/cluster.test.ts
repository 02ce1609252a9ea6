/**
 * Scale-out: two gateways on different nodes of a 3-node NATS cluster, the stream replicated
 * R3. One node is killed (SIGKILL) in the middle of a stream of bookings and later restarted.
 * Prints the figures; fails on a double sale, a lost acknowledged booking, or bookings that
 * do not resume.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { connectNats } from '../../src/nats-connection.js';
import { GuichetClient, type SeatEvent } from '../../src/cli/client.js';
import type { Guichet } from '../../src/guichet.js';
import { openEventStore } from '../../src/events/open.js';
import { evolve, initialState, type ConcertState } from '../../src/actors/concert.js';
import type { Concert } from '../../src/catalog.js';
import { configureCluster, startCluster, type TestCluster } from '../support/cluster.js';
import { eventually, recordingLog, startNode } from '../support/guichet.js';

/** Enough seats for the whole load: with group commit the gateways sell several thousand a phase. */
const CAPACITY = 50_000;
const ARENA: Concert[] = [{ id: 'arena', title: 'Arena', venue: 'Loopback', date: '2027-06-01T20:00:00Z', capacity: CAPACITY }];

/**
 * Every client of this test is on 127.0.0.1, which stands for many people: the per-address
 * limits are lifted (docs/operations.md, "Per-address limits"). With them, the holds whose BOOK
 * failed during an election (kept for 120 s) reached the address's 32 seats, and from then on
 * every HOLD was refused HOLD_LIMIT: the load ran through every seat in seconds, unbooked.
 */
const ONE_ADDRESS_FOR_ALL = { addressLimits: { maxSeatsHeld: 1_000_000, coolDownMs: 0 } };

interface Ctx {
  cluster: TestCluster;
  a: Guichet;
  b: Guichet;
}

const Cluster = suite<Ctx>('several gateways on a three-node NATS cluster');

Cluster.before(async (ctx) => {
  ctx.cluster = await startCluster(3);
  const [n1, n2] = ctx.cluster.nodes;
  try {
    // Each gateway is given one node; the client learns the others from the cluster and fails over.
    ctx.a = await startNode(n1!.url, { gatewayId: 'gw-a', replicas: 3, catalog: ARENA, gateway: ONE_ADDRESS_FOR_ALL });
    ctx.b = await startNode(n2!.url, { gatewayId: 'gw-b', replicas: 3, catalog: ARENA, gateway: ONE_ADDRESS_FOR_ALL });
  } catch (err) {
    throw new Error(`${(err as Error).message}\nwhat the NATS nodes logged last:\n${ctx.cluster.logs()}`, { cause: err });
  }
});
Cluster.after(async (ctx) => {
  await ctx.a?.close().catch(() => undefined);
  await ctx.b?.close().catch(() => undefined);
  await ctx.cluster?.stop();
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

Cluster('the stream is replicated on three nodes', async ({ a }) => {
  const info = await a.store.jsm.streams.info('TICKETS');
  assert.is(info.config.num_replicas, 3);
  assert.is((info.cluster?.replicas?.length ?? 0) + 1, 3, 'a leader and two replicas');
});

Cluster('watchers on gateway A see bookings made through gateway B', async ({ a, b }) => {
  const watcher = await GuichetClient.connect({ port: a.gateway.port });
  const booker = await GuichetClient.connect({ port: b.gateway.port });
  const seen = new Map<number, number>();
  watcher.on('event', (e: SeatEvent) => e.type === 'SeatBooked' && seen.set(e.seat, performance.now()));
  await watcher.request('WATCH', 'arena');
  const delays: number[] = [];
  for (let seat = 4001; seat <= 4050; seat++) {
    const hold = await booker.request<{ hold: string }>('HOLD', 'arena', seat);
    const sent = performance.now();
    await booker.request('BOOK', hold.hold, 'Ada', 'Lovelace');
    await eventually(() => seen.has(seat), Boolean, 5_000);
    delays.push(seen.get(seat)! - sent);
  }
  delays.sort((x, y) => x - y);
  console.log(`  cross-gateway fan-out over 50 bookings: p50 ${percentile(delays, 50).toFixed(1)} ms, p99 ${percentile(delays, 99).toFixed(1)} ms (from BOOK sent on B to EVENT on A)`);
  // The target (p99 < 50 ms) is for a quiet machine; allow for a shared one without hiding a hang.
  assert.ok(percentile(delays, 99) < 500, `p99 ${percentile(delays, 99)} ms`);
  watcher.close();
  booker.close();
});

Cluster('nodes killed and restarted mid-load: bookings resume, one winner per seat, nothing acknowledged lost', async (ctx) => {
  const { a, b, cluster } = ctx;
  // Enough clients that each gateway's actor has commands waiting: it commits them in atomic
  // batches (group commit), replicated R3 like everything else.
  const pairs = 24;
  const clientsA = await Promise.all(Array.from({ length: pairs }, () => GuichetClient.connect({ port: a.gateway.port })));
  const clientsB = await Promise.all(Array.from({ length: pairs }, () => GuichetClient.connect({ port: b.gateway.port })));
  const told = new Map<number, { reference: string; gateway: string }[]>();
  const errors: Record<string, number> = {};
  const successTimes: number[] = [];
  let attempts = 0;
  let nextSeat = 1;
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  const phases: Array<{ what: string; node: string; killedAt: number; restartedAt: number; until: number }> = [];
  let running = true;

  async function attempt(c: GuichetClient, seat: number, gateway: string): Promise<void> {
    attempts++;
    try {
      const hold = await c.request<{ hold: string }>('HOLD', 'arena', seat);
      const booking = await c.request<{ reference: string; seat: number }>('BOOK', hold.hold, 'Grace', 'Hopper');
      told.set(seat, [...(told.get(seat) ?? []), { reference: booking.reference, gateway }]);
      successTimes.push(elapsed());
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'CLOSED';
      errors[code] = (errors[code] ?? 0) + 1;
      if (code === 'UNAVAILABLE') await new Promise((r) => setTimeout(r, 50));
    }
  }

  const loops = clientsA.map(async (ca, i) => {
    const cb = clientsB[i]!;
    while (running && nextSeat <= CAPACITY) {
      const seat = nextSeat++;
      // The same seat from both gateways at once: a race decided by the stream.
      await Promise.all([attempt(ca, seat, 'A'), attempt(cb, seat, 'B')]);
    }
  });
  const leader = async () => (await b.store.jsm.streams.info('TICKETS')).cluster?.leader;
  const chaos = (async () => {
    // First a follower, then the stream's leader: the two ways a node can fail.
    for (const what of ['follower', 'leader'] as const) {
      await new Promise((r) => setTimeout(r, 2_000));
      const current = await eventually(leader, Boolean, 20_000);
      const victim = cluster.nodes.find((n) => (what === 'leader') === (n.name === current))!;
      const phase = { what, node: victim.name, killedAt: elapsed(), restartedAt: 0, until: 0 };
      phases.push(phase);
      await victim.kill();
      await new Promise((r) => setTimeout(r, 3_000));
      phase.restartedAt = elapsed();
      await victim.start();
      // Wait until bookings flow again before the next failure (bounded).
      const before = successTimes.length;
      await eventually(() => successTimes.length > before + 10, Boolean, 30_000).catch(() => undefined);
      phase.until = elapsed();
    }
    running = false;
  })();
  await Promise.all([...loops, chaos]);
  [...clientsA, ...clientsB].forEach((c) => c.close());

  // Per phase: the longest stretch without a successful booking from the kill to the phase's
  // end (the stretch after its last booking included: bookings that stop for good are a pause).
  const pauses = phases.map((p) => {
    const within = successTimes.filter((t) => t >= p.killedAt && t <= p.until).sort((x, y) => x - y);
    const marks = [p.killedAt, ...within, p.until];
    let pause = 0;
    for (let i = 1; i < marks.length; i++) pause = Math.max(pause, marks[i]! - marks[i - 1]!);
    return { ...p, pause, resumed: within.length };
  });
  const doubles = [...told.values()].filter((list) => list.length > 1).length;

  // Read the log back and fold it.
  const nc = await connectNats(cluster.urls, {}, { maxReconnectAttempts: -1 });
  // Just after the leader's node came back, JetStream may still be electing: openEventStore waits.
  const store = await openEventStore(nc, { replicas: 3, waitMs: 30_000 });
  let state: ConcertState = initialState('arena', CAPACITY);
  const bookedPerSeat = new Map<number, number>();
  // Events of one batch: consecutive, of one gateway, decided at one instant.
  let run = '';
  let runLength = 0;
  let largestBatch = 0;
  await store.replay({
    onEvent: (e) => {
      const key = `${e.source} ${e.at}`;
      runLength = key === run ? runLength + 1 : 1;
      run = key;
      largestBatch = Math.max(largestBatch, runLength);
      state = evolve(state, e);
      if (e.type === 'SeatBooked') bookedPerSeat.set(e.data.seat, (bookedPerSeat.get(e.data.seat) ?? 0) + 1);
    },
  });
  await nc.close();
  let lost = 0;
  for (const [seat, list] of told) {
    const s = state.seats[seat - 1];
    if (!s || s.kind !== 'booked' || s.reference !== list[0]!.reference) lost++;
  }
  const soldTwice = [...bookedPerSeat.values()].filter((n) => n > 1).length;
  console.log(`  cluster: ${attempts} attempts, ${successTimes.length} bookings told, errors ${JSON.stringify(errors)}`);
  for (const p of pauses) {
    console.log(
      `  ${p.what} ${p.node} killed at ${(p.killedAt / 1000).toFixed(1)} s, restarted at ${(p.restartedAt / 1000).toFixed(1)} s: ` +
        `longest pause without a booking ${(p.pause / 1000).toFixed(2)} s, ${p.resumed} bookings until the next phase`,
    );
  }
  console.log(`  double sales told ${doubles}, in the log ${soldTwice}; acknowledged bookings lost ${lost}; largest batch ${largestBatch} events`);
  assert.ok(largestBatch > 1, 'the gateways committed batches of several decisions');
  assert.is(doubles, 0, 'no seat told sold to two clients');
  assert.is(soldTwice, 0, 'no seat booked twice in the log');
  assert.is(lost, 0, 'every acknowledged booking is in the log');
  for (const p of pauses) {
    assert.ok(p.resumed > 0, `bookings resumed after the ${p.what} was killed`);
    // A follower's loss costs a reconnect; a leader's, an election (NATS's Raft timeouts are seconds).
    assert.ok(p.pause < (p.what === 'follower' ? 5_000 : 15_000), `${p.what} pause ${p.pause} ms`);
  }
});

Cluster.run();

const Forming = suite('a gateway started before its NATS cluster has formed');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Forming('waits, saying why, and serves once the third node has joined', async () => {
  const cluster = await configureCluster(3);
  try {
    const [n1, n2, n3] = cluster.nodes;
    await n1!.start();
    const log = recordingLog();
    const started = performance.now();
    const starting = startNode(n1!.url, { gatewayId: 'gw-early', replicas: 3, catalog: ARENA, log, natsWaitMs: 60_000 });
    let up = false;
    starting.then(() => (up = true), () => undefined); // awaited below; not an unhandled rejection meanwhile
    // Alone, a node has no JetStream meta leader: requests time out (5 s) and the gateway says it waits.
    await eventually(() => log.warnings.length, (n) => n >= 1, 20_000);
    await n2!.start();
    await sleep(2_000);
    const upOnTwoNodes = up;
    await n3!.start();
    const thirdAt = performance.now();
    const node = await starting;
    const ready = performance.now();
    try {
      console.log(`  gateway ready ${((ready - started) / 1000).toFixed(1)} s after it started, ${((ready - thirdAt) / 1000).toFixed(1)} s after the third node; it said:`);
      for (const line of [...new Set(log.warnings.map((w) => w.replace(/\(\d+\.\d s so far\)/, '(…)')))]) console.log(`    ${line}`);
      assert.not.ok(upOnTwoNodes, 'an R3 stream cannot be placed on two nodes: the gateway cannot have been ready');
      // Besides the waiting, only the start-up line on the descriptor limit (20,000 here, as --max-connections).
      const others = log.warnings.filter((w) => !/^--max-connections \d+ lowered to \d+/.test(w));
      assert.ok(others.every((w) => w.startsWith('waiting for JetStream')), log.warnings.join('\n'));
      const c = await GuichetClient.connect({ port: node.gateway.port });
      const hold = await c.request<{ hold: string }>('HOLD', 'arena', 1);
      const booking = await c.request<{ reference: string }>('BOOK', hold.hold, 'Ada', 'Lovelace');
      assert.match(booking.reference, /^\d{10}$/);
      c.close();
      assert.is((await node.store.jsm.streams.info('TICKETS')).config.num_replicas, 3);
    } finally {
      await node.close();
    }
  } finally {
    await cluster.stop();
  }
});

Forming('gives up after the wait it was given, with the reason', async () => {
  const cluster = await configureCluster(3);
  try {
    await cluster.nodes[0]!.start();
    const started = performance.now();
    const err = await startNode(cluster.nodes[0]!.url, { replicas: 3, catalog: ARENA, natsWaitMs: 3_000 }).then(
      () => undefined,
      (e: Error) => e,
    );
    const took = performance.now() - started;
    console.log(`  alone, with --nats-wait 3: failed after ${(took / 1000).toFixed(1)} s: ${err?.message}`);
    assert.ok(err, 'a gateway started on a third of a cluster');
    assert.match(err!.message, /JetStream could not serve the TICKETS stream after waiting \d+\.\d s: timeout/);
    // A request times out after 5 s while there is no meta leader, so the last attempt may end past the wait.
    assert.ok(took < 3_000 + 6_000, `took ${took} ms`);
  } finally {
    await cluster.stop();
  }
});

Forming.run();
