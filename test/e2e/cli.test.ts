import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from '../support/net.js';

const run = promisify(execFile);
const MAIN = join(process.cwd(), 'dist/src/cli/main.js');

interface Ctx {
  dir: string;
  port: number;
  natsPort: number;
  server?: ChildProcess;
  log: string;
}

const Cli = suite<Ctx>('the guichet command');

async function startServer(ctx: Ctx, extra: string[] = []): Promise<void> {
  ctx.log = '';
  ctx.server = spawn(process.execPath, [MAIN, 'server', '--port', String(ctx.port), '--nats-port', String(ctx.natsPort), '--data', join(ctx.dir, 'data'), ...extra], {
    cwd: ctx.dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  ctx.server.stderr!.on('data', (chunk: Buffer) => (ctx.log += chunk.toString()));
  await waitForPort(ctx.port, 15_000);
}

async function stopServer(ctx: Ctx, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  const server = ctx.server!;
  const code = new Promise<number | null>((resolve) => server.once('exit', (c) => resolve(c)));
  server.kill(signal);
  return code;
}

function guichet(ctx: Ctx, ...args: string[]) {
  return run(process.execPath, [MAIN, ...args, '--port', String(ctx.port)], { cwd: ctx.dir });
}

Cli.before(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'guichet-cli-'));
  ctx.port = await freePort();
  ctx.natsPort = await freePort();
});
Cli.after(async (ctx) => {
  if (ctx.server && ctx.server.exitCode === null) await stopServer(ctx, 'SIGKILL');
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

Cli('server with an embedded nats-server: book, cancel, restart, keep the data, stop cleanly', async (ctx) => {
  await startServer(ctx, ['--hold-seconds', '30']);
  const list = JSON.parse((await guichet(ctx, 'concerts', '--json')).stdout) as { concerts: Array<{ id: string; capacity: number }> };
  assert.ok(list.concerts.length >= 3, 'the demo catalog has at least three concerts');
  assert.ok(list.concerts.every((c) => c.capacity === 100));
  const concert = list.concerts[0]!.id;

  const booked = await guichet(ctx, 'book', concert, '42', '--first', 'Jean Pierre', '--last', 'Le Gall');
  const reference = /Booking reference: (\d{10})/.exec(booked.stdout)?.[1];
  assert.ok(reference, booked.stdout);
  const seats = JSON.parse((await guichet(ctx, 'seats', concert, '--json')).stdout) as { map: string };
  assert.is(seats.map[41], 'x');
  // A group under one reference, by labels and numbers; then the best 3 the server chooses.
  const group = await guichet(ctx, 'book', concert, 'b4', 'B5', '16', '--first', 'Ada', '--last', 'Lovelace');
  assert.match(group.stdout, /^Booked seats 14-16 \(B4-B6\) of \S+ for Ada Lovelace\.\nBooking reference: \d{10}\n$/);
  const best = JSON.parse((await guichet(ctx, 'book', concert, '--best', '3', '--first', 'Ada', '--last', 'Lovelace', '--json')).stdout) as { labels: string[] };
  assert.equal(best.labels, ['A4', 'A5', 'A6']);

  assert.is(await stopServer(ctx), 0, 'SIGTERM exits 0');
  assert.match(ctx.log, /stopped/);
  await startServer(ctx);
  const found = JSON.parse((await guichet(ctx, 'lookup', reference!, '--last', 'le gall', '--json')).stdout) as { seat: number };
  assert.is(found.seat, 42, 'the booking survived the restart of server and embedded NATS');
  const cancelled = await guichet(ctx, 'cancel', reference!, '--last', 'Le Gall');
  assert.match(cancelled.stdout, /Cancelled \d{10}: seat 42/);

  // The embedded NATS secured itself: owner-only keys under --data, no anonymous access, and
  // audit and tail find the reader's key there by themselves.
  const secrets = join(ctx.dir, 'data', 'secrets');
  for (const file of ['gateway.nk', 'reader.nk', 'admin.nk', 'snapshot.key']) {
    assert.is((await stat(join(secrets, file))).mode & 0o777, 0o600, file);
  }
  assert.is((await stat(secrets)).mode & 0o777, 0o700);
  const nats = `nats://127.0.0.1:${ctx.natsPort}`;
  const audit = await run(process.execPath, [MAIN, 'audit', '--nats', nats, '--data', join(ctx.dir, 'data'), '--json'], { cwd: ctx.dir });
  assert.is((JSON.parse(audit.stdout) as { events: number }).events, 15, 'seat 42 held, booked, cancelled; two groups of 3 held and booked');
  const tail = await run(process.execPath, [MAIN, 'tail', '--nats', nats, '--from', '1'], { cwd: ctx.dir, timeout: 2_000, killSignal: 'SIGINT' }).catch(
    (e: { stdout: string }) => e,
  );
  assert.match(tail.stdout, /SeatBooked seat 42 booked for Jean Pierre Le Gall/);
  const anonymous = await run(process.execPath, [MAIN, 'audit', '--nats', nats, '--data', join(ctx.dir, 'elsewhere')], { cwd: ctx.dir }).catch(
    (e: { stderr: string }) => e,
  );
  assert.match(anonymous.stderr, /Authorization Violation/);
  assert.is(await stopServer(ctx, 'SIGINT'), 0, 'SIGINT exits 0');
  // The embedded nats-server stopped with it: its port is free again.
  const probe = await run(process.execPath, ['-e', `require('net').connect(${ctx.natsPort},'127.0.0.1').on('connect',()=>process.exit(1)).on('error',()=>process.exit(0))`]).then(
    () => 'closed',
    () => 'open',
  );
  assert.is(probe, 'closed');
});

Cli('one-shot commands report server errors and typos clearly, with a non-zero exit', async (ctx) => {
  await startServer(ctx);
  const typo = await guichet(ctx, 'cancel', '1234567890', '--last', 'X').then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  assert.is(typo?.code, 2);
  assert.match(typo!.stderr, /not a booking reference/);
  const unknown = await guichet(ctx, 'seats', 'nope').then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  assert.is(unknown?.code, 1);
  assert.match(unknown!.stderr, /NO_SUCH_CONCERT/);
  const failure = (...args: string[]) => guichet(ctx, ...args).then(() => undefined, (e: { code: number; stderr: string }) => e);
  const noSeats = await failure('book', 'rock-garage', '--first', 'Ada', '--last', 'Lovelace');
  assert.is(noSeats?.code, 2);
  assert.match(noSeats!.stderr, /name the seats/);
  const both = await failure('book', 'rock-garage', '4', '--best', '2', '--first', 'Ada', '--last', 'Lovelace');
  assert.match(both!.stderr, /not both/);
  const taken = await failure('book', 'rock-garage', '--best', '9', '--first', 'Ada', '--last', 'Lovelace');
  assert.is(taken?.code, 1);
  assert.match(taken!.stderr, /BAD_ARGUMENTS/);
  await stopServer(ctx);
});

Cli('a bad catalog or a missing nats-server is reported in one line', async (ctx) => {
  const bad = join(ctx.dir, 'bad.json');
  await writeFile(bad, '{"concerts": [{"id": "has space"}]}');
  const catalog = await run(process.execPath, [MAIN, 'server', '--concerts', bad, '--port', String(ctx.port)], { cwd: ctx.dir }).then(
    () => undefined,
    (e: { stderr: string }) => e.stderr,
  );
  assert.match(catalog ?? '', /catalog .*id must be/);
  const missing = await run(process.execPath, [MAIN, 'server', '--port', String(ctx.port), '--nats-port', String(ctx.natsPort)], {
    cwd: ctx.dir,
    env: { ...process.env, PATH: '/nonexistent' },
  }).then(
    () => undefined,
    (e: { stderr: string }) => e.stderr,
  );
  assert.match(missing ?? '', /nats-server .* is not installed: run `bash scripts\/install-nats-server.sh`/);
  assert.is(missing!.trim().split('\n').length, 1);
});

Cli.run();
