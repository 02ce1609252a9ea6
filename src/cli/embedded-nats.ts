/**
 * The embedded NATS: `guichet server` without --nats starts `nats-server -c nats.conf` with
 * its store under --data, waits until JetStream answers, and stops it on exit.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forgetEmbedded, reclaimLeftover, recordEmbedded } from './nats-leftover.js';
import { moveGlobalAccountStore } from './store-accounts.js';

export const INSTALL_HINT =
  'nats-server (2.12 or later) is not installed: run `bash scripts/install-nats-server.sh` (it uses sudo when not root) ' +
  '(Debian/Ubuntu), or pass --nats <url> to use a running NATS server';

export interface EmbeddedNats {
  url: string;
  stop(): Promise<void>;
}

/** nats.conf of this package when the given path is relative and not found in the working directory. */
export function findConfig(path: string): string {
  if (existsSync(path)) return resolve(path);
  const packaged = resolve(dirname(fileURLToPath(import.meta.url)), '../../..', path);
  if (existsSync(packaged)) return packaged;
  throw new Error(`cannot find the NATS configuration ${path}`);
}

export function natsServerVersion(): string | undefined {
  const probe = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return undefined;
  return /v?(\d+\.\d+\.\d+)/.exec(probe.stdout)?.[1];
}

export async function startEmbeddedNats(options: {
  config: string;
  dataDir: string;
  port: number;
  /** Variables the configuration reads (the users' public keys). */
  env?: Record<string, string>;
  log: (line: string) => void;
}): Promise<EmbeddedNats> {
  const version = natsServerVersion();
  if (!version) throw new Error(INSTALL_HINT);
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < 2 || (major === 2 && minor < 12)) {
    throw new Error(`nats-server ${version} is too old: guichet needs 2.12 or later (atomic batch publish); run scripts/install-nats-server.sh`);
  }
  const store = resolve(options.dataDir);
  await mkdir(store, { recursive: true });
  await reclaimLeftover(store, options.log);
  if (await portOpen(options.port)) {
    throw new Error(
      `port ${options.port} is already in use (another nats-server?). To share it, pass --nats nats://127.0.0.1:${options.port}; ` +
        'or give the embedded one another port with --nats-port',
    );
  }
  await moveGlobalAccountStore(store, options.log);
  const child: ChildProcess = spawn('nats-server', ['-c', options.config, '-p', String(options.port)], {
    env: { ...process.env, ...options.env, GUICHET_NATS_STORE: store },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`nats-server exited (${code}):\n${stderr.trim().split('\n').slice(-5).join('\n')}`)));
    child.once('error', (err) => reject(new Error(`cannot start nats-server: ${err.message}`)));
  });
  exited.catch(() => undefined);
  const deadline = Date.now() + 15_000;
  while (!(await portOpen(options.port))) {
    await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not open port ${options.port} within 15 s`);
    }
  }
  await recordEmbedded(store, child.pid, options.port);
  options.log(`embedded nats-server ${version} on 127.0.0.1:${options.port}, store ${store}`);
  return {
    url: `nats://127.0.0.1:${options.port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
      await forgetEmbedded(store);
    },
  };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
