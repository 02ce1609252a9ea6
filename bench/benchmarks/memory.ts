/**
 * 5. Memory: RSS of the gateway process per idle connection (connected, HELLO received,
 * nothing sent), as the slope of RSS over 0 → 10,000 connections in four steps, and simply
 * (RSS at 10,000 − RSS at 0) ÷ 10,000. Target ≤ 20 KB. The ceiling is the raw TCP server.
 */
import type { Context } from '../lib/context.js';
import { concerts, writeCatalog } from '../lib/context.js';
import { startNats } from '../lib/nats.js';
import { sleep } from '../lib/net.js';
import { spawnGateway, spawnRawServer, type ServerProcess } from '../lib/proc.js';
import { median, round, slope } from '../lib/stats.js';
import { closeAll, startWorkers, type LoadWorker } from '../lib/workers.js';
import type { ConnectResult } from '../worker.js';

interface MemoryRun {
  /** [connections, RSS kB] after each step. */
  steps: Array<[number, number]>;
  /** Slope of RSS over connections (bytes per connection). */
  slopeBytes: number;
  /** (last − first) ÷ connections (bytes). */
  deltaBytes: number;
}

export async function memory(ctx: Context): Promise<void> {
  const total = ctx.quick ? 2_000 : 10_000;
  const stepsCount = 4;
  const raws: MemoryRun[] = [];
  const gws: MemoryRun[] = [];
  for (let run = 0; run < ctx.runs; run++) {
    const raw = await spawnRawServer({});
    try {
      raws.push(await ramp(raw, total, stepsCount));
    } finally {
      await raw.stop();
    }
    const nats = await startNats({ sync: 'always' });
    const gateway = await spawnGateway({ natsUrl: nats.url, catalogFile: await writeCatalog(concerts('m', 3, 100)) });
    try {
      gws.push(await ramp(gateway, total, stepsCount));
    } finally {
      await gateway.stop();
      await nats.stop();
    }
    ctx.log(
      `memory run ${run + 1}: gateway ${round(gws.at(-1)!.slopeBytes / 1024, 2)} KB/connection (raw ${round(raws.at(-1)!.slopeBytes / 1024, 2)}); ` +
        `RSS ${gws.at(-1)!.steps.map(([n, kb]) => `${n}:${Math.round(kb / 1024)}MB`).join(' ')}`,
    );
  }
  const kb = median(gws.map((g) => g.slopeBytes / 1024));
  const rawKb = median(raws.map((g) => g.slopeBytes / 1024));
  ctx.rows.push(
    {
      benchmark: 'memory',
      setting: 'always',
      measure: `RSS per idle connection (slope to ${total})`,
      value: kb,
      unit: 'KB',
      runs: gws.map((g) => g.slopeBytes / 1024),
      ceiling: rawKb,
      ratio: rawKb / kb,
      target: '≤ 20 KB',
      holds: kb <= 20,
    },
    { benchmark: 'memory', setting: 'always', measure: `(RSS@${total} − RSS@0) ÷ ${total}`, value: median(gws.map((g) => g.deltaBytes / 1024)), unit: 'KB', ceiling: median(raws.map((g) => g.deltaBytes / 1024)) },
    { benchmark: 'memory', setting: 'always', measure: `gateway RSS at ${total} connections`, value: median(gws.map((g) => g.steps.at(-1)![1] / 1024)), unit: 'MB', ceiling: median(raws.map((g) => g.steps.at(-1)![1] / 1024)) },
  );
  ctx.details['memory'] = { gateway: gws, raw: raws };
}

async function sampleRss(server: ServerProcess): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    await sleep(250);
    xs.push(server.rssKb());
  }
  return median(xs);
}

async function ramp(server: ServerProcess, total: number, stepsCount: number): Promise<MemoryRun> {
  const workers: LoadWorker[] = startWorkers(stepsCount);
  try {
    await sleep(1_000);
    const steps: Array<[number, number]> = [[0, await sampleRss(server)]];
    let open = 0;
    for (let i = 0; i < stepsCount; i++) {
      const count = Math.round(total / stepsCount);
      const r = await workers[i]!.call<ConnectResult>({ op: 'connect', host: server.host, port: server.port, count, concurrency: 128, timeoutMs: 15_000 });
      open += r.connected;
      await sleep(1_000);
      steps.push([open, await sampleRss(server)]);
    }
    const points = steps.map(([n, kb]) => [n, kb * 1024] as [number, number]);
    const [n0, b0] = points[0]!;
    const [n1, b1] = points.at(-1)!;
    return { steps, slopeBytes: Math.round(slope(points)), deltaBytes: Math.round((b1 - b0) / (n1 - n0)) };
  } finally {
    await closeAll(workers);
  }
}
