/**
 * `guichet audit`: replays the TICKETS stream from the start, checks the booking rules and the
 * log's shape, and prints per concert what happened and the seat map (as of `--until`).
 * Exits 1 when a check fails, naming the offending events.
 */
import { Command, Option } from 'commander';
import type { NatsConnection } from '@nats-io/transport-node';
import { natsCredentialOptions, SERVER_DEFAULTS, type NatsFlags } from '../config.js';
import { connectNats as connectWith, redactUrls } from '../nats-connection.js';
import { credentialsOrEmbedded, type Role } from './embedded-secrets.js';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { loadCatalog } from '../catalog.js';
import { EventStore } from '../events/store.js';
import { isValidConcertId, STREAM_NAME } from '../events/subjects.js';
import type { ConcertReport } from '../audit/auditor.js';
import { describeLogPoint, parseLogPoint, type LogPoint } from '../audit/point.js';
import { auditStream, type AuditResult } from '../audit/run.js';
import { UsageError } from './oneshot.js';
import { renderSeatGrid, useColor } from './render.js';
import { checkKnownConcert } from './known-concert.js';
import { plural } from '../plural.js';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** The flags of the commands that read the stream directly (audit, tail). */
export interface ReaderFlags extends NatsFlags {
  nats: string;
  data: string;
}

/** `--nats <url>`, its credentials and `--data` for the commands that read the stream directly (audit, tail). */
export function natsOptions(): Option[] {
  return [
    new Option('--nats <url>', 'NATS server(s) holding the TICKETS stream, comma-separated').env('GUICHET_NATS').default(DEFAULT_NATS_URL),
    new Option('--data <dir>', "the embedded NATS's data directory, where the reader's key is found when no credentials are given")
      .env('GUICHET_DATA')
      .default(SERVER_DEFAULTS.data),
    ...natsCredentialOptions(),
  ];
}

/** Connects as the reader (or `role`): the credentials given, else the embedded default's under --data. */
export async function connectNats(flags: ReaderFlags, name: string, role: Role = 'reader'): Promise<NatsConnection> {
  const credentials = credentialsOrEmbedded(flags, flags.nats, flags.data, role);
  return connectWith(flags.nats, credentials, { name }).catch((err: Error) => {
    throw new Error(`cannot reach NATS at ${redactUrls(flags.nats)}: ${err.message}`);
  });
}

/** The store, if the stream is there; an error that says so otherwise. */
export async function openStream(nc: NatsConnection, givenUrl: string): Promise<EventStore> {
  const url = redactUrls(givenUrl);
  const store = await EventStore.open(nc);
  try {
    await store.jsm.streams.info(STREAM_NAME);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
      throw new Error(`NATS at ${url} has no stream ${STREAM_NAME} (no gateway has run against it yet?)`);
    }
    throw err;
  }
  return store;
}

export function concertArgument(value: string): string {
  if (!isValidConcertId(value)) throw new UsageError(`${JSON.stringify(value)} is not a concert id (letters, digits, '-' and '_')`);
  return value;
}

export interface AuditFlags extends ReaderFlags {
  concert?: string;
  until?: string;
  concerts?: string;
  json: boolean;
}

export function auditCommand(): Command {
  const command = new Command('audit')
    .description('replay the event log, check every booking rule, and report per concert (exit 1 when a check fails)')
    .option('--concert <id>', 'only this concert')
    .option('--until <point>', 'as of a stream sequence (1234), a time (2027-02-12T20:30:00Z, 2027-02-12) or a time ago (15m, 2h, 7d)')
    .addOption(new Option('--concerts <file>', 'JSON catalog, for the capacity of each concert (default: the demo catalog)').env('GUICHET_CONCERTS'))
    .option('--json', 'print the report as one JSON document', false)
    .action((flags: AuditFlags) => runAudit(flags));
  for (const option of natsOptions()) command.addOption(option);
  return command;
}

export async function runAudit(flags: AuditFlags): Promise<void> {
  const concert = flags.concert === undefined ? undefined : concertArgument(flags.concert);
  let until: LogPoint | undefined;
  if (flags.until !== undefined) {
    try {
      until = parseLogPoint(flags.until);
    } catch (err) {
      throw new UsageError(`--until: ${(err as Error).message}`);
    }
  }
  const catalog = await loadCatalog(flags.concerts);
  const capacities = new Map(catalog.map((c) => [c.id, c.capacity]));
  const nc = await connectNats(flags, 'guichet audit');
  try {
    const store = await openStream(nc, flags.nats);
    if (concert) await checkKnownConcert(store, concert, flags.concerts ? catalog : undefined);
    const progress = progressBar(process.stderr);
    const result = await auditStream(store, {
      ...(concert ? { concert } : {}),
      ...(until && until.kind !== 'new' ? { until } : {}),
      capacities,
      onProgress: progress.update,
    });
    progress.done();
    process.stdout.write(flags.json ? `${JSON.stringify(auditJson(result, until))}\n` : renderAudit(result, until, useColor(process.stdout)));
    if (!result.report.ok) process.exitCode = 1;
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/** The `--json` document. */
export function auditJson(result: AuditResult, until?: LogPoint) {
  const { report } = result;
  return {
    ok: report.ok,
    stream: result.stream,
    read: { messages: report.messages, firstSeq: report.firstSeq, lastSeq: report.lastSeq, ms: result.ms },
    asOf: { until: until ? describeLogPoint(until) : null, clock: report.clock },
    events: report.events,
    invalid: report.invalid,
    afterUntil: report.afterUntil,
    concerts: report.concerts,
    violationCount: report.violationCount,
    violationsByCode: report.violationsByCode,
    violations: report.violations,
  };
}

const n = (x: number) => x.toLocaleString('en-US');
const MAX_LISTED = 200;

export function renderAudit(result: AuditResult, until: LogPoint | undefined, color: boolean): string {
  const { report } = result;
  const lines: string[] = [];
  const rate = result.ms >= 100 ? `, ${n(Math.round((report.messages * 1000) / result.ms))}/s` : '';
  const span = report.firstSeq === null ? '' : ` (sequences ${n(report.firstSeq)}–${n(report.lastSeq ?? report.firstSeq)})`;
  lines.push(
    `Audit of ${result.stream.name}: ${n(report.messages)} messages read${span} in ${(result.ms / 1000).toFixed(1)} s${rate}; ` +
      `${n(report.events)} valid events, ${n(report.invalid)} not.`,
  );
  const asOf = !until ? `now (${report.clock})` : until.kind === 'seq' ? `sequence ${n(until.seq)} (clock ${report.clock})` : report.clock;
  lines.push(`Seat maps as of ${asOf}.${report.afterUntil > 0 ? ` ${n(report.afterUntil)} events decided later are not counted.` : ''}`);
  for (const c of report.concerts) lines.push('', ...renderConcert(c, color));
  lines.push('');
  if (report.ok) {
    lines.push('Invariants: all hold.');
  } else {
    const codes = Object.entries(report.violationsByCode)
      .map(([code, count]) => `${code} ${n(count)}`)
      .join(', ');
    lines.push(`Invariants: ${n(report.violationCount)} violation${report.violationCount === 1 ? '' : 's'} (${codes}):`);
    for (const v of report.violations.slice(0, MAX_LISTED)) {
      lines.push(`  seq ${v.seq}  ${v.type}  ${v.concert}  ${v.code}: ${v.message}`);
    }
    const more = report.violationCount - Math.min(MAX_LISTED, report.violations.length);
    if (more > 0) lines.push(`  … and ${n(more)} more (--json lists up to ${n(report.violations.length)}).`);
  }
  return `${lines.join('\n')}\n`;
}

function renderConcert(c: ConcertReport, color: boolean): string[] {
  const seqs = c.firstSeq === null ? 'no events' : `${plural(c.events, 'event', 'events', n)}, sequences ${n(c.firstSeq)}–${n(c.lastSeq ?? c.firstSeq)}`;
  const seats = `${n(c.capacity)} seat${c.capacity === 1 ? '' : 's'}`;
  const capacity = c.capacityKnown ? seats : `${seats} seen (not in the catalog)`;
  const r = c.releases;
  const released = r.declined + r.expired + r.disconnected;
  return [
    `${c.concert} — ${capacity}; ${seqs}`,
    `  holds ${n(c.holds)} · bookings ${n(c.bookings)} · cancellations ${n(c.cancellations)} · ` +
      `releases ${n(released)} (declined ${n(r.declined)}, expired ${n(r.expired)}, disconnected ${n(r.disconnected)}) · ` +
      `lapsed without release ${n(c.lapsed)}`,
    `  seats: ${n(c.seats.held)} held, ${n(c.seats.booked)} booked, ${n(c.seats.cancelled)} cancelled, ${n(c.seats.released)} released (a hold or booking is one or several seats)`,
    `  occupancy: ${n(c.occupancy.booked)} booked, ${n(c.occupancy.held)} held, ${n(c.occupancy.free)} free`,
    ...(c.capacity > 0 ? seatGrid(c.map, color) : []),
  ];
}

/** The CLI's seat grid, with a legend of the three states an audit shows. */
function seatGrid(map: string, color: boolean): string[] {
  const lines = renderSeatGrid(map, { color }).split('\n');
  lines.pop(); // the client's legend, which also has "H yours"
  return [...lines, '. free   h held   x booked'].map((line) => `  ${line}`);
}

/** A progress line on a terminal for long logs; nothing otherwise. */
function progressBar(stream: NodeJS.WriteStream): { update: (seq: number, untilSeq: number, read: number) => void; done: () => void } {
  const LONG_LOG = 50_000;
  const started = performance.now();
  let shown = false;
  let lastDraw = 0;
  return {
    update: (seq, untilSeq, read) => {
      if (!stream.isTTY || untilSeq < LONG_LOG) return;
      const now = performance.now();
      if (now - lastDraw < 100 && seq < untilSeq) return;
      lastDraw = now;
      shown = true;
      const share = Math.min(1, seq / untilSeq);
      const width = 30;
      const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
      const rate = Math.round((read * 1000) / Math.max(1, now - started));
      stream.write(`\r[${bar}] ${(share * 100).toFixed(0).padStart(3)}%  sequence ${n(seq)} of ${n(untilSeq)}, ${n(rate)} events/s `);
    },
    done: () => {
      if (shown) stream.write('\r\x1b[2K');
    },
  };
}
