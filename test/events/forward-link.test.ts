/**
 * The gateway-to-gateway link over a real nats-server (with guichet's roles): requests of one
 * turn travel as one message and are answered each with its own reply, in order; nobody
 * listening is told at once (NoSuchGateway), no answer in time is a ForwardTimeout; a stop
 * answers what it had received.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { ForwardLink, ForwardLost, ForwardTimeout, NoSuchGateway, forwardSubject } from '../../src/events/forward-link.js';
import { startNats, type TestNats } from '../support/nats.js';

interface Ctx {
  nats: TestNats;
  owner: NatsConnection;
  sender: NatsConnection;
}

const Link = suite<Ctx>('forward link between gateways');

Link.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.owner = await ctx.nats.connectAs('gateway');
  ctx.sender = await ctx.nats.connectAs('gateway');
});
Link.after(async (ctx) => {
  await ctx.owner?.close();
  await ctx.sender?.close();
  await ctx.nats?.stop();
});

const text = new TextEncoder();
const read = (b: Uint8Array) => new TextDecoder().decode(b);

Link('requests made in one turn go as one message and each gets its own answer, in order', async (ctx) => {
  const messages: number[] = [];
  const watcher = await ctx.nats.connectAs('gateway');
  watcher.subscribe(forwardSubject('gw-one'), { callback: (_e, m) => void messages.push(m.data.length) });
  await watcher.flush();
  const stop = new ForwardLink(ctx.owner).serve('gw-one', async (request) => {
    const n = Number(read(request));
    await new Promise((r) => setTimeout(r, 30 - n)); // answered out of order
    return text.encode(`{"n":${n * 10}}`);
  });
  await ctx.owner.flush();
  const link = new ForwardLink(ctx.sender);
  const replies = await Promise.all([1, 2, 3, 4, 5].map((n) => link.request('gw-one', text.encode(String(n)), 2_000)));
  assert.equal(replies.map(read), ['{"n":10}', '{"n":20}', '{"n":30}', '{"n":40}', '{"n":50}']);
  assert.is(messages.length, 1, 'five requests, one message');
  await watcher.close();
  await stop();
});

Link('nobody listening: NoSuchGateway at once, for every request of the message', async (ctx) => {
  const link = new ForwardLink(ctx.sender);
  const started = Date.now();
  const results = await Promise.allSettled([link.request('gw-gone', text.encode('1'), 5_000), link.request('gw-gone', text.encode('2'), 5_000)]);
  assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof NoSuchGateway), JSON.stringify(results));
  assert.ok(Date.now() - started < 1_000, `told in ${Date.now() - started} ms`);
});

Link('an owner that does not answer in time: ForwardTimeout', async (ctx) => {
  const stop = new ForwardLink(ctx.owner).serve('gw-slow', () => new Promise((r) => setTimeout(() => r(text.encode('late')), 1_000)));
  await ctx.owner.flush();
  const err = await new ForwardLink(ctx.sender).request('gw-slow', text.encode('1'), 200).catch((e: Error) => e);
  assert.instance(err, ForwardTimeout);
  await stop();
});

Link('a stop answers the requests it had received before it resolves', async (ctx) => {
  const stop = new ForwardLink(ctx.owner).serve('gw-stopping', () => new Promise((r) => setTimeout(() => r(text.encode('done')), 300)));
  await ctx.owner.flush();
  const answer = new ForwardLink(ctx.sender).request('gw-stopping', text.encode('1'), 2_000);
  await new Promise((r) => setTimeout(r, 50));
  await stop();
  assert.is(read(await answer), 'done');
});

Link('a request of more than one line is refused before it is sent', async (ctx) => {
  const err = await new ForwardLink(ctx.sender).request('gw-one', text.encode('a\nb'), 1_000).catch((e: Error) => e);
  assert.match((err as Error).message, /one line/);
});

// Last: it restarts the server under the suite's connections.
Link('the connection drops while a request waits: ForwardLost at once, not at its deadline', async (ctx) => {
  const stop = new ForwardLink(ctx.owner).serve('gw-cut', () => new Promise((r) => setTimeout(() => r(text.encode('late')), 3_000)));
  await ctx.owner.flush();
  const link = new ForwardLink(ctx.sender);
  const started = Date.now();
  const answer = link.request('gw-cut', text.encode('1'), 20_000).catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 200)); // the request is with the owner
  await ctx.nats.restart({ downMs: 300 });
  const err = await answer;
  assert.instance(err, ForwardLost);
  assert.ok(Date.now() - started < 5_000, `told after ${Date.now() - started} ms`);
  await stop().catch(() => undefined);
});

Link.run();
