/**
 * Gateways on one NATS must share a catalog. Red team "a gateway with another catalog serves
 * anyway": such a gateway now refuses to start, naming each difference, unless it is given
 * --accept-catalog-change (then it warns, and its catalog is the one the next gateway is
 * compared with); the same catalog says nothing.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { Concert } from '../../src/catalog.js';
import { CatalogChanged } from '../../src/guichet.js';
import { recordingLog, startNats, startNode, TEST_CATALOG, TEST_SNAPSHOT_KEY, type TestNats } from '../support/guichet.js';
import { MAIN_JS } from '../support/process.js';

const Check = suite<{ nats: TestNats }>('catalog check across gateways');

Check.before(async (ctx) => {
  ctx.nats = await startNats();
});
Check.after(async (ctx) => {
  await ctx.nats?.stop();
});

const CHANGED: Concert[] = [
  { ...TEST_CATALOG[0]!, capacity: 120 },
  { id: 'c3', title: 'Concert Three', venue: 'Hall C', date: '2027-01-03T20:00:00Z', capacity: 10 },
];

Check('another catalog than the last one: refused, naming each difference; accepted with acceptCatalogChange (a warning); then the same catalog says nothing', async ({ nats }) => {
  const first = await startNode(nats, { gatewayId: 'gw-first' });
  const refused = await startNode(nats, { gatewayId: 'gw-refused', catalog: CHANGED }).then(
    (n) => n.close().then(() => assert.unreachable('a gateway with another catalog started')),
    (err: Error) => err,
  );
  assert.instance(refused, CatalogChanged);
  const message = (refused as Error).message;
  assert.match(message, /catalog differs from the one gateway gw-first started with at \d{4}-\d\d-\d\dT/);
  assert.match(message, /only here: c3; only there: c2; c1: capacity 120 here, 100 there/);
  assert.match(message, /Not starting\. If the change is meant, start with --accept-catalog-change/);
  // The refused one left nothing: the next is still compared with gw-first's catalog.
  const log = recordingLog();
  const second = await startNode(nats, { gatewayId: 'gw-second', catalog: CHANGED, log, acceptCatalogChange: true });
  const same = recordingLog();
  const third = await startNode(nats, { gatewayId: 'gw-third', catalog: CHANGED, log: same });
  try {
    const warnings = log.warnings.filter((w) => /catalog/.test(w));
    assert.is(warnings.length, 1, log.warnings.join('\n'));
    assert.match(warnings[0]!, /differs from the one gateway gw-first started with/);
    assert.match(warnings[0]!, /accepted: --accept-catalog-change/);
    assert.equal(same.warnings.filter((w) => /catalog/.test(w)), [], 'the same catalog as the last gateway: nothing to say');
  } finally {
    await Promise.all([first.close(), second.close(), third.close()]);
  }
});

Check('guichet server with another catalog exits 1 with the differences on one line; with --accept-catalog-change it starts', async ({ nats }) => {
  const dir = await mkdtemp(join(tmpdir(), 'guichet-catalog-'));
  try {
    const file = join(dir, 'concerts.json');
    await writeFile(file, JSON.stringify([{ id: 'c9', title: 'Nine', venue: 'Hall', date: '2027-01-09T20:00:00Z', capacity: 5 }]));
    const run = (extra: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        // The snapshot key of the test's gateways: the catalog record they left is authenticated with it.
        const child = spawn(process.execPath, [MAIN_JS, 'server', '--nats', nats.url, '--port', '0', '--concerts', file, '--quiet', ...extra], {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, GUICHET_SNAPSHOT_KEY: TEST_SNAPSHOT_KEY },
        });
        let stderr = '';
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (d: string) => {
          stderr += d;
          if (/listening on/.test(stderr)) child.kill('SIGTERM');
        });
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    const refused = await run([]);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /^error: this gateway's catalog differs .*only here: c9.*Not starting/m, refused.stderr);
    const accepted = await run(['--accept-catalog-change']);
    assert.match(accepted.stderr, /listening on/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

Check.run();
