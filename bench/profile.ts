/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- <name> --profile`):
 * time by area (src/ modules, xstate, the NATS client, node internals, GC, idle), then the
 * functions with the most self time and the most inclusive time.
 *
 *   node dist/bench/profile.js <file.cpuprofile> [--top 25] [--window FROM:TO] [--step MS]
 *
 * --window takes seconds from the profile's start (the busy line shows the phases).
 * --step   the busy line's resolution in ms (default 1000): a rush's race lasts about a second,
 *          so 100 shows where it starts and ends, to choose the window by.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

// Piped into `head`, the reader may close early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));

const USAGE = 'usage: node dist/bench/profile.js <file.cpuprofile> [--top N] [--window FROM:TO] [--step MS]\n';
let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, window: { type: 'string' }, step: { type: 'string', default: '1000' } },
  });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
const file = positionals[0];
if (!file) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const top = Number(values.top);
const [fromS, toS] = values.window !== undefined ? values.window.split(':').map(Number) : [0, Infinity];
const stepMs = Number(values.step);
if (!Number.isFinite(stepMs) || stepMs <= 0) {
  process.stderr.write('--step takes a positive number of milliseconds\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

// Self time per node from the samples and their time deltas (µs), within the window.
const self = new Map<number, number>();
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
/** Busy µs per step of `stepMs`, from the profile's start. */
const busyPerStep: number[] = [];
let at = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  at += dt;
  const step = Math.floor(at / (stepMs * 1000));
  if (!idleIds.has(id)) busyPerStep[step] = (busyPerStep[step] ?? 0) + dt;
  if (at / 1e6 < (fromS ?? 0) || at / 1e6 > (toS ?? Infinity)) return;
  self.set(id, (self.get(id) ?? 0) + dt);
});
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const total = [...self.values()].reduce((a, b) => a + b, 0);

function where(n: Node): string {
  const { url } = n.callFrame;
  if (!url) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  const s = /dist\/(src\/[^/]+\/[^/]+|src\/[^/]+|bench\/[^/]+)\.js/.exec(url);
  if (s) return s[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^file:\/\//, '');
}

function label(n: Node): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const short = url.replace(/^file:\/\//, '').replace(/.*\/(node_modules|dist)\//, '');
  return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
}

const areas = new Map<string, number>();
const selfByFn = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  areas.set(where(n), (areas.get(where(n)) ?? 0) + us);
  selfByFn.set(label(n), (selfByFn.get(label(n)) ?? 0) + us);
}

// Inclusive time per function: each sample counts once for every distinct function on its stack.
const inclusive = new Map<string, number>();
const stackCache = new Map<number, string[]>();
function stack(id: number): string[] {
  const cached = stackCache.get(id);
  if (cached) return cached;
  const labels = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) labels.add(label(byId.get(cur)!));
  const list = [...labels];
  stackCache.set(id, list);
  return list;
}
for (const [id, us] of self) for (const l of stack(id)) inclusive.set(l, (inclusive.get(l) ?? 0) + us);

const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const print = (title: string, map: Map<string, number>, n: number) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`${ms(us)} ${pct(us)}  ${k}\n`);
};
process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled${values.window !== undefined ? ` in the window ${fromS}–${toS} s` : ''}\n`);
// A sample's time is counted in the step it ends in, so a short step can pass 100 % by a little.
const busyPercent = (us: number) => Math.min(100, Math.round((us / (stepMs * 1000)) * 100));
const stepLabel = (i: number) => String(Number(((i * stepMs) / 1000).toFixed(3)));
process.stdout.write(
  `busy per ${stepMs === 1000 ? 'second' : `${stepMs} ms`} (CPU %, from the profile's start, in s): ` +
    `${Array.from(busyPerStep, (us, i) => `${stepLabel(i)}:${busyPercent(us ?? 0)}`).join(' ')}\n`,
);
print('by area (self time)', areas, 30);
print('functions by self time', selfByFn, top);
print('functions by inclusive time', inclusive, top);
