/**
 * How long `guichet audit` takes on a million events.
 *
 *   npm run build && node dist/bench/audit-1m.js [--events 1000000] [--concerts 200]
 *        [--capacity 1000] [--nats nats://127.0.0.1:4222] [--keep]
 *
 * Without --nats it starts its own nats-server (temporary store, default settings) and stops
 * it at the end. It writes a generated log that keeps every rule straight into the stream
 * (bench/generate-log.ts), then runs the real CLI, `guichet audit --json`, as a child process
 * twice — as of now, and time-travelling to the last event (which also checks every figure
 * against the generator's) — and prints the wall time, the rate and the peak memory of each.
 * With --nats the stream should be empty (the figures are compared only then).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectNats } from '../src/nats-connection.js';
import { EventStore } from '../src/events/store.js';
import { startNats, type TestNats } from '../test/support/nats.js';
import { generateLog, publishEvents, type GeneratedLog } from './generate-log.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    concerts: { type: 'string', default: '200' },
    capacity: { type: 'string', default: '1000' },
    nats: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const events = Number(values.events);
const concerts = Number(values.concerts);
const capacity = Number(values.capacity);

const say = (line: string) => process.stdout.write(`${line}\n`);
const n = (x: number) => x.toLocaleString('en-US');

interface Run {
  ms: number;
  maxRssMb: number | null;
  report: any;
}

/** Runs `guichet audit` with `args`; its JSON report, wall time and peak RSS. */
async function runAudit(args: string[]): Promise<Run> {
  const cli = join(import.meta.dirname, '..', 'src', 'cli', 'main.js');
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', 'maxrss-kb=%M', process.execPath, cli, 'audit', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ms = performance.now() - started;
  if (code !== 0 && code !== 1) throw new Error(`audit exited ${code}: ${err}`);
  const rss = /maxrss-kb=(\d+)/.exec(err);
  return { ms, maxRssMb: rss ? Math.round(Number(rss[1]) / 1024) : null, report: JSON.parse(out) };
}

function compare(generated: GeneratedLog, report: any): string[] {
  const problems: string[] = [];
  const byId = new Map<string, any>(report.concerts.map((c: any) => [c.concert, c]));
  for (const [id, want] of generated.expected) {
    const got = byId.get(id);
    if (!got) {
      problems.push(`${id}: missing from the report`);
      continue;
    }
    for (const key of ['holds', 'bookings', 'cancellations', 'lapsed', 'map'] as const) {
      if (got[key] !== want[key]) problems.push(`${id}: ${key} ${JSON.stringify(got[key]).slice(0, 40)} ≠ ${JSON.stringify(want[key]).slice(0, 40)}`);
    }
    if (JSON.stringify(got.releases) !== JSON.stringify(want.releases)) problems.push(`${id}: releases differ`);
    if (JSON.stringify(got.occupancy) !== JSON.stringify(want.occupancy)) problems.push(`${id}: occupancy differs`);
  }
  return problems;
}

let nats: TestNats | undefined;
let url = values.nats;
if (!url) {
  nats = await startNats();
  url = nats.url;
  say(`nats-server on ${url} (temporary store ${nats.storeDir})`);
}
const work = await mkdtemp(join(tmpdir(), 'guichet-audit-bench-'));
try {
  const nc = await connectNats(url, {});
  const store = await EventStore.open(nc);
  await store.ensureStream();
  const emptyAtStart = (await store.position()).messages === 0;

  say(`writing ${n(events)} events over ${concerts} concerts of ${capacity} seats…`);
  const generator = generateLog({ events, concerts, capacity, seed: 42 });
  let generated!: GeneratedLog;
  const wrapped: Iterator<any> = {
    next: () => {
      const step = generator.next();
      if (step.done) {
        generated = step.value;
        return { done: true, value: undefined };
      }
      return step;
    },
  };
  const writeStarted = performance.now();
  let shown = 0;
  const written = await publishEvents(store, wrapped, {
    onProgress: (count) => {
      if (count - shown >= 100_000 || count === events) {
        shown = count;
        process.stderr.write(`  ${n(count)} written\n`);
      }
    },
  });
  const writeMs = performance.now() - writeStarted;
  const position = await store.position();
  say(`wrote ${n(written)} events in ${(writeMs / 1000).toFixed(1)} s (${n(Math.round((written * 1000) / writeMs))}/s); stream now ${n(position.messages)} messages`);
  await nc.close();

  const catalogFile = join(work, 'catalog.json');
  await writeFile(catalogFile, JSON.stringify(generated.catalog));
  const common = ['--nats', url, '--concerts', catalogFile];

  const now = await runAudit(common);
  say(
    `audit (as of now):            ${(now.ms / 1000).toFixed(1)} s wall, ${n(Math.round((now.report.read.messages * 1000) / now.ms))} events/s, ` +
      `read+check ${(now.report.read.ms / 1000).toFixed(1)} s, peak RSS ${now.maxRssMb ?? '?'} MB, ok=${now.report.ok}, violations ${now.report.violationCount}`,
  );
  const until = new Date(generated.end).toISOString();
  const travel = await runAudit([...common, '--until', until]);
  say(
    `audit --until ${until}: ${(travel.ms / 1000).toFixed(1)} s wall, ${n(Math.round((travel.report.read.messages * 1000) / travel.ms))} events/s, ` +
      `peak RSS ${travel.maxRssMb ?? '?'} MB, ok=${travel.report.ok}, violations ${travel.report.violationCount}`,
  );
  let problems: string[] = [];
  if (emptyAtStart) {
    problems = compare(generated, travel.report);
    say(problems.length === 0 ? `figures: all ${generated.expected.size} concerts match the generator's` : `figures: ${problems.length} mismatches:\n  ${problems.slice(0, 20).join('\n  ')}`);
  }
  const results = {
    at: new Date().toISOString(),
    events: written,
    concerts,
    capacity,
    writeMs: Math.round(writeMs),
    auditNow: { wallMs: Math.round(now.ms), readMs: now.report.read.ms, maxRssMb: now.maxRssMb, ok: now.report.ok },
    auditUntil: { wallMs: Math.round(travel.ms), readMs: travel.report.read.ms, maxRssMb: travel.maxRssMb, ok: travel.report.ok },
    figuresMatch: emptyAtStart ? problems.length === 0 : null,
  };
  const resultsDir = join(import.meta.dirname, '..', '..', 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'audit-1m.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (!now.report.ok || !travel.report.ok || problems.length > 0) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
  if (nats && !values.keep) await nats.stop();
  else if (nats) say(`left nats-server running on ${url}`);
}
