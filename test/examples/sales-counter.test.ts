/**
 * examples/sales-counter, run as another service would run it: against a real gateway's
 * stream, resuming through its durable consumer, and stopping on a version it does not know.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ulid } from 'ulid';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Guichet } from '../../src/guichet.js';
import type { GuichetClient } from '../../src/cli/client.js';
import { client, eventually, startNats, startNode, type TestNats } from '../support/guichet.js';

const COUNTER = join(process.cwd(), 'dist/examples/sales-counter/counter.js');
const exec = promisify(execFile);

interface Counts {
  booked: number;
  cancelled: number;
  sold: number;
  bookings: number;
  cancellations: number;
}
interface State {
  lastSeq: number;
  concerts: Record<string, Counts>;
}

interface Ctx {
  nats: TestNats;
  node: Guichet;
  c: GuichetClient;
  dir: string;
  state: string;
}

/**
 * The readers' copy of the log (a mirror in their account) follows the gateways' stream a
 * moment behind: a counter run with --once at once counted nothing (once in CI, on Node 24).
 */
async function copyCaughtUp(ctx: Ctx): Promise<void> {
  const last = (await ctx.node.store.position()).lastSeq;
  const nc = await ctx.nats.connectAs('reader');
  try {
    const jsm = await jetstreamManager(nc);
    await eventually(async () => (await jsm.streams.info('TICKETS')).state.last_seq, (seq) => seq >= last, 10_000);
  } finally {
    await nc.close();
  }
}

/** Runs the counter with --once over the whole log as it is now; its exit code, output and stderr. */
async function counter(ctx: Ctx, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  await copyCaughtUp(ctx);
  try {
    const { stdout, stderr } = await exec(process.execPath, [COUNTER, '--nats', ctx.nats.urlFor('reader'), '--state', ctx.state, '--once', ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function book(c: GuichetClient, concert: string, ...seats: number[]): Promise<string> {
  const { hold } = await c.request<{ hold: string }>('HOLD', concert, ...seats);
  const { reference } = await c.request<{ reference: string }>('BOOK', hold, 'Ada', 'Lovelace');
  return reference;
}

const Counter = suite<Ctx>('examples/sales-counter');

Counter.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.node = await startNode(ctx.nats);
  ctx.c = await client(ctx.node);
  ctx.dir = await mkdtemp(join(tmpdir(), 'guichet-counter-'));
  ctx.state = join(ctx.dir, 'state.json');
});
Counter.after(async (ctx) => {
  ctx.c?.close();
  await ctx.node?.close();
  await ctx.nats?.stop();
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

Counter('counts the seats sold and the bookings per concert: a group is one booking of several seats', async (ctx) => {
  const { c } = ctx;
  const first = await book(c, 'c1', 1);
  await book(c, 'c1', 2);
  await book(c, 'c1', 3);
  const group = await book(c, 'c1', 4, 5, 6);
  await book(c, 'c1', 7, 8);
  await book(c, 'c2', 1);
  await c.request('CANCEL', first, 'lovelace');
  await c.request('CANCEL', group, 'lovelace');
  const { hold } = await c.request<{ hold: string }>('HOLD', 'c2', 2); // a hold is not a sale
  await c.request('RELEASE', hold);
  const { code, stdout, stderr } = await counter(ctx);
  assert.is(code, 0, stderr);
  const state = JSON.parse(stdout) as State;
  assert.equal(state.concerts, {
    c1: { booked: 8, cancelled: 4, sold: 4, bookings: 5, cancellations: 2 },
    c2: { booked: 1, cancelled: 0, sold: 1, bookings: 1, cancellations: 0 },
  });
  assert.is(state.lastSeq, (await ctx.node.store.position()).lastSeq);
  assert.equal(JSON.parse(await readFile(ctx.state, 'utf8')), state, 'saved before acknowledging');
});

Counter('resumes where it stopped, through its durable consumer, counting nothing twice', async (ctx) => {
  await book(ctx.c, 'c2', 5);
  const { code, stdout } = await counter(ctx);
  assert.is(code, 0);
  const state = JSON.parse(stdout) as State;
  assert.equal(state.concerts['c2'], { booked: 2, cancelled: 0, sold: 2, bookings: 2, cancellations: 0 });
  assert.equal(state.concerts['c1'], { booked: 8, cancelled: 4, sold: 4, bookings: 5, cancellations: 2 });
  const again = await counter(ctx);
  assert.equal(JSON.parse(again.stdout), state, 'nothing new: the same counts');
});

Counter('stops without acknowledging an event of a version it does not know', async (ctx) => {
  const before = JSON.parse(await readFile(ctx.state, 'utf8')) as State;
  const future = { id: ulid(), type: 'SeatBooked', v: 2, concert: 'c1', at: new Date().toISOString(), source: 'gw-next', data: { seat: 9 } };
  const seq = await ctx.node.store.appendRaw('tickets.events.c1', new TextEncoder().encode(JSON.stringify(future)), future.id);
  const first = await counter(ctx);
  assert.is(first.code, 2);
  assert.match(first.stderr, new RegExp(`sequence ${seq}: event version 2; this counter knows version 1`));
  // Its durable consumer is the reader's, on the readers' copy of the log (same sequences).
  const nc = await ctx.nats.connectAs('reader');
  try {
    const info = await (await jetstreamManager(nc)).consumers.info('TICKETS', 'sales-counter');
    assert.is(info.ack_floor.stream_seq, seq - 1, 'acknowledged up to the event before');
  } finally {
    await nc.close();
  }
  assert.equal(JSON.parse(await readFile(ctx.state, 'utf8')), before);
});

Counter.run();
