/**
 * `guichet server` with its embedded nats-server, killed with -9 (a crash, a closed
 * terminal): its nats-server lives on, holding the NATS port; the next start with the same
 * --data recognises it as its own (pid and start time recorded under --data) and stops it,
 * then starts and serves. A process that is not that very nats-server is never touched.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuichetClient } from '../../src/cli/client.js';
import { findLeftover, isSameProcess, LEFTOVER_FILE, processId, reclaimLeftover, type EmbeddedRecord, type ProcessId } from '../../src/cli/nats-leftover.js';
import { track } from '../support/children.js';
import { freePort } from '../support/net.js';
import { MAIN_JS } from '../support/process.js';
import { eventually } from '../support/guichet.js';

interface Ctx {
  dir: string;
  data: string;
  port: number;
  natsPort: number;
  /** Processes to kill at the end, whatever happened (if they are still those processes). */
  procs: ProcessId[];
}

const Leftover = suite<Ctx>('embedded nats-server left by a crashed gateway');

Leftover.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'guichet-leftover-'));
  ctx.data = join(ctx.dir, 'data');
  ctx.port = await freePort();
  ctx.natsPort = await freePort();
  ctx.procs = [];
});

Leftover.after.each(async (ctx) => {
  for (const id of ctx.procs) {
    if (!isSameProcess(id)) continue;
    try {
      process.kill(id.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await rm(ctx.dir, { recursive: true, force: true });
});

/** Starts `guichet server` and resolves once it says where to connect. */
async function startServer(ctx: Ctx): Promise<{ child: ChildProcess; log: () => string }> {
  const child = track(
    spawn(process.execPath, [MAIN_JS, 'server', '--port', String(ctx.port), '--nats-port', String(ctx.natsPort), '--data', ctx.data, '--snapshot-seconds', '0'], {
      cwd: ctx.dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  ctx.procs.push(processId(child.pid!)!);
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  await eventually(
    () => log,
    (text) => /listening on/.test(text) || child.exitCode !== null,
    20_000,
  );
  assert.match(log, /listening on/, `the server did not start:\n${log}`);
  return { child, log: () => log };
}

async function record(ctx: Ctx): Promise<EmbeddedRecord> {
  return JSON.parse(await readFile(join(ctx.data, LEFTOVER_FILE), 'utf8')) as EmbeddedRecord;
}

Leftover('kill -9 of the server, then a start with the same --data reclaims the port and serves', async (ctx) => {
  const first = await startServer(ctx);
  const { server } = await record(ctx);
  ctx.procs.push(server);
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  // The crash left the nats-server running (what made the next start fail).
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(isSameProcess(server), 'the embedded nats-server should outlive a kill -9 of its gateway');

  const second = await startServer(ctx);
  assert.match(second.log(), new RegExp(`stopping the embedded nats-server \\(pid ${server.pid}, port ${ctx.natsPort}\\) left running`));
  assert.not.ok(isSameProcess(server), 'the left-over nats-server is gone');
  const client = await GuichetClient.connect({ port: ctx.port });
  const { concerts } = await client.request<{ concerts: unknown[] }>('CONCERTS');
  assert.ok(concerts.length > 0);
  client.close();

  // A clean stop forgets the record: nothing to reclaim next time.
  second.child.kill('SIGTERM');
  const code = await new Promise((r) => second.child.once('exit', (c) => r(c)));
  assert.is(code, 0);
  assert.not.ok(existsSync(join(ctx.data, LEFTOVER_FILE)));
});

Leftover('a second server on a --data in use is refused, the first keeps its nats-server; SIGHUP stops both', async (ctx) => {
  const first = await startServer(ctx);
  const { server } = await record(ctx);
  ctx.procs.push(server);
  const other = spawn(process.execPath, [MAIN_JS, 'server', '--port', String(await freePort()), '--nats-port', String(await freePort()), '--data', ctx.data], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  other.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await new Promise((r) => other.once('exit', (c) => r(c)));
  assert.is(code, 1);
  assert.match(err, new RegExp(`another guichet server \\(pid ${first.child.pid}\\) runs with this --data`));
  assert.ok(isSameProcess(server));
  // Its terminal closing (SIGHUP) stops it cleanly, embedded nats-server included.
  first.child.kill('SIGHUP');
  assert.is(await new Promise((r) => first.child.once('exit', (c) => r(c))), 0);
  await eventually(() => isSameProcess(server), (alive) => !alive);
  assert.not.ok(existsSync(join(ctx.data, LEFTOVER_FILE)));
});

Leftover('a record naming a process that is not that nats-server is left alone', async (ctx) => {
  // A live process that is not a nats-server (the pid reused by another program)…
  const sleeper = track(spawn('sleep', ['30']));
  ctx.procs.push(await eventually(() => processId(sleeper.pid!), (id) => id !== undefined) as ProcessId);
  const dead = { pid: 999_999_999, startTime: '1' };
  await mkdir(ctx.data, { recursive: true });
  await writeFile(join(ctx.data, LEFTOVER_FILE), JSON.stringify({ server: { ...processId(sleeper.pid!)!, port: 1 }, gateway: dead }));
  assert.equal(await findLeftover(ctx.data), { kind: 'gone' });
  // …and the right pid of a real process, with another start time (the pid was reused).
  await writeFile(join(ctx.data, LEFTOVER_FILE), JSON.stringify({ server: { pid: process.pid, startTime: '1', port: 1 }, gateway: dead }));
  assert.equal(await findLeftover(ctx.data), { kind: 'gone' });
  const said: string[] = [];
  await reclaimLeftover(ctx.data, (line) => said.push(line));
  assert.equal(said, []);
  assert.ok(isSameProcess(processId(sleeper.pid!)!));
  assert.not.ok(existsSync(join(ctx.data, LEFTOVER_FILE)));
});

Leftover.run();
