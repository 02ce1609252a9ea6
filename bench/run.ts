/**
 * The benchmark harness: `npm run bench` runs them all, `npm run bench -- <name>…` some.
 * Each starts its own nats-server and gateway process(es), drives them over loopback TCP
 * from separate load processes, measures the raw ceiling it is compared with in the same
 * run, prints a table and writes bench/results/<time>.json (and latest.json).
 *
 *   node dist/bench/run.js [hot|throughput|rush|fanout|coldstart|memory|actor]… [--runs N] [--quick] [--profile] [--sync always|default] [--baseline DIR]
 *
 * --runs N     repetitions (default 3; the table quotes medians)
 * --quick      fewer connections and shorter runs: a smoke test of the harness
 * --profile    the gateway runs under node --cpu-prof (in rush, the raw server's first run too);
 *              profiles land in bench/results/profiles/
 * --sync S     only the nats sync setting S where a benchmark measures both
 * --ops        throughput only measures what operating costs: the gateway's CPU per booking at
 *              100 clients with metrics off, with --http and /metrics scraped every second,
 *              and with every command logged as text and as JSON, side by side in each run
 * --baseline D  dist/ of another build (main's, built in a `git worktree`): `hot` measures its
 *               gateway too, side by side, on the same nats-server
 */
import { execSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { actor } from './benchmarks/actor.js';
import { coldstart } from './benchmarks/coldstart.js';
import { fanout } from './benchmarks/fanout.js';
import { hot } from './benchmarks/hot.js';
import { memory } from './benchmarks/memory.js';
import { rush } from './benchmarks/rush.js';
import { throughput } from './benchmarks/throughput.js';
import type { Context } from './lib/context.js';
import { natsServerVersion } from './lib/nats.js';
import { RESULTS } from './lib/proc.js';
import { markdownTable, table, writeResults, type Row } from './lib/report.js';

const BENCHMARKS: Record<string, (ctx: Context) => Promise<void>> = { hot, throughput, rush, fanout, coldstart, memory, actor };

const argv = process.argv.slice(2);
const names: string[] = [];
let runs = 3;
let quick = false;
let profile = false;
let sync: 'always' | 'default' | undefined;
let baselineDist: string | undefined;
let ops = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--runs') runs = Math.max(1, Number(argv[++i]));
  else if (a === '--quick') quick = true;
  else if (a === '--profile') profile = true;
  else if (a === '--ops') ops = true;
  else if (a === '--baseline') baselineDist = resolve(argv[++i] ?? '.');
  else if (a === '--sync') {
    const v = argv[++i];
    if (v !== 'always' && v !== 'default') {
      process.stderr.write('--sync takes always or default\n');
      process.exit(2);
    }
    sync = v;
  }
  else if (a === '--help' || a === '-h') {
    process.stdout.write(`usage: npm run bench -- [${Object.keys(BENCHMARKS).join('|')}]… [--runs N] [--quick] [--profile] [--sync always|default] [--baseline DIR] [--ops]\n`);
    process.exit(0);
  } else if (a in BENCHMARKS) names.push(a);
  else {
    process.stderr.write(`unknown benchmark or flag ${a}; known: ${Object.keys(BENCHMARKS).join(', ')}\n`);
    process.exit(2);
  }
}
if (names.length === 0) names.push(...Object.keys(BENCHMARKS));
if (quick && !argv.includes('--runs')) runs = 1;

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const started = Date.now();
const rows: Row[] = [];
const ctx: Context = {
  runs,
  quick,
  ...(profile ? { profileDir: join(RESULTS, 'profiles', stamp) } : {}),
  ...(sync ? { sync } : {}),
  ...(baselineDist ? { baselineDist } : {}),
  ...(ops ? { ops } : {}),
  resultsDir: RESULTS,
  log: (m) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`),
  rows,
  details: {},
  files: [],
};

let ulimit = '';
try {
  ulimit = execSync('ulimit -n', { shell: '/bin/bash', encoding: 'utf8' }).trim();
} catch {
  /* not a shell we know */
}
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  natsServer: natsServerVersion(),
  ulimitN: ulimit,
  loadAverageAtStart: loadavg(),
};
ctx.log(`benchmarks: ${names.join(', ')}; ${runs} run(s) each${quick ? ' (quick)' : ''}; ${machine.cpus} CPUs, ${machine.natsServer}, ulimit -n ${ulimit}`);

const failures: Record<string, string> = {};
for (const name of names) {
  try {
    await BENCHMARKS[name]!(ctx);
  } catch (err) {
    failures[name] = err instanceof Error ? (err.stack ?? err.message) : String(err);
    ctx.log(`${name} FAILED: ${failures[name]}`);
  }
}

const output = {
  at: new Date().toISOString(),
  command: `node dist/bench/run.js ${argv.join(' ')}`.trim(),
  durationSec: Math.round((Date.now() - started) / 1000),
  machine: { ...machine, loadAverageAtEnd: loadavg() },
  rows,
  failures,
  details: ctx.details,
};
const file = await writeResults(RESULTS, `${stamp}.json`, output);
await writeResults(RESULTS, 'latest.json', output);
process.stdout.write(`\n${table(rows)}\n\n`);
process.stdout.write(`${markdownTable(rows)}\n\n`);
process.stdout.write(`results: ${file}\n`);
for (const f of ctx.files) process.stdout.write(`chart: ${f}\n`);
if (ctx.profileDir) process.stdout.write(`profiles: ${ctx.profileDir} (summarize: node dist/bench/profile.js <file.cpuprofile>)\n`);
process.stdout.write(`took ${output.durationSec} s\n`);
process.exit(Object.keys(failures).length > 0 ? 1 : 0);
