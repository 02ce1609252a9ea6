/**
 * Test servers for each form of NATS credentials the gateway takes: a token, nkeys, a
 * `.creds` file (operator mode: an operator, an account and a user, their JWTs signed here
 * with nkeys as `nsc` would), and TLS with a CA, server and client certificates made with
 * `openssl`. Each is a real nats-server on a free port with JetStream.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';

type KeyPair = ReturnType<typeof nkeys.createUser>;
import type { NatsCredentials } from '../../src/nats-connection.js';
import { launchNatsServer, waitForJetStream } from './nats.js';
import { freePort } from './net.js';

export interface AuthNats {
  /** The URL, without credentials. */
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * A nats-server with JetStream and these configuration lines (made in its directory); ready
 * once JetStream answers a client signed in as `ready` says (URL and credentials).
 */
export async function startAuthNats(
  lines: (dir: string) => Promise<string[]> | string[],
  ready: (url: string, dir: string) => [string, NatsCredentials],
  tlsUrl = false,
): Promise<AuthNats> {
  const dir = await mkdtemp(join(tmpdir(), 'guichet-auth-'));
  const port = await freePort();
  const config = join(dir, 'nats.conf');
  await writeFile(config, [`listen: 127.0.0.1:${port}`, `jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }`, ...(await lines(dir)), ''].join('\n'));
  const server = await launchNatsServer(config, port);
  const url = `${tlsUrl ? 'tls' : 'nats'}://127.0.0.1:${port}`;
  try {
    const [readyUrl, credentials] = ready(url, dir);
    await waitForJetStream(readyUrl, 10_000, credentials);
  } catch (err) {
    server.child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${server.log()}`);
  }
  return {
    url,
    dir,
    async stop() {
      const gone = new Promise<void>((r) => server.child.once('exit', () => r()));
      server.child.kill('SIGTERM');
      await gone;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A JWT as nats-server reads it: ed25519-nkey, signed by `issuer`. */
function jwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const header = b64({ typ: 'JWT', alg: 'ed25519-nkey' });
  const claims = b64({ jti: Math.random().toString(36).slice(2).toUpperCase(), iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats: { ...nats, version: 2 } });
  const signature = Buffer.from(issuer.sign(new TextEncoder().encode(`${header}.${claims}`))).toString('base64url');
  return `${header}.${claims}.${signature}`;
}

const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };

/** Operator mode: the configuration lines, and a user's `.creds` file written in `dir`. */
export async function operatorSetup(dir: string): Promise<{ lines: string[]; credsFile: string }> {
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  const system = nkeys.createAccount();
  const user = nkeys.createUser();
  const operatorJwt = jwt(operator, operator.getPublicKey(), 'guichet-test', { type: 'operator', system_account: system.getPublicKey() });
  const accountJwt = jwt(operator, account.getPublicKey(), 'guichet', { type: 'account', limits: { ...UNLIMITED, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } });
  const systemJwt = jwt(operator, system.getPublicKey(), 'SYS', { type: 'account', limits: UNLIMITED });
  const userJwt = jwt(account, user.getPublicKey(), 'gateway', { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
  const credsFile = join(dir, 'gateway.creds');
  const seed = new TextDecoder().decode(user.getSeed());
  await writeFile(
    credsFile,
    `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
    { mode: 0o600 },
  );
  return {
    credsFile,
    lines: [
      `operator: ${operatorJwt}`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      `resolver_preload: { ${account.getPublicKey()}: ${accountJwt}, ${system.getPublicKey()}: ${systemJwt} }`,
    ],
  };
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
export function makeCertificates(dir: string): { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string } {
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=guichet test CA');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=guichet test ${name}`);
    execFileSync('sh', ['-c', `printf '${ext}\\n' > ${name}.ext`], { cwd: dir });
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`));
  }
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}
