/**
 * An embedded store from before the readers' account: its streams are in NATS's global
 * account ($G). Moved into the gateways' account GUICHET before the server starts, the log
 * and its bookings are all there; not moved, a gateway would start on an empty log.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { moveGlobalAccountStore } from '../../src/cli/store-accounts.js';
import { connectNats } from '../../src/nats-connection.js';
import { authorizationLines, launchNatsServer, rolePasswords, ROLES, ROLES_FILE, waitForJetStream, withUser, type LaunchedNatsServer } from '../support/nats.js';
import { freePort } from '../support/net.js';
import { client, eventually, startNode } from '../support/guichet.js';

const Move = suite('an embedded store from before the readers\' account');

async function serve(dir: string, store: string, lines: string[]): Promise<{ server: LaunchedNatsServer; url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const config = join(dir, `nats-${port}.conf`);
  await writeFile(config, [`listen: 127.0.0.1:${port}`, `jetstream { store_dir: ${JSON.stringify(store)} }`, ...lines, ''].join('\n'));
  const server = await launchNatsServer(config, port);
  const url = `nats://127.0.0.1:${port}`;
  return {
    server,
    url,
    stop: async () => {
      const gone = new Promise<void>((r) => server.child.once('exit', () => r()));
      server.child.kill('SIGTERM');
      await gone;
    },
  };
}

/** Books seat 5 of c1 on a gateway over `url`; its reference. */
async function book(url: string): Promise<string> {
  const node = await startNode(url, { snapshotIntervalMs: 0 });
  try {
    const c = await client(node);
    const { hold } = await c.request<{ hold: string }>('HOLD', 'c1', 5);
    const { reference } = await c.request<{ reference: string }>('BOOK', hold, 'Ada', 'Lovelace');
    c.close();
    return reference;
  } finally {
    await node.close();
  }
}

async function lookUp(url: string, reference: string): Promise<string> {
  const node = await startNode(url, { snapshotIntervalMs: 0, acceptLogReset: true });
  try {
    const c = await client(node);
    const answer = await c.request<{ seat: number }>('LOOKUP', reference, 'Lovelace').then((b) => `seat ${b.seat}`, (err: Error) => err.message);
    c.close();
    return answer;
  } finally {
    await node.close();
  }
}

for (const moved of [true, false]) {
  Move(moved ? 'moved into GUICHET: the booking made before is found, and readers get their copy of it' : 'not moved: the gateways would see an empty log (why the move is made)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'guichet-store-accounts-'));
    const store = join(dir, 'js');
    const passwords = rolePasswords();
    try {
      // Before: the three roles in the global account, as nats.conf had them.
      await copyFile(ROLES_FILE, join(dir, 'nats-roles.conf'));
      const users = ROLES.map((role) => `{ user: ${role}, password: "${passwords[role]}", permissions: $GUICHET_${role.toUpperCase()}_PERMISSIONS }`);
      const before = await serve(dir, store, ['include ./nats-roles.conf', `authorization { users = [ ${users.join(', ')} ] }`]);
      await waitForJetStream(withUser(before.url, 'admin', passwords));
      const reference = await book(withUser(before.url, 'gateway', passwords));
      await before.stop();
      const lines: string[] = [];
      if (moved) assert.ok(await moveGlobalAccountStore(store, (l) => void lines.push(l)));
      // After: the accounts of nats-accounts.conf.
      const after = await serve(dir, store, await authorizationLines(dir, passwords));
      try {
        await waitForJetStream(withUser(after.url, 'admin', passwords));
        const found = await lookUp(withUser(after.url, 'gateway', passwords), reference);
        if (!moved) {
          assert.match(found, /no booking with that reference/);
          return;
        }
        assert.match(lines.join('\n'), /moved the event log's store from NATS's global account to the gateways' account/);
        assert.is(found, 'seat 5');
        const nc = await connectNats(withUser(after.url, 'reader', passwords), {});
        try {
          const jsm = await jetstreamManager(nc);
          await eventually(async () => (await jsm.streams.info('TICKETS').catch(() => undefined))?.state.last_seq ?? 0, (n) => n >= 2);
        } finally {
          await nc.close();
        }
      } finally {
        await after.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

Move.run();
