/**
 * A real nats-server for tests: a free port on loopback, a temporary JetStream store, stopped
 * (and its store removed) at the end. `restart()` keeps the store, as a crash and reboot would.
 * `sync: 'always'` starts it with `sync_interval: always`, as nats.conf does (every
 * acknowledged write on disk); the default is the server's (flush every 2 minutes).
 *
 * Authentication is on, with the roles and accounts guichet ships (nats-roles.conf,
 * nats-accounts.conf): users `gateway` and `admin` in the gateways' account, `reader` in the
 * readers' one, with passwords; no anonymous access. `url` carries the gateway's
 * credentials, so that a gateway started on it runs with exactly the gateway's rights.
 * GUICHET_TEST_VIOLATIONS=1 prints every permission violation the server logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, type NatsCredentials } from '../../src/nats-connection.js';
import { track } from './children.js';
import { freePort, waitForPort } from './net.js';

export type SyncSetting = 'always' | 'default';
export type Role = 'gateway' | 'reader' | 'admin';
export const ROLES: readonly Role[] = ['gateway', 'reader', 'admin'];

/** The repository's nats-roles.conf and nats-accounts.conf (tests run from dist/test/support). */
export const ROLES_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../nats-roles.conf');
export const ACCOUNTS_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../nats-accounts.conf');

/** Random passwords of the three roles, for one test server or cluster. */
export function rolePasswords(): Record<Role, string> {
  return { gateway: randomBytes(12).toString('hex'), reader: randomBytes(12).toString('hex'), admin: randomBytes(12).toString('hex') };
}

/**
 * The configuration lines that turn authentication on with guichet's roles and accounts, as
 * nats.conf does (gateway and admin in GUICHET, reader in GUICHET_READERS); copies
 * nats-roles.conf and nats-accounts.conf next to the configuration (nats-server includes
 * relative paths only).
 */
export async function authorizationLines(configDir: string, passwords: Record<Role, string>): Promise<string[]> {
  await copyFile(ROLES_FILE, join(configDir, 'nats-roles.conf'));
  await copyFile(ACCOUNTS_FILE, join(configDir, 'nats-accounts.conf'));
  const user = (role: Role) => `{ user: ${role}, password: "${passwords[role]}", permissions: $GUICHET_${role.toUpperCase()}_PERMISSIONS }`;
  return [
    'include ./nats-roles.conf',
    'include ./nats-accounts.conf',
    'accounts {',
    `  GUICHET { jetstream: enabled, users: [ ${user('gateway')}, ${user('admin')} ], exports: $GUICHET_GATEWAY_EXPORTS, imports: $GUICHET_GATEWAY_IMPORTS }`,
    `  GUICHET_READERS { jetstream: enabled, users: [ ${user('reader')} ], exports: $GUICHET_READER_EXPORTS, imports: $GUICHET_READER_IMPORTS }`,
    '}',
  ];
}

/** `nats://role:password@host:port`, for each URL of a comma-separated list. */
export function withUser(urls: string, role: Role, passwords: Record<Role, string>): string {
  return urls
    .split(',')
    .map((u) => u.replace('nats://', `nats://${role}:${passwords[role]}@`))
    .join(',');
}

export interface TestNats {
  /** The URL with the gateway's credentials in it. */
  url: string;
  /** The URL without credentials (an anonymous client: refused). */
  plainUrl: string;
  urlFor(role: Role): string;
  connectAs(role: Role): Promise<NatsConnection>;
  port: number;
  storeDir: string;
  sync: SyncSetting;
  configFile: string;
  /** Connects as the gateway. */
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
  const passwords = rolePasswords();
  const auth = await authorizationLines(storeDir, passwords);
  await writeFile(configFile, [`listen: 127.0.0.1:${port}`, 'jetstream {', ...jetstream, '}', ...auth, ''].join('\n'));
  const plainUrl = `nats://127.0.0.1:${port}`;
  const urlFor = (role: Role) => withUser(plainUrl, role, passwords);
  let proc: ChildProcess | undefined;

  const start = async () => {
    proc = (await launchNatsServer(configFile, port)).child;
    await waitForJetStream(urlFor('admin'));
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
    url: urlFor('gateway'),
    plainUrl,
    urlFor,
    connectAs: (role) => connectNats(urlFor(role), {}),
    port,
    storeDir,
    sync,
    configFile,
    connect: () => connectNats(urlFor('gateway'), {}),
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
  const showViolations = process.env['GUICHET_TEST_VIOLATIONS'] === '1';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    log = (log + text).slice(-8000);
    if (showViolations) for (const line of text.split('\n')) if (/Violation/.test(line)) process.stderr.write(`[nats] ${line}\n`);
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
export async function waitForJetStream(url: string, timeoutMs = 10_000, credentials: NatsCredentials = {}): Promise<void> {
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let nc: NatsConnection | undefined;
    try {
      nc = await connectNats(url, credentials, { timeout: 1_000 });
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
