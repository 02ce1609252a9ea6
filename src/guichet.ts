/**
 * Starts one guichet node: connect to NATS, ensure the stream, replay it into the actors,
 * then open the TCP gateway. The CLI's `server` command and the tests both start here.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { newId } from './ids.js';
import { Registry, type StartupReport } from './actors/registry.js';
import type { BatchPolicy } from './actors/batching.js';
import { ConcertSnapshots } from './actors/snapshot-store.js';
import { SnapshotStream } from './events/snapshots.js';
import { catalogDifferences, type Concert } from './catalog.js';
import { readCatalogRecord, writeCatalogRecord } from './catalog-record.js';
import { continuityProblem, LogWentBackwards, markOf, type LogMark } from './events/continuity.js';
import type { EventStore } from './events/store.js';
import { STREAM_NAME } from './events/subjects.js';
import { openEventStore } from './events/open.js';
import { guardStream } from './events/stream-guard.js';
import { connectNats, isAuthenticationError, redactedError, redactUrls, type NatsCredentials } from './nats-connection.js';
import { retryWhileWaiting } from './retry.js';
import { startGateway, type Gateway, type GatewayOptions } from './gateway/server.js';
import { silentLogger, type Logger } from './gateway/log.js';
import { plural } from './plural.js';
import { ensureReadersCopy } from './events/readers-copy.js';
import { FailureBucket } from './gateway/shared-failures.js';
import { ADDRESS_LIMIT } from './gateway/rate-limit.js';
import { ForwardLink, isValidGatewayId } from './events/forward-link.js';
import { OwnersBucket } from './events/owners-bucket.js';
import { Ownership } from './actors/ownership.js';

export interface GuichetOptions {
  /** NATS URL(s), comma-separated; user info in them (`nats://user:password@…`) is used. */
  natsUrl: string;
  /** Credentials to NATS besides the URL's user info; the gateway role's (nats-roles.conf). */
  nats?: NatsCredentials;
  /** Admin credentials, used only to update an existing stream in place (the embedded NATS's `guichet server` has them). */
  adminNats?: NatsCredentials;
  /** HMAC key authenticating snapshots and the catalog record; without it neither is read nor written. */
  snapshotKey?: string;
  /** Start even on a log that ends before, or is not, the one the last gateways saw. */
  acceptLogReset?: boolean;
  /** How often a running gateway checks that its stream is still there, unchanged (ms; default 5 s). */
  streamCheckMs?: number;
  host: string;
  port: number;
  catalog: readonly Concert[];
  holdSeconds: number;
  /** Seats one connection may hold at once (default 8). */
  maxSeats?: number;
  /** Deprecated alias of maxSeats. */
  maxHolds?: number;
  replicas?: number;
  /** How long to wait at start for NATS to answer and JetStream to serve the stream (ms; default 60 s; each wait). */
  natsWaitMs?: number;
  /** How often to write concert snapshots (ms; default 60 s); 0: neither read nor write them. */
  snapshotIntervalMs?: number;
  gatewayId?: string;
  /**
   * How long a gateway's leases on its concerts last unrenewed (ms; default 3 s): a gateway that
   * dies or freezes loses its concerts to the others about this long after. 0: no ownership,
   * every gateway decides every concert itself (they then race for a hot concert's sequence).
   */
  ownerLeaseMs?: number;
  /** Start even though the catalog differs from the last gateway's (the differences are logged). */
  acceptCatalogChange?: boolean;
  log?: Logger;
  maxConnections?: number;
  idleTimeoutMs?: number;
  gateway?: Partial<GatewayOptions>;
  onReplayProgress?: (seq: number, untilSeq: number) => void;
  /** What the start is doing now, for the readiness probe (src/ops/readiness.ts). */
  onStartPhase?: (phase: StartPhase) => void;
  /** When actors group commands (default: measured); the metrics wrap it to time appends (src/ops/metrics.ts). */
  batching?: BatchPolicy;
}

/** The steps of a start after NATS has answered, as a readiness probe says them. */
export type StartPhase = 'checking the stream' | 'replaying the log';

export interface Guichet {
  gateway: Gateway;
  registry: Registry;
  store: EventStore;
  nc: NatsConnection;
  gatewayId: string;
  /** Who decides for which concert, as this gateway sees it (absent: ownership off or unavailable). */
  ownership?: Ownership;
  /** Events replayed at start, from where, from how many snapshots, and how long it took. */
  startup: StartupReport & { ms: number };
  close(): Promise<void>;
}

/** The default of GuichetOptions.ownerLeaseMs. */
export const DEFAULT_OWNER_LEASE_MS = 3_000;

export async function startGuichet(options: GuichetOptions): Promise<Guichet> {
  const log = options.log ?? silentLogger;
  const gatewayId = options.gatewayId ?? `gw-${newId()}`;
  // It names the subject other gateways forward commands on, and its lease's key.
  if (!isValidGatewayId(gatewayId)) throw new Error(`gateway id ${JSON.stringify(gatewayId)}: must be 1-64 letters, digits, '-' or '_'`);
  const started = performance.now();
  const natsWaitMs = options.natsWaitMs ?? 60_000;
  const shownUrl = redactUrls(options.natsUrl);
  // A gateway started before its NATS (a machine booting, a cluster coming up) waits for it.
  const nc = await retryWhileWaiting(
    () =>
      connectNats(options.natsUrl, options.nats ?? {}, {
        name: `guichet ${gatewayId}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        // A NATS that stops answering (frozen, a dead link) is noticed in ~10 s rather than 4 min.
        pingInterval: 5_000,
        maxPingOut: 2,
      }),
    {
      waitMs: natsWaitMs,
      onWait: (reason, waitedMs) => log.warn(`waiting for NATS at ${shownUrl} (${(waitedMs / 1000).toFixed(1)} s so far): ${redactUrls(reason)}`),
      // Wrong credentials or a refused TLS handshake do not mend by waiting.
      isPermanent: isAuthenticationError,
      giveUp: (err, waitedMs) =>
        new Error(`cannot reach NATS at ${shownUrl}${natsWaitMs > 0 ? ` after waiting ${(waitedMs / 1000).toFixed(1)} s` : ''}: ${redactedError(err).message}`, { cause: err }),
    },
  );
  options.onStartPhase?.('checking the stream');
  const update = options.adminNats ? (config: StreamConfig) => updateAsAdmin(options.natsUrl, options.adminNats!, config) : undefined;
  try {
    const store = await openEventStore(nc, {
      replicas: options.replicas ?? 1,
      waitMs: natsWaitMs,
      onWait: (reason, waitedMs) => log.warn(`waiting for JetStream (${(waitedMs / 1000).toFixed(1)} s so far): ${reason}`),
      ...(update ? { update } : {}),
      onUpdated: (message) => log.info(message),
    });
    const stream = (await store.streamInfo(STREAM_NAME))!;
    await ensureReadersCopy(nc, options.replicas ?? 1, stream.state.last_seq).then(
      (outcome) => {
        if (outcome.kind === 'created') log.info(`made the readers' copy of ${STREAM_NAME} in their own account (docs/operations.md, "Security")`);
        if (outcome.kind === 'no readers account') log.info(`this NATS has no readers' account (nats-accounts.conf): no readers' copy of ${STREAM_NAME} made`);
        if (outcome.kind === 'ahead') {
          log.warn(
            `the readers' copy of ${STREAM_NAME} reaches sequence ${outcome.copyLastSeq}, the log only ${stream.state.last_seq}: ` +
              'the log went back (a restore?) and readers no longer see it as it is. Delete the copy in the readers\' account, ' +
              'and the next gateway makes it again (docs/operations.md, "Readers in an account of their own")',
          );
        }
      },
      (err: Error) => log.warn(`could not make the readers' copy of ${STREAM_NAME} in their account; readers have no log to read there until a gateway makes it: ${err.message}`),
    );
    let snapshotIntervalMs = options.snapshotIntervalMs ?? 60_000;
    if (snapshotIntervalMs > 0 && !options.snapshotKey) {
      log.warn('no snapshot key: snapshots are neither read nor written, and the log is not checked against the one the last gateways saw');
      snapshotIntervalMs = 0;
    }
    const maxSeats = options.maxSeats ?? options.maxHolds;
    let records: SnapshotStream | undefined;
    let mark: LogMark | undefined;
    if (snapshotIntervalMs > 0) {
      records = new SnapshotStream(store, options.snapshotKey!);
      await records.ensure(options.replicas ?? 1, update);
      mark = await checkRecord(records, stream, options, gatewayId, log);
    }
    const snapshots = records ? new ConcertSnapshots(records) : undefined;
    // The registry is made after ownership (it forwards by it), and hears from it of gone gateways.
    let gatewayGone = (_gateway: string): void => undefined;
    const ownership = await openOwnership(nc, gatewayId, options, log, (gateway) => gatewayGone(gateway));
    const registry = new Registry({
      store,
      catalog: options.catalog,
      source: gatewayId,
      rules: { holdMs: options.holdSeconds * 1000, ...(maxSeats ? { maxSeats } : {}) },
      onReplayProgress: options.onReplayProgress,
      onInvalidEvent: (seq, err) => log.warn(`stream message ${seq} is not a valid event (skipped): ${err.message}`),
      ...(snapshots ? { snapshots: { store: snapshots, intervalMs: snapshotIntervalMs, onProblem: (m: string) => log.warn(m) } } : {}),
      ...(ownership ? { owners: ownership, link: new ForwardLink(nc) } : {}),
      ...(options.batching ? { batching: options.batching } : {}),
    });
    gatewayGone = (gateway) => registry.gatewayGone(gateway);
    const failureBucket = await openFailureBucket(nc, options, log);
    void watchConnection(nc, registry, log);
    const guard = guardStream(store, {
      created: stream.created,
      intervalMs: options.streamCheckMs ?? 5_000,
      onProblem: (problem) => {
        registry.halt(problem);
        // Its concerts to another gateway, which may still trust its log.
        void ownership?.stop();
        log.error(
          `${problem}. This gateway now answers every command UNAVAILABLE and will not re-create or change the stream: ` +
            'restore it from a backup (docs/operations.md, "Backing up and restoring the stream"), then restart the gateways',
        );
      },
    });
    options.onStartPhase?.('replaying the log');
    const replay = await registry.start();
    // Said alive, and taking concerts, only once replayed and answering forwarded commands.
    await ownership?.start();
    // How far the log went, left for the next gateway with every snapshot round and at stop.
    const leaveMark = async () => {
      if (!records || !mark || !registry.isAvailable || registry.streamPosition <= mark.lastSeq) return;
      const next = { ...mark, lastSeq: registry.streamPosition };
      try {
        await writeCatalogRecord(records, { gatewayId, at: new Date().toISOString(), catalog: [...options.catalog], log: next });
        mark = next;
      } catch (err) {
        // Said, and tried again next round: until then the next gateway compares with an older mark.
        log.warn(`could not leave how far this gateway saw the log (sequence ${next.lastSeq}) for the next to compare with: ${(err as Error).message}`);
      }
    };
    const markTimer = records ? setInterval(() => void leaveMark(), snapshotIntervalMs) : undefined;
    markTimer?.unref();
    const startup = { ...replay, ms: Math.round(performance.now() - started) };
    log.info(`start-up: ${describeStartup(startup, options.catalog.length)}`);
    const gateway = await startGateway({
      registry,
      host: options.host,
      port: options.port,
      gatewayId,
      log,
      maxConnections: options.maxConnections,
      idleTimeoutMs: options.idleTimeoutMs,
      ...(failureBucket ? { failureBucket } : {}),
      ...options.gateway,
    });
    log.info(`gateway ${gatewayId} listening on ${gateway.host}:${gateway.port}`);
    return {
      gateway,
      registry,
      store,
      nc,
      gatewayId,
      ...(ownership ? { ownership } : {}),
      startup,
      async close() {
        // First hand the concerts over, so that the others decide them while this one closes.
        await ownership?.stop();
        guard.stop();
        clearInterval(markTimer);
        await gateway.close();
        await leaveMark();
        await registry.stop();
        await nc.drain().catch(() => nc.close());
      },
    };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
}

/** The catalog differs from the last gateway's, and --accept-catalog-change was not given. */
export class CatalogChanged extends Error {
  override readonly name = 'CatalogChanged';
}

/**
 * Reads the catalog record the last gateway left: refuses to start when it started with
 * another catalog (unless told to accept it: gateways with different catalogs sold seat 150
 * of a 100-seat concert, and a concert the others do not have, whose bookings they cannot
 * find), and when the log went backwards since (unless told to accept it); then leaves this
 * gateway's record for the next. Returns the mark it left.
 */
async function checkRecord(records: SnapshotStream, stream: StreamInfo, options: GuichetOptions, gatewayId: string, log: Logger): Promise<LogMark> {
  const read = await readCatalogRecord(records);
  let seen = 0;
  if ('unusable' in read) {
    log.warn(`the catalog record the last gateway left is unusable (${read.unusable}): the log cannot be checked against the one it saw`);
  } else if ('record' in read) {
    const previous = read.record;
    const differences = catalogDifferences(options.catalog, previous.catalog);
    if (differences.length > 0) {
      const said =
        `this gateway's catalog differs from the one gateway ${previous.gatewayId} started with at ${previous.at} ` +
        `(${differences.join('; ')}); every gateway on one NATS must have the same catalog`;
      if (!options.acceptCatalogChange) {
        const refusal = new CatalogChanged(
          `${said}. Not starting. If the change is meant, start with --accept-catalog-change, then restart ` +
            'every other gateway with the new catalog (docs/operations.md, "Changing the catalog")',
        );
        log.error(refusal.message);
        throw refusal;
      }
      log.warn(`${said} (accepted: --accept-catalog-change; restart every other gateway with this catalog)`);
    }
    const problem = previous.log && continuityProblem(previous.log, stream);
    if (problem && !options.acceptLogReset) {
      const refusal = new LogWentBackwards(problem);
      log.error(refusal.message);
      throw refusal;
    }
    if (problem) log.warn(`${problem}; accepted (--accept-log-reset): this log is the log from now on`);
    else seen = previous.log?.lastSeq ?? 0;
  }
  const mark = markOf(stream, seen);
  // A check, not a condition of starting: a failed write is said and the start goes on.
  await writeCatalogRecord(records, { gatewayId, at: new Date().toISOString(), catalog: [...options.catalog], log: mark }).catch((err: Error) => {
    log.warn(`could not leave this gateway's catalog record for the next to compare with: ${err.message}`);
  });
  return mark;
}

/** Updates the stream's configuration over a connection of its own with admin rights. */
async function updateAsAdmin(natsUrl: string, admin: NatsCredentials, config: StreamConfig): Promise<void> {
  const nc = await connectNats(natsUrl, admin, { name: 'guichet stream update' });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.update(config.name, config);
  } finally {
    await nc.close();
  }
}

/**
 * The look-up failure counts shared by every gateway (shared-failures.ts). A NATS that will
 * not have the bucket (an account without the rights) is said, and this gateway counts alone.
 */
async function openFailureBucket(nc: NatsConnection, options: GuichetOptions, log: Logger): Promise<FailureBucket | undefined> {
  const windowMs = options.gateway?.addressRateLimit?.windowMs ?? ADDRESS_LIMIT.windowMs;
  try {
    return await FailureBucket.open(nc, { windowMs, replicas: options.replicas ?? 1 });
  } catch (err) {
    log.warn(
      `look-up limits: cannot open the shared bucket guichet_limits (${(err as Error).message}); ` +
        'this gateway counts failed look-ups alone, so each gateway gives an address its own budget',
    );
    return undefined;
  }
}

/**
 * Concert ownership (src/actors/ownership.ts) over the bucket guichet_owners. A NATS that will
 * not have the bucket (an account without the rights) is said, and this gateway decides every
 * concert itself, as all gateways did before ownership.
 */
async function openOwnership(
  nc: NatsConnection,
  gatewayId: string,
  options: GuichetOptions,
  log: Logger,
  onGatewayGone: (gateway: string) => void,
): Promise<Ownership | undefined> {
  const leaseMs = options.ownerLeaseMs ?? DEFAULT_OWNER_LEASE_MS;
  if (leaseMs <= 0) return undefined;
  try {
    const bucket = await OwnersBucket.open(nc, { leaseMs, replicas: options.replicas ?? 1, timeoutMs: Math.max(1_000, leaseMs / 3) });
    return new Ownership({
      self: gatewayId,
      concerts: options.catalog.map((c) => c.id),
      store: bucket,
      leaseMs,
      onProblem: (m) => log.warn(`concert ownership: ${m}`),
      onOwner: (concert, owner) =>
        log.info(`concert ${concert}: ${owner === undefined ? 'no owner' : owner === gatewayId ? 'owned by this gateway' : `owned by ${owner}`}`),
      onGatewayGone: (gateway) => {
        log.warn(`gateway ${gateway} stopped renewing its lease (dead, frozen or cut off from NATS); commands waiting on it are answered UNAVAILABLE`);
        onGatewayGone(gateway);
      },
    });
  } catch (err) {
    log.warn(
      `concert ownership: cannot open the bucket guichet_owners (${(err as Error).message}); ` +
        'this gateway decides every concert itself, racing other gateways for a hot one',
    );
    return undefined;
  }
}

/** One line on where a start began and what it replayed, for the logs. */
export function describeStartup(startup: Guichet['startup'], concerts: number): string {
  const took = startup.ms < 10_000 ? `${startup.ms} ms` : `${(startup.ms / 1000).toFixed(1)} s`;
  if (startup.untilSeq === 0) return `the event log is empty (${took})`;
  const { used } = startup.snapshots;
  const from = used > 0 ? `${used} of ${plural(concerts, 'concert')} from ${used === 1 ? 'its snapshot' : 'their snapshots'}, then ` : '';
  const replayed =
    startup.fromSeq > startup.untilSeq
      ? `nothing to replay (the log ends at sequence ${startup.untilSeq})`
      : `replayed ${plural(startup.events, 'event')} (sequences ${startup.fromSeq} to ${startup.untilSeq})`;
  return `${from}${replayed} in ${took}`;
}

/** Commands fail fast with UNAVAILABLE while NATS is away, instead of queueing behind timeouts. */
async function watchConnection(nc: NatsConnection, registry: Registry, log: Logger): Promise<void> {
  for await (const status of nc.status()) {
    switch (status.type) {
      case 'disconnect':
        registry.setAvailable(false);
        log.warn(`NATS connection lost (${status.server}); commands answer UNAVAILABLE until it is back`);
        break;
      case 'reconnect':
        registry.setAvailable(true);
        log.info(`NATS connection back (${status.server})`);
        break;
      default:
        break;
    }
  }
}
