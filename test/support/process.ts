/**
 * Gateways as separate processes (`guichet server --nats <url>`), so that a test can kill one
 * with SIGKILL, restart it on the same port and read its memory from /proc, as an operator
 * would see it. Every process started here is killed when the test process exits.
 */
import { TEST_SNAPSHOT_KEY } from './guichet.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** dist/src/cli/main.js, found from this file's place in dist/test/support/. */
export const MAIN_JS = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface GatewayProcessOptions {
  natsUrl: string;
  /** 0 (default) picks a free port on the first start; restarts reuse the port. */
  port?: number;
  holdSeconds?: number;
  maxSeats?: number;
  /** The deprecated alias of maxSeats (`--max-holds`). */
  maxHolds?: number;
  maxConnections?: number;
  /** Seconds; 0 never. */
  idleTimeout?: number;
  /** A catalog file (JSON). */
  concerts?: string;
  /** `--snapshot-seconds` (the server's default when absent). */
  snapshotSeconds?: number;
  gatewayId?: string;
  /** `--accept-catalog-change`: a NATS shared with gateways of another catalog. */
  acceptCatalogChange?: boolean;
  /** More `guichet server` flags, e.g. ['--max-seats-per-address', '4']. */
  serverArgs?: string[];
  /** Start it through `sh -c 'ulimit -n N; exec node …'`: a lowered descriptor limit. */
  ulimitFiles?: number;
  /** Without `--quiet` (default: quiet), so that INFO lines are in `stderr` too. */
  verbose?: boolean;
  /** Environment variables added to the process's, e.g. { GUICHET_MAX_CONNECTIONS: '500' }. */
  env?: Record<string, string>;
  /** Extra `node` flags, e.g. --max-old-space-size. */
  nodeArgs?: string[];
  /** Give up on a start that does not say "listening" within this long (ms). */
  startTimeoutMs?: number;
  /** Called with each line the process logs (`--quiet`: warnings and errors), as it comes. */
  onLog?: (line: string) => void;
}

export interface Memory {
  /** Resident set now (bytes). */
  rss: number;
  /** Peak resident set since the process started (bytes). */
  peak: number;
}

export interface GatewayProcess {
  readonly port: number;
  readonly pid: number | undefined;
  readonly gatewayId: string;
  readonly alive: boolean;
  /** The last 16 KiB the process wrote on stderr, across restarts. */
  readonly stderr: string;
  /** Lines with ERROR the process logged (internal errors, failed actors), across restarts. */
  readonly errors: string[];
  /** How the last run ended: null while it runs. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  memory(): Promise<Memory>;
  /** Sends a signal and waits for the process to end (SIGKILL: a crash, no clean-up at all). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the process again on the same port (after kill), with some options changed if given. */
  start(changes?: Pick<GatewayProcessOptions, 'holdSeconds' | 'maxConnections' | 'idleTimeout'>): Promise<void>;
  /** SIGTERM (graceful stop), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startGatewayProcess(given: GatewayProcessOptions): Promise<GatewayProcess> {
  const options = { ...given };
  let port = options.port ?? 0;
  const gatewayId = options.gatewayId ?? `gw-proc-${Math.random().toString(36).slice(2, 8)}`;
  let proc: ChildProcess | undefined;
  let stderr = '';
  const errors: string[] = [];
  let exit: GatewayProcess['exit'] = null;

  const args = (): string[] => {
    const a = [...(options.nodeArgs ?? []), MAIN_JS, 'server', '--nats', options.natsUrl, '--host', '127.0.0.1', '--port', String(port), '--gateway-id', gatewayId];
    if (!options.verbose) a.push('--quiet');
    if (options.holdSeconds !== undefined) a.push('--hold-seconds', String(options.holdSeconds));
    if (options.maxSeats !== undefined) a.push('--max-seats', String(options.maxSeats));
    if (options.maxHolds !== undefined) a.push('--max-holds', String(options.maxHolds));
    if (options.maxConnections !== undefined) a.push('--max-connections', String(options.maxConnections));
    if (options.idleTimeout !== undefined) a.push('--idle-timeout', String(options.idleTimeout));
    if (options.concerts !== undefined) a.push('--concerts', options.concerts);
    if (options.snapshotSeconds !== undefined) a.push('--snapshot-seconds', String(options.snapshotSeconds));
    if (options.acceptCatalogChange) a.push('--accept-catalog-change');
    a.push(...(options.serverArgs ?? []));
    return a;
  };

  const start = async (changes: Pick<GatewayProcessOptions, 'holdSeconds' | 'maxConnections' | 'idleTimeout'> = {}): Promise<void> => {
    Object.assign(options, changes);
    if (proc && proc.exitCode === null && proc.signalCode === null) throw new Error(`gateway ${gatewayId} is already running`);
    exit = null;
    // The snapshot key every test gateway shares (as several gateways on one NATS must).
    const env = { ...process.env, GUICHET_SNAPSHOT_KEY: process.env['GUICHET_SNAPSHOT_KEY'] ?? TEST_SNAPSHOT_KEY, ...options.env };
    const child =
      options.ulimitFiles === undefined
        ? spawn(process.execPath, args(), { stdio: ['ignore', 'ignore', 'pipe'], env })
        : spawn('sh', ['-c', `ulimit -n ${options.ulimitFiles} && exec "$0" "$@"`, process.execPath, ...args()], { stdio: ['ignore', 'ignore', 'pipe'], env });
    proc = child;
    running.add(child);
    let pending = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`gateway ${gatewayId} did not start within ${options.startTimeoutMs ?? 20_000} ms: ${stderr.slice(-2000)}`));
      }, options.startTimeoutMs ?? 20_000);
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-16_384);
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (/\bERROR\b|actor failed|listener failed/.test(line)) errors.push(line);
          options.onLog?.(line);
          const m = /listening on [^ ]+:(\d+) /.exec(line);
          if (m) {
            port = Number(m[1]);
            clearTimeout(timer);
            resolve();
          }
        }
      });
      child.once('exit', (code, signal) => {
        running.delete(child);
        exit = { code, signal };
        clearTimeout(timer);
        reject(new Error(`gateway ${gatewayId} exited (${code ?? signal}) during start: ${stderr.slice(-2000)}`));
      });
    });
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(signal);
    await gone;
  };

  await start();
  return {
    get port() {
      return port;
    },
    get pid() {
      return proc?.pid;
    },
    gatewayId,
    get alive() {
      return !!proc && proc.exitCode === null && proc.signalCode === null;
    },
    get stderr() {
      return stderr;
    },
    errors,
    get exit() {
      return exit;
    },
    memory: () => processMemory(proc?.pid),
    kill,
    start,
    async stop(timeoutMs = 10_000) {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      await kill('SIGTERM');
      clearTimeout(timer);
    },
  };
}

/** VmRSS and VmHWM of a process, from /proc (Linux). */
export async function processMemory(pid: number | undefined): Promise<Memory> {
  if (pid === undefined) return { rss: 0, peak: 0 };
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Samples a process's resident set every `everyMs` until stopped; reports the highest seen. */
export function sampleMemory(pid: number | undefined, everyMs = 50): { stop(): Promise<{ peakRss: number; samples: number }> } {
  let peakRss = 0;
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const m = await processMemory(pid);
      peakRss = Math.max(peakRss, m.rss);
      samples++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { peakRss, samples };
    },
  };
}
