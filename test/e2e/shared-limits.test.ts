/**
 * Red team "guessing scales with gateways": the look-up failure limit of an address is shared
 * by every gateway on one NATS (the KV bucket guichet_limits), so alternating gateways gives
 * no more guesses than one. While NATS does not answer, each gateway falls back to its own
 * counts (the same limit, per gateway) and look-ups keep working.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { jetstreamManager } from '@nats-io/jetstream';
import { GuichetClient, ServerError } from '../../src/cli/client.js';
import { luhnCheckDigit } from '../../src/actors/reference.js';
import type { Guichet } from '../../src/guichet.js';
import type { RateLimitOptions } from '../../src/gateway/rate-limit.js';
import { LIMITS_STREAM } from '../../src/events/limits-kv.js';
import { recordingLog, startNats, startNode, type TestNats } from '../support/guichet.js';

/** Six failures a minute per address, no slowing (the test is about the count, not the pace). */
const LIMIT: RateLimitOptions = { maxFailures: 6, slowAfter: 100, windowMs: 60_000, delayStepMs: 0, maxDelayMs: 0 };

const Shared = suite<{ nats: TestNats; a: Guichet; b: Guichet; logA: ReturnType<typeof recordingLog> }>('look-up limits shared by the gateways');

Shared.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.logA = recordingLog();
  ctx.a = await startNode(ctx.nats, { gatewayId: 'gw-a', log: ctx.logA, snapshotIntervalMs: 0, gateway: { addressRateLimit: LIMIT } });
  ctx.b = await startNode(ctx.nats, { gatewayId: 'gw-b', snapshotIntervalMs: 0, gateway: { addressRateLimit: LIMIT } });
});
Shared.after(async (ctx) => {
  await ctx.a?.close();
  await ctx.b?.close();
  await ctx.nats?.stop();
});

let counter = 200_000_000;
function guess(): string {
  const body = String(counter++);
  return body + String(luhnCheckDigit(body));
}

const code = (p: Promise<unknown>) => p.then(() => 'OK', (err: Error) => (err instanceof ServerError ? err.code : err.message));

/** `n` look-ups of wrong references from `address`, alternating gateways, a new connection for every two (the per-connection limit is 5). */
async function guessAcross(nodes: Guichet[], address: string, n: number): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < n; i += 2) {
    const c = await GuichetClient.connect({ port: nodes[(i / 2) % nodes.length]!.gateway.port, localAddress: address });
    try {
      for (let k = i; k < Math.min(n, i + 2); k++) codes.push(await code(c.request('LOOKUP', guess(), 'Doe')));
    } finally {
      c.close();
    }
  }
  return codes;
}

Shared('the bucket exists as contracts.md says: KV_guichet_limits, history 1, subjects $KV.guichet_limits.>', async ({ nats }) => {
  const nc = await nats.connect();
  try {
    const info = await (await jetstreamManager(nc)).streams.info(LIMITS_STREAM);
    assert.equal(info.config.subjects, ['$KV.guichet_limits.>']);
    assert.is(info.config.max_msgs_per_subject, 1);
  } finally {
    await nc.close();
  }
});

Shared('an address alternating two gateways gets 6 failures in all, not 6 on each; another address keeps its own', async (ctx) => {
  const codes = await guessAcross([ctx.a, ctx.b], '127.0.0.12', 12);
  assert.equal(codes, [...Array<string>(6).fill('NOT_FOUND'), ...Array<string>(6).fill('RATE_LIMITED')]);
  const other = await guessAcross([ctx.b], '127.0.0.13', 1);
  assert.equal(other, ['NOT_FOUND']);
});

Shared('a burst: 12 connections of one address, 6 on each gateway, one look-up each at once: 6 NOT_FOUND in all', async (ctx) => {
  const conns = await Promise.all(
    Array.from({ length: 12 }, (_, i) => GuichetClient.connect({ port: [ctx.a, ctx.b][i % 2]!.gateway.port, localAddress: '127.0.0.16' })),
  );
  try {
    const codes = await Promise.all(conns.map((c) => code(c.request('LOOKUP', guess(), 'Doe'))));
    assert.is(codes.filter((c) => c === 'NOT_FOUND').length, 6, JSON.stringify(codes));
    assert.is(codes.filter((c) => c === 'RATE_LIMITED').length, 6);
  } finally {
    for (const c of conns) c.close();
  }
});

Shared('a found booking takes its failure back, on the shared count too', async (ctx) => {
  const owner = await GuichetClient.connect({ port: ctx.a.gateway.port, localAddress: '127.0.0.15' });
  const { hold } = await owner.request<{ hold: string }>('HOLD', 'c1', 20);
  const { reference } = await owner.request<{ reference: string }>('BOOK', hold, 'Jane', 'Doe');
  owner.close();
  for (let i = 0; i < 10; i++) {
    const c = await GuichetClient.connect({ port: [ctx.a, ctx.b][i % 2]!.gateway.port, localAddress: '127.0.0.15' });
    await c.request('LOOKUP', reference, 'Doe');
    c.close();
  }
  assert.equal(await guessAcross([ctx.b], '127.0.0.15', 6), Array<string>(6).fill('NOT_FOUND'), 'ten successes left the whole budget');
});

Shared('NATS frozen (SIGSTOP): look-ups still answer, each gateway limits on its own counts and says so', async (ctx) => {
  ctx.nats.pause();
  try {
    const onA = await guessAcross([ctx.a], '127.0.0.14', 8);
    assert.equal(onA, [...Array<string>(6).fill('NOT_FOUND'), 'RATE_LIMITED', 'RATE_LIMITED'], 'the limit holds per gateway');
    assert.ok(ctx.logA.warnings.some((w) => /the shared counts in guichet_limits do not answer .*this gateway's own counts apply meanwhile/.test(w)), ctx.logA.warnings.join('\n'));
    const onB = await guessAcross([ctx.b], '127.0.0.14', 1);
    assert.equal(onB, ['NOT_FOUND'], 'the other gateway counts on its own while NATS is away');
  } finally {
    ctx.nats.resume();
  }
});

Shared.run();
