/**
 * Where concert snapshots live: the `TICKETS_SNAPSHOTS` stream, one subject per concert
 * (`tickets.snapshots.<concert>`) keeping only its latest message. It is a cache that any
 * gateway may write and anyone may delete: without it, gateways replay the whole log.
 * The `TICKETS` stream and its subjects do not include it, so event subscribers never see it.
 * It also keeps, on `tickets.catalog`, the catalog the last gateway started with, so that a
 * gateway started with another one says so.
 */
import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { decodeSnapshot, encodeSnapshot, type ConcertSnapshot } from '../actors/snapshot.js';
import type { EventStore } from './store.js';
import { isValidConcertId } from './subjects.js';
import { parseCatalog, type Concert } from '../catalog.js';

export const SNAPSHOT_STREAM = 'TICKETS_SNAPSHOTS';
const SNAPSHOT_PREFIX = 'tickets.snapshots';
const CATALOG_SUBJECT = 'tickets.catalog';
const SUBJECTS = [`${SNAPSHOT_PREFIX}.*`, CATALOG_SUBJECT];

/** The catalog a gateway started with, as it leaves it for the next. */
export interface CatalogRecord {
  gatewayId: string;
  /** ISO-8601 time the gateway started. */
  at: string;
  catalog: Concert[];
}

function snapshotSubject(concert: string): string {
  if (!isValidConcertId(concert)) throw new Error(`invalid concert id: ${JSON.stringify(concert)}`);
  return `${SNAPSHOT_PREFIX}.${concert}`;
}

export type SnapshotRead = { snapshot: ConcertSnapshot } | { missing: true } | { unusable: string };

export class SnapshotStore {
  constructor(private readonly store: EventStore) {}

  async ensure(replicas: number): Promise<void> {
    const config: Partial<StreamConfig> & { name: string } = {
      name: SNAPSHOT_STREAM,
      subjects: SUBJECTS,
      storage: StorageType.File,
      num_replicas: replicas,
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.Old,
      allow_direct: true,
    };
    const info = await this.store.streamInfo(SNAPSHOT_STREAM);
    if (!info) {
      await this.store.jsm.streams.add(config);
      return;
    }
    // A stream made before the catalog record existed lacks its subject.
    const subjects = info.config.subjects ?? [];
    if (!SUBJECTS.every((subject) => subjects.includes(subject))) {
      await this.store.jsm.streams.update(SNAPSHOT_STREAM, { ...info.config, subjects: [...new Set([...subjects, ...SUBJECTS])] });
    }
  }

  async read(concert: string): Promise<SnapshotRead> {
    try {
      const msg = await this.store.jsm.direct.getMessage(SNAPSHOT_STREAM, { last_by_subj: snapshotSubject(concert) });
      if (!msg) return { missing: true };
      return { snapshot: decodeSnapshot(msg.string()) };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return { missing: true };
      return { unusable: (err as Error).message };
    }
  }

  /** The catalog the last gateway started with, if any readable one was left. */
  async readCatalog(): Promise<CatalogRecord | undefined> {
    try {
      const msg = await this.store.jsm.direct.getMessage(SNAPSHOT_STREAM, { last_by_subj: CATALOG_SUBJECT });
      if (!msg) return undefined;
      const record = msg.json<Partial<CatalogRecord>>();
      if (typeof record.gatewayId !== 'string' || typeof record.at !== 'string') return undefined;
      return { gatewayId: record.gatewayId, at: record.at, catalog: parseCatalog(record.catalog) };
    } catch {
      // Missing, or written by something else: there is nothing to compare with.
      return undefined;
    }
  }

  async writeCatalog(record: CatalogRecord): Promise<void> {
    await this.store.js.publish(CATALOG_SUBJECT, JSON.stringify(record), { timeout: 5_000 });
  }

  /** Writes a snapshot; refuses one larger than the server takes in a message. */
  async write(snapshot: ConcertSnapshot): Promise<void> {
    const payload = new TextEncoder().encode(encodeSnapshot(snapshot));
    const limit = this.store.nc.info?.max_payload ?? 1024 * 1024;
    if (payload.length > limit) {
      throw new Error(`snapshot of ${snapshot.state.concert} is ${payload.length} bytes, over the server's max_payload ${limit}`);
    }
    await this.store.js.publish(snapshotSubject(snapshot.state.concert), payload, { timeout: 5_000 });
  }
}
