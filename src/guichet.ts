/**
 * Starts one guichet node: connect to NATS, ensure the stream, replay it into the actors,
 * then open the TCP gateway. The CLI's `server` command and the tests both start here.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { newId } from './ids.js';
import { Registry, type StartupReport } from './actors/registry.js';
import { SnapshotStore } from './events/snapshots.js';
import { catalogDifferences, type Concert } from './catalog.js';
import type { EventStore } from './events/store.js';
import { openEventStore } from './events/open.js';
import { retryWhileWaiting } from './retry.js';
import { startGateway, type Gateway, type GatewayOptions } from './gateway/server.js';
import { silentLogger, type Logger } from './gateway/log.js';
import { FailureBucket } from './gateway/shared-failures.js';
import { ADDRESS_LIMIT } from './gateway/rate-limit.js';

export interface GuichetOptions {
  natsUrl: string;
  host: string;
  port: number;
  catalog: readonly Concert[];
  holdSeconds: number;
  maxHolds?: number;
  replicas?: number;
  /** How long to wait at start for NATS to answer and JetStream to serve the stream (ms; default 60 s; each wait). */
  natsWaitMs?: number;
  /** How often to write concert snapshots (ms; default 60 s); 0: neither read nor write them. */
  snapshotIntervalMs?: number;
  gatewayId?: string;
  /** Start even though the catalog differs from the last gateway's (the differences are logged). */
  acceptCatalogChange?: boolean;
  log?: Logger;
  maxConnections?: number;
  idleTimeoutMs?: number;
  gateway?: Partial<GatewayOptions>;
  onReplayProgress?: (seq: number, untilSeq: number) => void;
}

export interface Guichet {
  gateway: Gateway;
  registry: Registry;
  store: EventStore;
  nc: NatsConnection;
  gatewayId: string;
  /** Events replayed at start, from where, from how many snapshots, and how long it took. */
  startup: StartupReport & { ms: number };
  close(): Promise<void>;
}

export async function startGuichet(options: GuichetOptions): Promise<Guichet> {
  const log = options.log ?? silentLogger;
  const gatewayId = options.gatewayId ?? `gw-${newId()}`;
  const started = performance.now();
  const natsWaitMs = options.natsWaitMs ?? 60_000;
  // A gateway started before its NATS (a machine booting, a cluster coming up) waits for it.
  const nc = await retryWhileWaiting(
    () =>
      connect({
        servers: options.natsUrl.split(','),
        name: `guichet ${gatewayId}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        // A NATS that stops answering (frozen, a dead link) is noticed in ~10 s rather than 4 min.
        pingInterval: 5_000,
        maxPingOut: 2,
      }),
    {
      waitMs: natsWaitMs,
      onWait: (reason, waitedMs) => log.warn(`waiting for NATS at ${options.natsUrl} (${(waitedMs / 1000).toFixed(1)} s so far): ${reason}`),
      // Wrong credentials or a refused TLS handshake do not mend by waiting.
      isPermanent: (err) => err instanceof Error && /authoriz|authentic|tls|certificate/i.test(err.message),
      giveUp: (err, waitedMs) =>
        new Error(`cannot reach NATS at ${options.natsUrl}${natsWaitMs > 0 ? ` after waiting ${(waitedMs / 1000).toFixed(1)} s` : ''}: ${(err as Error).message}`, { cause: err }),
    },
  );
  try {
    const store = await openEventStore(nc, {
      replicas: options.replicas ?? 1,
      waitMs: natsWaitMs,
      onWait: (reason, waitedMs) => log.warn(`waiting for JetStream (${(waitedMs / 1000).toFixed(1)} s so far): ${reason}`),
    });
    const snapshotIntervalMs = options.snapshotIntervalMs ?? 60_000;
    let snapshots: SnapshotStore | undefined;
    if (snapshotIntervalMs > 0) {
      snapshots = new SnapshotStore(store);
      await snapshots.ensure(options.replicas ?? 1);
      await compareCatalogs(snapshots, options.catalog, gatewayId, log, options.acceptCatalogChange ?? false);
    }
    const registry = new Registry({
      store,
      catalog: options.catalog,
      source: gatewayId,
      rules: { holdMs: options.holdSeconds * 1000, ...(options.maxHolds ? { maxHoldsPerHolder: options.maxHolds } : {}) },
      onReplayProgress: options.onReplayProgress,
      onInvalidEvent: (seq, err) => log.warn(`stream message ${seq} is not a valid event (skipped): ${err.message}`),
      ...(snapshots ? { snapshots: { store: snapshots, intervalMs: snapshotIntervalMs, onProblem: (m: string) => log.warn(m) } } : {}),
    });
    const failureBucket = await openFailureBucket(nc, options, log);
    void watchConnection(nc, registry, log);
    const replay = await registry.start();
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
      startup,
      async close() {
        await gateway.close();
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
 * Refuses to start when the last gateway started with another catalog (unless told to accept
 * it), then leaves ours for the next. Gateways with different catalogs sold seat 150 of a
 * 100-seat concert, and a concert the others do not have, whose bookings they cannot find.
 */
async function compareCatalogs(snapshots: SnapshotStore, catalog: readonly Concert[], gatewayId: string, log: Logger, accept: boolean): Promise<void> {
  const previous = await snapshots.readCatalog();
  const differences = previous ? catalogDifferences(catalog, previous.catalog) : [];
  if (previous && differences.length > 0) {
    const said =
      `this gateway's catalog differs from the one gateway ${previous.gatewayId} started with at ${previous.at} ` +
      `(${differences.join('; ')}); every gateway on one NATS must have the same catalog`;
    if (!accept) {
      throw new CatalogChanged(
        `${said}. Not starting. If the change is meant, start with --accept-catalog-change, then restart ` +
          'every other gateway with the new catalog (docs/operations.md, "Changing the catalog")',
      );
    }
    log.warn(`${said} (accepted: --accept-catalog-change; restart every other gateway with this catalog)`);
  }
  // A check, not a condition of starting: a failed write is said and the start goes on.
  await snapshots.writeCatalog({ gatewayId, at: new Date().toISOString(), catalog: [...catalog] }).catch((err: Error) => {
    log.warn(`could not leave this gateway's catalog for the next to compare with: ${err.message}`);
  });
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

/** One line on where a start began and what it replayed, for the logs. */
export function describeStartup(startup: Guichet['startup'], concerts: number): string {
  const took = startup.ms < 10_000 ? `${startup.ms} ms` : `${(startup.ms / 1000).toFixed(1)} s`;
  if (startup.untilSeq === 0) return `the event log is empty (${took})`;
  const { used } = startup.snapshots;
  const from = used > 0 ? `${used} of ${concerts} concerts from their snapshots, then ` : '';
  const replayed =
    startup.fromSeq > startup.untilSeq
      ? `nothing to replay (the log ends at sequence ${startup.untilSeq})`
      : `replayed ${startup.events} events (sequences ${startup.fromSeq} to ${startup.untilSeq})`;
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
