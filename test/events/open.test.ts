/**
 * Opening the event store waits for JetStream when it is on its way and says at once what to
 * fix when waiting cannot help. (A cluster forming around a waiting gateway is in
 * test/faults/cluster.test.ts.)
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats-connection.js';
import { StorageType } from '@nats-io/jetstream';
import { openEventStore } from '../../src/events/open.js';
import { StreamSettingsError } from '../../src/events/store.js';
import { launchNatsServer, startNats, type LaunchedNatsServer, type TestNats } from '../support/nats.js';
import { freePort } from '../support/net.js';

interface Ctx {
  dir: string;
  plain: LaunchedNatsServer;
  plainUrl: string;
  nats: TestNats;
}

const Open = suite<Ctx>('openEventStore');

Open.before(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'guichet-open-'));
  const port = await freePort();
  const config = join(ctx.dir, 'no-jetstream.conf');
  await writeFile(config, `listen: 127.0.0.1:${port}\n`);
  ctx.plain = await launchNatsServer(config, port);
  ctx.plainUrl = `nats://127.0.0.1:${port}`;
  ctx.nats = await startNats();
});

Open.after(async (ctx) => {
  ctx.plain?.child.kill('SIGKILL');
  await ctx.nats?.stop();
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

async function withConnection<T>(url: string, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectNats(url, {});
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

Open('a server without JetStream: a clear error at once, no waiting', async ({ plainUrl }) => {
  const waits: string[] = [];
  const started = Date.now();
  const err = await withConnection(plainUrl, (nc) =>
    openEventStore(nc, { waitMs: 30_000, onWait: (reason) => waits.push(reason) }).then(
      () => undefined,
      (e: Error) => e,
    ),
  );
  assert.ok(err, 'opened a store on a server without JetStream');
  assert.match(err.message, /no JetStream/);
  assert.match(err.message, /-js/);
  assert.equal(waits, []);
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
});

Open('a stream with settings the log cannot use: a clear error at once, no waiting', async ({ nats }) => {
  // Made (and removed) by an admin: the gateway role may create TICKETS, but not delete it.
  await withConnection(nats.urlFor('admin'), async (nc) => {
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'TICKETS', subjects: ['tickets.events.*'], storage: StorageType.Memory });
    const waits: string[] = [];
    const err = await openEventStore(nc, { waitMs: 30_000, onWait: (reason) => waits.push(reason) }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.instance(err, StreamSettingsError);
    assert.match(err!.message, /storage memory/);
    assert.match(err!.message, /deny_delete/);
    assert.equal(waits, []);
    await jsm.streams.delete('TICKETS');
  });
});

Open('a ready server: the stream is created with the settings the log needs', async ({ nats }) => {
  await withConnection(nats.url, async (nc) => {
    const store = await openEventStore(nc, { waitMs: 1_000 });
    const info = await store.jsm.streams.info('TICKETS');
    assert.is(info.config.storage, StorageType.File);
    assert.ok(info.config.deny_delete && info.config.deny_purge);
    // Opening again finds it and accepts it.
    await openEventStore(nc, { waitMs: 1_000 });
  });
});

Open.run();
