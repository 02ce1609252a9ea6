/**
 * The KV bucket guichet_limits as src/events/limits-kv.ts stores it (as the gateway role, the
 * one that uses it): created when missing, read by key, written only at the revision read.
 * What the values mean is the gateway's (test/e2e/shared-limits.test.ts).
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { LIMITS_STREAM, LimitsKv } from '../../src/events/limits-kv.js';
import { startNats, type TestNats } from '../support/nats.js';

const Kv = suite<{ nats: TestNats; nc: NatsConnection; kv: LimitsKv }>('limits KV');

Kv.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.nc = await ctx.nats.connect();
  ctx.kv = await LimitsKv.open(ctx.nc, { maxAgeMs: 60_000, timeoutMs: 2_000 });
});
Kv.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

Kv('the stream is created: memory, history 1, entries dropped after maxAgeMs, no delete', async ({ nats }) => {
  const admin = await nats.connectAs('admin');
  try {
    const { config } = await (await jetstreamManager(admin)).streams.info(LIMITS_STREAM);
    assert.equal(
      { subjects: config.subjects, storage: config.storage, perSubject: config.max_msgs_per_subject, maxAge: config.max_age, denyDelete: config.deny_delete },
      { subjects: ['$KV.guichet_limits.>'], storage: 'memory', perSubject: 1, maxAge: 60_000 * 1_000_000, denyDelete: true },
    );
  } finally {
    await admin.close();
  }
});

Kv('a key never written: no value, revision 0', async ({ kv }) => {
  assert.equal(await kv.read('lookup.never'), { value: undefined, revision: 0 });
});

Kv('compare-and-set: written at the revision read; refused (false) at a stale one, the value kept', async ({ kv }) => {
  assert.is(await kv.compareAndSet('lookup.a', 'one', 0), true);
  const first = await kv.read('lookup.a');
  assert.is(first.value, 'one');
  assert.ok(first.revision > 0);
  assert.is(await kv.compareAndSet('lookup.a', 'two', first.revision), true);
  assert.is(await kv.compareAndSet('lookup.a', 'stale', first.revision), false, 'another writer came first');
  assert.is(await kv.compareAndSet('lookup.a', 'stale', 0), false, 'not "create" once it exists');
  assert.is((await kv.read('lookup.a')).value, 'two');
});

Kv('opening again (another gateway) keeps the stream and its entries', async ({ nc, kv }) => {
  await kv.compareAndSet('lookup.b', 'kept', 0);
  const again = await LimitsKv.open(nc, { maxAgeMs: 60_000, timeoutMs: 2_000 });
  assert.is((await again.read('lookup.b')).value, 'kept');
});

Kv.run();
