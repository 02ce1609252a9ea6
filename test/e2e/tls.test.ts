/**
 * Red team "plain text on the wire": the gateway serves TLS with a self-signed certificate
 * made here with openssl; the client (library and CLI) connects with --tls / --tls-ca; a
 * plain client on the TLS port, or a TLS client on a plain port, gets one clear line; the
 * per-address limits hold over TLS; SIGHUP's reload takes a new certificate.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { execFile as execFileCb, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { GuichetClient, ServerError } from '../../src/cli/client.js';
import type { Guichet } from '../../src/guichet.js';
import { startNats, startNode, type TestNats } from '../support/guichet.js';
import { MAIN_JS, startGatewayProcess } from '../support/process.js';

const execFile = promisify(execFileCb);

interface Ctx {
  nats: TestNats;
  dir: string;
  secure: Guichet;
  plain: Guichet;
  ca: Buffer;
}

const Tls = suite<Ctx>('TLS for the gateway');

/** A self-signed certificate for localhost and 127.0.0.1, made with openssl. */
async function makeCertificate(dir: string, name: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await execFile('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  return { certFile, keyFile };
}

Tls.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.dir = await mkdtemp(join(tmpdir(), 'guichet-tls-'));
  const files = await makeCertificate(ctx.dir, 'first');
  ctx.ca = await readFile(files.certFile);
  ctx.secure = await startNode(ctx.nats, { snapshotIntervalMs: 0, gateway: { tls: files, addressLimits: { maxConnections: 3 } } });
  ctx.plain = await startNode(ctx.nats, { snapshotIntervalMs: 0 });
});
Tls.after(async (ctx) => {
  await ctx.secure?.close();
  await ctx.plain?.close();
  await ctx.nats?.stop();
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

const failure = (p: Promise<unknown>): Promise<Error> => p.then((): never => assert.unreachable('it connected') as never, (err: Error) => err);

Tls('a TLS client trusting the certificate: HELLO, and the protocol as usual, encrypted', async ({ secure, ca }) => {
  const c = await GuichetClient.connect({ port: secure.gateway.port, tls: { ca }, localAddress: '127.0.0.30' });
  try {
    assert.is(c.hello.server, 'guichet');
    const { hold } = await c.request<{ hold: string }>('HOLD', 'c1', 9);
    const booking = await c.request<{ reference: string }>('BOOK', hold, 'Ada', 'Lovelace');
    assert.match(booking.reference, /^\d{10}$/);
  } finally {
    c.close();
  }
  const byName = await GuichetClient.connect({ host: 'localhost', port: secure.gateway.port, tls: { ca } });
  byName.close();
});

Tls('a TLS client that does not trust it is told to give --tls-ca', async ({ secure }) => {
  const err = await failure(GuichetClient.connect({ port: secure.gateway.port, tls: {} }));
  assert.match(err.message, /^the certificate of 127\.0\.0\.1:\d+ is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\): give the CA that signed it with --tls-ca <file>$/);
});

Tls('a plain client on the TLS port: ERR TLS_REQUIRED, at once if it speaks, within seconds if it waits for HELLO', async ({ secure }) => {
  const started = Date.now();
  const err = await failure(GuichetClient.connect({ port: secure.gateway.port }));
  assert.instance(err, ServerError);
  assert.is((err as ServerError).code, 'TLS_REQUIRED');
  assert.match(err.message, /this port speaks TLS: connect with --tls/);
  assert.ok(Date.now() - started < 5_000);
  const line = await new Promise<string>((resolve) => {
    const s = connectTcp({ port: secure.gateway.port, host: '127.0.0.1' }, () => s.write('PING\n'));
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('close', () => resolve(text));
    s.on('error', () => undefined);
  });
  assert.is(line, 'ERR TLS_REQUIRED this port speaks TLS: connect with --tls (and --tls-ca <file> for a private CA)\n');
});

Tls('a TLS client on a plain port is told it is a plain port; the gateway closes it without an error', async ({ plain, ca }) => {
  const err = await failure(GuichetClient.connect({ port: plain.gateway.port, tls: { ca } }));
  assert.match(err.message, /^127\.0\.0\.1:\d+ answered in plain text, not TLS: it is a plain port; connect without --tls$/);
  const c = await GuichetClient.connect({ port: plain.gateway.port });
  await c.request('PING'); // still serving
  c.close();
});

Tls('per-address connections over TLS: the refusal is readable, inside TLS', async ({ secure, ca }) => {
  const three = await Promise.all([1, 2, 3].map(() => GuichetClient.connect({ port: secure.gateway.port, tls: { ca }, localAddress: '127.0.0.31' })));
  try {
    const err = await failure(GuichetClient.connect({ port: secure.gateway.port, tls: { ca }, localAddress: '127.0.0.31' }));
    assert.is((err as ServerError).code, 'TOO_MANY_CONNECTIONS');
  } finally {
    for (const c of three) c.close();
  }
});

/** The CN of the certificate the port presents now. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      resolve(String(s.getPeerCertificate().subject.CN));
      s.destroy();
    });
    s.on('error', reject);
  });
}

Tls('reload (SIGHUP): new connections get the new certificate; unusable files keep the old one', async ({ secure, dir }) => {
  assert.is(await presented(secure.gateway.port), 'first');
  const next = await makeCertificate(dir, 'second');
  // The files the gateway was started with are replaced in place, as a renewal does.
  await execFile('cp', [next.certFile, join(dir, 'first.crt')]);
  await execFile('cp', [next.keyFile, join(dir, 'first.key')]);
  assert.ok(secure.gateway.reloadTls());
  assert.is(await presented(secure.gateway.port), 'second');
  await execFile('sh', ['-c', `echo broken > ${join(dir, 'first.key')}`]);
  assert.not.ok(secure.gateway.reloadTls());
  assert.is(await presented(secure.gateway.port), 'second');
});

Tls('guichet server --tls-cert --tls-key: SIGHUP reads the files again, the process goes on', async ({ nats, dir }) => {
  const files = await makeCertificate(dir, 'proc-one');
  const g = await startGatewayProcess({ natsUrl: nats.url, snapshotSeconds: 0, acceptCatalogChange: true, serverArgs: ['--tls-cert', files.certFile, '--tls-key', files.keyFile] });
  try {
    assert.match(g.stderr, /--tls \(TLS only\)/);
    assert.is(await presented(g.port), 'proc-one');
    const next = await makeCertificate(dir, 'proc-two');
    await execFile('cp', [next.certFile, files.certFile]);
    await execFile('cp', [next.keyFile, files.keyFile]);
    process.kill(g.pid!, 'SIGHUP');
    const deadline = Date.now() + 5_000;
    let cn = await presented(g.port);
    while (cn !== 'proc-two' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      cn = await presented(g.port);
    }
    assert.is(cn, 'proc-two');
    assert.ok(g.alive);
  } finally {
    await g.stop();
  }
});

/** Runs the CLI; resolves with its exit code and output. */
function cli(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

Tls('the one-shot commands and watch take --tls and --tls-ca; without them a TLS port says so in one line', async ({ nats, dir }) => {
  // The first gateway's key was broken by the reload test: another, from a fresh pair.
  const files = await makeCertificate(dir, 'cli');
  const node = await startNode(nats, { snapshotIntervalMs: 0, gateway: { tls: files } });
  try {
    const port = String(node.gateway.port);
    const ok = await cli(['concerts', '--port', port, '--tls-ca', files.certFile, '--json']);
    assert.is(ok.code, 0, ok.stderr);
    assert.ok((JSON.parse(ok.stdout) as { concerts: unknown[] }).concerts.length > 0);
    const untrusted = await cli(['seats', 'c1', '--port', port, '--tls']);
    assert.is(untrusted.code, 1);
    assert.match(untrusted.stderr, /^error: the certificate of 127\.0\.0\.1:\d+ is not trusted .*--tls-ca <file>\n$/, untrusted.stderr);
    const plainly = await cli(['concerts', '--port', port]);
    assert.is(plainly.code, 1);
    assert.is(plainly.stderr, 'error: this port speaks TLS: connect with --tls (and --tls-ca <file> for a private CA) (TLS_REQUIRED)\n');
    const watch = spawn(process.execPath, [MAIN_JS, 'watch', 'c2', '--port', port, '--tls-ca', files.certFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const first = await new Promise<string>((resolve) => watch.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    watch.kill('SIGINT');
    assert.match(first, /"capacity":10/);
    // The interactive client too: it lists the concerts over TLS, then q leaves.
    const interactive = await cli(['client', '127.0.0.1', port, '--tls-ca', files.certFile], 'q\n');
    assert.is(interactive.code, 0, interactive.stderr);
    assert.match(interactive.stdout, /Concert One/);
    const plainInteractive = await cli(['client', '127.0.0.1', port], 'q\n');
    assert.is(plainInteractive.code, 1);
    assert.match(plainInteractive.stderr, /this port speaks TLS: connect with --tls .*\(TLS_REQUIRED\)/, plainInteractive.stderr);
  } finally {
    await node.close();
  }
});

Tls.run();
