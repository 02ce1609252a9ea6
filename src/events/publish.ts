/**
 * Appends sent by hand, over the store's ReplyInbox (reply-inbox.ts says why not `js.publish`):
 * one message with its expected subject sequence, or one atomic batch (nats-server 2.12+,
 * ADR-50). In a batch every message but the last is a plain publish (the server answers only
 * the commit), the last carries the commit and is a request, so a batch costs one round trip.
 * The client's `startBatch` sends the first message as a request too (a second round trip) and
 * turns a refused commit into "batch didn't contain number of published messages"; here the
 * commit's reply is read.
 */
import { headers } from '@nats-io/transport-node';
import type { ReplyInbox } from './reply-inbox.js';

/** JetStream error codes of a refused publish or atomic batch (nats-server 2.15.1). */
export const WRONG_LAST_SEQUENCE = 10071;
/** A message of the batch did not arrive, or the stream had its batches in flight already. */
export const BATCH_INCOMPLETE = 10176;
export const BATCH_TOO_LARGE = 10199;
/** The batch holds a message id the stream has stored (or one twice). */
export const DUPLICATE_IN_BATCH = 10201;

/** A publish (one message or a batch) the server refused: nothing of it is stored. */
export class PublishRefused extends Error {
  override readonly name = 'PublishRefused';

  constructor(
    message: string,
    /** JetStream's error code, when it gave one (see the constants above). */
    readonly errCode: number | undefined,
  ) {
    super(message);
  }
}

export interface BatchMessage {
  /** Its `Nats-Msg-Id` (dedupe key). */
  id: string;
  payload: Uint8Array;
}

/**
 * Publishes the messages on `subject` as one atomic batch, the first carrying
 * `Nats-Expected-Last-Subject-Sequence`; resolves with the stream sequence of the last one.
 * Throws PublishRefused (a wrong last sequence has code WRONG_LAST_SEQUENCE and says the
 * subject's last sequence in its message), or the request's error (a timeout: unknown outcome).
 */
export async function publishAtomicBatch(
  inbox: ReplyInbox,
  subject: string,
  messages: readonly BatchMessage[],
  expectedLastSeq: number,
  timeoutMs: number,
): Promise<number> {
  const batchId = newBatchId();
  const n = messages.length;
  for (let i = 0; i < n; i++) {
    const h = headers();
    h.set('Nats-Batch-Id', batchId);
    h.set('Nats-Batch-Sequence', String(i + 1));
    h.set('Nats-Msg-Id', messages[i]!.id);
    if (i === 0) h.set('Nats-Expected-Last-Subject-Sequence', String(expectedLastSeq));
    if (i < n - 1) {
      inbox.publish(subject, messages[i]!.payload, h);
      continue;
    }
    h.set('Nats-Batch-Commit', '1');
    const reply = await inbox.request(subject, messages[i]!.payload, h, timeoutMs);
    return readAck(reply.data, n);
  }
  throw new Error('an empty batch has nothing to publish');
}

/**
 * Publishes one message on `subject` with its `Nats-Msg-Id` and the subject's expected last
 * sequence; resolves with its stream sequence. A retry of a stored message (same id, within
 * the stream's duplicate window) is answered with the first one's sequence. Throws as
 * publishAtomicBatch does.
 */
export async function publishOne(
  inbox: ReplyInbox,
  subject: string,
  message: BatchMessage,
  expectedLastSeq: number,
  timeoutMs: number,
): Promise<number> {
  const h = headers();
  h.set('Nats-Msg-Id', message.id);
  h.set('Nats-Expected-Last-Subject-Sequence', String(expectedLastSeq));
  const reply = await inbox.request(subject, message.payload, h, timeoutMs);
  return readAck(reply.data);
}

const decoder = new TextDecoder();

/**
 * A publish's reply: `{stream, seq}` (a batch's commit adds `batch, count`), or
 * `{error: {err_code, description}}`. `count`: the batch's size, checked against the reply's.
 */
function readAck(data: Uint8Array, count?: number): number {
  let ack: { seq?: number; count?: number; error?: { err_code?: number; description?: string } };
  try {
    ack = JSON.parse(decoder.decode(data)) as typeof ack;
  } catch {
    throw new PublishRefused('the publish got an answer that is not JSON', undefined);
  }
  if (ack.error) throw new PublishRefused(`${count === undefined ? 'publish' : 'batch'} refused: ${ack.error.description ?? 'no reason given'}`, ack.error.err_code);
  if (count !== undefined && ack.count !== count) throw new PublishRefused(`the batch commit stored ${ack.count} of ${count} messages`, undefined);
  if (typeof ack.seq !== 'number') throw new PublishRefused('the publish was answered without a sequence', undefined);
  return ack.seq;
}

/** Unique per attempt: a retry is a new batch with the same message ids. */
let batchCounter = 0;
const batchPrefix = Math.random().toString(36).slice(2, 10);
function newBatchId(): string {
  return `${batchPrefix}${(++batchCounter).toString(36)}`;
}
