/**
 * What `jetstream { sync_interval: always }` (nats.conf) costs: raw JetStream appends per
 * second with an expected last subject sequence and a Nats-Msg-Id, as the event store makes
 * them, against a nats-server with its default sync (flush every 2 minutes) and with
 * `sync_interval: always`; sequentially on one subject, and over 100 subjects in parallel.
 *
 * Not a test (it only measures, and takes about a minute): run it by hand after a build,
 *   node dist/test/faults/durability-bench.js [--seconds 3] [--reps 3] [--subjects 100]
 * The figures go into docs/reliability.md ("Durability").
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { jetstream, jetstreamManager, StorageType, type JetStreamClient } from '@nats-io/jetstream';
import { ulid } from 'ulid';
import { startNats, type SyncSetting } from '../support/nats.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const SECONDS = flag('seconds', 3);
const REPS = flag('reps', 3);
const SUBJECTS = flag('subjects', 100);
const PAYLOAD = new TextEncoder().encode(
  JSON.stringify({
    id: ulid(),
    type: 'SeatBooked',
    v: 1,
    concert: 'bench',
    at: new Date().toISOString(),
    source: 'gw-bench',
    data: { seat: 42, hold: ulid(), reference: '1234567897', firstName: 'Grace', lastName: 'Hopper' },
  }),
);

/** Appends in a loop on one subject, each expecting the previous one's sequence, until `until`. */
async function appendLoop(js: JetStreamClient, subject: string, until: number): Promise<number> {
  let last = 0;
  let n = 0;
  while (performance.now() < until) {
    const ack = await js.publish(subject, PAYLOAD, { msgID: ulid(), expect: { lastSubjectSequence: last }, timeout: 10_000 });
    last = ack.seq;
    n++;
  }
  return n;
}

async function measure(sync: SyncSetting, writers: number, stream: string): Promise<number> {
  const nats = await startNats({ sync });
  try {
    const nc = await nats.connect();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.*`], storage: StorageType.File, duplicate_window: 120_000_000_000 });
    const js = jetstream(nc);
    // Warm up: the first appends open files and caches.
    await appendLoop(js, `${stream}.warm`, performance.now() + 300);
    const started = performance.now();
    const until = started + SECONDS * 1000;
    const counts = await Promise.all(Array.from({ length: writers }, (_, i) => appendLoop(js, `${stream}.s${i}`, until)));
    const elapsed = (performance.now() - started) / 1000;
    await nc.close();
    return counts.reduce((a, b) => a + b, 0) / elapsed;
  } finally {
    await nats.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const version = execFileSync('nats-server', ['--version']).toString().trim();
let filesystem = '';
try {
  filesystem = execFileSync('df', ['--output=fstype', process.env.TMPDIR ?? '/tmp']).toString().split('\n')[1]?.trim() ?? '';
} catch {
  filesystem = 'unknown';
}
console.log(`${version}; ${cpus().length} CPUs (${cpus()[0]?.model ?? ''}); store on ${filesystem} (${process.env.TMPDIR ?? '/tmp'}); ${SECONDS} s per run, median of ${REPS}; load average before: ${loadavg()[0]!.toFixed(2)}`);
const rows: Array<{ sync: SyncSetting; mode: string; perSecond: number; runs: number[] }> = [];
for (const [mode, writers] of [
  ['sequential, 1 subject', 1],
  [`parallel, ${SUBJECTS} subjects`, SUBJECTS],
] as const) {
  for (const sync of ['default', 'always'] as const) {
    const runs: number[] = [];
    for (let r = 0; r < REPS; r++) runs.push(await measure(sync, writers, `BENCH${r}`));
    rows.push({ sync, mode, perSecond: median(runs), runs });
    console.log(`${mode.padEnd(24)} sync ${sync.padEnd(8)} ${Math.round(median(runs)).toLocaleString('en').padStart(7)} appends/s  (runs: ${runs.map((x) => Math.round(x)).join(', ')})`);
  }
}
console.log(`load average after: ${loadavg()[0]!.toFixed(2)}`);
for (const mode of new Set(rows.map((r) => r.mode))) {
  const d = rows.find((r) => r.mode === mode && r.sync === 'default')!.perSecond;
  const a = rows.find((r) => r.mode === mode && r.sync === 'always')!.perSecond;
  console.log(`${mode}: sync_interval always keeps ${Math.round((a / d) * 100)} % of the default's rate`);
}
