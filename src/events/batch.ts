/**
 * One atomic batch publish (nats-server 2.12+, ADR-50), sent by hand: every message but the
 * last is a plain publish (the server answers only the commit), the last carries the commit
 * and is a request, so a batch costs one round trip. The client's `startBatch` sends the
 * first message as a request too (a second round trip) and turns a refused commit into
 * "batch didn't contain number of published messages"; here the commit's reply is read.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { headers } from '@nats-io/transport-node';

/** JetStream error codes of a refused atomic batch (nats-server 2.15.1). */
export const WRONG_LAST_SEQUENCE = 10071;
/** A message of the batch did not arrive, or the stream had its batches in flight already. */
export const BATCH_INCOMPLETE = 10176;
export const BATCH_TOO_LARGE = 10199;
/** The batch holds a message id the stream has stored (or one twice). */
export const DUPLICATE_IN_BATCH = 10201;

/** A batch the server refused: nothing of it is stored. */
export class BatchRefused extends Error {
  override readonly name = 'BatchRefused';

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
 * Throws BatchRefused (a wrong last sequence has code WRONG_LAST_SEQUENCE and says the
 * subject's last sequence in its message), or the request's error (a timeout: unknown outcome).
 */
export async function publishAtomicBatch(
  nc: NatsConnection,
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
      nc.publish(subject, messages[i]!.payload, { headers: h });
      continue;
    }
    h.set('Nats-Batch-Commit', '1');
    const reply = await nc.request(subject, messages[i]!.payload, { headers: h, timeout: timeoutMs });
    return readBatchAck(reply.data, n);
  }
  throw new Error('an empty batch has nothing to publish');
}

/** The commit's reply: `{stream, seq, batch, count}`, or `{error: {err_code, description}}`. */
function readBatchAck(data: Uint8Array, count: number): number {
  let ack: { seq?: number; count?: number; error?: { err_code?: number; description?: string } };
  try {
    ack = JSON.parse(new TextDecoder().decode(data)) as typeof ack;
  } catch {
    throw new BatchRefused('the batch commit got an answer that is not JSON', undefined);
  }
  if (ack.error) throw new BatchRefused(`batch refused: ${ack.error.description ?? 'no reason given'}`, ack.error.err_code);
  if (ack.count !== count || typeof ack.seq !== 'number') {
    throw new BatchRefused(`the batch commit stored ${ack.count} of ${count} messages`, undefined);
  }
  return ack.seq;
}

/** Unique per attempt: a retry is a new batch with the same message ids. */
let batchCounter = 0;
const batchPrefix = Math.random().toString(36).slice(2, 10);
function newBatchId(): string {
  return `${batchPrefix}${(++batchCounter).toString(36)}`;
}
