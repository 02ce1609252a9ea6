/**
 * Gateways on one NATS must share a catalog. A gateway started with another catalog than
 * the last one says so in a warning, naming the differences; the same catalog says nothing.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { Concert } from '../../src/catalog.js';
import { recordingLog, startNats, startNode, TEST_CATALOG, type TestNats } from '../support/guichet.js';

const Check = suite<{ nats: TestNats }>('catalog check across gateways');

Check.before(async (ctx) => {
  ctx.nats = await startNats();
});
Check.after(async (ctx) => {
  await ctx.nats?.stop();
});

Check('a gateway with another catalog than the last one started warns, naming each difference; the same catalog does not', async ({ nats }) => {
  const first = await startNode(nats, { gatewayId: 'gw-first' });
  const changed: Concert[] = [
    { ...TEST_CATALOG[0]!, capacity: 120 },
    { id: 'c3', title: 'Concert Three', venue: 'Hall C', date: '2027-01-03T20:00:00Z', capacity: 10 },
  ];
  const log = recordingLog();
  const second = await startNode(nats, { gatewayId: 'gw-second', catalog: changed, log });
  const same = recordingLog();
  const third = await startNode(nats, { gatewayId: 'gw-third', catalog: changed, log: same });
  try {
    console.log(`  ${log.warnings.join('\n  ')}`);
    assert.is(log.warnings.length, 1);
    assert.match(log.warnings[0]!, /catalog differs from the one gateway gw-first started with at \d{4}-\d\d-\d\dT/);
    assert.match(log.warnings[0]!, /only here: c3; only there: c2; c1: capacity 120 here, 100 there/);
    assert.match(log.warnings[0]!, /every gateway on one NATS must have the same catalog/);
    assert.equal(same.warnings, [], 'the same catalog as the last gateway: nothing to say');
  } finally {
    await Promise.all([first.close(), second.close(), third.close()]);
  }
});

Check.run();
