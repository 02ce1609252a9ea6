/**
 * The log never goes backwards unnoticed, and snapshots cannot change the past: what an
 * admin (or whoever holds the store's files) does to the streams, and what the gateways make
 * of it. Real nats-server with guichet's roles, real gateways.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { Guichet } from '../../src/guichet.js';
import type { GuichetClient } from '../../src/cli/client.js';
import { ticketsStreamConfig } from '../../src/events/store.js';
import { splitServerUrls } from '../../src/nats-connection.js';
import { MAIN_JS } from '../support/process.js';
import { client, eventually, recordingLog, rejectsWith, startNats, startNode, type TestNats } from '../support/guichet.js';

const exec = promisify(execFile);

async function asAdmin<T>(nats: TestNats, fn: (jsm: JetStreamManager, nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await nats.connectAs('admin');
  try {
    return await fn(await jetstreamManager(nc), nc);
  } finally {
    await nc.close().catch(() => undefined);
  }
}

async function book(c: GuichetClient, concert: string, seat: number): Promise<string> {
  const { hold } = await c.request<{ hold: string }>('HOLD', concert, seat);
  return (await c.request<{ reference: string }>('BOOK', hold, 'Ada', 'Lovelace')).reference;
}

/** A gateway that books `seats` of c1 and stops in good order (leaving snapshots and its mark). */
async function bookAndStop(nats: TestNats, seats: number[]): Promise<string[]> {
  const node = await startNode(nats);
  const c = await client(node);
  const references: string[] = [];
  for (const seat of seats) references.push(await book(c, 'c1', seat));
  c.close();
  await node.close();
  return references;
}

async function startFails(nats: TestNats, options: Parameters<typeof startNode>[1] = {}): Promise<{ message: string; logged: string[] }> {
  const log = recordingLog();
  const node = await startNode(nats, { log, natsWaitMs: 2_000, ...options }).catch((e: Error) => e);
  if (!(node instanceof Error)) {
    await node.close();
    throw new Error('the gateway started');
  }
  return { message: node.message, logged: log.warnings };
}

function fresh(nats: TestNats) {
  return async () => {
    await nats.stop();
    Object.assign(nats, await startNats());
  };
}

// ------------------------------------------------------------------ settings

const Settings = suite<{ nats: TestNats }>('a TICKETS stream whose settings could drop events');
Settings.before(async (ctx) => {
  ctx.nats = await startNats();
});
Settings.after(async (ctx) => {
  await ctx.nats?.stop();
});

const LIMITS: [string, Partial<StreamConfig>][] = [
  ['max_msgs', { max_msgs: 1_000 }],
  ['max_bytes', { max_bytes: 1_000_000 }],
  ['max_age', { max_age: 3_600_000_000_000 }],
  ['max_msgs_per_subject', { max_msgs_per_subject: 10 }],
  ['deny_delete', { deny_delete: false }],
  ['allow_rollup_hdrs', { allow_rollup_hdrs: true, deny_purge: false }],
];

for (const [name, change] of LIMITS) {
  Settings(`is refused at start: ${name}`, async ({ nats }) => {
    await asAdmin(nats, (jsm) => jsm.streams.add({ ...ticketsStreamConfig(1), ...change }));
    try {
      const { message } = await startFails(nats);
      assert.match(message, new RegExp(`${name}`));
      assert.match(message, /could lose or change events/);
      assert.match(message, /Refusing to start/);
    } finally {
      await asAdmin(nats, (jsm) => jsm.streams.delete('TICKETS'));
    }
  });
}

Settings('without allow_atomic: a gateway says what to run; `guichet upgrade-stream` as admin updates it in place', async ({ nats }) => {
  await asAdmin(nats, (jsm) => jsm.streams.add({ ...ticketsStreamConfig(1), allow_atomic: false }));
  const { message } = await startFails(nats);
  assert.match(message, /no allow_atomic/);
  assert.match(message, /guichet upgrade-stream --nats/);
  const run = await exec(process.execPath, [MAIN_JS, 'upgrade-stream', '--nats', nats.urlFor('admin')], { timeout: 20_000 });
  assert.match(run.stdout, /stream TICKETS updated/);
  assert.ok(await asAdmin(nats, async (jsm) => (await jsm.streams.info('TICKETS')).config.allow_atomic));
  const node = await startNode(nats);
  await node.close();
  await asAdmin(nats, (jsm) => jsm.streams.delete('TICKETS'));
});

Settings('without allow_atomic: a gateway given admin credentials updates it in place, saying so', async ({ nats }) => {
  await asAdmin(nats, (jsm) => jsm.streams.add({ ...ticketsStreamConfig(1), allow_atomic: false }));
  const { user, password } = splitServerUrls(nats.urlFor('admin'));
  const said: string[] = [];
  const node = await startNode(nats, { adminNats: { user: user!, password: password! }, log: { info: (m) => void said.push(m), warn: () => undefined, error: () => undefined } });
  await node.close();
  assert.ok(said.some((m) => /updated in place: allow_atomic on/.test(m)), said.join('\n'));
  assert.ok(await asAdmin(nats, async (jsm) => (await jsm.streams.info('TICKETS')).config.allow_atomic));
});

Settings.run();

// ------------------------------------------------------------------ going backwards

const Backwards = suite<{ nats: TestNats }>('a log that went backwards stops a start');
Backwards.before(async (ctx) => {
  ctx.nats = await startNats();
});
Backwards.after(async (ctx) => {
  await ctx.nats?.stop();
});
Backwards.after.each(async (ctx) => fresh(ctx.nats)());

Backwards('a re-created stream: refused, naming both figures; --accept-log-reset starts on it', async ({ nats }) => {
  await bookAndStop(nats, [1, 2, 3]);
  const end = await asAdmin(nats, async (jsm) => (await jsm.streams.info('TICKETS')).state.last_seq);
  await asAdmin(nats, async (jsm) => {
    await jsm.streams.delete('TICKETS');
    await jsm.streams.add(ticketsStreamConfig(1));
  });
  const { message, logged } = await startFails(nats);
  assert.match(message, /refusing to start/);
  assert.match(message, new RegExp(`through sequence ${end}\\b`));
  assert.match(message, /deleted and made again, now ending at sequence 0/);
  assert.match(message, /--accept-log-reset/);
  assert.match(message, /backup/);
  assert.ok(logged.some((line) => line === message), 'said in the log as an error too');
  // The operator accepts this log: the gateway starts on it, and the next start needs no flag.
  const log = recordingLog();
  const node = await startNode(nats, { acceptLogReset: true, log });
  assert.match(log.warnings.join('\n'), /accepted \(--accept-log-reset\)/);
  await node.close();
  await (await startNode(nats)).close();
});

Backwards('a stream restored from an older copy ends before what the gateways saw: refused', async ({ nats }) => {
  await bookAndStop(nats, [1, 2]);
  // The gateways' account's store (nats-accounts.conf: GUICHET).
  const streamDir = join(nats.storeDir, 'js', 'jetstream', 'GUICHET', 'streams', 'TICKETS');
  const backup = join(nats.storeDir, 'backup-TICKETS');
  await nats.kill('SIGTERM');
  await cp(streamDir, backup, { recursive: true });
  await nats.start();
  await bookAndStop(nats, [3, 4, 5]);
  const end = await asAdmin(nats, async (jsm) => (await jsm.streams.info('TICKETS')).state.last_seq);
  // Only TICKETS goes back (an operator restoring the wrong backup); the snapshot stream stays.
  await nats.kill('SIGTERM');
  await rm(streamDir, { recursive: true, force: true });
  await cp(backup, streamDir, { recursive: true });
  await nats.start();
  const restored = await asAdmin(nats, async (jsm) => (await jsm.streams.info('TICKETS')).state.last_seq);
  assert.ok(restored < end, `restored ${restored}, was ${end}`);
  const { message } = await startFails(nats);
  assert.match(message, new RegExp(`ends at sequence ${restored}, but the gateways saw it reach sequence ${end}`), message);
});

Backwards('events dropped by a limit set for a while: the running gateway stops writing; a start is refused once the limit is gone', async ({ nats }) => {
  const log = recordingLog();
  const node = await startNode(nats, { log, streamCheckMs: 200 });
  const c = await client(node);
  for (const seat of [1, 2, 3, 4]) await book(c, 'c1', seat);
  const info = await asAdmin(nats, (jsm) => jsm.streams.info('TICKETS'));
  await asAdmin(nats, (jsm) => jsm.streams.update('TICKETS', { ...info.config, max_msgs: 2 }));
  await eventually(() => log.warnings.filter((m) => /settings changed: max_msgs 2/.test(m)).length, (n) => n === 1);
  await rejectsWith(c.request('HOLD', 'c1', 9), 'UNAVAILABLE');
  await new Promise((r) => setTimeout(r, 600));
  assert.is(log.warnings.filter((m) => /stream/.test(m)).length, 1, `one ERROR: ${log.warnings.join('\n')}`);
  c.close();
  await node.close();
  await asAdmin(nats, (jsm) => jsm.streams.update('TICKETS', { ...info.config, max_msgs: -1 }));
  const { message } = await startFails(nats);
  assert.match(message, /now starts at sequence \d+, but started at 1: its first events were removed/);
});

Backwards.run();

// ------------------------------------------------------------------ running gateways

const Running = suite<{ nats: TestNats; node: Guichet }>('a running gateway whose stream vanishes');
Running.before(async (ctx) => {
  ctx.nats = await startNats();
});
Running.after(async (ctx) => {
  await ctx.nats?.stop();
});

/** Past the runner's limit on one file (8 minutes): within a test, only an advisory can tell the gateway. */
const NO_PERIODIC_CHECK_MS = 3_600_000;

Running('logs one ERROR, answers writes UNAVAILABLE, and never re-creates the stream', async ({ nats }) => {
  const log = recordingLog();
  const node = await startNode(nats, { log, streamCheckMs: NO_PERIODIC_CHECK_MS });
  const c = await client(node);
  try {
    await book(c, 'c1', 1);
    await asAdmin(nats, (jsm) => jsm.streams.delete('TICKETS'));
    // Heard from the advisory: the periodic check does not come within the test. (The wait
    // bounds only how slowly a loaded machine runs the check, not which path hears it.)
    // Polls the lines themselves, not their count: a failure then shows what the gateway did say.
    await eventually(() => [...log.warnings], (said) => said.filter((m) => /TICKETS stream is gone/.test(m)).length === 1, 30_000);
    assert.match(log.warnings.join('\n'), /will not re-create or change the stream/);
    await rejectsWith(c.request('HOLD', 'c1', 2), 'UNAVAILABLE');
    await rejectsWith(c.request('HOLD', 'c2', 2), 'UNAVAILABLE');
    await new Promise((r) => setTimeout(r, 500));
    assert.is(log.warnings.filter((m) => /TICKETS stream/.test(m)).length, 1, log.warnings.join('\n'));
    const exists = await asAdmin(nats, (jsm) => jsm.streams.info('TICKETS').then(() => true, () => false));
    assert.is(exists, false, 'the gateway made the stream again');
  } finally {
    c.close();
    await node.close();
  }
});

Running.run();

// ------------------------------------------------------------------ snapshots

const Tampered = suite<{ nats: TestNats }>('snapshots cannot change the past');
Tampered.before(async (ctx) => {
  ctx.nats = await startNats();
});
Tampered.after(async (ctx) => {
  await ctx.nats?.stop();
});

Tampered('a snapshot rewritten with its headers kept is ignored with a WARN, and its concert replayed in full', async ({ nats }) => {
  const [reference] = await bookAndStop(nats, [5]);
  // An admin (or whoever can write the stream) frees seat 5 in c1's snapshot, same headers.
  await asAdmin(nats, async (jsm, nc) => {
    const msg = await jsm.direct.getMessage('TICKETS_SNAPSHOTS', { last_by_subj: 'tickets.snapshots.c1' });
    const snapshot = msg!.json<{ seats: unknown[] }>();
    assert.is((snapshot.seats[4] as unknown[])[0], 'b');
    snapshot.seats[4] = 0;
    const h = headers();
    for (const [key, values] of msg!.header) for (const v of values) h.append(key, v);
    await jetstream(nc).publish('tickets.snapshots.c1', JSON.stringify(snapshot), { headers: h });
  });
  const log = recordingLog();
  const node = await startNode(nats, { log });
  try {
    assert.match(log.warnings.join('\n'), /snapshot ignored, replaying in full: c1: its authentication code does not match/);
    assert.is(node.startup.snapshots.used, 1, 'c2 still starts from its snapshot');
    assert.is(node.registry.state('c1')!.seats[4]!.kind, 'booked');
    const c = await client(node);
    await rejectsWith(c.request('HOLD', 'c1', 5), 'SEAT_TAKEN');
    const found = await c.request<{ reference: string }>('LOOKUP', reference!, 'Lovelace');
    assert.is(found.reference, reference);
    c.close();
  } finally {
    await node.close();
  }
});

Tampered.run();
