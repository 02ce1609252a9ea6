/**
 * A real nats-server for tests: a free port on loopback, a temporary JetStream store, stopped
 * (and its store removed) at the end. `restart()` keeps the store, as a crash and reboot would.
 * `sync: 'always'` starts it with `sync_interval: always`, as nats.conf does (every
 * acknowledged write on disk); the default is the server's (flush every 2 minutes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { track } from './children.js';
import { freePort, waitForPort } from './net.js';

export type SyncSetting = 'always' | 'default';

export interface TestNats {
  url: string;
  port: number;
  storeDir: string;
  sync: SyncSetting;
  configFile: string;
  connect(): Promise<NatsConnection>;
  /** SIGKILL and start again on the same port and store. */
  restart(options?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that stops answering without closing its connections. */
  pause(): void;
  resume(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startNats(options: { sync?: SyncSetting } = {}): Promise<TestNats> {
  const sync = options.sync ?? 'default';
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'guichet-nats-'));
  const configFile = join(storeDir, 'nats.conf');
  const jetstream = [`  store_dir: ${JSON.stringify(join(storeDir, 'js'))}`];
  if (sync === 'always') jetstream.push('  sync_interval: always');
  await writeFile(configFile, [`listen: 127.0.0.1:${port}`, 'jetstream {', ...jetstream, '}', ''].join('\n'));
  let proc: ChildProcess | undefined;

  const start = async () => {
    proc = (await launchNatsServer(configFile, port)).child;
    await waitForJetStream(`nats://127.0.0.1:${port}`);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(signal);
    p.kill('SIGCONT'); // a paused server would not act on SIGTERM
    await gone;
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    sync,
    configFile,
    connect: () => connect({ servers: `nats://127.0.0.1:${port}` }),
    start,
    kill,
    pause: () => void proc?.kill('SIGSTOP'),
    resume: () => void proc?.kill('SIGCONT'),
    restart: async ({ signal = 'SIGKILL', downMs = 0 } = {}) => {
      await kill(signal);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    stop: async () => {
      await kill('SIGTERM');
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

export interface LaunchedNatsServer {
  child: ChildProcess;
  /** The last lines the server logged (it logs to stderr), for a failure's message. */
  log(): string;
}

/**
 * Spawns `nats-server -c configFile` and resolves once it listens on `port`; rejects with
 * what the server logged when it exits first (a port taken, a bad configuration).
 */
export async function launchNatsServer(configFile: string, port: number): Promise<LaunchedNatsServer> {
  const child = track(spawn('nats-server', ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8000);
  });
  child.once('error', () => undefined);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`nats-server (${configFile}) exited (${signal ?? code}) during start:\n${log}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port, 10_000), exited]);
  return { child, log: () => log };
}

/** The port opens before JetStream is ready to answer; wait for a working account info. */
export async function waitForJetStream(url: string, timeoutMs = 10_000): Promise<void> {
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({ servers: url, timeout: 1_000 });
      const jsm = await jetstreamManager(nc);
      await jsm.getAccountInfo();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await nc?.close().catch(() => undefined);
    }
  }
}
