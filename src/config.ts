/**
 * Every option of the server, in one place: its flag, its GUICHET_* environment variable and
 * its default. Precedence: flag, then environment, then default (commander's Option.env).
 */
import { Option } from 'commander';
import { DEFAULT_MAX_CONNECTIONS } from './gateway/descriptors.js';
import type { NatsCredentials } from './nats-connection.js';

/** The NATS credential flags, as commander gives them (every command that connects to NATS). */
export interface NatsFlags {
  natsCreds?: string;
  natsUser?: string;
  natsPassword?: string;
  natsToken?: string;
  natsNkey?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
}

export interface ServerConfig extends NatsFlags {
  host: string;
  port: number;
  data: string;
  /** NATS URL(s), comma-separated; undefined starts the embedded nats-server. */
  nats?: string;
  natsPort: number;
  natsConfig: string;
  holdSeconds: number;
  /** Seats one connection may hold at once (`maxSeatsOf` resolves it with the alias). */
  maxSeats?: number;
  /** Deprecated alias of maxSeats (it counted holds of one seat each). */
  maxHolds?: number;
  concerts?: string;
  replicas: number;
  /** Seconds to wait at start for NATS, then for JetStream to serve the stream (each). */
  natsWait: number;
  /** Seconds between concert snapshots (0: neither read nor write them). */
  snapshotSeconds: number;
  /** Undefined when not given (flag or environment): the default is then lowered without a warning. */
  maxConnections?: number;
  idleTimeout: number;
  maxSeatsPerAddress: number;
  maxConnectionsPerAddress: number;
  maxWatchersPerAddress: number;
  /** Seconds during which an address may not hold again a seat whose hold it let go unbooked. */
  holdCoolDown: number;
  /** JSON file of networks (CIDRs) whose addresses have per-address limits of their own. */
  addressLimits?: string;
  gatewayId?: string;
  /** Seconds a gateway's concert leases last unrenewed (0: no ownership, every gateway decides every concert). */
  ownerLease: number;
  /** HMAC key of concert snapshots (default: one made under --data). */
  snapshotKey?: string;
  /** Start on a log shorter than, or other than, the one the last gateways saw. */
  acceptLogReset: boolean;
  acceptCatalogChange: boolean;
  /** PEM certificate (chain) and key: the gateway then speaks TLS only. */
  tlsCert?: string;
  tlsKey?: string;
  /** `host:port` of the HTTP listener for /metrics, /healthz and /readyz (absent: none). */
  http?: string;
  logFormat: 'text' | 'json';
  quiet: boolean;
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new Error(`${name} must be a whole number, not ${JSON.stringify(value)}`);
    const n = Number(value);
    if (n < min || n > max) throw new Error(`${name} must be from ${min} to ${max}, not ${n}`);
    return n;
  };
}

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 12345,
  data: './data',
  natsPort: 4222,
  natsConfig: 'nats.conf',
  holdSeconds: 120,
  maxSeats: 8,
  replicas: 1,
  natsWait: 60,
  snapshotSeconds: 60,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  idleTimeout: 300,
  maxSeatsPerAddress: 32,
  maxConnectionsPerAddress: 256,
  maxWatchersPerAddress: 64,
  holdCoolDown: 30,
  ownerLease: 3,
} as const;

/** The `guichet server` options, ready to add to a commander Command. */
export function serverOptions(): Option[] {
  const d = SERVER_DEFAULTS;
  return [
    new Option('--host <address>', 'address the gateway listens on').env('GUICHET_HOST').default(d.host),
    new Option('--port <port>', 'TCP port of the gateway').env('GUICHET_PORT').default(d.port).argParser(integer('--port', 0, 65535)),
    new Option('--data <dir>', 'where the embedded nats-server keeps the event log').env('GUICHET_DATA').default(d.data),
    new Option('--nats <url>', 'NATS server(s) to use, comma-separated; without it an embedded nats-server is started').env('GUICHET_NATS'),
    new Option('--nats-port <port>', 'client port of the embedded nats-server').env('GUICHET_NATS_PORT').default(d.natsPort).argParser(integer('--nats-port', 1, 65535)),
    new Option('--nats-config <file>', 'configuration of the embedded nats-server').env('GUICHET_NATS_CONFIG').default(d.natsConfig),
    new Option('--hold-seconds <n>', 'how long a held seat waits for its booking').env('GUICHET_HOLD_SECONDS').default(d.holdSeconds).argParser(integer('--hold-seconds', 1, 86_400)),
    // No commander default: a given --max-holds (the deprecated alias) must be told from none.
    new Option('--max-seats <n>', `seats one connection may hold at once, across its holds (default: ${d.maxSeats})`).env('GUICHET_MAX_SEATS').argParser(integer('--max-seats', 1, 100)),
    new Option('--max-holds <n>', 'deprecated alias of --max-seats').env('GUICHET_MAX_HOLDS').argParser(integer('--max-holds', 1, 100)).hideHelp(),
    new Option('--concerts <file>', 'JSON catalog of concerts (default: three demo concerts of 100 seats)').env('GUICHET_CONCERTS'),
    new Option('--replicas <n>', 'replicas of the TICKETS stream when it is created (3 on a NATS cluster)').env('GUICHET_REPLICAS').default(d.replicas).argParser(integer('--replicas', 1, 5)),
    new Option('--nats-wait <seconds>', 'how long to wait at start for NATS to answer, then for JetStream to serve the stream (a server or cluster still starting)').env('GUICHET_NATS_WAIT').default(d.natsWait).argParser(integer('--nats-wait', 0, 3_600)),
    new Option('--snapshot-seconds <n>', 'how often to write concert snapshots, from which a restart replays only the rest of the log (0: off)').env('GUICHET_SNAPSHOT_SECONDS').default(d.snapshotSeconds).argParser(integer('--snapshot-seconds', 0, 86_400)),
    // No commander default: a value the operator gave is told from the default, which the
    // descriptor limit may lower without a warning (a given one it lowers with a warning).
    new Option('--max-connections <n>', `connections refused past this many (default: ${d.maxConnections})`).env('GUICHET_MAX_CONNECTIONS').argParser(integer('--max-connections', 1, 1_000_000)),
    new Option('--idle-timeout <seconds>', 'close a connection that neither sends nor watches for this long (0: never)').env('GUICHET_IDLE_TIMEOUT').default(d.idleTimeout).argParser(integer('--idle-timeout', 0, 86_400)),
    new Option('--max-seats-per-address <n>', 'seats one address (IPv4, or IPv6 /64) may hold at once over all its connections').env('GUICHET_MAX_SEATS_PER_ADDRESS').default(d.maxSeatsPerAddress).argParser(integer('--max-seats-per-address', 1, 1_000_000)),
    new Option('--max-connections-per-address <n>', 'connections one address may have open at once').env('GUICHET_MAX_CONNECTIONS_PER_ADDRESS').default(d.maxConnectionsPerAddress).argParser(integer('--max-connections-per-address', 1, 1_000_000)),
    new Option('--max-watchers-per-address <n>', 'concerts one address may WATCH at once, summed over its connections').env('GUICHET_MAX_WATCHERS_PER_ADDRESS').default(d.maxWatchersPerAddress).argParser(integer('--max-watchers-per-address', 1, 1_000_000)),
    new Option('--hold-cool-down <seconds>', 'after a hold expires or is released unbooked, how long its address may not hold those seats again (0: at once)').env('GUICHET_HOLD_COOL_DOWN').default(d.holdCoolDown).argParser(integer('--hold-cool-down', 0, 3_600)),
    new Option('--address-limits <file>', 'JSON list of networks with per-address limits of their own: [{"cidr": "10.0.0.0/8", "maxSeats": 512, "maxConnections": 4096}] (shared addresses: schools, offices, NATs)').env('GUICHET_ADDRESS_LIMITS'),
    new Option('--gateway-id <id>', "this gateway's id in events' source field and in concert ownership: 1-64 letters, digits, '-' or '_' (default: gw-<ulid>)").env('GUICHET_GATEWAY_ID'),
    new Option('--owner-lease <seconds>', "how long this gateway's concerts stay its own if it stops renewing them (dies, freezes), before another gateway takes them; the same on every gateway (0: no ownership, each gateway decides every concert)").env('GUICHET_OWNER_LEASE').default(d.ownerLease).argParser(integer('--owner-lease', 0, 3_600)),
    new Option('--snapshot-key <key>', 'key authenticating concert snapshots (HMAC); every gateway on one NATS needs the same (default: one made under --data)').env('GUICHET_SNAPSHOT_KEY'),
    new Option('--accept-log-reset', 'start even though the log ends before, or is not, the one gateways saw last (after restoring an older backup on purpose)').env('GUICHET_ACCEPT_LOG_RESET').default(false),
    new Option('--accept-catalog-change', 'start even though the catalog differs from the one the last gateway started with (see docs/operations.md)').env('GUICHET_ACCEPT_CATALOG_CHANGE').default(false),
    new Option('--tls-cert <file>', 'serve TLS with this PEM certificate (chain); with --tls-key; read again on SIGHUP').env('GUICHET_TLS_CERT'),
    new Option('--tls-key <file>', 'the PEM private key of --tls-cert').env('GUICHET_TLS_KEY'),
    ...natsCredentialOptions(),
    new Option('--http <host:port>', 'serve /metrics, /healthz and /readyz over HTTP here (such as 127.0.0.1:9464; default: no HTTP listener)').env('GUICHET_HTTP'),
    new Option('--log-format <format>', 'text lines, or one JSON object a line').env('GUICHET_LOG_FORMAT').choices(['text', 'json']).default('text'),
    new Option('-q, --quiet', 'log only warnings and errors, not every interaction').env('GUICHET_QUIET').default(false),
  ];
}

/** The seats one connection may hold: --max-seats, else the deprecated --max-holds, else 8. */
export function maxSeatsOf(config: Pick<ServerConfig, 'maxSeats' | 'maxHolds'>): number {
  return config.maxSeats ?? config.maxHolds ?? SERVER_DEFAULTS.maxSeats;
}

/** The NATS credential options; without any, the embedded default's under --data are used. */
export function natsCredentialOptions(): Option[] {
  return [
    new Option('--nats-creds <file>', 'NATS credentials file (.creds: a user JWT and its seed)').env('GUICHET_NATS_CREDS'),
    new Option('--nats-user <user>', 'NATS user (or nats://user:password@host:port)').env('GUICHET_NATS_USER'),
    new Option('--nats-password <password>', 'NATS password of --nats-user').env('GUICHET_NATS_PASSWORD'),
    new Option('--nats-token <token>', 'NATS token (or nats://token@host:port)').env('GUICHET_NATS_TOKEN'),
    new Option('--nats-nkey <file>', 'file holding the NATS nkey seed to sign in with').env('GUICHET_NATS_NKEY'),
    new Option('--nats-tls-ca <file>', 'TLS to NATS: the CA certificate the server is checked against').env('GUICHET_NATS_TLS_CA'),
    new Option('--nats-tls-cert <file>', 'TLS to NATS: client certificate').env('GUICHET_NATS_TLS_CERT'),
    new Option('--nats-tls-key <file>', 'TLS to NATS: key of the client certificate').env('GUICHET_NATS_TLS_KEY'),
  ];
}

export function natsCredentials(flags: NatsFlags): NatsCredentials {
  const c: NatsCredentials = {};
  if (flags.natsCreds) c.credsFile = flags.natsCreds;
  if (flags.natsUser) c.user = flags.natsUser;
  if (flags.natsPassword) c.password = flags.natsPassword;
  if (flags.natsToken) c.token = flags.natsToken;
  if (flags.natsNkey) c.nkeyFile = flags.natsNkey;
  if (flags.natsTlsCa) c.tlsCa = flags.natsTlsCa;
  if (flags.natsTlsCert) c.tlsCert = flags.natsTlsCert;
  if (flags.natsTlsKey) c.tlsKey = flags.natsTlsKey;
  return c;
}

/** Whether the flags or the URL name who to be (TLS alone is not a name). */
export function namesAUser(credentials: NatsCredentials, urls: string): boolean {
  const { user, token, credsFile, nkeyFile } = credentials;
  return user !== undefined || token !== undefined || credsFile !== undefined || nkeyFile !== undefined || /:\/\/[^/,\s]*@/.test(urls);
}

/** Client commands' connection options. */
export function clientOptions(): Option[] {
  return [
    new Option('--host <address>', 'gateway address').env('GUICHET_HOST').default(SERVER_DEFAULTS.host),
    new Option('--port <port>', 'gateway port').env('GUICHET_PORT').default(SERVER_DEFAULTS.port).argParser(integer('--port', 1, 65535)),
    new Option('--json', 'print the raw JSON answers, one per line').default(false),
    ...clientTlsOptions(),
  ];
}

/** `--tls` / `--tls-ca`, for every command that connects to a gateway (also the interactive client). */
export function clientTlsOptions(): Option[] {
  return [
    new Option('--tls', 'connect with TLS (a gateway started with --tls-cert)').env('GUICHET_TLS').default(false),
    new Option('--tls-ca <file>', "PEM certificate(s) of the CA that signed the gateway's certificate (implies --tls; default: the system's CAs)").env('GUICHET_TLS_CA'),
  ];
}
