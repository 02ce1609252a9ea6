/**
 * 3. Fan-out: N watchers (1,000, then 10,000) WATCH one concert; a driver connection changes
 * a seat (HOLD, then RELEASE) every so often → for each change, the time from the driver
 * sending the command until each watcher has the EVENT line (parsed), and until the last
 * one has it. Target at 1,000: p99 < 50 ms. The ceiling is the same against the raw TCP
 * server, which broadcasts the same line with no actor and no NATS.
 */
import { join } from 'node:path';
import { GuichetClient } from '../../src/cli/client.js';
import type { ArrivalsResult } from '../worker.js';
import { writeCatalog, type Context } from '../lib/context.js';
import { startNats } from '../lib/nats.js';
import { nowMs, sleep } from '../lib/net.js';
import { spawnGateway, spawnRawServer, type ServerProcess } from '../lib/proc.js';
import { median, summarize, type Summary } from '../lib/stats.js';
import { closeAll, connectAll, startWorkers } from '../lib/workers.js';

interface FanoutRun {
  watchers: number;
  changes: number;
  /** Every (watcher, change) delivery. */
  delivery: Summary;
  /** Per change, until its last watcher had it. */
  last: Summary;
  missing: number;
  /** The driver's own reply (append + fan-out + reply). */
  driverReply: Summary;
  rssKb: number;
}

export async function fanout(ctx: Context): Promise<void> {
  const plans = ctx.quick
    ? [{ watchers: 500, changes: 10, spacingMs: 100, workers: 2 }]
    : [
        { watchers: 1_000, changes: 40, spacingMs: 100, workers: 2 },
        { watchers: 10_000, changes: 20, spacingMs: 400, workers: 4 },
      ];
  const detail: Record<string, unknown> = {};
  for (const plan of plans) {
    const raws: FanoutRun[] = [];
    const gws: FanoutRun[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const raw = await spawnRawServer({});
      try {
        raws.push(await measure(raw, plan));
      } finally {
        await raw.stop();
      }
      const nats = await startNats({ sync: 'always' });
      const catalogFile = await writeCatalog([{ id: 'fan', title: 'Fan-out', venue: 'Loopback Hall', date: '2027-06-21T20:00:00+02:00', capacity: 100 }]);
      const gateway = await spawnGateway({
        natsUrl: nats.url,
        catalogFile,
        ...(ctx.profileDir && run === 0 ? { profileDir: join(ctx.profileDir, `fanout-${plan.watchers}`) } : {}),
      });
      try {
        gws.push(await measure(gateway, plan));
      } finally {
        await gateway.stop();
        await nats.stop();
      }
      const g = gws.at(-1)!;
      const r = raws.at(-1)!;
      ctx.log(
        `fan-out ${plan.watchers} watchers, run ${run + 1}: last watcher p50 ${g.last.p50} p99 ${g.last.p99} ms ` +
          `(raw ${r.last.p50} / ${r.last.p99}), every delivery p50 ${g.delivery.p50} p99 ${g.delivery.p99} ms, missing ${g.missing}`,
      );
    }
    detail[String(plan.watchers)] = { raw: raws, gateway: gws, plan };
    const lastP99 = median(gws.map((g) => g.last.p99));
    const rawLastP99 = median(raws.map((g) => g.last.p99));
    const target = plan.watchers === 1_000;
    ctx.rows.push(
      {
        benchmark: 'fan-out',
        setting: 'always',
        measure: `${plan.watchers} watchers: until the last has it, p99`,
        value: lastP99,
        unit: 'ms',
        runs: gws.map((g) => g.last.p99),
        ceiling: rawLastP99,
        ratio: rawLastP99 / lastP99,
        ...(target ? { target: '< 50 ms', holds: lastP99 < 50 } : {}),
      },
      { benchmark: 'fan-out', setting: 'always', measure: `${plan.watchers} watchers: until the last has it, p50`, value: median(gws.map((g) => g.last.p50)), unit: 'ms', ceiling: median(raws.map((g) => g.last.p50)) },
      {
        benchmark: 'fan-out',
        setting: 'always',
        measure: `${plan.watchers} watchers: each delivery p50 / p99`,
        value: median(gws.map((g) => g.delivery.p99)),
        unit: `ms p99 (p50 ${median(gws.map((g) => g.delivery.p50)).toFixed(1)})`,
        ceiling: median(raws.map((g) => g.delivery.p99)),
      },
      { benchmark: 'fan-out', setting: 'always', measure: `${plan.watchers} watchers: deliveries missing`, value: gws.reduce((s, g) => s + g.missing, 0), unit: '' },
    );
  }
  ctx.details['fanout'] = detail;
}

async function measure(server: ServerProcess, plan: { watchers: number; changes: number; spacingMs: number; workers: number }): Promise<FanoutRun> {
  const workers = startWorkers(plan.workers);
  let driver: GuichetClient | undefined;
  try {
    const conn = await connectAll(workers, { host: server.host, port: server.port, total: plan.watchers, concurrency: 128, timeoutMs: 15_000 });
    if (conn.failed > 0) throw new Error(`${conn.failed} watchers could not connect: ${JSON.stringify(conn.errors)}`);
    const watching = await Promise.all(workers.map((w) => w.call<{ watching: number }>({ op: 'watch', concert: 'fan' })));
    const total = watching.reduce((s, w) => s + w.watching, 0);
    if (total !== plan.watchers) throw new Error(`only ${total} of ${plan.watchers} watchers are watching`);
    driver = await GuichetClient.connect({ host: server.host, port: server.port });
    await sleep(300);
    const sentAt: Record<string, number> = {};
    const driverReply: number[] = [];
    const deadline = nowMs() + plan.changes * plan.spacingMs * 3 + 30_000;
    for (let i = 0; i < plan.changes / 2 && nowMs() < deadline; i++) {
      const seat = i + 1;
      let t = nowMs();
      sentAt[`SeatHeld:${seat}`] = t;
      const held = await driver.request<{ hold: string }>('HOLD', 'fan', seat);
      driverReply.push(nowMs() - t);
      await sleep(plan.spacingMs);
      t = nowMs();
      sentAt[`SeatReleased:${seat}`] = t;
      await driver.request('RELEASE', held.hold);
      driverReply.push(nowMs() - t);
      await sleep(plan.spacingMs);
    }
    await sleep(1_000);
    const rssKb = server.rssKb();
    const arrivals = await Promise.all(workers.map((w) => w.call<ArrivalsResult>({ op: 'arrivals', sentAt })));
    const all: number[] = [];
    const last: number[] = [];
    let missing = 0;
    for (const key of Object.keys(sentAt)) {
      let max = -Infinity;
      let got = 0;
      for (const a of arrivals) {
        for (const l of a.latency[key] ?? []) {
          all.push(l);
          if (l > max) max = l;
          got++;
        }
      }
      if (got === plan.watchers) last.push(max);
    }
    for (const a of arrivals) missing += a.missing;
    return {
      watchers: plan.watchers,
      changes: Object.keys(sentAt).length,
      delivery: summarize(all),
      last: summarize(last),
      missing,
      driverReply: summarize(driverReply),
      rssKb,
    };
  } finally {
    driver?.close();
    await closeAll(workers);
  }
}
