/**
 * The JetStream event store: ensure the stream, append with optimistic concurrency, replay
 * and follow. It knows events and subjects, nothing of sockets or seats.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { headers } from '@nats-io/transport-node';
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
  type StreamConfig,
} from '@nats-io/jetstream';
import { decodeEvent, encodeEvent, type EventEnvelope, type StoredEvent } from './envelope.js';
import { ALL_EVENTS, STREAM_NAME, subjectFor } from './subjects.js';

/** The expected-sequence check failed: someone else appended to the subject first. */
export class AppendConflict extends Error {
  override readonly name = 'AppendConflict';
}

export interface StreamOptions {
  /** Stream replicas (R1 on one server, R3 on a cluster). */
  replicas?: number;
}

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
}

export interface Following {
  /** Stops following; resolves once the consumer has stopped. */
  stop(): Promise<void>;
  /** Resolves when the consumer ends (stopped, or failed for good). */
  closed: Promise<void>;
}

const TWO_MINUTES_NS = 2 * 60 * 1_000_000_000;

export class EventStore {
  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
  ) {}

  static async open(nc: NatsConnection): Promise<EventStore> {
    const jsm = await jetstreamManager(nc);
    return new EventStore(nc, jetstream(nc), jsm);
  }

  /** Creates the `TICKETS` stream, or checks the existing one has the settings the log needs. */
  async ensureStream(options: StreamOptions = {}): Promise<void> {
    const wanted: Partial<StreamConfig> & { name: string } = {
      name: STREAM_NAME,
      subjects: [ALL_EVENTS],
      storage: StorageType.File,
      num_replicas: options.replicas ?? 1,
      deny_delete: true,
      deny_purge: true,
      duplicate_window: TWO_MINUTES_NS,
      allow_direct: true,
    };
    try {
      const info = await this.jsm.streams.info(STREAM_NAME);
      const c = info.config;
      const drift: string[] = [];
      if (!c.subjects?.includes(ALL_EVENTS)) drift.push(`subjects ${JSON.stringify(c.subjects)}`);
      if (c.storage !== StorageType.File) drift.push(`storage ${c.storage}`);
      if (!c.deny_delete || !c.deny_purge) drift.push('deny_delete/deny_purge off');
      if ((c.duplicate_window ?? 0) < TWO_MINUTES_NS) drift.push('duplicate_window < 2 min');
      if (drift.length > 0) {
        throw new Error(`stream ${STREAM_NAME} exists with settings the log cannot use: ${drift.join(', ')}`);
      }
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
        await this.jsm.streams.add(wanted);
        return;
      }
      throw err;
    }
  }

  async position(): Promise<StreamPosition> {
    const info = await this.jsm.streams.info(STREAM_NAME);
    return { lastSeq: info.state.last_seq, messages: info.state.messages };
  }

  /** Stream sequence of the last event of a concert, 0 when it has none. */
  async lastSeqOf(concert: string): Promise<number> {
    try {
      const msg = await this.jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subjectFor(concert) });
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
    const attempts = Math.max(1, options.attempts ?? 3);
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const ack = await this.js.publish(subject, payload, {
          msgID: event.id,
          expect: { lastSubjectSequence: options.expectedLastSeq },
          timeout: options.timeoutMs ?? 2_000,
        });
        return ack.seq;
      } catch (err) {
        if (isWrongLastSequence(err)) throw new AppendConflict(`concert ${event.concert} moved past ${options.expectedLastSeq}`);
        lastError = err;
      }
    }
    throw lastError;
  }

  /** Publishes raw bytes on an event subject, for tests and tools that craft a log by hand. */
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
    const messages = await consumer.consume({ max_messages: 1_000 });
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
   * Reads a concert's events after `afterSeq` up to its last one now (the catch-up after a
   * conflict, and replays that need an end).
   */
  async readConcert(concert: string, afterSeq: number): Promise<StoredEvent[]> {
    const target = await this.lastSeqOf(concert);
    if (target <= afterSeq) return [];
    return this.readUntil({ concert, fromSeq: afterSeq + 1, untilSeq: target });
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
  try {
    const event = decodeEvent(msg.data);
    options.onEvent({ ...event, seq });
  } catch (err) {
    options.onInvalid?.(seq, err instanceof Error ? err : new Error(String(err)));
  }
  options.onPosition?.(seq, msg.info.pending);
}

function isWrongLastSequence(err: unknown): boolean {
  if (err instanceof JetStreamApiError) {
    return err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown;
  }
  return err instanceof Error && /wrong last sequence/i.test(err.message);
}
