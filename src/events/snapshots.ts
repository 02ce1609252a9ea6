/**
 * The `TICKETS_SNAPSHOTS` stream: records gateways leave for each other, one subject per
 * record keeping only its latest message — each concert's snapshot
 * (`tickets.snapshots.<concert>`) and the catalog record (`tickets.catalog`). What they say
 * is up to their owners (src/actors/snapshot-store.ts, src/catalog-record.ts); this module
 * only stores them, authenticated.
 *
 * A snapshot decides where a gateway starts its replay, so a forged one could change the
 * past. Only the gateway role may publish here (nats-roles.conf), and every record carries
 * an HMAC-SHA256, under a key only gateways hold, of its subject and payload: a record
 * written or altered by anyone else (an admin, a push consumer delivering here, a copy of the
 * store edited on disk) is read as unusable and ignored.
 * The `TICKETS` stream and its subjects do not include these, so event subscribers never see them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { EventStore } from './store.js';
import { isValidConcertId } from './subjects.js';

export const SNAPSHOT_STREAM = 'TICKETS_SNAPSHOTS';
const SNAPSHOT_PREFIX = 'tickets.snapshots';
export const CATALOG_SUBJECT = 'tickets.catalog';
const SUBJECTS = [`${SNAPSHOT_PREFIX}.*`, CATALOG_SUBJECT];
const MAC_HEADER = 'Guichet-Hmac';
/** The shortest snapshot key taken: 128 bits written in hex. */
export const MIN_KEY_LENGTH = 32;

export function snapshotSubject(concert: string): string {
  if (!isValidConcertId(concert)) throw new Error(`invalid concert id: ${JSON.stringify(concert)}`);
  return `${SNAPSHOT_PREFIX}.${concert}`;
}

/** Creates the snapshot stream, or checks it; `update` (admin rights) adds subjects an older one lacks. */
export async function ensureSnapshotStream(store: EventStore, replicas: number, update?: (config: StreamConfig) => Promise<void>): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: SNAPSHOT_STREAM,
    subjects: SUBJECTS,
    storage: StorageType.File,
    num_replicas: replicas,
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.Old,
    allow_direct: true,
  };
  const info = await store.streamInfo(SNAPSHOT_STREAM);
  if (!info) {
    await store.jsm.streams.add(config);
    return;
  }
  // A stream made before the catalog record existed lacks its subject. Updating a stream
  // needs admin rights; without them, say what to run (the record carries the log's mark).
  const subjects = info.config.subjects ?? [];
  const missing = SUBJECTS.filter((subject) => !subjects.includes(subject));
  if (missing.length > 0 && update) {
    await update({ ...info.config, subjects: [...subjects, ...missing] });
  } else if (missing.length > 0) {
    throw new Error(`stream ${SNAPSHOT_STREAM} lacks the subjects ${missing.join(', ')}: run \`guichet upgrade-stream\` with admin credentials`);
  }
}

export type RecordRead = { payload: Uint8Array } | { missing: true } | { unusable: string };

export class SnapshotStream {
  private readonly key: Buffer;

  constructor(
    private readonly store: EventStore,
    key: string,
  ) {
    if (key.length < MIN_KEY_LENGTH) throw new Error(`the snapshot key must be at least ${MIN_KEY_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`);
    this.key = Buffer.from(key, 'utf8');
  }

  /** Creates the stream, or checks it; `update` (admin rights) adds subjects an older one lacks. */
  ensure(replicas: number, update?: (config: StreamConfig) => Promise<void>): Promise<void> {
    return ensureSnapshotStream(this.store, replicas, update);
  }

  async read(subject: string): Promise<RecordRead> {
    try {
      const msg = await this.store.jsm.direct.getMessage(SNAPSHOT_STREAM, { last_by_subj: subject });
      if (!msg) return { missing: true };
      const mac = msg.header.get(MAC_HEADER);
      if (!mac) return { unusable: 'it carries no authentication code (written by something other than a gateway)' };
      if (!this.verify(subject, msg.data, mac)) {
        return { unusable: "its authentication code does not match (altered, or written under another gateway's snapshot key)" };
      }
      return { payload: msg.data };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return { missing: true };
      return { unusable: (err as Error).message };
    }
  }

  /** Writes a record; refuses one larger than the server takes in a message. */
  async write(subject: string, payload: Uint8Array): Promise<void> {
    const limit = this.store.nc.info?.max_payload ?? 1024 * 1024;
    if (payload.length > limit) throw new Error(`${subject} is ${payload.length} bytes, over the server's max_payload ${limit}`);
    const h = headers();
    h.set(MAC_HEADER, this.mac(subject, payload));
    await this.store.js.publish(subject, payload, { headers: h, timeout: 5_000 });
  }

  private mac(subject: string, payload: Uint8Array): string {
    // The subject is signed too: one concert's snapshot cannot be passed off as another's.
    return createHmac('sha256', this.key).update(subject).update('\n').update(payload).digest('base64url');
  }

  private verify(subject: string, payload: Uint8Array, mac: string): boolean {
    const expected = Buffer.from(this.mac(subject, payload));
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
