/**
 * Scenario 5 — slow and idle clients. Watchers that never read while tens of thousands of
 * events fan out: the gateway drops each (ERR SLOW_CONSUMER) once its unsent buffer passes
 * 1 MiB, and its memory stays bounded; a watcher that reads gets every event. A client that
 * pipelines requests and never reads the replies: memory bounded too. --max-connections
 * refuses the connection past the limit with ERR TOO_MANY_CONNECTIONS; --idle-timeout
 * closes an idle connection that watches nothing with ERR IDLE_TIMEOUT, and only that one.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GuichetClient, type SeatEvent } from '../../src/cli/client.js';
import { startNats, type TestNats } from '../support/nats.js';
import { client as clientOf, startNode } from '../support/guichet.js';
import { sampleMemory, startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { closeAll, deadline, mib, readLog, report, settle, sleep, sortedCounts, tally, within } from '../support/faults.js';

const CONCERT = 'jazz-nocturne'; // of the demo catalog the server starts with
const EVENTS = 10_000;
/** Past EVENTS, how far to go for the kernel's socket buffers to fill and the drop to happen. */
const MAX_EVENTS = 30_000;
const SLOW_WATCHERS = 10;
const WRITERS = 25;
const MAX_BUFFERED = 1 << 20;

const Slow = suite<{ nats: TestNats; gateways: GatewayProcess[] }>('faults: slow and idle clients');

Slow.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.gateways = [];
});

Slow.after(async (ctx) => {
  await Promise.all((ctx.gateways ?? []).map((g) => g.stop()));
  await ctx.nats?.stop();
});

async function gateway(ctx: { nats: TestNats; gateways: GatewayProcess[] }, options: { maxConnections?: number; idleTimeout?: number; onLog?: (line: string) => void } = {}) {
  // The writers HOLD and RELEASE the same seat in a loop, which the cool-down forbids one
  // address (docs/operations.md, "Per-address limits"): here it is off.
  const g = await startGatewayProcess({ natsUrl: ctx.nats.url, serverArgs: ['--hold-cool-down', '0'], ...options });
  ctx.gateways.push(g);
  return g;
}

async function rawSocket(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** Reads everything a socket still has, until the server closes it or `ms` pass. */
async function drainSocket(socket: Socket, ms: number): Promise<{ bytes: number; lines: string[]; closedByServer: boolean }> {
  let bytes = 0;
  let text = '';
  const lines: string[] = [];
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    text += chunk.toString('utf8');
    const parts = text.split('\n');
    text = parts.pop()!;
    for (const line of parts) lines.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
    if (lines.length > 100) lines.splice(0, lines.length - 100); // keep the last ones
  });
  socket.resume();
  const closed = await Promise.race([once(socket, 'close').then(() => true), deadline(ms).then(() => false)]);
  return { bytes, lines, closedByServer: closed };
}

/** HOLD and RELEASE in a loop on seats of their own until `count` events are written or `stop()` says so. */
async function writeEvents(port: number, count: number, stop: () => boolean): Promise<number> {
  const writers = await Promise.all(Array.from({ length: WRITERS }, () => GuichetClient.connect({ port })));
  let written = 0;
  await Promise.all(
    writers.map(async (c, i) => {
      while (written < count && !stop()) {
        const h = await settle(c.request<{ hold: string }>('HOLD', CONCERT, i + 1), 10_000);
        if (!h.ok) continue;
        written++;
        const r = await settle(c.request('RELEASE', h.value.hold), 10_000);
        if (r.ok) written++;
      }
    }),
  );
  closeAll(writers);
  return written;
}

Slow('watchers that never read: dropped with ERR SLOW_CONSUMER past 1 MiB, memory bounded; a reading watcher gets every event', (ctx) =>
  within(180_000, 'slow watchers', async () => {
    // A dropped watcher that still reads nothing is cut off 5 s after its drop (session.ts),
    // its ERR line unread. So each one starts reading when the gateway says it dropped it (the
    // warning names its port), not once every event is written: below ~1,000 events/s, the
    // events written after the drops took longer than those 5 s.
    const slowByPort = new Map<number, Socket>();
    const drains = new Map<Socket, ReturnType<typeof drainSocket>>();
    const drain = (s: Socket) => drains.get(s) ?? drains.set(s, drainSocket(s, 10_000)).get(s)!;
    const onLog = (line: string) => {
      const port = /:(\d+) dropped as a slow consumer/.exec(line)?.[1];
      const s = port === undefined ? undefined : slowByPort.get(Number(port));
      if (s) void drain(s);
    };
    const g = await gateway(ctx, { onLog });
    const baseline = await g.memory();
    const memory = sampleMemory(g.pid, 100);
    const reader = await GuichetClient.connect({ port: g.port });
    const seen: number[] = [];
    reader.on('event', (e: SeatEvent) => seen.push(e.seq));
    await reader.request('WATCH', CONCERT);
    const slow = await Promise.all(Array.from({ length: SLOW_WATCHERS }, () => rawSocket(g.port)));
    for (const s of slow) {
      slowByPort.set(s.localPort!, s);
      s.write(`WATCH ${CONCERT}\n`);
    }
    await sleep(300);
    for (const s of slow) s.pause(); // from now on they read nothing (until dropped)

    const started = performance.now();
    let written = await writeEvents(g.port, EVENTS, () => false);
    const at10k = { memory: await g.memory(), seconds: (performance.now() - started) / 1000 };
    // The kernel's socket buffers on loopback take a few MB before the gateway's own buffer
    // grows: go on until the slow watchers are dropped, MAX_EVENTS at most.
    written += await writeEvents(g.port, MAX_EVENTS - EVENTS, () => drains.size === SLOW_WATCHERS);
    const seconds = (performance.now() - started) / 1000;
    const peak = await memory.stop();
    const after = await g.memory();
    await eventually(() => seen.length >= written, 5_000);

    // Those never dropped are read now (and fail the assertions below).
    const drained = await Promise.all(slow.map(drain));
    const lastLines = drained.map((d) => d.lines.at(-1) ?? '');
    const lastSeqs = drained.map((d) => {
      const last = [...d.lines].reverse().find((l) => l.startsWith('EVENT '));
      return last ? (JSON.parse(last.slice(6)) as SeatEvent).seq : 0;
    });
    const log = (await readLog(ctx.nats.url)).filter((e) => e.concert === CONCERT);
    const expectedSeqs = log.map((e) => e.seq);
    const gaps = expectedSeqs.filter((seq) => !seen.includes(seq)).length;
    reader.close();

    await report('slow watchers', {
      'events fanned out': written,
      'events/s': Math.round(written / seconds),
      'watchers that never read': SLOW_WATCHERS,
      'gateway RSS MiB at start / after 10,000 events / peak / end': `${mib(baseline.rss)} / ${mib(at10k.memory.rss)} / ${mib(peak.peakRss)} / ${mib(after.rss)}`,
      'slow watchers closed by the gateway': drained.filter((d) => d.closedByServer).length,
      'their bytes received before the close (MiB, min/max)': `${mib(Math.min(...drained.map((d) => d.bytes)))}/${mib(Math.max(...drained.map((d) => d.bytes)))}`,
      'their last EVENT seq (min/max)': `${Math.min(...lastSeqs)}/${Math.max(...lastSeqs)}`,
      'their last line': sortedCounts(tally(lastLines.map((l) => (l.startsWith('EVENT ') ? 'EVENT …' : l.slice(0, 40))))),
      'reading watcher: events received / in the log': `${seen.length} / ${expectedSeqs.length}`,
      'reading watcher: events missed': gaps,
      'gateway errors logged': g.errors.length,
    });

    assert.ok(g.alive, 'the gateway is alive');
    assert.is(gaps, 0, 'the reading watcher got every event');
    assert.ok(drained.every((d) => d.closedByServer), 'every watcher that never reads is dropped');
    assert.ok(Math.max(...lastSeqs) < log.at(-1)!.seq, 'and gets no more events after the drop');
    // Loose: the whole process under 30,000 events; the heap test below is the precise one.
    assert.ok(peak.peakRss - baseline.rss < 256 * 1024 * 1024, 'gateway memory stays bounded');
    const untold = lastLines.filter((l) => !l.startsWith('ERR SLOW_CONSUMER'));
    assert.is(untold.length, 0, `each dropped watcher is told why (its last line is ERR SLOW_CONSUMER); ${untold.length} were not, e.g. ${untold[0]?.slice(0, 60)}`);
  }),
);

Slow('a client that pipelines requests and never reads the replies: memory bounded', (ctx) =>
  within(60_000, 'non-reading requesters', async () => {
    const g = await gateway(ctx);
    const before = await g.memory();
    const memory = sampleMemory(g.pid, 50);
    const clients = 20;
    const sockets = await Promise.all(Array.from({ length: clients }, () => rawSocket(g.port)));
    // 64 KiB each of HELP (5 bytes; its reply is ~1.4 KB), then nothing read, ever.
    const input = Buffer.from('HELP\n'.repeat(Math.floor(65_536 / 5)));
    for (const s of sockets) {
      s.pause();
      s.write(input);
    }
    await sleep(3_000);
    const peak = await memory.stop();
    const control = await GuichetClient.connect({ port: g.port });
    const ping = await settle(control.request('PING'), 2_000);
    control.close();
    sockets.forEach((s) => s.destroy());
    const growth = peak.peakRss - before.rss;

    await report('clients that never read their replies', {
      clients,
      'each sent': `${input.length} bytes (${input.length / 5} HELP requests)`,
      'gateway RSS MiB before / peak': `${mib(before.rss)} / ${mib(peak.peakRss)}`,
      'growth per client MiB': mib(growth / clients),
      'control PING': ping.ok ? `OK in ${ping.ms.toFixed(0)} ms` : ping.code,
    });

    assert.ok(g.alive, 'the gateway is alive');
    assert.ok(ping.ok, 'other clients are served');
    // The write buffer limit is 1 MiB: a few MiB per connection at most.
    assert.ok(growth / clients < 4 * MAX_BUFFERED, `at most 4 MiB per client that does not read (${mib(growth / clients)} MiB)`);
  }),
);

Slow('--max-connections: the connection past the limit gets ERR TOO_MANY_CONNECTIONS; a freed place is taken again', (ctx) =>
  within(60_000, 'max connections', async () => {
    const limit = 50;
    const g = await gateway(ctx, { maxConnections: limit });
    const admitted = await Promise.all(Array.from({ length: limit }, () => GuichetClient.connect({ port: g.port })));
    const extra = await Promise.all(Array.from({ length: 5 }, () => settle(GuichetClient.connect({ port: g.port }), 5_000)));
    const refusals = tally(extra.map((r) => (r.ok ? 'OK' : r.message.replace(/:.*/, '').trim())));
    const codes = extra.map((r) => (r.ok ? 'OK' : r.code));
    // The admitted ones are still served.
    const pings = await Promise.all(admitted.map((c) => settle(c.request('PING'), 2_000)));
    admitted[0]!.close();
    const again = await eventuallyConnect(g.port, 5_000);
    extra.forEach((r) => r.ok && r.value.close());

    await report('--max-connections', {
      limit,
      'connections admitted': admitted.length,
      'connections past the limit': `${extra.length}: ${JSON.stringify(sortedCounts(tally(codes)))}`,
      'their replies': sortedCounts(refusals),
      'admitted ones answering PING': pings.filter((p) => p.ok).length,
      'after one closes, a new connection': again ? 'admitted' : 'refused',
    });
    closeAll(admitted);
    again?.close();

    assert.equal(codes, ['TOO_MANY_CONNECTIONS', 'TOO_MANY_CONNECTIONS', 'TOO_MANY_CONNECTIONS', 'TOO_MANY_CONNECTIONS', 'TOO_MANY_CONNECTIONS']);
    assert.is(pings.filter((p) => p.ok).length, limit);
    assert.ok(again, 'a place freed is given to the next connection');
  }),
);

Slow('--idle-timeout: an idle connection is closed with ERR IDLE_TIMEOUT; a watcher and a talker stay', (ctx) =>
  within(60_000, 'idle timeout', async () => {
    const g = await gateway(ctx, { idleTimeout: 1 });
    const idle = await GuichetClient.connect({ port: g.port });
    const watcher = await GuichetClient.connect({ port: g.port });
    const talker = await GuichetClient.connect({ port: g.port });
    const unwatcher = await GuichetClient.connect({ port: g.port });
    const notices: Record<string, string[]> = { idle: [], watcher: [], talker: [], unwatcher: [] };
    const closedAt: Record<string, number> = {};
    const started = Date.now();
    for (const [name, c] of Object.entries({ idle, watcher, talker, unwatcher })) {
      c.on('notice', (e: { code: string }) => notices[name]!.push(e.code));
      c.on('close', () => (closedAt[name] = Date.now() - started));
    }
    await watcher.request('WATCH', CONCERT);
    await unwatcher.request('WATCH', CONCERT);
    const talking = (async () => {
      while (Date.now() - started < 4_000) {
        await talker.request('PING').catch(() => undefined);
        await sleep(400);
      }
    })();
    await sleep(1_500);
    // Watching no more: idle from now on.
    await unwatcher.request('UNWATCH');
    await talking;
    await sleep(500);

    await report('--idle-timeout 1', {
      'closed at ms (idle, unwatched at 1.5 s)': `${closedAt.idle ?? 'open'}, ${closedAt.unwatcher ?? 'open'}`,
      'notices': notices,
      'watcher after 4.5 s': watcher.closed ? 'closed' : 'open',
      'talker (PING every 0.4 s) after 4.5 s': talker.closed ? 'closed' : 'open',
    });
    closeAll([idle, watcher, talker, unwatcher]);

    assert.equal(notices.idle, ['IDLE_TIMEOUT'], 'the idle connection is told IDLE_TIMEOUT');
    assert.ok(closedAt.idle! >= 900 && closedAt.idle! < 2_500, `and closed after about 1 s (${closedAt.idle} ms)`);
    assert.equal(notices.unwatcher, ['IDLE_TIMEOUT'], 'a connection idle after UNWATCH is closed too');
    assert.ok(!watcher.closed, 'a quiet watcher stays');
    assert.ok(!talker.closed, 'a connection that talks stays');
  }),
);

Slow('memory per event stays flat: 10,000 HOLD/RELEASE events leave (almost) nothing behind on the heap', (ctx) =>
  within(120_000, 'heap per event', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    // In this process, so that the heap can be measured after a full collection.
    // On the NATS of the gateway processes above, which serve the demo catalog: another catalog on purpose.
    const node = await startNode(ctx.nats, { gatewayId: 'gw-heap', acceptCatalogChange: true, gateway: { addressLimits: { coolDownMs: 0 } } });
    const writers = await Promise.all(Array.from({ length: 10 }, () => clientOf(node)));
    const run = async (n: number) => {
      let events = 0;
      await Promise.all(
        writers.map(async (c, i) => {
          while (events < n) {
            const h = await c.request<{ hold: string }>('HOLD', 'c1', 50 + i);
            events++;
            await c.request('RELEASE', h.hold);
            events++;
          }
        }),
      );
      return events;
    };
    await run(2_000);
    const before = heap();
    const events = await run(10_000);
    const after = heap();
    closeAll(writers);
    await node.close();
    const perEvent = (after - before) / events;

    await report('heap per event', {
      events,
      'heap MiB after warm-up / after (full GC)': `${mib(before)} / ${mib(after)}`,
      'retained bytes per event': Math.round(perEvent),
      'at 1,000 events/s for a day, that is (GiB)': Math.round((perEvent * 1000 * 86_400) / 2 ** 30),
    });
    assert.ok(perEvent < 100, `at most 100 bytes retained per event (${Math.round(perEvent)})`);
  }),
);

async function eventually(ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(20);
}

async function eventuallyConnect(port: number, ms: number): Promise<GuichetClient | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await settle(GuichetClient.connect({ port, timeoutMs: 1_000 }), 2_000);
    if (r.ok) return r.value;
    await sleep(50);
  }
  return undefined;
}

Slow.run();
