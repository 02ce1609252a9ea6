/**
 * A gateway started before its NATS server waits for it, saying so, and serves once it is
 * there; one whose NATS never comes gives up after its wait with the reason.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuichetClient } from '../../src/cli/client.js';
import { recordingLog, startNode } from '../support/guichet.js';
import { launchNatsServer } from '../support/nats.js';
import { freePort } from '../support/net.js';

const Wait = suite('a gateway waits for its NATS');

Wait('started before nats-server: it waits, says why, and serves once NATS is up', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'guichet-wait-'));
  const port = await freePort();
  const config = join(dir, 'nats.conf');
  await writeFile(config, `listen: 127.0.0.1:${port}\njetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }\n`);
  const log = recordingLog();
  const starting = startNode(`nats://127.0.0.1:${port}`, { log, natsWaitMs: 30_000 });
  let up = false;
  starting.then(() => (up = true), () => undefined);
  try {
    await new Promise((r) => setTimeout(r, 1_500));
    assert.not.ok(up, 'no NATS yet: the gateway cannot be up');
    assert.ok(log.warnings.length >= 2, `it said it was waiting (${log.warnings.length} lines)`);
    assert.match(log.warnings[0]!, new RegExp(`^waiting for NATS at nats://127\\.0\\.0\\.1:${port} \\(0\\.0 s so far\\): `));
    const server = await launchNatsServer(config, port);
    try {
      const node = await starting;
      const c = await GuichetClient.connect({ port: node.gateway.port });
      const hold = await c.request<{ hold: string }>('HOLD', 'c1', 1);
      assert.match((await c.request<{ reference: string }>('BOOK', hold.hold, 'Ada', 'Lovelace')).reference, /^\d{10}$/);
      c.close();
      await node.close();
      console.log(`  ${log.warnings.length} waiting lines, the last: ${log.warnings.at(-1)}`);
    } finally {
      server.child.kill('SIGKILL');
    }
  } finally {
    await starting.then((node) => node.close(), () => undefined).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

Wait('no NATS within the wait: it gives up with the address and the reason', async () => {
  const port = await freePort();
  const started = Date.now();
  const err = await startNode(`nats://127.0.0.1:${port}`, { natsWaitMs: 1_000 }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err, 'a gateway started without NATS');
  assert.match(err!.message, new RegExp(`^cannot reach NATS at nats://127\\.0\\.0\\.1:${port} after waiting \\d\\.\\d s: `));
  assert.ok(Date.now() - started < 5_000, `gave up after ${Date.now() - started} ms`);
});

Wait('a wait of 0: it fails at once, as before', async () => {
  const port = await freePort();
  const err = await startNode(`nats://127.0.0.1:${port}`, { natsWaitMs: 0 }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(err?.message ?? '', new RegExp(`^cannot reach NATS at nats://127\\.0\\.0\\.1:${port}: `));
});

Wait.run();
