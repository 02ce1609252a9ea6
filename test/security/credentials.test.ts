/**
 * The gateway runs with each form of NATS credentials: a user and password in the URL, a
 * token in the URL, a `.creds` file, an nkey seed file, TLS with a client certificate — on a
 * real nats-server configured for each, with a booking made through the gateway every time.
 * Secrets never appear in what it logs or throws.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { Command } from 'commander';
import type { NatsCredentials } from '../../src/nats-connection.js';
import { natsCredentials, serverOptions, type NatsFlags } from '../../src/config.js';
import { natsConnectionOptions, redactUrls, splitServerUrls } from '../../src/nats-connection.js';
import { client, recordingLog, startNode } from '../support/guichet.js';
import { hasOpenssl, makeCertificates, operatorSetup, startAuthNats, type AuthNats } from '../support/nats-auth.js';
import { authorizationLines, rolePasswords, withUser } from '../support/nats.js';

const Urls = suite('NATS URLs with user info');

Urls('user and password, or a token, are taken out of the URL (the client would drop them)', () => {
  assert.equal(splitServerUrls('nats://gw:s3cr%40t@127.0.0.1:4222'), { servers: ['nats://127.0.0.1:4222'], user: 'gw', password: 's3cr@t' });
  assert.equal(splitServerUrls('nats://t0ken@h1:4222,nats://t0ken@h2:4223'), { servers: ['nats://h1:4222', 'nats://h2:4223'], token: 't0ken' });
  assert.equal(splitServerUrls('nats://h1:4222, h2:4223'), { servers: ['nats://h1:4222', 'h2:4223'] });
});

Urls('redaction hides user info in every URL of a text', () => {
  assert.is(redactUrls('cannot reach nats://gw:pw@h:1,nats://tok@h:2 now'), 'cannot reach nats://***@h:1,nats://***@h:2 now');
  assert.is(redactUrls('nats://h:4222'), 'nats://h:4222');
});

Urls('one form of credentials at a time; a password needs a user; a key file must hold a seed', async () => {
  const fails = async (urls: string, c: NatsCredentials) => (await natsConnectionOptions(urls, c).then(() => '', (e: Error) => e.message));
  assert.match(await fails('nats://a:b@h', { token: 't' }), /one form/);
  assert.match(await fails('nats://h', { password: 'p' }), /needs a user/);
  assert.match(await fails('nats://h', { nkeyFile: '/nonexistent/seed' }), /cannot read the nkey seed file \/nonexistent\/seed: ENOENT/);
  assert.match(await fails('nats://h', { tlsCert: 'c.pem' }), /needs its key/);
});

Urls('every credential flag and GUICHET_* variable reaches the connection options', () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const command = new Command('server').exitOverride();
      for (const option of serverOptions()) command.addOption(option);
      command.parse(argv, { from: 'user' });
      return natsCredentials(command.opts<NatsFlags>());
    } finally {
      process.env = saved;
    }
  };
  assert.equal(parse(['--nats-nkey', 'gw.nk', '--nats-tls-ca', 'ca.pem', '--nats-tls-cert', 'c.pem', '--nats-tls-key', 'c.key']), {
    nkeyFile: 'gw.nk',
    tlsCa: 'ca.pem',
    tlsCert: 'c.pem',
    tlsKey: 'c.key',
  });
  assert.equal(parse(['--nats-creds', 'gw.creds']), { credsFile: 'gw.creds' });
  assert.equal(parse([], { GUICHET_NATS_USER: 'gateway', GUICHET_NATS_PASSWORD: 'pw' }), { user: 'gateway', password: 'pw' });
  assert.equal(parse([], { GUICHET_NATS_TOKEN: 'tok' }), { token: 'tok' });
});

Urls.run();

const Forms = suite<{ servers: AuthNats[] }>('the gateway with each form of NATS credentials');
Forms.before((ctx) => {
  ctx.servers = [];
});
Forms.after(async (ctx) => {
  await Promise.all(ctx.servers.map((s) => s.stop()));
});

/** Starts a gateway on `url` with `credentials`, books a seat through it, and stops it. */
async function bookThrough(url: string, credentials: NatsCredentials = {}, seat = 1): Promise<string[]> {
  const log = recordingLog();
  const node = await startNode(url, { nats: credentials, log });
  try {
    const c = await client(node);
    const { hold } = await c.request<{ hold: string }>('HOLD', 'c1', seat);
    const { reference } = await c.request<{ reference: string }>('BOOK', hold, 'Ada', 'Lovelace');
    assert.match(reference, /^\d{10}$/);
    c.close();
  } finally {
    await node.close();
  }
  return log.warnings;
}

Forms('user and password in the URL, with the gateway role', async ({ servers }) => {
  const passwords = rolePasswords();
  const s = await startAuthNats((dir) => authorizationLines(dir, passwords), (url) => [withUser(url, 'admin', passwords), {}]);
  servers.push(s);
  await bookThrough(withUser(s.url, 'gateway', passwords));
  // The same with --nats-user / --nats-password (GUICHET_NATS_USER / _PASSWORD) instead.
  await bookThrough(s.url, { user: 'gateway', password: passwords.gateway }, 2);
});

Forms('a wrong password: refused at once, the message without the password', async ({ servers }) => {
  const passwords = rolePasswords();
  const s = await startAuthNats((dir) => authorizationLines(dir, passwords), (url) => [withUser(url, 'admin', passwords), {}]);
  servers.push(s);
  const started = Date.now();
  const err = await startNode(s.url.replace('nats://', 'nats://gateway:wr0ng-secret@'), { natsWaitMs: 30_000 }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err, 'started with a wrong password');
  assert.match(err.message, /Authorization Violation/);
  assert.not.match(`${err.message} ${String(err.cause)}`, /wr0ng-secret/);
  assert.ok(Date.now() - started < 10_000, 'no waiting on a refusal');
});

Forms('while waiting for NATS, the log shows the URL without its password', async () => {
  const log = recordingLog();
  const err = await startNode('nats://gateway:hunter2-secret@127.0.0.1:1', { log, natsWaitMs: 700 }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err);
  const said = [...log.warnings, err.message].join('\n');
  assert.match(said, /waiting for NATS at nats:\/\/\*\*\*@127\.0\.0\.1:1/);
  assert.not.match(said, /hunter2/);
});

Forms('a token in the URL', async ({ servers }) => {
  const token = 'tok-' + Math.random().toString(36).slice(2);
  const s = await startAuthNats(() => [`authorization { token: "${token}" }`], (url) => [url, { token }]);
  servers.push(s);
  await bookThrough(s.url.replace('nats://', `nats://${token}@`));
});

Forms('an nkey seed file (--nats-nkey, as the embedded default uses)', async ({ servers }) => {
  // As the embedded default does: one nkey per role (nats.conf).
  const users = { gateway: nkeys.createUser(), reader: nkeys.createUser(), admin: nkeys.createUser() };
  const s = await startAuthNats(
    async (dir) => {
      await writeFile(join(dir, 'gateway.nk'), new TextDecoder().decode(users.gateway.getSeed()), { mode: 0o600 });
      await authorizationLines(dir, rolePasswords());
      const entries = Object.entries(users).map(([role, kp]) => `{ nkey: ${kp.getPublicKey()}, permissions: $GUICHET_${role.toUpperCase()}_PERMISSIONS }`);
      return ['include ./nats-roles.conf', `authorization { users = [ ${entries.join(', ')} ] }`];
    },
    (url, dir) => [url, { nkeyFile: join(dir, 'gateway.nk') }],
  );
  servers.push(s);
  await bookThrough(s.url, { nkeyFile: join(s.dir, 'gateway.nk') });
});

Forms('a .creds file (operator mode, JWTs)', async ({ servers }) => {
  let credsFile = '';
  const s = await startAuthNats(
    async (dir) => {
      const setup = await operatorSetup(dir);
      credsFile = setup.credsFile;
      return setup.lines;
    },
    (url) => [url, { credsFile }],
  );
  servers.push(s);
  await bookThrough(s.url, { credsFile });
});

Forms('TLS to NATS, with a client certificate the server checks', async ({ servers }) => {
  if (!hasOpenssl()) throw new Error('openssl is not installed: it makes the certificates of this test');
  const passwords = rolePasswords();
  let certs!: ReturnType<typeof makeCertificates>;
  const s = await startAuthNats(
    async (dir) => {
      certs = makeCertificates(dir);
      return [
        `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: true }`,
        ...(await authorizationLines(dir, passwords)),
      ];
    },
    (url) => [withUser(url, 'admin', passwords), { tlsCa: certs.ca, tlsCert: certs.clientCert, tlsKey: certs.clientKey }],
  );
  servers.push(s);
  const tls = { tlsCa: certs.ca, tlsCert: certs.clientCert, tlsKey: certs.clientKey };
  await bookThrough(withUser(s.url, 'gateway', passwords), tls);
  // Without the client certificate the server refuses the handshake.
  const err = await startNode(withUser(s.url, 'gateway', passwords), { nats: { tlsCa: certs.ca }, natsWaitMs: 30_000 }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err, 'connected without a client certificate');
});

Forms.run();
