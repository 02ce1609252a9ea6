/**
 * A real nats-server started from a configuration file, so that the JetStream file store's
 * sync setting can be chosen: `always` (what nats.conf sets: every acknowledged write is on
 * disk) or the server's default (flush every 2 minutes). Same shape as support/nats.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { freePort, waitForPort } from './net.js';
import { waitForJetStream } from './nats.js';
import type { TestNats } from './nats.js';

export type SyncSetting = 'always' | 'default';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ConfiguredNats extends TestNats {
  sync: SyncSetting;
  configFile: string;
  /** SIGSTOP: the server freezes (a stalled disk, a long pause); connections stay open. */
  pause(): void;
  /** SIGCONT: it goes on where it stopped. */
  resume(): void;
}

export async function startConfiguredNats(options: { sync: SyncSetting }): Promise<ConfiguredNats> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'guichet-faults-nats-'));
  const configFile = join(storeDir, 'nats.conf');
  const jetstream = [`  store_dir: ${JSON.stringify(join(storeDir, 'js'))}`];
  if (options.sync === 'always') jetstream.push('  sync_interval: always');
  await writeFile(configFile, [`listen: 127.0.0.1:${port}`, 'jetstream {', ...jetstream, '}', ''].join('\n'));
  let proc: ChildProcess | undefined;
  let stderr = '';

  const start = async () => {
    const child = spawn('nats-server', ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = child;
    running.add(child);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.once('error', () => undefined);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => {
        running.delete(child);
        reject(new Error(`nats-server exited (${code}): ${stderr}`));
      }),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port, 10_000), exited]);
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
    sync: options.sync,
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

