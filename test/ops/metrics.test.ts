/**
 * /metrics of a real gateway under traffic: the counters move by the commands sent, the
 * gauges say the seats, connections and watchers there are, the appends are timed, and the
 * lag is nil once the gateway has caught up. Numbers are asserted, not only their presence.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { GuichetClient } from '../../src/cli/client.js';
import type { Guichet } from '../../src/guichet.js';
import { startOperations, type Operations } from '../../src/ops/operations.js';
import { readLag } from '../../src/ops/lag.js';
import { client, eventually, rejectsWith, startNats, startNode, type TestNats } from '../support/guichet.js';
import { sample, scrape, type Scrape } from '../support/scrape.js';

interface Ctx {
  nats: TestNats;
  ops: Operations;
  node: Guichet;
  base: string;
  open: GuichetClient[];
}

const Metrics = suite<Ctx>('metrics of a gateway under traffic');

Metrics.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.ops = await startOperations({ host: '127.0.0.1', port: 0 });
  ctx.base = `http://127.0.0.1:${ctx.ops.listener.port}`;
  ctx.node = await startNode(ctx.nats, ctx.ops.hooks({}));
  ctx.ops.attach(ctx.node);
  ctx.open = [];
});
Metrics.after.each((ctx) => {
  for (const c of ctx.open.splice(0)) c.close();
});
Metrics.after(async (ctx) => {
  ctx.ops?.stopping();
  await ctx.node?.close();
  await ctx.ops?.close();
  await ctx.nats?.stop();
});

async function connect(ctx: Ctx): Promise<GuichetClient> {
  const c = await client(ctx.node);
  ctx.open.push(c);
  return c;
}

/** How much a sample grew between two scrapes. */
const grew = (before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
const commands = (verb: string, result: string) => ['guichet_commands_total', { verb, result }] as const;

Metrics('commands by verb and result, their latency, appends and applied events move by what was sent', async (ctx) => {
  const c = await connect(ctx);
  const other = await connect(ctx);
  const before = await scrape(ctx.base);
  for (let i = 0; i < 3; i++) await c.request('PING');
  const { hold } = await c.request<{ hold: string }>('HOLD', 'c1', 7);
  await rejectsWith(other.request('HOLD', 'c1', 7), 'SEAT_TAKEN');
  const { reference } = await c.request<{ reference: string }>('BOOK', hold, 'Ada', 'Lovelace');
  await c.request('LIST'); // an alias: counted as CONCERTS
  await rejectsWith(c.request('FROB'), 'UNKNOWN_COMMAND');
  await rejectsWith(c.request('LOOKUP', reference, 'Babbage'), 'NOT_FOUND');
  await rejectsWith(c.request('LOOKUP', '1234567890', 'Babbage'), 'BAD_REFERENCE');
  await c.request('LOOKUP', reference, 'lovelace');
  const after = await scrape(ctx.base);

  assert.is(grew(before, after, ...commands('PING', 'OK')), 3);
  assert.is(grew(before, after, ...commands('HOLD', 'OK')), 1);
  assert.is(grew(before, after, ...commands('HOLD', 'SEAT_TAKEN')), 1);
  assert.is(grew(before, after, ...commands('BOOK', 'OK')), 1);
  assert.is(grew(before, after, ...commands('CONCERTS', 'OK')), 1);
  assert.is(grew(before, after, ...commands('UNKNOWN', 'UNKNOWN_COMMAND')), 1);
  assert.is(grew(before, after, ...commands('LOOKUP', 'NOT_FOUND')), 1);
  assert.is(grew(before, after, ...commands('LOOKUP', 'BAD_REFERENCE')), 1);
  assert.is(grew(before, after, ...commands('LOOKUP', 'OK')), 1);
  assert.is(grew(before, after, 'guichet_lookup_refusals_total', { verb: 'LOOKUP', reason: 'NOT_FOUND' }), 1);
  assert.is(grew(before, after, 'guichet_lookup_refusals_total', { verb: 'LOOKUP', reason: 'BAD_REFERENCE' }), 1);
  assert.is(grew(before, after, 'guichet_lookup_refusals_total', { verb: 'LOOKUP', reason: 'RATE_LIMITED' }), 0);
  // Every command is timed once: PING 3, HOLD 2, LOOKUP 3.
  assert.is(grew(before, after, 'guichet_command_duration_seconds_count', { verb: 'PING' }), 3);
  assert.is(grew(before, after, 'guichet_command_duration_seconds_count', { verb: 'HOLD' }), 2);
  assert.is(grew(before, after, 'guichet_command_duration_seconds_count', { verb: 'LOOKUP' }), 3);
  assert.ok(grew(before, after, 'guichet_command_duration_seconds_sum', { verb: 'BOOK' }) > 0, 'a BOOK takes time');
  // Two appends stored (the hold, the booking), one event each: plain publishes.
  assert.is(grew(before, after, 'guichet_append_duration_seconds_count', { kind: 'plain' }), 2);
  assert.is(grew(before, after, 'guichet_append_duration_seconds_count', { kind: 'batch' }), 0);
  assert.is(grew(before, after, 'guichet_append_events_count'), 2);
  assert.is(grew(before, after, 'guichet_append_events_sum'), 2);
  assert.is(grew(before, after, 'guichet_append_events_bucket', { le: '1' }), 2);
  assert.is(grew(before, after, 'guichet_events_applied_total'), 2);
});

Metrics('a hold of four seats is one batch of four events', async (ctx) => {
  const c = await connect(ctx);
  const before = await scrape(ctx.base);
  await c.request('HOLD', 'c1', 21, 22, 23, 24);
  const after = await scrape(ctx.base);
  assert.is(grew(before, after, 'guichet_append_duration_seconds_count', { kind: 'batch' }), 1);
  assert.is(grew(before, after, 'guichet_append_events_sum'), 4);
  assert.is(grew(before, after, 'guichet_append_events_bucket', { le: '2' }), 0);
  assert.is(grew(before, after, 'guichet_append_events_bucket', { le: '4' }), 1);
  assert.is(grew(before, after, 'guichet_events_applied_total'), 4);
});

Metrics('seats held and booked per concert, connections and watchers, as they are now', async (ctx) => {
  // The previous test's connection is closed: its hold is released before this one counts.
  const s0 = await eventually(() => scrape(ctx.base), (s) => sample(s, 'guichet_held_seats', { concert: 'c1' }) === 0);
  const held0 = sample(s0, 'guichet_held_seats', { concert: 'c2' });
  const booked0 = sample(s0, 'guichet_booked_seats', { concert: 'c2' });
  const connections0 = sample(s0, 'guichet_connections');
  const a = await connect(ctx);
  const b = await connect(ctx);
  await a.request('WATCH', 'c2');
  await b.request('WATCH', 'c2');
  await b.request('WATCH', 'c1');
  const { hold } = await a.request<{ hold: string }>('HOLD', 'c2', 1, 2);
  await a.request('HOLD', 'c2', 3);
  const s1 = await scrape(ctx.base);
  assert.is(sample(s1, 'guichet_connections') - connections0, 2);
  assert.is(sample(s1, 'guichet_watchers', { concert: 'c2' }), 2);
  assert.is(sample(s1, 'guichet_watchers', { concert: 'c1' }), 1);
  assert.is(sample(s1, 'guichet_held_seats', { concert: 'c2' }) - held0, 3);
  assert.is(sample(s1, 'guichet_free_seats', { concert: 'c2' }), 10 - sample(s1, 'guichet_held_seats', { concert: 'c2' }) - sample(s1, 'guichet_booked_seats', { concert: 'c2' }));
  await a.request('BOOK', hold, 'Ada', 'Lovelace');
  const s2 = await scrape(ctx.base);
  assert.is(sample(s2, 'guichet_held_seats', { concert: 'c2' }) - held0, 1);
  assert.is(sample(s2, 'guichet_booked_seats', { concert: 'c2' }) - booked0, 2);
  b.close();
  // Closing a connection ends its watching, and is seen at the next scrape.
  const s3 = await eventually(() => scrape(ctx.base), (s) => sample(s, 'guichet_watchers', { concert: 'c2' }) === 1);
  assert.is(sample(s3, 'guichet_watchers', { concert: 'c1' }), 0);
  assert.is(sample(s3, 'guichet_connections') - connections0, 1);
});

Metrics('the stream lag is nil once caught up, and the position is the stream end; the start is said', async (ctx) => {
  const end = (await ctx.node.store.position()).lastSeq;
  assert.ok(end > 0, 'events were stored');
  // (The last test's connection may still be releasing its hold: a scrape once all is read.)
  const s = await eventually(
    () => scrape(ctx.base),
    (m) => sample(m, 'guichet_stream_position') >= end && sample(m, 'guichet_stream_last_sequence') === sample(m, 'guichet_stream_position'),
  );
  assert.is(sample(s, 'guichet_stream_lag_events'), 0);
  assert.is(sample(s, 'guichet_stream_lag_seconds'), 0);
  assert.is(sample(s, 'guichet_available'), 1);
  // The only gateway decides every concert (it took their leases).
  assert.equal([sample(s, 'guichet_concert_owned', { concert: 'c1' }), sample(s, 'guichet_concert_owned', { concert: 'c2' })], [1, 1]);
  assert.is(sample(s, 'guichet_startup_replayed_events'), ctx.node.startup.events);
  assert.ok(sample(s, 'guichet_startup_seconds') > 0);
  assert.ok(s.has('process_cpu_seconds_total'), 'process metrics are there');
  assert.ok(s.has('nodejs_eventloop_lag_seconds'), 'event loop lag is there');
});

Metrics('the lag of a position behind the stream: the events after it, and the age of the first of them', async (ctx) => {
  const end = (await ctx.node.store.position()).lastSeq;
  const lag = await readLag(ctx.node.store, end - 2, 1_000, Date.now() + 5_000);
  assert.ok(lag);
  assert.is(lag!.events, 2);
  assert.ok(lag!.seconds >= 5, `the oldest unread event is at least 5 s old then (${lag!.seconds})`);
  const caughtUp = await readLag(ctx.node.store, end, 1_000);
  assert.equal({ lastSeq: caughtUp!.lastSeq, events: caughtUp!.events, seconds: caughtUp!.seconds }, { lastSeq: end, events: 0, seconds: 0 });
});

Metrics('a refused connection is counted by its reason', async (ctx) => {
  // A second gateway of one connection, with its own listener: the second client is refused.
  const ops = await startOperations({ host: '127.0.0.1', port: 0 });
  const node = await startNode(ctx.nats, { maxConnections: 1, ...ops.hooks({}) });
  ops.attach(node);
  try {
    const first = await client(node);
    ctx.open.push(first);
    await client(node).then(
      (c) => {
        c.close();
        throw new Error('the second connection was accepted');
      },
      () => undefined,
    );
    const s = await eventually(() => scrape(`http://127.0.0.1:${ops.listener.port}`), (m) => sample(m, 'guichet_connections_refused_total', { reason: 'TOO_MANY_CONNECTIONS' }) === 1);
    assert.is(sample(s, 'guichet_connections'), 1);
    assert.is(sample(s, 'guichet_connections_max'), 1);
  } finally {
    ops.stopping();
    await node.close();
    await ops.close();
  }
});

Metrics.run();
