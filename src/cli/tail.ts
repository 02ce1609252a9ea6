/**
 * `guichet tail`: follows the TICKETS stream live and prints one line per event (or its JSON),
 * for operators and as the simplest subscriber there is.
 */
import { Command } from 'commander';
import { decodeEvent, EVENT_TYPES, type EventType, type StoredEvent } from '../events/envelope.js';
import type { EventStore } from '../events/store.js';
import { parseLogPoint, type LogPoint } from '../audit/point.js';
import { readLog, type LogReading } from '../audit/reader.js';
import { concertArgument, connectNats, natsOptions, openStream, type ReaderFlags } from './audit.js';
import { UsageError } from './oneshot.js';
import { checkKnownConcert } from './known-concert.js';

export interface TailFlags extends ReaderFlags {
  concert?: string;
  type?: string;
  from: string;
  json: boolean;
}

export function tailCommand(): Command {
  const command = new Command('tail')
    .description('follow the events live, one line each (Ctrl-C to stop)')
    .option('--concert <id>', 'only this concert')
    .option('--type <types>', `only these event types, comma-separated (${EVENT_TYPES.join(', ')})`)
    .option('--from <point>', 'start at a stream sequence (1234), a time (2027-02-12T20:30:00Z), a time ago (15m) or new', 'new')
    .option('--json', 'print each event as JSON: its stream sequence and envelope', false)
    .action((flags: TailFlags) => runTail(flags));
  for (const option of natsOptions()) command.addOption(option);
  return command;
}

export interface TailOptions {
  concert?: string;
  types?: ReadonlySet<EventType>;
  from: LogPoint;
  json: boolean;
  /** Each event's line, without the newline. */
  write: (line: string) => void;
  /** A message that is not a valid event. */
  warn: (line: string) => void;
}

/** Starts following; the lines go to `write` until `stop()`. */
export function startTail(store: EventStore, options: TailOptions): Promise<LogReading> {
  return readLog(store, {
    ...(options.concert ? { concert: options.concert } : {}),
    from: options.from,
    onMessage: (message) => {
      let event: StoredEvent;
      try {
        event = { ...decodeEvent(message.data), seq: message.seq };
      } catch (err) {
        options.warn(`#${message.seq} on ${message.subject} is not a valid event: ${(err as Error).message}`);
        return;
      }
      if (options.types && !options.types.has(event.type)) return;
      options.write(options.json ? JSON.stringify(event) : describeStoredEvent(event));
    },
  });
}

export function parseTypes(list: string): Set<EventType> {
  const types = new Set<EventType>();
  for (const name of list.split(',').map((t) => t.trim()).filter(Boolean)) {
    const type = EVENT_TYPES.find((t) => t.toLowerCase() === name.toLowerCase());
    if (!type) throw new UsageError(`--type: ${JSON.stringify(name)} is not an event type (${EVENT_TYPES.join(', ')})`);
    types.add(type);
  }
  if (types.size === 0) throw new UsageError(`--type: name at least one of ${EVENT_TYPES.join(', ')}`);
  return types;
}

/** One line for an event: `#seq at concert Type what-happened [source]`. */
export function describeStoredEvent(e: StoredEvent): string {
  const head = `#${e.seq} ${e.at} ${e.concert} ${e.type}`;
  let what: string;
  switch (e.type) {
    case 'SeatHeld':
      what = `seat ${e.data.seat} held until ${e.data.expiresAt} (hold ${e.data.hold}, connection ${e.data.holder})`;
      break;
    case 'SeatBooked':
      what = `seat ${e.data.seat} booked for ${e.data.firstName} ${e.data.lastName}, reference ${e.data.reference} (hold ${e.data.hold})`;
      break;
    case 'BookingCancelled':
      what = `seat ${e.data.seat} freed: booking ${e.data.reference} cancelled`;
      break;
    case 'SeatReleased':
      what = `seat ${e.data.seat} released (${e.data.reason}) (hold ${e.data.hold})`;
      break;
  }
  return `${head} ${what} [${e.source}]`;
}

export async function runTail(flags: TailFlags): Promise<void> {
  const concert = flags.concert === undefined ? undefined : concertArgument(flags.concert);
  const types = flags.type === undefined ? undefined : parseTypes(flags.type);
  let from: LogPoint;
  try {
    from = parseLogPoint(flags.from, { allowNew: true });
  } catch (err) {
    throw new UsageError(`--from: ${(err as Error).message}`);
  }
  const nc = await connectNats(flags, 'guichet tail');
  try {
    const store = await openStream(nc, flags.nats);
    if (concert) await checkKnownConcert(store, concert);
    const reading = await startTail(store, {
      ...(concert ? { concert } : {}),
      ...(types ? { types } : {}),
      from,
      json: flags.json,
      write: (line) => process.stdout.write(`${line}\n`),
      warn: (line) => process.stderr.write(`${line}\n`),
    });
    const stop = () => void reading.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // A closed stdout (`guichet tail | head`) ends the tail quietly.
    process.stdout.once('error', stop);
    void nc.closed().then(stop);
    // Said on stderr (stdout is the events'), so that an empty screen is not a mystery; once Ctrl-C is handled.
    const what = `${types ? [...types].join(', ') : 'events'} of ${concert ? `concert ${concert}` : 'every concert'}`;
    process.stderr.write(`Following the ${what} ${from.kind === 'new' ? 'from now' : `from ${flags.from}`}; Ctrl-C to stop.\n`);
    await reading.done;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  } finally {
    await nc.close().catch(() => undefined);
  }
}
