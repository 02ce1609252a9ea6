/**
 * 2. Rush: 10,000 connections open at once and race for the 100 seats of one concert: each
 * sends HOLD on a random seat in the same instant, and books it if it won. Exactly 100 must
 * be sold (read back from the stream and folded with evolve), every connection answered;
 * time to sell out and p99 reply latency. Target p99 ≤ 1.5 × the raw server's p99 in the
 * same run (issue "group commit"; < 250 ms before). The ceiling is the same
 * race against the raw TCP server (bench/raw-server.ts: no actor, no NATS).
 */
import { join } from 'node:path';
import type { ConnectResult, RushResult } from '../worker.js';
import { writeCatalog, type Context } from '../lib/context.js';
import { foldConcert } from '../lib/fold.js';
import { startNats, type SyncSetting } from '../lib/nats.js';
import { nowMs, sleep } from '../lib/net.js';
import { spawnGateway, spawnRawServer, type ServerProcess } from '../lib/proc.js';
import { median, round, summarize, type Summary } from '../lib/stats.js';
import { closeAll, connectAll, startWorkers } from '../lib/workers.js';

const SEATS = 100;
const WORKERS = 4;
const CONNECT_LANES = 128;

interface RushRun {
  connections: number;
  connect: { failed: number; errors: Record<string, number>; elapsedMs: number; latency: Summary };
  answered: number;
  codes: Record<string, number>;
  soldByClients: number;
  /** From the go instant to the last BOOK OK. */
  selloutMs: number;
  reply: Summary;
  hold: Summary;
  book: Summary;
  closedDuring: number;
  /** Read back from the stream (gateway runs only). */
  stream?: { events: number; byType: Record<string, number>; booked: number; violations: string[] };
  rssBeforeKb: number;
  rssConnectedKb: number;
  /** CPU time the server process used from the go signal to the last answer. */
  serverCpuMs: number;
}

export async function rush(ctx: Context): Promise<void> {
  const connections = ctx.quick ? 2_000 : 10_000;
  const syncs: SyncSetting[] = ctx.sync ? [ctx.sync] : ctx.quick ? ['always'] : ['always', 'default'];
  const detail: Record<string, unknown> = {};
  const rawRuns: RushRun[] = [];
  for (let run = 0; run < ctx.runs; run++) {
    // Profiled too (its first run), so that the race can be compared function by function.
    const raw = await spawnRawServer(ctx.profileDir && run === 0 ? { profileDir: join(ctx.profileDir, 'rush-raw') } : {});
    try {
      rawRuns.push(await race(ctx, raw, connections));
    } finally {
      await raw.stop();
    }
    const r = rawRuns.at(-1)!;
    ctx.log(`rush ceiling (raw TCP server), run ${run + 1}: p99 ${r.reply.p99} ms (HOLD p50 ${r.hold.p50} p90 ${r.hold.p90}), sold out in ${Math.round(r.selloutMs)} ms`);
  }
  const rawP99 = median(rawRuns.map((r) => r.reply.p99));
  detail['raw'] = rawRuns;

  for (const sync of syncs) {
    const runs: RushRun[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const nats = await startNats({ sync });
      const catalogFile = await writeCatalog([{ id: 'rush', title: 'The Rush', venue: 'Loopback Hall', date: '2027-06-21T20:00:00+02:00', capacity: SEATS }]);
      const gateway = await spawnGateway({
        natsUrl: nats.url,
        catalogFile,
        ...(ctx.profileDir && run === 0 ? { profileDir: join(ctx.profileDir, `rush-${sync}`) } : {}),
      });
      try {
        const r = await race(ctx, gateway, connections);
        const nc = await nats.connect();
        try {
          const fold = await foldConcert(nc, 'rush', SEATS);
          r.stream = { events: fold.events, byType: fold.byType, booked: fold.booked, violations: fold.violations };
        } finally {
          await nc.close();
        }
        runs.push(r);
        ctx.log(
          `rush (sync ${sync}) run ${run + 1}: ${r.answered}/${r.connections} answered, ${r.stream?.booked} booked in the stream ` +
            `(${r.soldByClients} told), sold out in ${Math.round(r.selloutMs)} ms, reply p50 ${r.reply.p50} p99 ${r.reply.p99} ms ` +
            `(HOLD p50 ${r.hold.p50} p90 ${r.hold.p90} p99 ${r.hold.p99}, BOOK p50 ${r.book.p50} p99 ${r.book.p99}), ` +
            `connect ${connections} in ${Math.round(r.connect.elapsedMs)} ms (p99 ${r.connect.latency.p99} ms), gateway CPU ${Math.round(r.serverCpuMs)} ms` +
            (r.stream?.violations.length ? `, VIOLATIONS ${r.stream.violations.slice(0, 3).join('; ')}` : ''),
        );
      } finally {
        await gateway.stop();
        await nats.stop();
      }
    }
    detail[sync] = runs;
    const p99 = median(runs.map((r) => r.reply.p99));
    const exact = runs.every((r) => r.stream?.booked === SEATS && r.soldByClients === SEATS && r.stream.violations.length === 0);
    const allAnswered = runs.every((r) => r.answered === r.connections && r.connections === connections);
    ctx.rows.push(
      {
        benchmark: 'rush',
        setting: sync,
        measure: `sold (stream, folded) / told; ${connections} answered`,
        value: median(runs.map((r) => r.stream?.booked ?? 0)),
        unit: 'seats',
        runs: runs.map((r) => r.stream?.booked ?? 0),
        target: `exactly ${SEATS}, all answered`,
        holds: exact && allAnswered,
      },
      { benchmark: 'rush', setting: sync, measure: 'time to sell out', value: median(runs.map((r) => r.selloutMs)), unit: 'ms', runs: runs.map((r) => r.selloutMs), ceiling: median(rawRuns.map((r) => r.selloutMs)) },
      {
        benchmark: 'rush',
        setting: sync,
        measure: 'reply latency p99 (HOLD + BOOK)',
        value: p99,
        unit: 'ms',
        runs: runs.map((r) => r.reply.p99),
        ceiling: rawP99,
        ratio: p99 / rawP99,
        target: '≤ 1.5 × the raw server\'s p99',
        holds: p99 <= 1.5 * rawP99,
      },
      { benchmark: 'rush', setting: sync, measure: 'reply latency p99 (HOLD + BOOK), absolute', value: p99, unit: 'ms', target: '< 250 ms (issue 6)', holds: p99 < 250 },
      { benchmark: 'rush', setting: sync, measure: 'reply latency p50', value: median(runs.map((r) => r.reply.p50)), unit: 'ms', ceiling: median(rawRuns.map((r) => r.reply.p50)) },
      { benchmark: 'rush', setting: sync, measure: 'server CPU during the race', value: median(runs.map((r) => r.serverCpuMs)), unit: 'ms', ceiling: median(rawRuns.map((r) => r.serverCpuMs)) },
      { benchmark: 'rush', setting: sync, measure: `connect ${connections} at once: p99 to HELLO`, value: median(runs.map((r) => r.connect.latency.p99)), unit: 'ms', ceiling: median(rawRuns.map((r) => r.connect.latency.p99)) },
    );
  }
  ctx.details['rush'] = detail;
}

async function race(ctx: Context, server: ServerProcess, connections: number): Promise<RushRun> {
  const workers = startWorkers(WORKERS);
  try {
    const rssBeforeKb = server.rssKb();
    // Open together, at most CONNECT_LANES handshakes in flight per load process (4 × 128 ≈ the
    // listen backlog of 511): past it the kernel drops SYNs, and a connection completed by a
    // SYN cookie while the accept queue is full can wait for HELLO for ever (see burst()).
    const conn: ConnectResult = await connectAll(workers, { host: server.host, port: server.port, total: connections, concurrency: CONNECT_LANES, timeoutMs: 15_000 });
    await sleep(500);
    const rssConnectedKb = server.rssKb();
    const startAt = nowMs() + 300;
    const cpuBefore = server.cpuMs();
    const results = await Promise.all(workers.map((w) => w.call<RushResult>({ op: 'rush', startAt, concert: 'rush', capacity: SEATS }, 120_000)));
    const serverCpuMs = server.cpuMs() - cpuBefore;
    const codes: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.codes)) codes[k] = (codes[k] ?? 0) + v;
    const hold = results.flatMap((r) => r.holdLatency);
    const book = results.flatMap((r) => r.bookLatency);
    const bookedAt = results.flatMap((r) => r.bookedAt);
    const run: RushRun = {
      connections: results.reduce((s, r) => s + r.connections, 0),
      connect: { failed: conn.failed, errors: conn.errors, elapsedMs: round(conn.elapsedMs, 1), latency: summarize(conn.connectMs) },
      answered: results.reduce((s, r) => s + r.answered, 0),
      codes,
      soldByClients: bookedAt.length,
      selloutMs: round(bookedAt.length ? Math.max(...bookedAt) - startAt : NaN, 1),
      reply: summarize([...hold, ...book]),
      hold: summarize(hold),
      book: summarize(book),
      closedDuring: results.reduce((s, r) => s + r.closedDuring, 0),
      rssBeforeKb,
      rssConnectedKb,
      serverCpuMs,
    };
    if (conn.failed > 0) ctx.log(`  ${conn.failed} connections failed: ${JSON.stringify(conn.errors)}`);
    return run;
  } finally {
    await closeAll(workers);
  }
}
