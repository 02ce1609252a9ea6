/**
 * How every guichet command connects to NATS: the server URLs, the credentials (user info in
 * a URL, a user and password, a token, an nkey seed file, a `.creds` file) and TLS, turned
 * into the client's connection options in one place.
 *
 * @nats-io/transport-node 3.4 drops user info in a server URL without a word (it keeps only
 * host and port: `nats://u:p@host` connects anonymously and fails with "Authorization
 * Violation"), so it is read here and passed as the client's user/pass or token.
 *
 * Secrets never reach a log line or an error message: `redactUrls` hides user info.
 */
import { readFile } from 'node:fs/promises';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';

export interface NatsCredentials {
  user?: string;
  password?: string;
  token?: string;
  /** A NATS `.creds` file (a user JWT and its nkey seed). */
  credsFile?: string;
  /** A file holding an nkey seed (`SU…`), as `nk -gen user` writes it. */
  nkeyFile?: string;
  /** TLS to NATS: the CA that signed the server's certificate, and a client certificate and key. */
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** The URLs without their user info, and the user info they carried (the first one given). */
export function splitServerUrls(urls: string): { servers: string[]; user?: string; password?: string; token?: string } {
  const servers: string[] = [];
  let found: { user?: string; password?: string; token?: string } = {};
  for (const raw of urls.split(',').map((u) => u.trim()).filter(Boolean)) {
    const at = userInfoOf(raw);
    if (!at) {
      servers.push(raw);
      continue;
    }
    servers.push(raw.slice(0, at.start) + raw.slice(at.end + 1));
    if (found.user !== undefined || found.token !== undefined) continue;
    const info = raw.slice(at.start, at.end);
    const colon = info.indexOf(':');
    found =
      colon < 0
        ? { token: decodeURIComponent(info) }
        : { user: decodeURIComponent(info.slice(0, colon)), password: decodeURIComponent(info.slice(colon + 1)) };
  }
  if (servers.length === 0) throw new Error('no NATS server URL given');
  return { servers, ...found };
}

/** Where the user info of a URL is (`scheme://INFO@host`), without the `@`. */
function userInfoOf(url: string): { start: number; end: number } | undefined {
  const scheme = url.indexOf('://');
  const start = scheme < 0 ? 0 : scheme + 3;
  const slash = url.indexOf('/', start);
  const authority = slash < 0 ? url.length : slash;
  const end = url.lastIndexOf('@', authority - 1);
  return end >= start ? { start, end } : undefined;
}

/** The URL(s) with any user info replaced by `***`, for logs and error messages. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@,]+@/gi, '$1***@');
}

/** The client's options for these servers and credentials; reads the key and creds files. */
export async function natsConnectionOptions(urls: string, credentials: NatsCredentials = {}): Promise<NodeConnectionOptions> {
  const fromUrl = splitServerUrls(urls);
  const options: NodeConnectionOptions = {
    servers: fromUrl.servers,
    // Without it the client builds two Errors per request (one to remember where it began,
    // one for a timeout that mostly never fires), stack traces and all: 25 µs per append, 6 %
    // of the gateway's CPU at 100 clients (bench throughput --profile). Our own errors say
    // which operation failed.
    noAsyncTraces: true,
  };
  const user = credentials.user ?? fromUrl.user;
  const password = credentials.password ?? fromUrl.password;
  const token = credentials.token ?? fromUrl.token;
  const forms = [user !== undefined, token !== undefined, credentials.credsFile !== undefined, credentials.nkeyFile !== undefined].filter(Boolean).length;
  if (forms > 1) throw new Error('give one form of NATS credentials: a user and password, a token, a creds file or an nkey (not several)');
  if (password !== undefined && user === undefined) throw new Error('a NATS password needs a user (--nats-user)');
  if (user !== undefined) {
    options.user = user;
    if (password !== undefined) options.pass = password;
  }
  if (token !== undefined) options.token = token;
  if (credentials.credsFile) {
    const creds = await readSecretFile(credentials.credsFile, 'NATS creds file');
    options.authenticator = credsAuthenticator(creds);
  }
  if (credentials.nkeyFile) {
    const seed = new TextDecoder().decode(await readSecretFile(credentials.nkeyFile, 'nkey seed file')).trim();
    if (!/^S[A-Z2-7]{55,}$/.test(seed.split('\n')[0] ?? '')) throw new Error(`${credentials.nkeyFile} does not hold an nkey seed (a line starting with S)`);
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed.split('\n')[0]));
  }
  if (credentials.tlsCa || credentials.tlsCert || credentials.tlsKey) {
    if (Boolean(credentials.tlsCert) !== Boolean(credentials.tlsKey)) throw new Error('a TLS client certificate needs its key, and a key its certificate (--nats-tls-cert with --nats-tls-key)');
    options.tls = {
      ...(credentials.tlsCa ? { caFile: credentials.tlsCa } : {}),
      ...(credentials.tlsCert ? { certFile: credentials.tlsCert, keyFile: credentials.tlsKey } : {}),
    };
  }
  return options;
}

async function readSecretFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Connects; an error names the servers without their user info. */
export async function connectNats(urls: string, credentials: NatsCredentials, extra: Partial<NodeConnectionOptions> = {}): Promise<NatsConnection> {
  const options = await natsConnectionOptions(urls, credentials);
  try {
    return await connect({ ...options, ...extra });
  } catch (err) {
    throw redactedError(err);
  }
}

/** The same error with URLs in its message redacted (its class and cause kept). */
export function redactedError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(redactUrls(String(err)));
  const message = redactUrls(err.message);
  if (message !== err.message) err.message = message;
  return err;
}

/** Whether an error is NATS refusing who we are: waiting does not mend it. */
export function isAuthenticationError(err: unknown): boolean {
  return err instanceof Error && /authoriz|authentic|tls|certificate|nkey|creds|jwt/i.test(`${err.name} ${err.message}`);
}
