/**
 * The readers' copy of the log: a mirror of `TICKETS`, named `TICKETS` too, in the readers'
 * own NATS account (`GUICHET_READERS`, nats-accounts.conf). Readers (`guichet audit`, `tail`,
 * other services) read it as they read the log: the same subjects, sequences and events.
 *
 * Why a copy and not the log itself through imported JetStream API subjects: a push
 * consumer's deliveries are published by the server in the account of the stream it reads,
 * unchecked against the permissions of whoever created it (nats-server issue #8274). A reader
 * with consumers on the gateways' `TICKETS` could therefore have events delivered onto
 * `tickets.catalog` or `tickets.snapshots.*`, where the gateways' own stream stored them. A
 * consumer on the readers' copy delivers inside the readers' account, which exports nothing
 * to the gateways. A mirror keeps the origin's sequences and takes no publishes.
 *
 * Readers may not create streams, so gateways, which create `TICKETS` when it is missing,
 * create its copy too, through the readers' account's STREAM.CREATE and STREAM.INFO of
 * `TICKETS`, which it exports to the gateways' account only (imported there under
 * `$JS.READERS.API`). A NATS without a readers' account (a configuration older than it, or
 * someone else's) answers with no responders: nothing is made, and the gateway says so.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, type StreamConfig } from '@nats-io/jetstream';
import { STREAM_NAME } from './subjects.js';

/** Where the gateways' account reaches the readers' JetStream API (nats-accounts.conf). */
export const READERS_API_PREFIX = '$JS.READERS.API';
/** Where the readers' account reaches the gateways' consumer API, for the mirror's consumer. */
export const GATEWAYS_API_PREFIX = '$JS.GUICHET.API';
/** The subjects on which the mirror's consumer delivers, exported to the readers' account only. */
export const READERS_DELIVER_PREFIX = 'guichet.readers.deliver';

export type ReadersCopyOutcome =
  | { kind: 'created' | 'present' | 'no readers account' }
  /** The copy holds more than the log: the log was restored or made again, and the copy no longer follows it. */
  | { kind: 'ahead'; copyLastSeq: number };

/** The copy's settings: a mirror of TICKETS across the accounts; never deleted, purged, or trimmed. */
export function readersCopyConfig(replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name: STREAM_NAME,
    mirror: { name: STREAM_NAME, external: { api: GATEWAYS_API_PREFIX, deliver: READERS_DELIVER_PREFIX } },
    storage: 'file' as StreamConfig['storage'],
    num_replicas: replicas,
    deny_delete: true,
    deny_purge: true,
    // Readers' direct gets (a concert's last event, catch-up reads) are answered by the copy.
    allow_direct: true,
  };
}

/**
 * Creates the readers' copy when it is missing; says when it holds more than the log
 * (`logLastSeq`, the log's last sequence now). Throws what NATS said when it could not be made.
 */
export async function ensureReadersCopy(nc: NatsConnection, replicas: number, logLastSeq: number, timeoutMs = 5_000): Promise<ReadersCopyOutcome> {
  const jsm = await jetstreamManager(nc, { apiPrefix: READERS_API_PREFIX, checkAPI: false, timeout: timeoutMs });
  try {
    const info = await jsm.streams.info(STREAM_NAME);
    // A mirror asks its origin for what follows its own last sequence: behind a log that went
    // back (a restore, a stream made again) it would wait, then copy only what comes past it.
    if (info.state.last_seq > logLastSeq) return { kind: 'ahead', copyLastSeq: info.state.last_seq };
    return { kind: 'present' };
  } catch (err) {
    if (isNoResponders(err)) return { kind: 'no readers account' };
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
  }
  try {
    await jsm.streams.add(readersCopyConfig(replicas));
  } catch (err) {
    // Another gateway made it at the same moment: the same settings, "stream name already in use" at worst.
    if (err instanceof JetStreamApiError && err.code === 10058) return { kind: 'present' };
    throw err;
  }
  return { kind: 'created' };
}

function isNoResponders(err: unknown): boolean {
  const e = err as { name?: string; code?: unknown; message?: string; cause?: unknown };
  return e?.name === 'NoRespondersError' || e?.code === '503' || /no responders/i.test(e?.message ?? '') || (e?.cause !== undefined && isNoResponders(e.cause));
}
