/**
 * Scenario 4 — protocol fuzz. More than 100,000 generated inputs against one gateway
 * process: random bytes, invalid UTF-8, overlong lines, huge argument counts, near-valid
 * commands, pipelined floods, lines cut anywhere into partial writes, connections closed
 * abruptly (FIN or RST) mid-line. The gateway never crashes; every complete line gets its
 * reply (counted against a model) or the connection closes cleanly after QUIT; a control
 * connection keeps getting PING replies within a bound meanwhile.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { GuichetClient } from '../../src/cli/client.js';
import { parseReply } from '../../src/gateway/protocol.js';
import type { Concert } from '../../src/catalog.js';
import { startNats, type TestNats } from '../support/nats.js';
import { sampleMemory, startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { FuzzGenerator, encode, expectedReplies, type Input } from '../support/faults-fuzz.js';
import { deadline, mib, percentile, report, sleep, sortedCounts, tally, within, writeCatalog, type Counts } from '../support/faults.js';

const SEED = Number(process.env.GUICHET_FUZZ_SEED ?? Date.now() % 1_000_000);
const CHECKED_CONNECTIONS = 160;
const LINES_PER_CHECKED = 650;
const ABRUPT_CONNECTIONS = 120;
const LINES_PER_ABRUPT = 100;
const PARALLEL = 16;
/** The control connection's PING must come back within this, whatever the fuzz does. */
const CONTROL_BOUND_MS = 1_000;
/** A fuzz connection must have all its replies within this. */
const CONNECTION_BOUND_MS = 60_000;
const SENTINEL = '#fuzz-end.sentinel';
const CATALOG: Concert[] = [
  { id: 'f1', title: 'Fuzz One', venue: 'Hall', date: '2027-06-01T20:00:00Z', capacity: 100 },
  { id: 'f2', title: 'Fuzz Two', venue: 'Hall', date: '2027-06-01T20:00:00Z', capacity: 10 },
];

interface Ctx {
  nats: TestNats;
  gateway: GatewayProcess;
}

const Fuzz = suite<Ctx>('faults: protocol fuzz against one gateway');

Fuzz.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.gateway = await startGatewayProcess({
    natsUrl: ctx.nats.url,
    concerts: await writeCatalog(CATALOG),
    holdSeconds: 2,
    gatewayId: 'gw-fuzz',
  });
});

Fuzz.after(async (ctx) => {
  await ctx.gateway?.stop();
  await ctx.nats?.stop();
});

interface Tally {
  inputs: number;
  kinds: Counts;
  linesSent: number;
  linesOwed: number;
  replies: number;
  repliesByCode: Counts;
  malformed: string[];
  bytesSent: number;
  short: Array<{ connection: number; owed: number; got: number; how: string; closed: boolean }>;
  quitCloses: number;
  abrupt: number;
  serverClosedEarly: number;
}

/** Reads a socket's lines; counts replies (OK / ERR, tagged or not), skipping HELLO and EVENT. */
function replyCounter(socket: Socket, t: Tally) {
  let buffer: Buffer = Buffer.alloc(0);
  let replies = 0;
  let sentinel = false;
  let resolveSentinel!: () => void;
  const sawSentinel = new Promise<void>((r) => (resolveSentinel = r));
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    let nl: number;
    while ((nl = buffer.indexOf(0x0a)) >= 0) {
      const line = buffer.subarray(0, nl).toString('utf8');
      buffer = buffer.subarray(nl + 1);
      if (line.startsWith('HELLO ') || line.startsWith('EVENT ')) continue;
      if (line.startsWith(`${SENTINEL} `)) {
        sentinel = true;
        resolveSentinel();
        continue;
      }
      replies++;
      try {
        const r = parseReply(line);
        if (r.kind === 'ok') tally(['OK'], t.repliesByCode);
        else if (r.kind === 'err') tally([r.code], t.repliesByCode);
        else t.malformed.push(line.slice(0, 200));
      } catch {
        t.malformed.push(line.slice(0, 200));
      }
    }
  });
  return {
    get replies() {
      return replies;
    },
    get sentinel() {
      return sentinel;
    },
    sawSentinel,
  };
}

async function openSocket(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** Writes chunks one after the other, yielding between them (partial lines reach the server apart). */
async function writeChunks(socket: Socket, chunks: Buffer[], t: Tally): Promise<void> {
  for (const chunk of chunks) {
    if (socket.destroyed) return;
    t.bytesSent += chunk.length;
    if (!socket.write(chunk)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
    else if (chunks.length > 1) await new Promise((r) => setImmediate(r));
  }
}

async function checkedConnection(port: number, gen: FuzzGenerator, index: number, t: Tally): Promise<void> {
  const socket = await openSocket(port);
  const counter = replyCounter(socket, t);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const inputs: Input[] = Array.from({ length: LINES_PER_CHECKED }, () => gen.next());
  // One connection in ten says QUIT somewhere: the server answers it, then closes.
  const quitAt = gen.random() < 0.1 ? gen.int(inputs.length) : -1;
  let owed = 0;
  const parts: Buffer[] = [];
  for (const [i, input] of inputs.entries()) {
    if (i === quitAt) {
      parts.push(Buffer.from('QUIT\n'));
      owed++;
      break;
    }
    parts.push(encode(input));
    tally([input.kind], t.kinds);
    owed += expectedReplies(input);
  }
  const sent = quitAt >= 0 ? quitAt + 1 : inputs.length;
  if (quitAt < 0) parts.push(Buffer.from(`${SENTINEL} PING\n`));
  t.inputs += sent;
  t.linesSent += sent;
  t.linesOwed += owed;
  const stream = Buffer.concat(parts);
  // How it is written: one pipelined flood, small pieces cutting lines anywhere, or mid-size writes.
  const how = index % 3 === 0 ? 'flood' : index % 3 === 1 ? 'partial' : 'chunks';
  const chunks = how === 'flood' ? [stream] : gen.chunks(stream, how === 'partial' ? 16 : 2_048);
  await writeChunks(socket, chunks, t);
  const done = quitAt >= 0 ? closed : Promise.race([counter.sawSentinel, closed]);
  await Promise.race([done, deadline(CONNECTION_BOUND_MS)]);
  const closedByServer = quitAt < 0 && !counter.sentinel && (socket.destroyed || socket.readableEnded);
  if (closedByServer) t.serverClosedEarly++;
  if (quitAt >= 0 && (socket.destroyed || socket.readableEnded)) t.quitCloses++;
  t.replies += counter.replies;
  const complete = quitAt >= 0 ? socket.destroyed || socket.readableEnded : counter.sentinel;
  if (counter.replies !== owed || !complete) {
    t.short.push({ connection: index, owed, got: counter.replies, how, closed: closedByServer });
  }
  socket.destroy();
}

async function abruptConnection(port: number, gen: FuzzGenerator, t: Tally): Promise<void> {
  const socket = await openSocket(port);
  socket.on('data', () => undefined);
  const inputs = Array.from({ length: LINES_PER_ABRUPT }, () => gen.next());
  const stream = Buffer.concat(inputs.map(encode));
  // Cut anywhere, mid-line included, and close with FIN or with a reset.
  const cut = gen.int(stream.length);
  // Inputs sent whole or in part.
  let offset = 0;
  for (const input of inputs) {
    if (offset >= cut) break;
    tally([input.kind], t.kinds);
    t.inputs++;
    offset += input.bytes.length + input.terminator.length;
  }
  await writeChunks(socket, gen.chunks(stream.subarray(0, cut), 4_096), t);
  t.abrupt++;
  if (gen.random() < 0.5) socket.resetAndDestroy();
  else socket.destroy();
}

Fuzz(`≥ 100,000 generated inputs: no crash, a reply for every complete line, a control connection unaffected (seed ${SEED})`, (ctx) =>
  within(300_000, 'fuzz', async () => {
    const port = ctx.gateway.port;
    const gen = new FuzzGenerator(SEED, CATALOG.map((c) => c.id));
    const t: Tally = {
      inputs: 0,
      kinds: {},
      linesSent: 0,
      linesOwed: 0,
      replies: 0,
      repliesByCode: {},
      malformed: [],
      bytesSent: 0,
      short: [],
      quitCloses: 0,
      abrupt: 0,
      serverClosedEarly: 0,
    };
    const memory = sampleMemory(ctx.gateway.pid, 100);
    const before = await ctx.gateway.memory();

    // The control connection: a PING every 50 ms, each answered within the bound.
    const control = await GuichetClient.connect({ port });
    const controlLatencies: number[] = [];
    let controlFailures = 0;
    let fuzzing = true;
    const controlLoop = (async () => {
      while (fuzzing) {
        const started = performance.now();
        const r = await Promise.race([control.request('PING').then(() => 'OK', () => 'CLOSED'), deadline(CONTROL_BOUND_MS * 5).then(() => 'TIMEOUT')]);
        controlLatencies.push(performance.now() - started);
        if (r !== 'OK') controlFailures++;
        await sleep(50);
      }
    })();

    const started = performance.now();
    const jobs: Array<() => Promise<void>> = [
      ...Array.from({ length: CHECKED_CONNECTIONS }, (_, i) => () => checkedConnection(port, gen, i, t)),
      ...Array.from({ length: ABRUPT_CONNECTIONS }, () => () => abruptConnection(port, gen, t)),
    ];
    // Interleave the two kinds, PARALLEL connections at a time.
    jobs.sort(() => gen.random() - 0.5);
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    fuzzing = false;
    await controlLoop;
    const finalPing = await Promise.race([control.request('PING').then(() => 'OK', () => 'CLOSED'), deadline(CONTROL_BOUND_MS).then(() => 'TIMEOUT')]);
    control.close();
    const peak = await memory.stop();
    const after = await ctx.gateway.memory();

    await report('protocol fuzz', {
      seed: SEED,
      inputs: t.inputs,
      'inputs by kind': sortedCounts(t.kinds),
      'bytes sent (MiB)': mib(t.bytesSent),
      connections: `${CHECKED_CONNECTIONS} checked (flood / partial lines / chunks), ${ABRUPT_CONNECTIONS} closed abruptly mid-stream`,
      'complete lines sent on checked connections': t.linesSent,
      'replies owed (model) / received': `${t.linesOwed} / ${t.replies}`,
      'replies by code': sortedCounts(t.repliesByCode),
      'connections short of replies': t.short.length,
      'connections closed by the server without QUIT': t.serverClosedEarly,
      'clean closes after QUIT': t.quitCloses,
      'malformed replies': t.malformed.length,
      'control PING latency ms p50/p99/max': `${percentile(controlLatencies, 50).toFixed(1)}/${percentile(controlLatencies, 99).toFixed(1)}/${Math.max(...controlLatencies).toFixed(1)} over ${controlLatencies.length} PINGs`,
      'control failures': controlFailures,
      'gateway alive': ctx.gateway.alive,
      'gateway RSS MiB before / peak / after': `${mib(before.rss)} / ${mib(peak.peakRss)} / ${mib(after.rss)}`,
      'gateway errors logged': ctx.gateway.errors.length,
      'elapsed s': elapsed.toFixed(1),
      'inputs/s': Math.round(t.inputs / elapsed),
    });

    assert.ok(t.inputs >= 100_000, `at least 100,000 inputs (${t.inputs})`);
    assert.ok(ctx.gateway.alive, 'the gateway did not crash');
    assert.is(finalPing, 'OK', 'the gateway still answers');
    assert.equal(t.short.slice(0, 5), [], 'every complete line got its reply (or the connection closed cleanly after QUIT)');
    assert.is(t.replies, t.linesOwed, 'replies received = replies owed');
    assert.equal(t.malformed.slice(0, 5), [], 'every reply is a well-formed OK or ERR line');
    assert.is(t.repliesByCode.INTERNAL ?? 0, 0, 'no input makes an internal error');
    assert.is(controlFailures, 0, 'the control connection was never dropped');
    assert.ok(Math.max(...controlLatencies) < CONTROL_BOUND_MS, `control PINGs answered within ${CONTROL_BOUND_MS} ms`);
    assert.equal(ctx.gateway.errors, [], 'no error logged by the gateway');
  }),
);

Fuzz.run();
