/**
 * Forwarded commands over a real nats-server: a command the owner does not answer is given up
 * after the forwarding budget (3 s), not the command's whole deadline, and the owner is handed
 * the same budget, so it never decides after the sender gave up. The owner's side of this
 * gateway (its actors) is a small in-memory `LocalConcerts`.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { ForwardLink } from '../../src/events/forward-link.js';
import { DEADLINE_MARGIN_MS, FORWARD_BUDGET_MS, Forwarding, type LocalConcerts } from '../../src/actors/forwarding.js';
import { DEFAULT_RULES, initialState, type ConcertCommand } from '../../src/actors/concert.js';
import { GuichetError } from '../../src/errors.js';
import { layoutOf } from '../../src/layout.js';
import type { Outcome } from '../../src/actors/machine.js';
import { startNats, type TestNats } from '../support/nats.js';

interface Ctx {
  nats: TestNats;
  owner: NatsConnection;
  sender: NatsConnection;
}

const Forward = suite<Ctx>('forwarded commands');

Forward.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.owner = await ctx.nats.connectAs('gateway');
  ctx.sender = await ctx.nats.connectAs('gateway');
});
Forward.after(async (ctx) => {
  await ctx.owner?.close();
  await ctx.sender?.close();
  await ctx.nats?.stop();
});

/** A gateway's concerts as forwarding sees them; `executeHere` is the test's. */
function local(executeHere: LocalConcerts['executeHere']): LocalConcerts {
  return {
    executeHere,
    appliedSeq: () => 0,
    recentEvents: () => [],
    appliedThrough: () => Promise.resolve(initialState('hall', 10)),
    layout: () => layoutOf(10),
    now: Date.now,
  };
}

const hold: ConcertCommand = { type: 'Hold', seat: 1, hold: 'h1', holder: 'c1' };

Forward('an owner that never answers: UNAVAILABLE after the budget, and the owner was handed that budget as its deadline', async (ctx) => {
  const deadlines: number[] = [];
  const owner = new Forwarding(new ForwardLink(ctx.owner), 'gw-owner', local((_c, _command, deadline) => {
    deadlines.push(deadline);
    return new Promise<Outcome>(() => undefined); // stuck: an append that never comes back
  }));
  owner.serve();
  await ctx.owner.flush();
  const sender = new Forwarding(new ForwardLink(ctx.sender), 'gw-sender', local(() => Promise.reject(new Error('not here'))));
  const started = Date.now();
  const err = await sender.forward('gw-owner', 'hall', hold, started + 10_000, DEFAULT_RULES).catch((e: unknown) => e);
  const took = Date.now() - started;
  assert.instance(err, GuichetError);
  assert.is((err as GuichetError).code, 'UNAVAILABLE');
  assert.ok(took >= FORWARD_BUDGET_MS - 100 && took < FORWARD_BUDGET_MS + 1_500, `gave up after ${took} ms`);
  assert.is(deadlines.length, 1);
  assert.ok(deadlines[0]! <= started + FORWARD_BUDGET_MS - DEADLINE_MARGIN_MS + 50, `the owner's deadline is ${deadlines[0]! - started} ms after the send`);
  void owner.stop();
});

Forward('a command whose own deadline is sooner than the budget keeps it', async (ctx) => {
  const deadlines: number[] = [];
  const owner = new Forwarding(new ForwardLink(ctx.owner), 'gw-owner-2', local((_c, _command, deadline) => {
    deadlines.push(deadline);
    return Promise.reject(new GuichetError('SEAT_TAKEN', 'seat 1 is taken'));
  }));
  owner.serve();
  await ctx.owner.flush();
  const sender = new Forwarding(new ForwardLink(ctx.sender), 'gw-sender-2', local(() => Promise.reject(new Error('not here'))));
  const started = Date.now();
  const err = await sender.forward('gw-owner-2', 'hall', hold, started + 1_000, DEFAULT_RULES).catch((e: unknown) => e);
  assert.is((err as GuichetError).code, 'SEAT_TAKEN', 'the owner\'s answer');
  assert.ok(deadlines[0]! <= started + 1_000 - DEADLINE_MARGIN_MS + 50 && deadlines[0]! > started, `deadline ${deadlines[0]! - started} ms after the send`);
  await owner.stop();
});

Forward.run();
