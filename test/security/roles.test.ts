/**
 * The trust boundary, tried as an attacker on the same machine would: a real nats-server with
 * guichet's roles (nats-roles.conf), a real gateway, real sockets. Only the gateway writes
 * the log; nobody but admin deletes, purges or updates a stream; the reader reads.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { ulid } from 'ulid';
import type { Guichet } from '../../src/guichet.js';
import type { GuichetClient, SeatEvent } from '../../src/cli/client.js';
import { connectNats } from '../../src/nats-connection.js';
import { encodeEvent } from '../../src/events/envelope.js';
import { seatAt } from '../../src/actors/concert.js';
import { MAIN_JS } from '../support/process.js';
import { client, eventually, startNats, startNode, type TestNats } from '../support/guichet.js';
import type { Role } from '../support/nats.js';

const exec = promisify(execFile);

interface Ctx {
  nats: TestNats;
  node: Guichet;
  watcher: GuichetClient;
  pushed: SeatEvent[];
}

const Roles = suite<Ctx>('roles: who may write and manage the log');

Roles.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.node = await startNode(ctx.nats);
  const c = await client(ctx.node);
  const { hold } = await c.request<{ hold: string }>('HOLD', 'c1', 1);
  await c.request('BOOK', hold, 'Ada', 'Lovelace');
  c.close();
  ctx.watcher = await client(ctx.node);
  ctx.pushed = [];
  ctx.watcher.on('event', (e: SeatEvent) => ctx.pushed.push(e));
  await ctx.watcher.request('WATCH', 'c1');
});

Roles.after(async (ctx) => {
  ctx.watcher?.close();
  await ctx.node?.close();
  await ctx.nats?.stop();
});

async function withRole<T>(nats: TestNats, role: Role, fn: (nc: NatsConnection, jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await nats.connectAs(role);
  try {
    return await fn(nc, await jetstreamManager(nc));
  } finally {
    await nc.close().catch(() => undefined);
  }
}

async function lastSeq(nats: TestNats): Promise<number> {
  return withRole(nats, 'admin', async (_nc, jsm) => (await jsm.streams.info('TICKETS')).state.last_seq);
}

/** A SeatBooked with no hold: what a forger would write to sell seat 2 to themselves. */
function forgedBooking(): Uint8Array {
  return encodeEvent({
      id: ulid(),
      type: 'SeatBooked',
      v: 1,
      concert: 'c1',
      at: new Date().toISOString(),
      source: 'gw-forger',
      data: { seat: 2, hold: ulid(), reference: '1234567897', firstName: 'Mallory', lastName: 'Forger' },
  });
}

async function refused(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a refusal, got an answer');
}

Roles('an anonymous client is refused at connect', async ({ nats }) => {
  const message = await refused(connectNats(nats.plainUrl, {}, { reconnect: false }));
  assert.match(message, /Authorization Violation/);
  // and a wrong password too, without the password in the message
  const wrong = nats.urlFor('gateway').replace(/:([0-9a-f]+)@/, ':not-the-password@');
  const message2 = await refused(connectNats(wrong, {}, { reconnect: false }));
  assert.match(message2, /Authorization Violation/);
  assert.not.match(message2, /not-the-password/);
});

Roles('a reader cannot publish on tickets.events (core or JetStream): nothing is stored, applied or pushed', async ({ nats, node, pushed }) => {
  const before = await lastSeq(nats);
  const seatBefore = node.registry.state('c1')!.seats[1];
  await withRole(nats, 'reader', async (nc) => {
    // A plain core publish, no JetStream headers: the server drops it (a permission violation).
    nc.publish('tickets.events.c1', forgedBooking());
    const h = headers();
    h.set('Nats-Msg-Id', ulid());
    nc.publish('tickets.events.c1', forgedBooking(), { headers: h });
    await nc.flush();
    const message = await refused(jetstream(nc).publish('tickets.events.c1', forgedBooking(), { timeout: 2_000 }));
    assert.match(message, /Permissions Violation for Publish to "tickets.events.c1"/);
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.is(await lastSeq(nats), before, 'nothing stored');
  assert.equal(node.registry.state('c1')!.seats[1], seatBefore, 'nothing applied');
  assert.equal(pushed, [], 'nothing pushed to watchers');
});

Roles('a reader cannot write a snapshot or the catalog record, nor the look-up counters', async ({ nats }) => {
  await withRole(nats, 'reader', async (nc) => {
    const js = jetstream(nc);
    for (const subject of ['tickets.snapshots.c1', 'tickets.catalog', '$KV.guichet_limits.x']) {
      const message = await refused(js.publish(subject, '{}', { timeout: 2_000 }));
      assert.match(message, /Permissions Violation/, subject);
    }
  });
});

Roles("a reader cannot send a gateway a command, answer one for a gateway, nor take a concert's lease", async ({ nats, node }) => {
  const before = await lastSeq(nats);
  await withRole(nats, 'reader', async (nc) => {
    // A forged HOLD sent straight to the gateway's forwarding subject, as another gateway would.
    const command = JSON.stringify({ concert: 'c1', deadline: Date.now() + 5_000, rules: { holdMs: 1e9, maxSeats: 100 }, command: { type: 'Hold', hold: ulid(), holder: 'mallory', seats: [3] }, layout: true });
    assert.match(await refused(nc.request(`guichet.forward.${node.gatewayId}`, command, { timeout: 2_000 })), /Permissions Violation for Publish to "guichet.forward/);
    // A forged answer on an inbox (the reader may subscribe to _INBOX.> for its own replies, not publish there).
    assert.match(await refused(nc.request('_INBOX.forged', '{"seq":1,"events":[]}', { timeout: 2_000 })), /Permissions Violation for Publish to "_INBOX.forged"/);
    const message = await refused(jetstream(nc).publish('$KV.guichet_owners.concerts.c1', 'gw-mallory', { timeout: 2_000 }));
    assert.match(message, /Permissions Violation/);
  });
  assert.is(await lastSeq(nats), before, 'nothing stored');
  assert.is(seatAt(node.registry.state('c1')!, 3)?.kind, 'free');
  assert.is(node.ownership!.ownerOf('c1'), node.gatewayId, 'the gateway still owns its concert');
});

for (const role of ['gateway', 'reader'] as const) {
  Roles(`the ${role} cannot delete, purge or update the TICKETS stream, nor delete an event`, async ({ nats }) => {
    const before = await lastSeq(nats);
    await withRole(nats, role, async (_nc, jsm) => {
      const info = await jsm.streams.info('TICKETS');
      assert.match(await refused(jsm.streams.delete('TICKETS')), /Permissions Violation for Publish to "\$JS.API.STREAM.DELETE.TICKETS"/);
      assert.match(await refused(jsm.streams.purge('TICKETS')), /Permissions Violation for Publish to "\$JS.API.STREAM.PURGE.TICKETS"/);
      assert.match(await refused(jsm.streams.update('TICKETS', { ...info.config, max_msgs: 5 })), /Permissions Violation for Publish to "\$JS.API.STREAM.UPDATE.TICKETS"/);
      assert.match(await refused(jsm.streams.deleteMessage('TICKETS', 1)), /Permissions Violation/);
      assert.match(await refused(jsm.streams.delete('TICKETS_SNAPSHOTS')), /Permissions Violation/);
    });
    const info = await withRole(nats, 'admin', (_nc, jsm) => jsm.streams.info('TICKETS'));
    assert.is(info.state.last_seq, before);
    assert.is(info.config.max_msgs, -1);
  });
}

Roles("the reader reads its own account's copy of the log: the same events at the same sequences, a mirror nobody publishes into", async ({ nats }) => {
  const origin = await withRole(nats, 'admin', async (_nc, jsm) => jsm.streams.info('TICKETS'));
  const copy = await eventually(
    () => withRole(nats, 'reader', async (_nc, jsm) => jsm.streams.info('TICKETS')),
    (info) => info.state.last_seq === origin.state.last_seq,
  );
  assert.is(copy.config.mirror?.name, 'TICKETS', 'a mirror of the gateways\' TICKETS');
  assert.ok(copy.config.deny_delete && copy.config.deny_purge);
  const [a, b] = await Promise.all([
    withRole(nats, 'admin', async (_nc, jsm) => jsm.streams.getMessage('TICKETS', { seq: 2 })),
    withRole(nats, 'reader', async (_nc, jsm) => jsm.streams.getMessage('TICKETS', { seq: 2 })),
  ]);
  assert.is(b!.subject, a!.subject);
  assert.equal(b!.json(), a!.json());
});

Roles('a reader\'s plain core subscription to tickets.events.* still hears new events live (imported one way)', async ({ nats, node }) => {
  await withRole(nats, 'reader', async (nc) => {
    const heard: string[] = [];
    nc.subscribe('tickets.events.*', { callback: (_err, m) => void heard.push(`${m.subject} ${(m.json() as { type: string }).type}`) });
    await nc.flush();
    const c = await client(node);
    const { hold } = await c.request<{ hold: string }>('HOLD', 'c2', 9);
    await c.request('RELEASE', hold);
    c.close();
    await eventually(() => heard.length, (n) => n >= 2);
    assert.equal(heard, ['tickets.events.c2 SeatHeld', 'tickets.events.c2 SeatReleased']);
  });
});

Roles("a reader's push consumer cannot deliver onto the gateways' subjects (nats-server #8274): nothing reaches tickets.catalog, snapshots or counters", async ({ nats }) => {
  // Deliveries are published by the server in the account of the stream read, unchecked
  // against the creator's permissions: only a stream of the readers' own account keeps them there.
  const targets = ['tickets.catalog', 'tickets.snapshots.c1', '$KV.guichet_limits.x', 'tickets.events.c1'];
  const streams = ['TICKETS_SNAPSHOTS', 'KV_guichet_limits', 'TICKETS'];
  const lastSeqs = () => withRole(nats, 'admin', async (_nc, jsm) => Promise.all(streams.map(async (s) => (await jsm.streams.info(s).catch(() => undefined))?.state.last_seq ?? 0)));
  const before = await lastSeqs();
  const delivered: string[] = [];
  await withRole(nats, 'admin', async (adminNc) => {
    // Anyone listening in the gateways' account: what a deputy delivery would reach.
    const sub = adminNc.subscribe('>', { callback: (_err, m) => void (targets.includes(m.subject) && delivered.push(m.subject)) });
    await adminNc.flush();
    await withRole(nats, 'reader', async (nc, jsm) => {
      const made: string[] = [];
      for (const [i, subject] of targets.entries()) {
        // Made or refused, either way nothing may arrive there.
        const name = `deputy${i}`;
        await jsm.consumers.add('TICKETS', { name, deliver_subject: subject }).then(() => made.push(name), () => undefined);
      }
      await nc.flush();
      await new Promise((r) => setTimeout(r, 700));
      for (const name of made) await jsm.consumers.delete('TICKETS', name).catch(() => undefined);
    });
    sub.unsubscribe();
  });
  assert.equal(delivered, [], 'delivered into the gateways\' account');
  assert.equal(await lastSeqs(), before, 'stored in the gateways\' streams');
});

Roles('the reader audits and tails the log through the CLI', async ({ nats }) => {
  const url = nats.urlFor('reader');
  const audit = await exec(process.execPath, [MAIN_JS, 'audit', '--nats', url], { timeout: 20_000 }).catch((e: { stdout: string; stderr: string; code: number }) => e);
  // The demo catalog does not know c1 and c2: the audit still reads every event.
  assert.match(audit.stdout, /Audit of TICKETS: \d+ messages read/);
  assert.not.match(`${audit.stdout}${audit.stderr}`, new RegExp(url.split(':')[2]!.split('@')[0]!), 'the password is not printed');
  const audit2 = await exec(process.execPath, [MAIN_JS, 'audit', '--nats', nats.plainUrl, '--nats-user', 'reader', '--nats-password', url.split(':')[2]!.split('@')[0]!, '--json'], {
    timeout: 20_000,
  }).catch((e: { stdout: string }) => e);
  const report = JSON.parse(audit2.stdout) as { events: number };
  assert.ok(report.events >= 2, `${report.events} events`);
  const tail = await exec(process.execPath, [MAIN_JS, 'tail', '--nats', url, '--from', '1', '--json'], { timeout: 3_000, killSignal: 'SIGINT' }).catch(
    (e: { stdout: string }) => e,
  );
  const lines = tail.stdout.trim().split('\n');
  assert.ok(lines.length >= 2, tail.stdout);
  assert.is((JSON.parse(lines[1]!) as { type: string }).type, 'SeatBooked');
});

Roles('without credentials, audit says NATS refused it and how to sign in', async ({ nats }) => {
  const audit = await exec(process.execPath, [MAIN_JS, 'audit', '--nats', nats.plainUrl, '--data', '/nonexistent'], { timeout: 20_000 }).catch(
    (e: { stderr: string; code: number }) => e,
  );
  assert.match(audit.stderr, /Authorization Violation/);
});

Roles.run();
