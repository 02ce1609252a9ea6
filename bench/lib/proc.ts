/**
 * Server processes under test: the gateway (`guichet server`) and the raw TCP server of the
 * ceilings. Each says `listening on HOST:PORT` on stderr; the harness reads the port there.
 * RSS and CPU time come from /proc, so the load processes never count against them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nowMs } from './net.js';

/** dist/ of this build (dist/bench/lib → dist). */
export const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The repository root (dist/..). */
export const ROOT = resolve(DIST, '..');
/** Where results go: bench/results, or GUICHET_BENCH_RESULTS (the smoke test's temporary folder). */
export const RESULTS = process.env.GUICHET_BENCH_RESULTS ?? join(ROOT, 'bench', 'results');

export interface ServerProcess {
  pid: number;
  port: number;
  host: string;
  /** ms from spawn to the `listening` line. */
  listeningMs: number;
  /** Epoch ms at spawn. */
  spawnedAt: number;
  stderrTail(): string;
  rssKb(): number;
  /** User + system CPU time so far (ms). */
  cpuMs(): number;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Extra flags for node itself (--cpu-prof …). */
  nodeArgs?: string[];
  /** Where --cpu-prof writes (created). */
  profileDir?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export async function spawnGateway(
  options: SpawnOptions & {
    natsUrl: string;
    catalogFile: string;
    args?: string[];
    /** Another build's dist/ (a baseline to compare with, e.g. main's); default this one. */
    dist?: string;
    gatewayId?: string;
    /** false: without --quiet, so that every command is logged (the log's cost measured). */
    quiet?: boolean;
  },
): Promise<ServerProcess> {
  return spawnServer(
    join(options.dist ?? DIST, 'src', 'cli', 'main.js'),
    [
      'server',
      '--nats', options.natsUrl,
      '--host', '127.0.0.1',
      '--port', '0',
      ...(options.quiet === false ? [] : ['--quiet']),
      '--concerts', options.catalogFile,
      '--gateway-id', options.gatewayId ?? 'gw-bench',
      // The load comes from one machine but stands for many people: the per-address limits
      // (32 seats, 256 connections, 64 watchers, the re-hold cool-down) would measure themselves.
      '--max-seats-per-address', '1000000',
      '--max-connections-per-address', '1000000',
      '--max-watchers-per-address', '1000000',
      '--hold-cool-down', '0',
      ...(options.args ?? []),
    ],
    // One snapshot key for every benchmark gateway (a restart reads its predecessor's snapshots).
    { ...options, env: { GUICHET_SNAPSHOT_KEY: 'bench-snapshot-key-0123456789abcdef012345', ...options.env } },
  );
}

export async function spawnRawServer(options: SpawnOptions & { backlog?: number; capacity?: number; replyEveryMs?: number } = {}): Promise<ServerProcess> {
  const args = [
    '--port', '0',
    '--backlog', String(options.backlog ?? 511),
    ...(options.capacity ? ['--capacity', String(options.capacity)] : []),
    ...(options.replyEveryMs ? ['--reply-every', String(options.replyEveryMs)] : []),
  ];
  return spawnServer(join(DIST, 'bench', 'raw-server.js'), args, options);
}

/** bench/bare-reader.ts: follows the log and decodes each event, nothing more (it "listens" on no port). */
export function spawnBareReader(options: SpawnOptions & { natsUrl: string }): Promise<ServerProcess> {
  return spawnServer(join(DIST, 'bench', 'bare-reader.js'), ['--nats', options.natsUrl], options);
}

async function spawnServer(script: string, args: string[], options: SpawnOptions): Promise<ServerProcess> {
  const nodeArgs = [...(options.nodeArgs ?? [])];
  if (options.profileDir) {
    await mkdir(options.profileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`);
  }
  const spawnedAt = nowMs();
  const proc: ChildProcess = spawn(process.execPath, [...nodeArgs, script, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let tail = '';
  let line = '';
  const listening = new Promise<{ host: string; port: number; at: number }>((resolve, reject) => {
    proc.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-6000);
      line += text;
      const m = /listening on ([\d.]+):(\d+)/.exec(line);
      if (m) {
        resolve({ host: m[1]!, port: Number(m[2]), at: nowMs() });
        line = '';
      } else if (line.length > 20_000) line = line.slice(-2000);
    });
    proc.once('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before listening:\n${tail}`)));
    proc.once('error', reject);
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${script} did not listen within ${timeoutMs} ms:\n${tail}`)), timeoutMs);
  });
  let where: { host: string; port: number; at: number };
  try {
    where = await Promise.race([listening, timeout]);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const pid = proc.pid!;
  return {
    pid,
    port: where.port,
    host: where.host,
    listeningMs: where.at - spawnedAt,
    spawnedAt,
    stderrTail: () => tail,
    rssKb: () => rssKb(pid),
    cpuMs: () => cpuMs(pid),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) : NaN;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
