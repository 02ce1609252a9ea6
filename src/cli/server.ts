/** `guichet server`: the embedded or given NATS, the actors, the gateway; stops cleanly on a signal. */
import { loadCatalog } from '../catalog.js';
import type { ServerConfig } from '../config.js';
import { describeStartup, startGuichet } from '../guichet.js';
import { createLogger } from '../gateway/log.js';
import { loadSecureContext } from '../gateway/tls.js';
import { findConfig, startEmbeddedNats, type EmbeddedNats } from './embedded-nats.js';

export async function runServer(config: ServerConfig): Promise<void> {
  const log = createLogger({ quiet: config.quiet });
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new Error('TLS needs both --tls-cert and --tls-key (PEM files)');
  }
  const tls = config.tlsCert && config.tlsKey ? { certFile: config.tlsCert, keyFile: config.tlsKey } : undefined;
  if (tls) loadSecureContext(tls); // unusable files are said before anything starts
  const catalog = await loadCatalog(config.concerts);
  let embedded: EmbeddedNats | undefined;
  if (!config.nats) {
    embedded = await startEmbeddedNats({
      config: findConfig(config.natsConfig),
      dataDir: config.data,
      port: config.natsPort,
      log: (line) => log.info(line),
    });
  }
  let lastReport = 0;
  const node = await startGuichet({
    natsUrl: config.nats ?? embedded!.url,
    host: config.host,
    port: config.port,
    catalog,
    holdSeconds: config.holdSeconds,
    maxHolds: config.maxHolds,
    replicas: config.replicas,
    natsWaitMs: config.natsWait * 1000,
    snapshotIntervalMs: config.snapshotSeconds * 1000,
    gatewayId: config.gatewayId,
    acceptCatalogChange: config.acceptCatalogChange,
    maxConnections: config.maxConnections,
    idleTimeoutMs: config.idleTimeout * 1000,
    gateway: {
      addressLimits: {
        maxSeatsHeld: config.maxSeatsPerAddress,
        maxConnections: config.maxConnectionsPerAddress,
        maxWatchers: config.maxWatchersPerAddress,
        coolDownMs: config.holdCoolDown * 1000,
      },
      ...(tls ? { tls } : {}),
    },
    log,
    onReplayProgress: (seq, until) => {
      const now = Date.now();
      if (until >= 10_000 && (now - lastReport > 1_000 || seq === until)) {
        lastReport = now;
        process.stderr.write(`replaying the event log: ${seq} / ${until} (${Math.floor((seq / until) * 100)} %)\n`);
      }
    },
  }).catch(async (err: unknown) => {
    await embedded?.stop();
    throw err;
  });
  // Always said, even with --quiet: where to connect.
  process.stderr.write(
    `guichet ${node.gatewayId} listening on ${node.gateway.host}:${node.gateway.port} ` +
      `(${catalog.length} concerts, holds last ${config.holdSeconds} s; ${describeStartup(node.startup, catalog.length)}). ` +
      `Connect: guichet client ${node.gateway.host} ${node.gateway.port}${node.gateway.tls ? ' --tls (TLS only)' : ''}\n`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${signal}: stopping (answering commands in flight, releasing holds)…\n`);
    try {
      await node.close();
      await embedded?.stop();
      process.stderr.write('stopped\n');
      process.exit(0);
    } catch (err) {
      process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // A renewed certificate is taken without a restart; connections already open keep theirs.
  if (node.gateway.tls) process.on('SIGHUP', () => void node.gateway.reloadTls());
}
