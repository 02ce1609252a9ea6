/** `guichet server`: the embedded or given NATS, the actors, the gateway; stops cleanly on a signal. */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { loadCatalog } from '../catalog.js';
import { maxSeatsOf, natsCredentials, type ServerConfig } from '../config.js';
import { describeStartup, startGuichet } from '../guichet.js';
import { createLogger } from '../gateway/log.js';
import { createJsonLogger, jsonLine } from '../gateway/log-json.js';
import { parseListen } from '../ops/http.js';
import { startOperations } from '../ops/operations.js';
import type { NatsCredentials } from '../nats-connection.js';
import { loadSecureContext } from '../gateway/tls.js';
import { readAddressOverrides } from '../gateway/address-overrides.js';
import { findConfig, startEmbeddedNats, type EmbeddedNats } from './embedded-nats.js';
import { plural } from '../plural.js';
import { credentialsOrEmbedded, ensureEmbeddedSecrets, ensureSnapshotKey, publicKeyEnvironment } from './embedded-secrets.js';

export async function runServer(config: ServerConfig): Promise<void> {
  const json = config.logFormat === 'json';
  const log = json ? createJsonLogger({ quiet: config.quiet }) : createLogger({ quiet: config.quiet });
  // What is always said, even with --quiet (where to connect, the stop): a JSON line too with --log-format json.
  const say = json ? (m: string) => process.stderr.write(`${jsonLine(m)}\n`) : (m: string) => process.stderr.write(`${m}\n`);
  // Before anything starts: a bad --http is a usage error, and /healthz answers during the replay.
  const ops = config.http ? await startOperations(parseListen(config.http)) : undefined;
  if (ops) log.info(`metrics and probes on http://${ops.listener.host}:${ops.listener.port} (/metrics, /healthz, /readyz)`);
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new Error('TLS needs both --tls-cert and --tls-key (PEM files)');
  }
  const tls = config.tlsCert && config.tlsKey ? { certFile: config.tlsCert, keyFile: config.tlsKey } : undefined;
  if (tls) loadSecureContext(tls); // unusable files are said before anything starts
  const catalog = await loadCatalog(config.concerts);
  // A wrong file is said before anything starts, with the entry that is wrong.
  const overrides = config.addressLimits !== undefined ? readAddressOverrides(config.addressLimits) : [];
  if (config.maxHolds !== undefined) {
    log.warn(`--max-holds (GUICHET_MAX_HOLDS) is deprecated: it is now --max-seats (GUICHET_MAX_SEATS), seats across a connection's holds`);
  }
  let embedded: EmbeddedNats | undefined;
  let nats: NatsCredentials;
  let adminNats: NatsCredentials | undefined;
  let snapshotKey = config.snapshotKey;
  if (!config.nats) {
    // The embedded default secures itself: its users' keys are made under --data at first start.
    const secrets = await ensureEmbeddedSecrets(config.data);
    embedded = await startEmbeddedNats({
      config: findConfig(config.natsConfig),
      dataDir: config.data,
      port: config.natsPort,
      env: publicKeyEnvironment(secrets),
      log: (line) => log.info(line),
    });
    nats = { ...natsCredentials(config), nkeyFile: secrets.seedFiles.gateway };
    // Only to update the stream in place (allow_atomic), which the gateway role may not.
    adminNats = { nkeyFile: secrets.seedFiles.admin };
    snapshotKey ??= secrets.snapshotKey;
  } else {
    nats = credentialsOrEmbedded(config, config.nats, config.data, 'gateway');
    snapshotKey ??= await ensureSnapshotKey(config.data);
  }
  let lastReport = 0;
  const gateway = {
    addressLimits: {
      maxSeatsHeld: config.maxSeatsPerAddress,
      maxConnections: config.maxConnectionsPerAddress,
      maxWatchers: config.maxWatchersPerAddress,
      coolDownMs: config.holdCoolDown * 1000,
      overrides,
    },
    ...(tls ? { tls } : {}),
  };
  const onReplayProgress = (seq: number, until: number) => {
    const now = Date.now();
    if (until >= 10_000 && (now - lastReport > 1_000 || seq === until)) {
      lastReport = now;
      say(`replaying the event log: ${seq} / ${until} (${Math.floor((seq / until) * 100)} %)`);
    }
  };
  const node = await startGuichet({
    natsUrl: config.nats ?? embedded!.url,
    nats,
    ...(adminNats ? { adminNats } : {}),
    snapshotKey,
    acceptLogReset: config.acceptLogReset,
    host: config.host,
    port: config.port,
    catalog,
    holdSeconds: config.holdSeconds,
    maxSeats: maxSeatsOf(config),
    replicas: config.replicas,
    natsWaitMs: config.natsWait * 1000,
    snapshotIntervalMs: config.snapshotSeconds * 1000,
    gatewayId: config.gatewayId,
    ownerLeaseMs: config.ownerLease * 1000,
    acceptCatalogChange: config.acceptCatalogChange,
    maxConnections: config.maxConnections,
    idleTimeoutMs: config.idleTimeout * 1000,
    gateway,
    log,
    onReplayProgress,
    ...ops?.hooks({ onReplayProgress, gateway }),
  }).catch(async (err: unknown) => {
    await embedded?.stop();
    await ops?.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `port ${config.port} on ${config.host} is already in use (another guichet server?): stop it, or give this one another --port`,
      );
    }
    throw err;
  });
  ops?.attach(node);
  // Always said, even with --quiet: where to connect.
  say(
    `guichet ${node.gatewayId} listening on ${node.gateway.host}:${node.gateway.port} ` +
      `(${plural(catalog.length, 'concert')}, holds last ${config.holdSeconds} s; ${describeStartup(node.startup, catalog.length)}). ` +
      `Connect: ${connectHint(node.gateway.host, node.gateway.port)}${node.gateway.tls ? ' --tls (TLS only)' : ''}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      say(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    say(`${signal}: stopping (answering commands in flight, releasing holds)…`);
    try {
      ops?.stopping();
      await node.close();
      await ops?.close();
      await embedded?.stop();
      say('stopped');
      process.exit(0);
    } catch (err) {
      say(`error while stopping: ${(err as Error).message}`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Serving TLS, SIGHUP takes a renewed certificate without a restart (connections already
  // open keep theirs), as daemons do. Otherwise it means its terminal closed: stop as cleanly,
  // embedded nats-server included (which takes SIGHUP as "reload").
  if (node.gateway.tls) process.on('SIGHUP', () => void node.gateway.reloadTls());
  else process.on('SIGHUP', () => void stop('SIGHUP'));
}

/**
 * The command that connects a client from here: `guichet` when it is on the PATH (after
 * `npm link` or `npm install -g .`), else `npx guichet` (what works in the clone after
 * `npm install`); the address only when it is not the default.
 */
export function connectHint(host: string, port: number, onPath = guichetOnPath()): string {
  const command = onPath ? 'guichet client' : 'npx guichet client';
  return host === '127.0.0.1' && port === 12345 ? command : `${command} ${host} ${port}`;
}

function guichetOnPath(): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, 'guichet')));
}
