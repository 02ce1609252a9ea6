/**
 * The JetStream event store: ensure the stream, append with optimistic concurrency, replay
 * and follow. It knows events and subjects, nothing of sockets or seats.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { TimeoutError, headers } from '@nats-io/transport-node';
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type MsgRequest,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { decodeEvent, decodeStoredEvent, encodeEvent, type EventEnvelope, type StoredEvent } from './envelope.js';
import { ALL_EVENTS, STREAM_NAME, subjectFor } from './subjects.js';
import { BATCH_INCOMPLETE, PublishRefused, DUPLICATE_IN_BATCH, WRONG_LAST_SEQUENCE, publishAtomicBatch, publishOne } from './publish.js';
import { ReplyInbox } from './reply-inbox.js';

export { PublishRefused } from './publish.js';

/** The expected-sequence check failed: someone else appended to the subject first. */
export class AppendConflict extends Error {
  override readonly name = 'AppendConflict';

  constructor(
    message: string,
    /** The subject's last sequence, when the server said it ("wrong last sequence: 41"). */
    readonly lastSeq: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The stream exists with settings the log cannot rely on; an operator must fix it. */
export class StreamSettingsError extends Error {
  override readonly name = 'StreamSettingsError';
}

/** The NATS server is older than guichet needs; an operator must upgrade it. */
export class UnsupportedServerError extends Error {
  override readonly name = 'UnsupportedServerError';
}

export interface StreamOptions {
  /** Stream replicas (R1 on one server, R3 on a cluster). */
  replicas?: number;
  /** Updates the stream's configuration with admin rights (absent: the gateway has none). */
  update?: (config: StreamConfig) => Promise<void>;
  /** Told when the stream was updated in place. */
  onUpdated?: (message: string) => void;
}

/** The configuration `TICKETS` is created with. */
export function ticketsStreamConfig(replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name: STREAM_NAME,
    subjects: [ALL_EVENTS],
    storage: StorageType.File,
    num_replicas: replicas,
    deny_delete: true,
    deny_purge: true,
    duplicate_window: TWO_MINUTES_NS,
    allow_direct: true,
    allow_atomic: true,
  };
}

/**
 * What, in a `TICKETS` stream's settings, could drop, expire or rewrite events (empty: none).
 * A limit (messages, bytes, age, messages per subject) drops the oldest events once reached,
 * whatever the discard policy says about new ones; rollup headers purge a subject; message
 * TTLs expire events.
 */
export function streamProblems(c: StreamConfig): string[] {
  const problems: string[] = [];
  if (!c.subjects?.includes(ALL_EVENTS)) problems.push(`subjects ${JSON.stringify(c.subjects)}, not ${ALL_EVENTS}`);
  if (c.storage !== StorageType.File) problems.push(`storage ${c.storage}, not file`);
  if (!c.deny_delete) problems.push('deny_delete off (messages can be deleted)');
  if (!c.deny_purge) problems.push('deny_purge off (the stream can be purged)');
  if ((c.duplicate_window ?? 0) < TWO_MINUTES_NS) problems.push('duplicate_window under 2 minutes');
  const limits: [string, number | undefined][] = [
    ['max_msgs', c.max_msgs],
    ['max_bytes', c.max_bytes],
    ['max_age', c.max_age],
    ['max_msgs_per_subject', c.max_msgs_per_subject],
  ];
  for (const [name, value] of limits) {
    if ((value ?? 0) > 0) problems.push(`${name} ${value} (older events are dropped past it)`);
  }
  if (c.discard_new_per_subject) problems.push('discard_new_per_subject on');
  if (c.allow_rollup_hdrs) problems.push('allow_rollup_hdrs on (a message can purge its subject)');
  if (c.allow_msg_ttl) problems.push('allow_msg_ttl on (messages can expire)');
  if (c.sealed) problems.push('sealed (no event can be appended)');
  if (c.mirror) problems.push('it is a mirror');
  return problems;
}

/** The oldest nats-server guichet runs on: 2.12 brought atomic batch publish (ADR-50). */
export const MIN_NATS_SERVER = '2.12.0';
/** nats-server's limit on the messages of one atomic batch (`jetstream { limits { batch { max_msgs } } }`). */
export const MAX_BATCH_EVENTS = 1_000;
/**
 * Batches this store has in flight at once. nats-server allows 50 per stream by default
 * (`max_inflight_per_stream`) and drops the first message of one more, refusing its commit as
 * "incomplete": staying under the limit here avoids that for one gateway, and the refusal is
 * retried for the case of several gateways.
 */
const MAX_BATCHES_IN_FLIGHT = 40;

export interface AppendOptions {
  /** Stream sequence of the last event on this concert's subject the writer has seen (0: none). */
  expectedLastSeq: number;
  /** How long to wait for each acknowledgement (ms). */
  timeoutMs?: number;
  /** Attempts when the outcome is unknown (timeout, reconnect); the msg id makes them safe. */
  attempts?: number;
}

export interface StreamPosition {
  /** Last sequence in the stream (0 when empty). */
  lastSeq: number;
  messages: number;
}

export interface FollowOptions {
  /** First stream sequence to deliver (default 1: the whole log). */
  fromSeq?: number;
  /** Only this concert's events. */
  concert?: string;
  /** Called with each event that decodes; its stream sequence is in `seq`. */
  onEvent: (event: StoredEvent) => void;
  /** Called for a message in the stream that is not a valid event (the audit reports these). */
  onInvalid?: (seq: number, error: Error) => void;
  /** Called after each message with its sequence and how many the consumer still has to deliver. */
  onPosition?: (seq: number, pending: number) => void;
  /**
   * A message its reader already has (by subject and stream sequence): not decoded, nor given
   * to `onEvent` (a gateway hears its own appends back from the stream; decoding them only to
   * drop them was a good part of its CPU per booking). Its position is still told.
   */
  skip?: (subject: string, seq: number) => boolean;
}

export interface Following {
  /** Stops following; resolves once the consumer has stopped. */
  stop(): Promise<void>;
  /** Resolves when the consumer ends (stopped, or failed for good). */
  closed: Promise<void>;
}

const TWO_MINUTES_NS = 2 * 60 * 1_000_000_000;
/** Ack timeout of the first append retried after a lost connection (see settleAfterReconnect). */
const RETRY_AFTER_RECONNECT_TIMEOUT_MS = 500;
/** How long a retry waits for the client to reconnect before it tries anyway (the publish is buffered). */
const RECONNECT_WAIT_MS = 1_000;
/** Events one catch-up request reads at most. */
const CATCH_UP_BATCH = 500;
/** Per-request timeout of catch-up reads, which are retried until their own deadline. */
const CATCH_UP_READ_TIMEOUT_MS = 1_000;
/** Time given to a new subscription's interest to reach the other nodes over the routes. */
const INTEREST_SETTLE_MS = 50;

/** A direct get of a sequence that is not there answers "no message found": read it as null. */
function notFoundAsNull(err: unknown): null {
  if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return null;
  throw err;
}

/** A batched direct get past the last message ends with "message not found" (404). */
function isNotFound(err: unknown): boolean {
  return err instanceof Error && (/message not found|no message found/i.test(err.message) || (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound));
}

/** The connection to NATS was lost while a request waited for its answer. */
class ConnectionLost extends Error {
  override readonly name = 'ConnectionLost';
}

export class EventStore {
  /** False from a lost connection until the client has reconnected. */
  private connected = true;
  /** Called when the connection to the current NATS server is lost: appends and catch-up reads waiting on it. */
  private readonly onConnectionLost = new Set<() => void>();

  /** Appends in flight from this store (every concert's): the crowd the batch policy looks at. */
  private inFlight = 0;
  /** Batches in flight from this store, under MAX_BATCHES_IN_FLIGHT. */
  private readonly batchSlots = new Slots(MAX_BATCHES_IN_FLIGHT);
  /** Where the appends' acknowledgements come back. */
  private readonly replies: ReplyInbox;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    /** The same API with a short timeout, for catch-up reads that are retried (idempotent). */
    private readonly reader: JetStreamManager,
  ) {
    this.replies = new ReplyInbox(nc);
    void this.watchConnection();
  }

  static async open(nc: NatsConnection): Promise<EventStore> {
    const jsm = await jetstreamManager(nc);
    const reader = await jetstreamManager(nc, { timeout: CATCH_UP_READ_TIMEOUT_MS, checkAPI: false });
    return new EventStore(nc, jetstream(nc), jsm, reader);
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        for (const notify of [...this.onConnectionLost]) notify();
      } else if (status.type === 'reconnect') {
        this.connected = true;
      }
    }
  }

  /**
   * Creates the `TICKETS` stream, or checks that the existing one has the settings the log
   * needs. An existing stream without `allow_atomic` is updated in place only through
   * `options.update`, a connection with admin rights: the gateway role may not update streams.
   */
  async ensureStream(options: StreamOptions = {}): Promise<void> {
    const wanted = ticketsStreamConfig(options.replicas ?? 1);
    this.checkServerVersion();
    const info = await this.streamInfo(STREAM_NAME);
    if (!info) {
      await this.jsm.streams.add(wanted);
      return;
    }
    const problems = streamProblems(info.config);
    if (problems.length > 0) {
      throw new StreamSettingsError(
        `stream ${STREAM_NAME} exists with settings under which the log could lose or change events: ${problems.join('; ')}. ` +
          'Refusing to start on it: an administrator must fix the stream (docs/operations.md, "Security")',
      );
    }
    if (!info.config.allow_atomic) {
      if (!options.update) {
        throw new StreamSettingsError(
          `stream ${STREAM_NAME} has no allow_atomic (it was made by an older guichet), and updating a stream needs admin rights, ` +
            'which a gateway does not have: run once `guichet upgrade-stream --nats <url>` with the admin credentials ' +
            '(e.g. --nats-nkey data/secrets/admin.nk), then start the gateway again',
        );
      }
      // A stream created before atomic batches: turning them on changes nothing stored.
      await options.update({ ...info.config, allow_atomic: true });
      options.onUpdated?.(`stream ${STREAM_NAME} updated in place: allow_atomic on (atomic batches of several events)`);
    }
  }

  /** Refuses a server older than MIN_NATS_SERVER, by the version it announced on connecting. */
  private checkServerVersion(): void {
    const version = this.nc.info?.version;
    if (version && compareVersions(version, MIN_NATS_SERVER) < 0) {
      throw new UnsupportedServerError(
        `nats-server ${version} is too old: guichet needs ${MIN_NATS_SERVER.replace(/\.0$/, '')} or later (atomic batch publish); run scripts/install-nats-server.sh or upgrade the server`,
      );
    }
  }

  /** A stream's info, or undefined when there is no such stream. */
  async streamInfo(name: string): Promise<StreamInfo | undefined> {
    try {
      return await this.jsm.streams.info(name);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
      throw err;
    }
  }

  /** The sequence of a concert's first event after `afterSeq`, or 0 when it has none. */
  async nextSeqOf(concert: string, afterSeq: number): Promise<number> {
    const msg = await this.jsm.direct.getMessage(STREAM_NAME, { seq: afterSeq + 1, next_by_subj: subjectFor(concert) }).catch(notFoundAsNull);
    return msg?.seq ?? 0;
  }

  /** The id of the event at `seq` when it is one of this concert's events, else undefined. */
  async eventIdAt(concert: string, seq: number): Promise<string | undefined> {
    // From the stream leader, not a direct get: a replica still catching up could miss it.
    const msg = await this.jsm.streams.getMessage(STREAM_NAME, { seq }).catch(notFoundAsNull);
    if (!msg || msg.subject !== subjectFor(concert)) return undefined;
    try {
      return decodeEvent(msg.data).id;
    } catch {
      return undefined;
    }
  }

  /** A concert's first event after `afterSeq` (its sequence and id), read from the stream leader. */
  private async nextEventOf(concert: string, afterSeq: number): Promise<{ seq: number; id: string } | undefined> {
    // The API takes `next_by_subj` (the client's type lists only `seq` and `last_by_subj`).
    const request = { seq: afterSeq + 1, next_by_subj: subjectFor(concert) } as unknown as MsgRequest;
    const msg = await this.jsm.streams.getMessage(STREAM_NAME, request).catch(notFoundAsNull);
    if (!msg) return undefined;
    try {
      return { seq: msg.seq, id: decodeEvent(msg.data).id };
    } catch {
      return undefined;
    }
  }

  async position(): Promise<StreamPosition> {
    const info = await this.jsm.streams.info(STREAM_NAME);
    return { lastSeq: info.state.last_seq, messages: info.state.messages };
  }

  /** Stream sequence of the last event of a concert, 0 when it has none. */
  async lastSeqOf(concert: string, jsm: JetStreamManager = this.jsm): Promise<number> {
    try {
      const msg = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subjectFor(concert) });
      return msg?.seq ?? 0;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return 0;
      throw err;
    }
  }

  /**
   * Appends one event if the concert's subject is still at `expectedLastSeq`.
   * Returns the event's stream sequence. Throws AppendConflict when another writer got
   * there first. A lost acknowledgement is retried with the same `Nats-Msg-Id`, so the
   * event is stored at most once; JetStream answers a retry of a stored event as a duplicate
   * with the original sequence.
   */
  async append(event: EventEnvelope, options: AppendOptions): Promise<number> {
    const subject = subjectFor(event.concert);
    const payload = encodeEvent(event);
    const message = { id: event.id, payload };
    return this.withRetries(event.concert, options, (timeout) => publishOne(this.replies, subject, message, options.expectedLastSeq, timeout));
  }

  /**
   * Appends the events of one or more decisions on one concert as ONE atomic batch (nats-server
   * 2.12+, ADR-50): all are stored, with consecutive sequences, or none. The first message
   * carries the expected last sequence of the concert's subject, every message its event id
   * as `Nats-Msg-Id`. Resolves with the sequence of the last event. One event is a plain
   * publish (a batch costs a few ms more, see DESIGN.md).
   *
   * A batch whose acknowledgement was lost is sent again with the same ids. JetStream refuses a
   * batch that holds an id it has stored ("atomic publish batch contains duplicate message
   * id", 10201) instead of answering with the first sequence, as it does for a single message.
   * A stored batch is the concert's next events after the expected sequence, and a batch's
   * sequences are consecutive: so a batch refused so (or a retry refused as a conflict) reads
   * the concert's first event after the expected sequence; if it is ours, the batch was stored
   * and its last sequence follows.
   */
  async appendBatch(events: readonly EventEnvelope[], options: AppendOptions): Promise<number> {
    this.inFlight++;
    try {
      return await this.appendNow(events, options);
    } finally {
      this.inFlight--;
    }
  }

  /** Appends (plain or batch) this store has sent and not yet seen answered. */
  get appendsInFlight(): number {
    return this.inFlight;
  }

  private async appendNow(events: readonly EventEnvelope[], options: AppendOptions): Promise<number> {
    const [first] = events;
    if (!first) throw new Error('an empty batch has nothing to append');
    if (events.length === 1) return this.append(first, options);
    if (events.length > MAX_BATCH_EVENTS) throw new Error(`a batch holds at most ${MAX_BATCH_EVENTS} events (${events.length} given)`);
    const concert = first.concert;
    if (events.some((e) => e.concert !== concert)) throw new Error('the events of one batch are of one concert');
    const subject = subjectFor(concert);
    const messages = events.map((e) => ({ id: e.id, payload: encodeEvent(e) }));
    let sent = 0;
    await this.batchSlots.take();
    try {
      return await this.withRetries(concert, options, async (timeout) => {
        const retry = sent++ > 0;
        try {
          return await publishAtomicBatch(this.replies, subject, messages, options.expectedLastSeq, timeout);
        } catch (err) {
          // Its ids are in the log already, or a retry after a lost ack met a conflict (its own
          // batch, stored the first time): the batch may be in the log (see above).
          const maybeStored = (err instanceof PublishRefused && err.errCode === DUPLICATE_IN_BATCH) || (retry && isWrongLastSequence(err));
          if (maybeStored) {
            const next = await this.nextEventOf(concert, options.expectedLastSeq);
            if (next?.id === first.id) return next.seq + events.length - 1;
          }
          throw err;
        }
      });
    } finally {
      this.batchSlots.give();
    }
  }

  /**
   * Runs `attempt` until it answers, with the same ids each time (the msg ids make every retry
   * safe: the stream stores each event at most once). A conflict ends it at once; a lost
   * connection retries on the new one rather than wait out the timeout; a batch dropped for
   * the server's in-flight limit is retried after a pause.
   */
  private async withRetries(concert: string, options: AppendOptions, attempt: (timeoutMs: number) => Promise<number>): Promise<number> {
    const attempts = Math.max(1, options.attempts ?? 3);
    const timeout = options.timeoutMs ?? 2_000;
    const busyUntil = Date.now() + timeout;
    let lastError: unknown;
    let connectionLost = false;
    for (let tried = 1; tried <= attempts; tried++) {
      try {
        if (connectionLost) await this.settleAfterReconnect();
        // Right after a reconnect to another cluster node the ack can be lost (see
        // settleAfterReconnect): ask again soon rather than wait the whole timeout.
        const publishing = attempt(connectionLost ? Math.min(timeout, RETRY_AFTER_RECONNECT_TIMEOUT_MS) : timeout);
        // The acknowledgement of a publish sent to a server that just went away never comes:
        // retry on the new connection instead of waiting out the timeout.
        publishing.catch(() => undefined);
        let notify!: () => void;
        const lost = new Promise<never>((_, reject) => {
          notify = () => reject(new ConnectionLost('connection to NATS lost during the append'));
        });
        this.onConnectionLost.add(notify);
        try {
          return await Promise.race([publishing, lost]);
        } finally {
          // Nothing of this append outlives it (a pending promise per append would leak).
          this.onConnectionLost.delete(notify);
          lost.catch(() => undefined);
        }
      } catch (err) {
        if (err instanceof AppendConflict) throw err;
        if (isWrongLastSequence(err)) {
          const said = /wrong last sequence: (\d+)/i.exec((err as Error).message)?.[1];
          throw new AppendConflict(`concert ${concert} moved past ${options.expectedLastSeq}`, said ? Number(said) : undefined, { cause: err });
        }
        if (err instanceof PublishRefused) {
          // Dropped for the in-flight limit (other gateways' batches): not stored, try again soon.
          if (err.errCode !== BATCH_INCOMPLETE || Date.now() > busyUntil) throw err;
          await new Promise((r) => setTimeout(r, 2 + Math.random() * 10));
          tried--;
        }
        if (err instanceof ConnectionLost) connectionLost = true;
        lastError = err;
      }
    }
    throw lastError;
  }

  /**
   * After the connection moved to another node of a cluster, the client re-subscribes its
   * reply inbox there, and that interest takes a moment to reach, over the routes, the node
   * that answers (the stream leader, a replica): a request sent at once can have its reply
   * dropped. Measured on a 3-node loopback cluster: the append retried at once after its
   * node was killed timed out (2 s) in 2 runs of 3. Wait for the connection to be back, then
   * a little for the interest to spread.
   */
  private async settleAfterReconnect(): Promise<void> {
    const deadline = Date.now() + RECONNECT_WAIT_MS;
    while (this.nc.isClosed() === false && !this.connected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, INTEREST_SETTLE_MS));
  }

  async appendRaw(subject: string, payload: Uint8Array, msgId?: string): Promise<number> {
    const h = headers();
    if (msgId) h.set('Nats-Msg-Id', msgId);
    const ack = await this.js.publish(subject, payload, { headers: h });
    return ack.seq;
  }

  /**
   * Delivers events in stream order from `fromSeq` on, then keeps following live, through an
   * ordered consumer (ephemeral, recreated by the client after a reconnect or a gap).
   */
  async follow(options: FollowOptions): Promise<Following> {
    const fromSeq = options.fromSeq ?? 1;
    const consumer = await this.js.consumers.get(STREAM_NAME, {
      // A string, not an array: nats-server 2.9 takes one filter subject.
      filter_subjects: options.concert ? subjectFor(options.concert) : ALL_EVENTS,
      ...(fromSeq > 1
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq }
        : { deliver_policy: DeliverPolicy.All }),
    });
    // A short pull expiry makes the client notice a consumer lost with its node within a
    // second or two (heartbeats are expected every half expiry) and recreate it, instead of
    // 30 s. It is also how long the client waits before it asks again when its check of the
    // consumer after a reconnect fails (a restarted nats-server's JetStream is not ready at
    // once): with 5 s, a gateway was still serving a state 2-10 s old after nats-server was
    // killed and restarted under load (faults: groups, LOOKUP NOT_FOUND for told bookings).
    const messages = await consumer.consume({ max_messages: 1_000, expires: 1_000 });
    const closed = (async () => {
      for await (const msg of messages) deliver(msg, options);
    })();
    return {
      closed,
      stop: async () => {
        await messages.close();
        await closed.catch(() => undefined);
      },
    };
  }

  /**
   * Reads a concert's events after `afterSeq` up to its last one now: the catch-up after a
   * conflict. It uses direct gets (`next_by_subj`), which any replica answers, rather than a
   * consumer: a consumer placed on a node that just died stalls until its heartbeats are
   * missed, tens of seconds; a direct get fails fast or goes elsewhere.
   */
  async readConcert(concert: string, afterSeq: number, options: { untilSeq?: number; timeoutMs?: number } = {}): Promise<StoredEvent[]> {
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    const target = options.untilSeq ?? (await this.lastSeqWithin(concert, deadline));
    const subject = subjectFor(concert);
    const events: StoredEvent[] = [];
    let seq = afterSeq;
    while (seq < target) {
      // Many at a time (a batched direct get): after a conflict with a busy gateway there can
      // be hundreds to read, and one request each kept the actor away from its mailbox.
      let got = 0;
      try {
        const batch = await this.reader.direct.getBatch(STREAM_NAME, { seq: seq + 1, next_by_subj: subject, batch: Math.min(CATCH_UP_BATCH, target - seq) });
        // The client waits 5 s for a batched get's reply whatever the manager's timeout
        // (@nats-io/jetstream 3.4, jsm_direct.js): a read sent on a connection that was then
        // lost took the whole catch-up deadline, and its commands were answered UNAVAILABLE (a
        // follower node killed: 5 s without a booking). So each reply is waited for
        // CATCH_UP_READ_TIMEOUT_MS at most, and a lost connection ends the wait at once. (The
        // client's subscription for a reply that never comes ends with its own 5 s.)
        const idle = setTimeout(() => batch.stop(new TimeoutError()), CATCH_UP_READ_TIMEOUT_MS);
        const lost = () => batch.stop(new ConnectionLost('connection to NATS lost during a catch-up read'));
        this.onConnectionLost.add(lost);
        try {
          for await (const msg of batch) {
            idle.refresh();
            if (msg.seq <= seq || msg.seq > target) continue;
            seq = msg.seq;
            got++;
            try {
              events.push(decodeStoredEvent(msg.data, seq));
            } catch {
              // Not a valid event: the fold skips it, as the follower does; `guichet audit` reports it.
            }
          }
        } finally {
          clearTimeout(idle);
          this.onConnectionLost.delete(lost);
        }
      } catch (err) {
        // "Not found" (a replica that has not caught up yet), a timeout (the reply of a read
        // sent just after a reconnect can be lost, see settleAfterReconnect) and a lost
        // connection (asked again on the new one) are asked again; other failures throw, and
        // the commands are answered UNAVAILABLE.
        if (err instanceof ConnectionLost) await this.settleAfterReconnect();
        else if (!(err instanceof TimeoutError) && !isNotFound(err)) throw err;
      }
      if (got === 0) {
        if (Date.now() > deadline) throw new Error(`catching up ${concert} past ${seq} timed out`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return events;
  }

  /**
   * The concert's last sequence, for a catch-up: asked with the catch-up reads' short timeout
   * and again until `deadline` (with the usual 5 s, a request lost with its connection took a
   * catch-up's whole deadline).
   */
  private async lastSeqWithin(concert: string, deadline: number): Promise<number> {
    for (;;) {
      try {
        return await this.lastSeqOf(concert, this.reader);
      } catch (err) {
        if (!(err instanceof TimeoutError) || Date.now() > deadline) throw err;
      }
    }
  }

  /** Reads events (all concerts, or one) from `fromSeq` through `untilSeq`, in order. */
  async readUntil(options: { concert?: string; fromSeq?: number; untilSeq: number; onInvalid?: FollowOptions['onInvalid'] }): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    if (options.untilSeq < (options.fromSeq ?? 1)) return events;
    await this.replay({ ...options, onEvent: (e) => events.push(e) });
    return events;
  }

  /**
   * Delivers every event through `untilSeq` (default: the last one now, of the concert when
   * one is named) and then stops. Returns the sequence it read up to.
   */
  async replay(options: FollowOptions & { untilSeq?: number }): Promise<number> {
    const untilSeq =
      options.untilSeq ?? (options.concert ? await this.lastSeqOf(options.concert) : (await this.position()).lastSeq);
    const fromSeq = options.fromSeq ?? 1;
    if (untilSeq < fromSeq) return untilSeq;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const following = await this.follow({
      ...options,
      onEvent: (event) => {
        if (event.seq <= untilSeq) options.onEvent(event);
      },
      onInvalid: (seq, err) => {
        if (seq <= untilSeq) options.onInvalid?.(seq, err);
      },
      onPosition: (seq, pending) => {
        if (seq <= untilSeq) options.onPosition?.(seq, pending);
        if (seq >= untilSeq || pending === 0) done();
      },
    });
    await Promise.race([finished, following.closed]);
    await following.stop();
    return untilSeq;
  }
}

function deliver(msg: JsMsg, options: FollowOptions): void {
  const seq = msg.seq;
  if (options.skip?.(msg.subject, seq)) {
    options.onPosition?.(seq, msg.info.pending);
    return;
  }
  try {
    options.onEvent(decodeStoredEvent(msg.data, seq));
  } catch (err) {
    options.onInvalid?.(seq, err instanceof Error ? err : new Error(String(err)));
  }
  options.onPosition?.(seq, msg.info.pending);
}

/** -1, 0 or 1 as version `a` is older than, the same as or newer than `b` ("2.12.0-beta" counts as 2.12.0). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(v)?.slice(1) ?? ['0', '0', '0']).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

/** A counting semaphore: `take` waits for a free slot, `give` frees one. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

function isWrongLastSequence(err: unknown): boolean {
  if (err instanceof JetStreamApiError) {
    return err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown;
  }
  if (err instanceof PublishRefused) return err.errCode === WRONG_LAST_SEQUENCE;
  return err instanceof Error && /wrong last sequence/i.test(err.message);
}
