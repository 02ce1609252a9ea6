/** What every benchmark gets from run.ts, and small helpers they share. */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Concert } from '../../src/catalog.js';
import { nowMs } from './net.js';
import { DIST } from './proc.js';
import type { Row } from './report.js';

export interface Context {
  /** Repetitions of each measurement; the table quotes their median. */
  runs: number;
  /** Smaller, shorter runs (a smoke test of the harness). */
  quick: boolean;
  /** Only this nats sync setting, where a benchmark measures both. */
  sync?: 'always' | 'default';
  /** dist/ of another build (e.g. main's) that benchmarks which compare with it measure too. */
  baselineDist?: string;
  /** throughput: compare the gateway's CPU per booking with metrics off and on, text and JSON logs (throughput.ts, `opsCost`). */
  ops?: boolean;
  /** Write CPU profiles of the gateway under this directory. */
  profileDir?: string;
  resultsDir: string;
  log(message: string): void;
  rows: Row[];
  /** Everything measured, for the JSON file. */
  details: Record<string, unknown>;
  /** Files written (charts). */
  files: string[];
}

export async function writeCatalog(concerts: Concert[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'guichet-bench-catalog-'));
  const path = join(dir, 'concerts.json');
  await writeFile(path, JSON.stringify(concerts));
  return path;
}

export function concerts(prefix: string, count: number, capacity: number): Concert[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${String(i).padStart(3, '0')}`,
    title: `Bench ${prefix}${i}`,
    venue: 'Loopback Hall',
    date: '2027-06-21T20:00:00+02:00',
    capacity,
  }));
}

/**
 * Runs a node script of dist/bench as a child process and parses the last JSON line it
 * prints; also returns the wall time from spawn to exit.
 */
export async function runNodeScript<T>(script: string, args: string[], options: { timeoutMs?: number; nodeArgs?: string[] } = {}): Promise<{ result: T; wallMs: number }> {
  const started = nowMs();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), join(DIST, 'bench', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const timeoutMs = options.timeoutMs ?? 300_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const wallMs = nowMs() - started;
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${code}:\n${err}`);
  const last = out.trim().split('\n').pop() ?? '';
  return { result: JSON.parse(last) as T, wallMs };
}
