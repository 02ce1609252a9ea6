/**
 * The TCP gateway: accepts connections, greets them with HELLO, hands each to a Session, and
 * wires the fan-out. Stops gracefully: no new connections, in-flight commands answered,
 * sessions closed (their holds released), then the caller closes NATS.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Registry } from '../actors/registry.js';
import { GuichetError } from '../errors.js';
import { concertList, type CommandEnv } from './commands.js';
import { Fanout } from './fanout.js';
import { WatcherIndex } from './watchers.js';
import { silentLogger, type Logger } from './log.js';
import { PROTOCOL_VERSION, formatError, formatPush } from './protocol.js';
import { ADDRESS_LIMIT, CONNECTION_LIMIT, FailureLimiter, type RateLimitOptions } from './rate-limit.js';
import { Session } from './session.js';
import type { CommandObserver } from './command-observer.js';
import { TlsTerminator, type TlsFiles } from './tls.js';
import { RecentCancellations } from './cancellations.js';
import { AddressFailures, type FailureBucket } from './shared-failures.js';
import { ADDRESS_LIMIT_DEFAULTS, AddressLimits, type AddressLimitOptions } from './address-limits.js';
import { addressKey } from './address.js';
import { connectionCeiling, DEFAULT_MAX_CONNECTIONS, readDescriptorLimit, type DescriptorLimit } from './descriptors.js';

export interface GatewayOptions {
  registry: Registry;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** This gateway's id, sent in HELLO. */
  gatewayId: string;
  log?: Logger;
  /** Absent: DEFAULT_MAX_CONNECTIONS, lowered to the descriptor limit without a warning. */
  maxConnections?: number;
  idleTimeoutMs?: number;
  maxBufferedBytes?: number;
  maxQueuedRequests?: number;
  connectionRateLimit?: RateLimitOptions;
  addressRateLimit?: RateLimitOptions;
  /** The failure counts shared with the other gateways (absent: this gateway's own only). */
  failureBucket?: FailureBucket;
  /** Per-address limits (address-limits.ts); each missing one has its default. */
  addressLimits?: Partial<AddressLimitOptions>;
  now?: () => number;
  /** Serve TLS only, with these PEM files (absent: plain TCP). */
  tls?: TlsFiles;
  /** The process's descriptor limit (default: read from /proc/self/limits; tests give one). */
  descriptorLimit?: DescriptorLimit;
  /** Told of every command answered and connection refused (the metrics, src/ops/; absent: nothing measured). */
  observer?: CommandObserver;
}

export interface Gateway {
  readonly port: number;
  readonly host: string;
  readonly connections: number;
  /** `--max-connections`, or less when the descriptor limit does not leave room for it. */
  readonly maxConnections: number;
  /** Whether the port speaks TLS. */
  readonly tls: boolean;
  /** How many connections watch a concert now (the metrics read it when scraped). */
  watchersOf(concert: string): number;
  /** Reads the TLS certificate and key again (SIGHUP); false (and the old ones kept) when they cannot be used. */
  reloadTls(): boolean;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? silentLogger;
  const now = options.now ?? Date.now;
  const sessions = new Set<Session>();
  const connectionLimiter = new FailureLimiter(options.connectionRateLimit ?? CONNECTION_LIMIT, now);
  const addressFailures = new AddressFailures(options.addressRateLimit ?? ADDRESS_LIMIT, options.failureBucket, {
    now,
    reachable: () => options.registry.isAvailable,
    log,
  });
  const addressLimits = new AddressLimits({ ...ADDRESS_LIMIT_DEFAULTS, ...options.addressLimits }, now);
  const sweeper = setInterval(() => {
    connectionLimiter.sweep();
    addressFailures.sweep();
    addressLimits.sweep();
  }, 60_000);
  sweeper.unref();
  const env: CommandEnv = {
    registry: options.registry,
    connectionLimiter,
    addressFailures,
    addressLimits,
    cancellations: new RecentCancellations(now),
    now,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
  const watchers = new WatcherIndex<Session>();
  const fanout = new Fanout(options.registry, watchers, now);
  const given = options.maxConnections !== undefined;
  const ceiling = connectionCeiling(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, options.descriptorLimit ?? readDescriptorLimit(), given);
  // Lowering the default on an ordinary machine is not a fault: only what the operator asked for warns.
  if (ceiling.lowered && given) log.warn(ceiling.lowered);
  else if (ceiling.lowered) log.info(ceiling.lowered);
  const maxConnections = ceiling.max;
  let stopping = false;

  const refuse = (socket: Socket, code: GuichetError['code'], message: string) => {
    socket.on('error', () => undefined);
    socket.resume(); // what it sent is read and dropped: closing on unread input would reset, losing the line
    // Its descriptor is given back as soon as the line is in the kernel's buffer (which still
    // sends it), and after a second at the latest: refusals must not use up the reserve.
    socket.end(`${formatError(undefined, code, message)}\n`, () => socket.destroy());
    setTimeout(() => socket.destroy(), 1_000).unref();
    options.observer?.refused?.(code);
    log.warn(`refused ${socket.remoteAddress}:${socket.remotePort}: ${code}`);
  };

  const tls = options.tls ? new TlsTerminator(options.tls, log) : undefined;
  /** Connections in their TLS handshake: they hold a descriptor, so they count against the ceiling. */
  let handshaking = 0;

  /** Whether a new TCP connection may stay; when it may, it is counted against its address. */
  const admission = (key: string): [GuichetError['code'], string] | undefined => {
    if (stopping) return ['SHUTTING_DOWN', 'the server is stopping'];
    if (sessions.size + handshaking >= maxConnections) {
      return ['TOO_MANY_CONNECTIONS', `the server has ${maxConnections} connections; try again shortly`];
    }
    if (!addressLimits.admitConnection(key)) {
      return ['TOO_MANY_CONNECTIONS', `this address (${key}) has ${addressLimits.maxConnectionsOf(key)} connections open, the address's limit; close one first`];
    }
    return undefined;
  };

  const accept = (raw: Socket) => {
    const key = addressKey(raw.remoteAddress);
    // Decided on the TCP connection, which holds a descriptor from now on; said once TLS is
    // up on a TLS port (a TLS client cannot read a plain line).
    const refusal = admission(key);
    if (!tls) return refusal ? refuse(raw, ...refusal) : open(raw, key);
    handshaking++;
    tls.wrap(
      raw,
      (secure) => {
        handshaking--;
        if (refusal) return refuse(secure, ...refusal);
        if (stopping) {
          addressLimits.leaveConnection(key);
          return refuse(secure, 'SHUTTING_DOWN', 'the server is stopping');
        }
        open(secure, key);
      },
      (why) => {
        handshaking--;
        if (!refusal) addressLimits.leaveConnection(key);
        log.info(`${raw.remoteAddress}:${raw.remotePort} not connected: ${why}`);
      },
    );
  };

  /** A connection admitted (and counted against `key`): its session, and HELLO. */
  const open = (socket: Socket, key: string) => {
    const session = new Session(socket, {
      env,
      log,
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1 << 20,
      maxQueuedRequests: options.maxQueuedRequests ?? 64,
      onClose: (s) => {
        sessions.delete(s);
        addressLimits.leaveConnection(key);
      },
      watchers,
      ...(options.observer ? { observer: options.observer } : {}),
    });
    sessions.add(session);
    log.info(`${session.label} connected (${sessions.size} open)`);
    session.write(
      formatPush('HELLO', {
        server: 'guichet',
        protocol: PROTOCOL_VERSION,
        gateway: options.gatewayId,
        connection: session.id,
        holdSeconds: Math.round(options.registry.rules.holdMs / 1000),
        maxSeats: options.registry.rules.maxSeats,
        // Protocol 1's name for the same limit, for clients that read it.
        maxHolds: options.registry.rules.maxSeats,
        concerts: concertList(env),
      }),
    );
  };

  const server: Server = createServer(accept);
  let emfileSaidAt = 0;
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') {
      // Should not happen below the ceiling; if it does (descriptors used elsewhere), say it once a minute.
      if (now() - emfileSaidAt < 60_000) return;
      emfileSaidAt = now();
      log.error(`gateway: out of descriptors (${err.code}): a newcomer was closed without a word; lower --max-connections or raise ulimit -n`);
      return;
    }
    log.error(`gateway: ${err.message}`);
  });
  // A deep accept queue: with Node's default (511) a burst of thousands of connections left
  // half of them connected (SYN cookies) but never accepted, waiting for a HELLO that never came.
  server.listen({ port: options.port, host: options.host, backlog: 4096 });
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw new Error(`cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`);
    }),
  ]);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  return {
    port,
    host: options.host,
    get connections() {
      return sessions.size;
    },
    maxConnections,
    tls: tls !== undefined,
    watchersOf: (concert) => watchers.watchersOf(concert)?.size ?? 0,
    reloadTls: () => tls?.reload() ?? false,
    async close({ timeoutMs = 5_000 } = {}) {
      if (stopping) return;
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...sessions].map((s) => s.shutdown(timeoutMs)));
      fanout.close();
      clearInterval(sweeper);
      await closed;
    },
  };
}
