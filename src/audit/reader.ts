/**
 * Reads the raw messages of the `TICKETS` stream in stream order, with the headers and stream
 * metadata the audit checks (the event store's `follow` hands over decoded events only).
 * This is the I/O half of src/audit/; the checks are in auditor.ts. `guichet tail` reads
 * through here too.
 */
import { DeliverPolicy, type JsMsg, type OrderedConsumerOptions } from '@nats-io/jetstream';
import type { EventStore } from '../events/store.js';
import { ALL_EVENTS, STREAM_NAME, subjectFor } from '../events/subjects.js';
import type { LogMessage } from './auditor.js';
import type { LogPoint } from './point.js';

export interface StreamMessage extends LogMessage {
  /** When the stream stored it (ms since the epoch). */
  storedAt: number;
  /** Messages the consumer still has to deliver after this one. */
  pending: number;
}

export interface ReadLogOptions {
  /** Only this concert's subject. */
  concert?: string;
  /** Where to start (default: the first message). */
  from?: LogPoint;
  /**
   * Stop after this stream sequence, or as soon as the stream has nothing more to deliver.
   * Without it the reading follows the stream live until stopped.
   */
  untilSeq?: number;
  onMessage: (message: StreamMessage) => void;
  /** Messages the client asks the server for at a time. */
  batch?: number;
}

export interface LogReading {
  /** Resolves with the last sequence delivered (0: none) when the reading ends. */
  done: Promise<number>;
  stop(): Promise<void>;
}

/** Starts reading; each message reaches `onMessage` in stream order. */
export async function readLog(store: EventStore, options: ReadLogOptions): Promise<LogReading> {
  const from = options.from ?? { kind: 'seq', seq: 1 };
  const bounded = options.untilSeq !== undefined;
  if (bounded && (options.untilSeq! < 1 || (from.kind === 'seq' && options.untilSeq! < from.seq))) {
    return { done: Promise.resolve(0), stop: async () => undefined };
  }
  const consumer = await store.js.consumers.get(STREAM_NAME, {
    // A string, not an array: nats-server 2.9 takes one filter subject.
    filter_subjects: options.concert ? subjectFor(options.concert) : ALL_EVENTS,
    ...startAt(from),
  });
  const batch = options.batch ?? 5_000;
  const messages = await consumer.consume({ max_messages: batch, threshold_messages: Math.floor(batch / 2) });
  let last = 0;
  const done = (async () => {
    for await (const msg of messages) {
      const message = toStreamMessage(msg);
      last = message.seq;
      if (bounded && message.seq > options.untilSeq!) break;
      options.onMessage(message);
      if (bounded && (message.seq >= options.untilSeq! || message.pending === 0)) break;
    }
    await messages.close().catch(() => undefined);
    return last;
  })();
  return {
    done,
    stop: async () => {
      await messages.close().catch(() => undefined);
      await done.catch(() => undefined);
    },
  };
}

function startAt(from: LogPoint): Partial<OrderedConsumerOptions> {
  switch (from.kind) {
    case 'seq':
      return from.seq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.seq } : { deliver_policy: DeliverPolicy.All };
    case 'time':
      return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(from.time).toISOString() };
    case 'new':
      return { deliver_policy: DeliverPolicy.New };
  }
}

function toStreamMessage(msg: JsMsg): StreamMessage {
  const message: StreamMessage = {
    seq: msg.seq,
    subject: msg.subject,
    data: msg.data,
    storedAt: Math.floor(msg.info.timestampNanos / 1_000_000),
    pending: msg.info.pending,
  };
  const h = msg.headers;
  if (h) {
    const id = h.get('Nats-Msg-Id');
    if (id) message.msgId = id;
    const expected = h.get('Nats-Expected-Last-Subject-Sequence');
    if (/^\d+$/.test(expected)) message.expectedLastSubjectSeq = Number(expected);
  }
  return message;
}

/** The sequence a bounded read of the stream (or of one concert) ends at now: 0 when empty. */
export async function lastSequence(store: EventStore, concert?: string): Promise<number> {
  return concert ? store.lastSeqOf(concert) : (await store.position()).lastSeq;
}
