/**
 * A sales counter per concert, kept by another service than guichet: an example subscriber
 * written from docs/events.md alone, with nothing but the NATS client.
 *
 *   node counter.js [--nats nats://127.0.0.1:4222] [--durable sales-counter]
 *                   [--state ./sales-counter.json] [--once]
 *                   [--creds file | --nkey seed-file | --user u --password p | --token t]
 *                   [--tls-ca file] [--tls-cert file --tls-key file]
 *
 * It signs in as a reader (docs/events.md, "Authentication"): user info in the URL
 * (nats://user:password@host:port, nats://token@host:port) works too; the NATS client drops
 * it, so it is read here.
 *
 * It reads the TICKETS stream through a durable pull consumer, so it resumes where it
 * stopped; it keeps its counts and the last stream sequence it counted in a state file, saved
 * before it acknowledges, so a message delivered twice (at least once delivery) is counted
 * once. With --once it counts what the stream has now, prints the counts as JSON and exits;
 * otherwise it prints a line per sale or cancellation until interrupted.
 *
 * It counts seats and bookings: a booking of several seats is one SeatBooked per seat, all
 * with the same reference, stored as one batch (consecutive stream sequences); so a
 * SeatBooked right after one of the same reference is another seat of the same booking.
 *
 * Run one instance per durable consumer: it relies on a single reader seeing first
 * deliveries in stream order.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { connect, credsAuthenticator, nkeyAuthenticator, type NodeConnectionOptions } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, JetStreamApiError, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';

const STREAM = 'TICKETS';
const ALL_CONCERTS = 'tickets.events.*';

interface Counts {
  /** Seats booked: SeatBooked events. */
  booked: number;
  /** Seats freed by a cancellation: BookingCancelled events. */
  cancelled: number;
  /** Seats sold now: booked - cancelled. */
  sold: number;
  /** Bookings made (one reference each, one or several seats). */
  bookings: number;
  /** Bookings cancelled. */
  cancellations: number;
}

interface State {
  /** Stream sequence of the last event counted. */
  lastSeq: number;
  /** The last event counted, when it was a seat of a booking or of a cancellation: the next may be another seat of it. */
  last?: { type: string; reference: string };
  concerts: Record<string, Counts>;
}

const { values } = parseArgs({
  options: {
    nats: { type: 'string', default: process.env['GUICHET_NATS'] ?? 'nats://127.0.0.1:4222' },
    durable: { type: 'string', default: 'sales-counter' },
    state: { type: 'string', default: './sales-counter.json' },
    once: { type: 'boolean', default: false },
    creds: { type: 'string' },
    nkey: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    token: { type: 'string' },
    'tls-ca': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
  },
});

/** The connection options: servers without user info, and the credentials given or found in a URL. */
async function connectionOptions(): Promise<NodeConnectionOptions> {
  const options: NodeConnectionOptions = { name: `sales-counter ${values.durable}`, servers: [] };
  for (const raw of values.nats.split(',')) {
    const url = new URL(raw.trim());
    if (url.username && options.user === undefined && options.token === undefined) {
      if (url.password) [options.user, options.pass] = [decodeURIComponent(url.username), decodeURIComponent(url.password)];
      else options.token = decodeURIComponent(url.username);
    }
    (options.servers as string[]).push(`${url.protocol}//${url.host}`);
  }
  if (values.user) [options.user, options.pass] = [values.user, values.password];
  if (values.token) options.token = values.token;
  if (values.creds) options.authenticator = credsAuthenticator(await readFile(values.creds));
  if (values.nkey) options.authenticator = nkeyAuthenticator(new TextEncoder().encode((await readFile(values.nkey, 'utf8')).trim()));
  if (values['tls-ca'] || values['tls-cert']) {
    options.tls = { caFile: values['tls-ca'], certFile: values['tls-cert'], keyFile: values['tls-key'] };
  }
  return options;
}

async function loadState(path: string): Promise<State> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as State;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lastSeq: 0, concerts: {} };
    throw err;
  }
}

/** Written whole, then renamed over the old one: a crash leaves the old state or the new. */
async function saveState(path: string, state: State): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(state));
  await rename(`${path}.tmp`, path);
}

/** A message this counter cannot understand: stop, without acknowledging it. */
class UnknownEvent extends Error {}

/** Applies one event to the counts (docs/events.md: envelope fields, types, `v`). */
function count(state: State, msg: JsMsg): string | undefined {
  let event: { v?: unknown; type?: unknown; concert?: unknown; data?: { reference?: unknown } };
  try {
    event = msg.json();
  } catch {
    process.stderr.write(`sequence ${msg.seq}: not JSON, skipped (guichet audit reports such messages)\n`);
    return undefined;
  }
  // A reader must refuse a version it does not know rather than guess what it means.
  if (event?.v !== 1) throw new UnknownEvent(`sequence ${msg.seq}: event version ${JSON.stringify(event?.v)}; this counter knows version 1`);
  if (typeof event.concert !== 'string') throw new UnknownEvent(`sequence ${msg.seq}: no concert`);
  const c = (state.concerts[event.concert] ??= { booked: 0, cancelled: 0, sold: 0, bookings: 0, cancellations: 0 });
  c.bookings ??= 0; // a state file saved by an older counter
  c.cancellations ??= 0;
  const previous = msg.seq === state.lastSeq + 1 ? state.last : undefined;
  const reference = typeof event.data?.reference === 'string' ? event.data.reference : '';
  // Another seat of the batch just counted: the same booking (or cancellation).
  const sameBatch = previous !== undefined && previous.type === event.type && previous.reference === reference;
  state.last = event.type === 'SeatBooked' || event.type === 'BookingCancelled' ? { type: event.type, reference } : undefined;
  switch (event.type) {
    case 'SeatBooked':
      c.booked++;
      c.sold++;
      if (!sameBatch) c.bookings++;
      return `${event.concert}: ${c.sold} sold (+1)`;
    case 'BookingCancelled':
      c.cancelled++;
      c.sold--;
      if (!sameBatch) c.cancellations++;
      return `${event.concert}: ${c.sold} sold (-1)`;
    case 'SeatHeld':
    case 'SeatReleased':
      return undefined;
    default:
      throw new UnknownEvent(`sequence ${msg.seq}: unknown event type ${JSON.stringify(event.type)}`);
  }
}

const nc = await connect(await connectionOptions());
try {
  const jsm = await jetstreamManager(nc);
  // The durable consumer: created once, then found again on every start.
  try {
    await jsm.consumers.info(STREAM, values.durable);
  } catch (err) {
    if (!(err instanceof JetStreamApiError)) throw err;
    await jsm.consumers.add(STREAM, {
      durable_name: values.durable,
      // A string: nats-server 2.9 takes one filter subject.
      filter_subject: ALL_CONCERTS,
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.Explicit,
      ack_wait: 30_000_000_000,
      max_ack_pending: 1_000,
    });
  }
  const state = await loadState(values.state);
  const consumer = await jetstream(nc).consumers.get(STREAM, values.durable);
  const info = await consumer.info();
  if (values.once && info.num_pending === 0 && info.num_ack_pending === 0) {
    process.stdout.write(`${JSON.stringify(state)}\n`);
  } else {
    const messages = await consumer.consume({ max_messages: 500 });
    const stop = () => void messages.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let unacked: JsMsg[] = [];
    const flush = async () => {
      await saveState(values.state, state);
      for (const m of unacked) m.ack();
      unacked = [];
    };
    for await (const msg of messages) {
      // Delivered again after a crash or a slow ack: already counted (and saved).
      if (msg.seq > state.lastSeq) {
        let line: string | undefined;
        try {
          line = count(state, msg);
        } catch (err) {
          // Keep what was counted before it; the unknown one stays unacknowledged for a newer counter.
          await flush();
          throw err;
        }
        state.lastSeq = msg.seq;
        if (line && !values.once) process.stdout.write(`${line}\n`);
      }
      unacked.push(msg);
      if (unacked.length >= 200 || msg.info.pending === 0) await flush();
      if (values.once && msg.info.pending === 0) break;
    }
    await flush();
    if (values.once) process.stdout.write(`${JSON.stringify(state)}\n`);
  }
} catch (err) {
  process.stderr.write(`sales-counter: ${(err as Error).message}\n`);
  process.exitCode = err instanceof UnknownEvent ? 2 : 1;
} finally {
  await nc.drain().catch(() => nc.close());
}
