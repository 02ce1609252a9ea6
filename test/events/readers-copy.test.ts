/**
 * The readers' copy of the log (src/events/readers-copy.ts) on a real nats-server with
 * guichet's accounts: made once, found again, said when it holds more than the log (a log
 * that went back), and nothing made on a NATS without the readers' account.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jetstreamManager } from '@nats-io/jetstream';
import { ensureReadersCopy } from '../../src/events/readers-copy.js';
import { startAuthNats } from '../support/nats-auth.js';
import { client, eventually, recordingLog, startNats, startNode } from '../support/guichet.js';

const Copy = suite('the readers\' copy of TICKETS');

Copy('made when missing, found after; a gateway that finds it ahead of a log that went back says so', async () => {
  const nats = await startNats();
  try {
    const nc = await nats.connect();
    try {
      assert.equal(await ensureReadersCopy(nc, 1, 0), { kind: 'created' });
      assert.equal(await ensureReadersCopy(nc, 1, 0), { kind: 'present' });
    } finally {
      await nc.close();
    }
    const node = await startNode(nats, { snapshotIntervalMs: 0 });
    const c = await client(node);
    const { hold } = await c.request<{ hold: string }>('HOLD', 'c1', 3);
    await c.request('RELEASE', hold);
    c.close();
    await node.close();
    const reader = await nats.connectAs('reader');
    await eventually(async () => (await (await jetstreamManager(reader)).streams.info('TICKETS')).state.last_seq, (n) => n === 2);
    await reader.close();
    // The log made again (an operator's mistake, or a restore of an older copy).
    const admin = await nats.connectAs('admin');
    await (await jetstreamManager(admin)).streams.delete('TICKETS');
    await admin.close();
    const log = recordingLog();
    const again = await startNode(nats, { snapshotIntervalMs: 0, acceptLogReset: true, log });
    await again.close();
    assert.match(log.warnings.join('\n'), /the readers' copy of TICKETS reaches sequence 2, the log only 0: the log went back/);
  } finally {
    await nats.stop();
  }
});

Copy('a NATS without the readers\' account: nothing made, no error', async () => {
  const token = 'readers-copy-test-token';
  const s = await startAuthNats(() => [`authorization { token: "${token}" }`], (url) => [url, { token }]);
  try {
    const { connectNats } = await import('../../src/nats-connection.js');
    const nc = await connectNats(s.url, { token });
    try {
      assert.equal(await ensureReadersCopy(nc, 1, 0), { kind: 'no readers account' });
    } finally {
      await nc.close();
    }
  } finally {
    await s.stop();
  }
});

Copy.run();
