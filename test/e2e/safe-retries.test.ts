/**
 * Red team "retries lie": a CANCEL told UNAVAILABLE while NATS was frozen (SIGSTOP), whose
 * event was stored once it went on, is sent again: it answers that cancellation (not
 * NOT_FOUND) and is not counted as a failed look-up. A BOOK sent again after its OK answers
 * the same booking.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient, ServerError } from '../../src/cli/client.js';
import type { Guichet } from '../../src/guichet.js';
import { readLog } from '../support/faults.js';
import { eventually, rejectsWith, startNats, startNode, type TestNats } from '../support/guichet.js';

const Retries = suite<{ nats: TestNats; node: Guichet }>('safe retries');

Retries.before(async (ctx) => {
  ctx.nats = await startNats();
  // Two failed look-ups per connection before RATE_LIMITED: a retry counted as a failure shows at once.
  ctx.node = await startNode(ctx.nats, {
    snapshotIntervalMs: 0,
    gateway: { connectionRateLimit: { maxFailures: 2, slowAfter: 100, windowMs: 60_000, delayStepMs: 0, maxDelayMs: 0 } },
  });
});
Retries.after(async (ctx) => {
  await ctx.node?.close();
  await ctx.nats?.stop();
});

const settle = <T>(p: Promise<T>) => p.then((value) => ({ ok: true as const, value }), (err: Error) => ({ ok: false as const, code: err instanceof ServerError ? err.code : err.message }));

Retries('CANCEL told UNAVAILABLE (NATS frozen), stored once NATS goes on: its retry answers that cancellation and counts no failure', async ({ nats, node }) => {
  const c = await GuichetClient.connect({ port: node.gateway.port, localAddress: '127.0.0.20', requestTimeoutMs: 30_000 });
  try {
    const { hold } = await c.request<{ hold: string }>('HOLD', 'c1', 42);
    const { reference } = await c.request<{ reference: string }>('BOOK', hold, 'Grace', 'Hopper');
    nats.pause();
    let first;
    try {
      first = await settle(c.request('CANCEL', reference, 'Hopper'));
    } finally {
      nats.resume();
    }
    assert.equal(first, { ok: false, code: 'UNAVAILABLE' }, 'told UNAVAILABLE while NATS was frozen');
    // The publish sat in the frozen server's socket: it is stored once the server goes on.
    const cancelled = await eventually(
      async () => (await readLog(nats.url)).filter((e) => e.type === 'BookingCancelled' && e.data.reference === reference).length,
      (n) => n > 0,
      15_000,
    );
    assert.is(cancelled, 1);
    await eventually(() => node.registry.isAvailable, Boolean, 15_000);
    const retry = await c.request<{ reference: string; concert: string; seat: number }>('CANCEL', reference, 'hopper');
    assert.equal(retry, { reference, concert: 'c1', seats: [42], labels: ['E2'], seat: 42 });
    // Not a failure: the connection still has its two failed look-ups.
    await rejectsWith(c.request('LOOKUP', '1234567897', 'Hopper'), 'NOT_FOUND');
    await rejectsWith(c.request('LOOKUP', '1234567897', 'Hopper'), 'NOT_FOUND');
    await rejectsWith(c.request('LOOKUP', '1234567897', 'Hopper'), 'RATE_LIMITED');
    // Another address with the same reference and name is not answered from this memory.
    const stranger = await GuichetClient.connect({ port: node.gateway.port, localAddress: '127.0.0.21' });
    await rejectsWith(stranger.request('CANCEL', reference, 'Hopper'), 'NOT_FOUND');
    // Nor this address with another name.
    const again = await GuichetClient.connect({ port: node.gateway.port, localAddress: '127.0.0.20' });
    await rejectsWith(again.request('CANCEL', reference, 'Lovelace'), 'NOT_FOUND');
    // The right name on a new connection of the same address: the same answer.
    assert.equal(await again.request('CANCEL', reference, 'Hopper'), retry);
    stranger.close();
    again.close();
  } finally {
    c.close();
  }
});

Retries('a CANCEL whose OK was lost, sent again: the same answer, not NOT_FOUND', async ({ node }) => {
  const c = await GuichetClient.connect({ port: node.gateway.port, localAddress: '127.0.0.22' });
  try {
    const { hold } = await c.request<{ hold: string }>('HOLD', 'c1', 43);
    const { reference } = await c.request<{ reference: string }>('BOOK', hold, 'Ada', 'Lovelace');
    const first = await c.request('CANCEL', reference, 'Lovelace');
    assert.equal(await c.request('CANCEL', reference, 'Lovelace'), first);
  } finally {
    c.close();
  }
});

Retries('BOOK sent again after its OK answers the same booking; once cancelled, NO_SUCH_HOLD says so', async ({ node }) => {
  const c = await GuichetClient.connect({ port: node.gateway.port, localAddress: '127.0.0.23' });
  try {
    const { hold } = await c.request<{ hold: string }>('HOLD', 'c1', 44);
    const booking = await c.request<{ reference: string }>('BOOK', hold, 'Ada', 'Lovelace');
    assert.equal(await c.request('BOOK', hold, 'Ada', 'Lovelace'), booking);
    await c.request('CANCEL', booking.reference, 'Lovelace');
    const message = await rejectsWith(c.request('BOOK', hold, 'Ada', 'Lovelace'), 'NO_SUCH_HOLD');
    assert.match(message, /was booked, and that booking has since been cancelled/);
  } finally {
    c.close();
  }
});

Retries.run();
