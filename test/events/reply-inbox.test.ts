/**
 * The appends' reply inbox over a real nats-server (with guichet's roles): each request gets
 * its own reply, however they interleave; no answer in time is a TimeoutError and its late
 * answer is dropped; nobody listening is NoResponders, at once.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import { NoResponders, ReplyInbox } from '../../src/events/reply-inbox.js';
import { forwardSubject } from '../../src/events/forward-link.js';
import { startNats, type TestNats } from '../support/nats.js';

interface Ctx {
  nats: TestNats;
  answerer: NatsConnection;
  asker: NatsConnection;
}

const Inbox = suite<Ctx>('reply inbox of the appends');

Inbox.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.answerer = await ctx.nats.connectAs('gateway');
  ctx.asker = await ctx.nats.connectAs('gateway');
});
Inbox.after(async (ctx) => {
  await ctx.answerer?.close();
  await ctx.asker?.close();
  await ctx.nats?.stop();
});

const text = new TextEncoder();
const read = (b: Uint8Array) => new TextDecoder().decode(b);

/** Answers every request on `subject` with `answer(payload)` after `delayMs(payload)`. */
async function answering(ctx: Ctx, subject: string, answer: (p: string) => string, delayMs: (p: string) => number = () => 0) {
  const sub = ctx.answerer.subscribe(subject, {
    callback: (_err, msg) => void setTimeout(() => msg.respond(text.encode(answer(read(msg.data)))), delayMs(read(msg.data))),
  });
  await ctx.answerer.flush();
  return sub;
}

Inbox('requests answered out of order each get their own reply', async (ctx) => {
  const subject = forwardSubject('echo');
  const sub = await answering(ctx, subject, (p) => `re ${p}`, (p) => 40 - Number(p) * 2);
  const inbox = new ReplyInbox(ctx.asker);
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => inbox.request(subject, text.encode(String(i)), undefined, 2_000)));
  assert.equal(replies.map((m) => read(m.data)), Array.from({ length: 20 }, (_, i) => `re ${i}`));
  assert.is(inbox.pending, 0);
  sub.unsubscribe();
});

Inbox('no answer in time is a TimeoutError, and the answer that comes later is dropped', async (ctx) => {
  const subject = forwardSubject('slow');
  const sub = await answering(ctx, subject, () => 'late', () => 150);
  const inbox = new ReplyInbox(ctx.asker);
  const started = Date.now();
  const err = await inbox.request(subject, text.encode('x'), undefined, 50).catch((e: unknown) => e);
  assert.instance(err, TimeoutError);
  assert.ok(Date.now() - started < 140, `timed out after ${Date.now() - started} ms`);
  assert.is(inbox.pending, 0);
  await new Promise((r) => setTimeout(r, 200)); // the late answer arrives: nothing to settle
  const next = await inbox.request(subject, text.encode('y'), undefined, 1_000);
  assert.is(read(next.data), 'late');
  sub.unsubscribe();
});

Inbox('nobody listening is NoResponders at once, not a timeout', async (ctx) => {
  const inbox = new ReplyInbox(ctx.asker);
  const started = Date.now();
  const err = await inbox.request(forwardSubject('nobody-here'), text.encode('x'), undefined, 5_000).catch((e: unknown) => e);
  assert.instance(err, NoResponders);
  assert.match((err as Error).message, 'guichet.forward.nobody-here');
  assert.ok(Date.now() - started < 2_000, `answered after ${Date.now() - started} ms`);
  assert.is(inbox.pending, 0);
});

Inbox.run();
