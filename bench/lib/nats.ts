/**
 * A nats-server for one benchmark: loopback, a free port, a JetStream store in a temporary
 * directory (or a kept one, for the cold-start log), `sync_interval: always` like nats.conf
 * or the server's default (flush every 2 minutes). Authentication on with guichet's roles, as
 * in the tests: `url` carries the gateway's credentials (a URL with user info, which
 * src/nats-connection.ts reads), `urlFor` another role's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats-connection.js';
import { freePort, waitForPort } from './net.js';
import { authorizationLines, rolePasswords, waitForJetStream, withUser, type Role } from '../../test/support/nats.js';

export type SyncSetting = 'always' | 'default';

export interface BenchNats {
  url: string;
  urlFor(role: Role): string;
  port: number;
  pid: number;
  sync: SyncSetting;
  storeDir: string;
  connect(): Promise<NatsConnection>;
  stop(): Promise<void>;
}

export function natsServerVersion(): string {
  const probe = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('nats-server is not installed (scripts/install-nats-server.sh installs 2.12 or later on Debian/Ubuntu)');
  }
  return probe.stdout.trim();
}

export async function startNats(options: { sync: SyncSetting; storeDir?: string }): Promise<BenchNats> {
  const port = await freePort();
  const work = await mkdtemp(join(tmpdir(), 'guichet-bench-nats-'));
  const storeDir = options.storeDir ?? join(work, 'store');
  await mkdir(storeDir, { recursive: true });
  const conf = join(work, 'nats.conf');
  const passwords = rolePasswords();
  await writeFile(
    conf,
    [
      `listen: 127.0.0.1:${port}`,
      'server_name: guichet-bench',
      'jetstream {',
      `  store_dir: ${JSON.stringify(storeDir)}`,
      ...(options.sync === 'always' ? ['  sync_interval: always'] : []),
      '}',
      ...(await authorizationLines(work, passwords)),
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn('nats-server', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  proc.once('error', () => undefined);
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new Error(`nats-server exited (${code}) during start: ${stderr}`))),
  );
  exited.catch(() => undefined);
  const plain = `nats://127.0.0.1:${port}`;
  const url = withUser(plain, 'gateway', passwords);
  await Promise.race([waitForPort(port, 15_000).then(() => waitForJetStream(withUser(plain, 'admin', passwords), 30_000)), exited]);
  return {
    url,
    urlFor: (role) => withUser(plain, role, passwords),
    port,
    pid: proc.pid!,
    sync: options.sync,
    storeDir,
    connect: () => connectNats(url, {}),
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(timer);
      }
      // The kept store (cold start) lives outside `work`.
      await rm(work, { recursive: true, force: true });
    },
  };
}

