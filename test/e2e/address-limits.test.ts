/**
 * Per-address limits over real sockets from several loopback addresses (127.0.0.x): seats
 * held at once, connections, watchers, the cool-down after a hold runs out, and the idle
 * timeout that counts lines, not bytes. The red-team scenarios of issue 13 that they stop.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { connect as connectTcp, type Socket } from 'node:net';
import { GuichetClient, ServerError } from '../../src/cli/client.js';
import type { Guichet } from '../../src/guichet.js';
import { rejectsWith, startNats, startNode, type TestNats } from '../support/guichet.js';

const Limits = suite<{ nats: TestNats; nodes: Guichet[]; clients: GuichetClient[] }>('per-address limits');

Limits.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.nodes = [];
  ctx.clients = [];
});
Limits.after.each((ctx) => {
  for (const c of ctx.clients.splice(0)) c.close();
});
Limits.after(async (ctx) => {
  await Promise.all((ctx.nodes ?? []).map((n) => n.close()));
  await ctx.nats?.stop();
});

async function node(ctx: { nats: TestNats; nodes: Guichet[] }, gateway: Parameters<typeof startNode>[1] = {}): Promise<Guichet> {
  const n = await startNode(ctx.nats, { snapshotIntervalMs: 0, ...gateway });
  ctx.nodes.push(n);
  return n;
}

async function from(ctx: { clients: GuichetClient[] }, n: Guichet, localAddress: string): Promise<GuichetClient> {
  const c = await GuichetClient.connect({ port: n.gateway.port, localAddress });
  ctx.clients.push(c);
  return c;
}

const settle = (p: Promise<unknown>) => p.then(() => 'OK', (err: Error) => (err instanceof ServerError ? err.code : err.message));

Limits('red team "one address holds a whole sale": 25 connections of one address asking for all 100 seats get 32; another address still gets seats', async (ctx) => {
  const n = await node(ctx);
  const conns = await Promise.all(Array.from({ length: 25 }, () => from(ctx, n, '127.0.0.2')));
  // Every connection asks for its 4 seats (the per-connection maximum) at once: 100 seats.
  const asked = conns.flatMap((c, i) => [1, 2, 3, 4].map((k) => ({ c, p: c.request<{ hold: string }>('HOLD', 'c1', i * 4 + k) })));
  const answers = await Promise.all(asked.map(async ({ c, p }) => ({ c, hold: (await p.catch(() => undefined))?.hold, code: await settle(p) })));
  const held = answers.filter((a) => a.code === 'OK');
  assert.is(held.length, 32, `held ${held.length}: ${JSON.stringify(answers.map((a) => a.code))}`);
  assert.is(answers.filter((a) => a.code === 'HOLD_LIMIT').length, 68);
  const loser = answers.find((a) => a.code === 'HOLD_LIMIT')!.c;
  const message = await rejectsWith(loser.request('HOLD', 'c2', 1), 'HOLD_LIMIT');
  assert.match(message, /this address \(127\.0\.0\.2\) may hold at most 32 seats at once over all its connections, the address's limit; it holds 32/);
  const other = await from(ctx, n, '127.0.0.3');
  await other.request('HOLD', 'c2', 1); // another address is not limited by it
  // A hold given back makes room for one more seat of the address, on any of its connections.
  await held[0]!.c.request('RELEASE', held[0]!.hold!);
  await loser.request('HOLD', 'c2', 2);
  await rejectsWith(loser.request('HOLD', 'c2', 3), 'HOLD_LIMIT');
});

Limits('red team "re-hold the moment it runs out": an expired seat cannot be held again by its address for the cool-down, but by another at once; RELEASE then HOLD neither', async (ctx) => {
  const n = await node(ctx, { holdSeconds: 1, gateway: { addressLimits: { coolDownMs: 2_500 } } });
  const a = await from(ctx, n, '127.0.0.4');
  const b = await from(ctx, n, '127.0.0.5');
  const { expiresAt } = await a.request<{ expiresAt: string }>('HOLD', 'c2', 3);
  await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 20));
  const message = await rejectsWith(a.request('HOLD', 'c2', 3), 'COOL_DOWN');
  assert.match(message, /this address held seat 3 of c2 until a moment ago; they are left to others for [23] s more/);
  const second = await from(ctx, n, '127.0.0.4');
  await rejectsWith(second.request('HOLD', 'c2', 3), 'COOL_DOWN'); // a new connection of the same address neither
  await b.request('HOLD', 'c2', 3); // someone else gets the chance
  // RELEASE just before it runs out, then HOLD again: cooled down too.
  const { hold } = await a.request<{ hold: string }>('HOLD', 'c2', 4);
  await a.request('RELEASE', hold);
  await rejectsWith(a.request('HOLD', 'c2', 4), 'COOL_DOWN');
  await new Promise((r) => setTimeout(r, 2_600));
  await a.request('HOLD', 'c2', 4); // the cool-down is over
});

Limits('red team "best n gets the same seats back": a best n passes over the seats its address is cooling down, another address gets them', async (ctx) => {
  const n = await node(ctx, { holdSeconds: 1, gateway: { addressLimits: { coolDownMs: 5_000 } } });
  const a = await from(ctx, n, '127.0.0.9');
  const b = await from(ctx, n, '127.0.0.10');
  const first = await a.request<{ hold: string; seats: number[] }>('HOLD', 'c2', 'best', 2);
  await a.request('RELEASE', first.hold);
  const again = await a.request<{ hold: string; seats: number[] }>('HOLD', 'c2', 'best', 2);
  assert.ok(again.seats.every((seat) => !first.seats.includes(seat)), `held ${first.seats.join(' ')} then ${again.seats.join(' ')}`);
  const other = await b.request<{ seats: number[] }>('HOLD', 'c2', 'best', 2);
  assert.equal(other.seats, first.seats); // the best seats went to someone else
});

Limits('red team "one host fills every slot": past its connections an address gets ERR TOO_MANY_CONNECTIONS then a close; others still connect', async (ctx) => {
  const n = await node(ctx, { gateway: { addressLimits: { maxConnections: 5 } } });
  const five = await Promise.all(Array.from({ length: 5 }, () => from(ctx, n, '127.0.0.6')));
  const refused = await GuichetClient.connect({ port: n.gateway.port, localAddress: '127.0.0.6' }).then(
    () => assert.unreachable('a sixth connection was let in'),
    (err: Error) => err,
  ) as Error;
  assert.instance(refused, ServerError);
  assert.is((refused as ServerError).code, 'TOO_MANY_CONNECTIONS');
  assert.match(refused.message, /this address \(127\.0\.0\.6\) has 5 connections open, the address's limit/);
  await from(ctx, n, '127.0.0.7');
  five[0]!.close();
  await new Promise((r) => setTimeout(r, 100));
  await from(ctx, n, '127.0.0.6'); // a closed one makes room
});

Limits('red team "fan-out amplification": past its watchers an address gets WATCH_LIMIT (SEATS still works); UNWATCH and a close give them back', async (ctx) => {
  const n = await node(ctx, { gateway: { addressLimits: { maxWatchers: 3 } } });
  const [x, y] = [await from(ctx, n, '127.0.0.8'), await from(ctx, n, '127.0.0.8')];
  await x.request('WATCH', 'c1');
  await x.request('WATCH', 'c1'); // the same concert again is not another watcher
  await x.request('WATCH', 'c2');
  await y.request('WATCH', 'c1');
  const message = await rejectsWith(y.request('WATCH', 'c2'), 'WATCH_LIMIT');
  assert.match(message, /this address \(127\.0\.0\.8\) watches 3 concerts already over all its connections, its limit/);
  await y.request('SEATS', 'c2');
  await (await from(ctx, n, '127.0.0.9')).request('WATCH', 'c2'); // another address
  await x.request('UNWATCH', 'c2');
  await y.request('WATCH', 'c2');
  x.close();
  await new Promise((r) => setTimeout(r, 100));
  const z = await from(ctx, n, '127.0.0.8');
  await z.request('WATCH', 'c1'); // y's two and this one: the address's three
  await rejectsWith(z.request('WATCH', 'c2'), 'WATCH_LIMIT');
});

/** A raw socket from `localAddress`; collects what it reads and says when it is closed. */
function rawFrom(port: number, localAddress: string): Promise<{ socket: Socket; text: () => string; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connectTcp({ port, host: '127.0.0.1', localAddress });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - started)));
    socket.once('connect', () => resolve({ socket, text: () => text, closed }));
    socket.once('error', reject);
  });
}

Limits('red team "a byte now and then keeps a connection": the idle timeout counts complete lines; a line each time keeps it open', async (ctx) => {
  const n = await node(ctx, { idleTimeoutMs: 600 });
  const trickler = await rawFrom(n.gateway.port, '127.0.0.10');
  const talker = await rawFrom(n.gateway.port, '127.0.0.11');
  const timer = setInterval(() => {
    trickler.socket.write('P');
    talker.socket.write('PING\n');
  }, 150);
  try {
    const after = await Promise.race([trickler.closed, new Promise<number>((r) => setTimeout(() => r(-1), 3_000))]);
    assert.ok(after > 0 && after < 2_000, `the trickler was closed after ${after} ms`);
    assert.match(trickler.text(), /ERR IDLE_TIMEOUT no command for 1 s; closing/);
    assert.not.ok(talker.socket.destroyed, 'a connection that sends lines stays');
  } finally {
    clearInterval(timer);
    talker.socket.destroy();
  }
});

Limits.run();
