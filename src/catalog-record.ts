/**
 * The catalog record a gateway leaves on `tickets.catalog` for the next: the catalog it
 * started with (a gateway started with another one says so), and how far it saw the log go
 * (so that a gateway finding the log shorter, or another stream, refuses to start: see
 * src/events/continuity.ts).
 */
import { parseCatalog, type Concert } from './catalog.js';
import { CATALOG_SUBJECT, SNAPSHOT_STREAM, type SnapshotStream } from './events/snapshots.js';
import type { EventStore } from './events/store.js';
import type { LogMark } from './events/continuity.js';

export interface CatalogRecord {
  gatewayId: string;
  /** ISO-8601 time the gateway started. */
  at: string;
  catalog: Concert[];
  /** The log as this gateway last saw it (absent in records of older gateways). */
  log?: LogMark;
}

export type CatalogRecordRead = { record: CatalogRecord } | { missing: true } | { unusable: string };

export async function readCatalogRecord(stream: SnapshotStream): Promise<CatalogRecordRead> {
  const read = await stream.read(CATALOG_SUBJECT);
  if (!('payload' in read)) return read;
  try {
    const record = JSON.parse(new TextDecoder().decode(read.payload)) as Partial<CatalogRecord>;
    if (typeof record.gatewayId !== 'string' || typeof record.at !== 'string') return { unusable: 'no gatewayId or at' };
    const log = record.log;
    const mark =
      log && Number.isSafeInteger(log.lastSeq) && typeof log.created === 'string' && Number.isSafeInteger(log.firstSeq)
        ? { log: { lastSeq: log.lastSeq, firstSeq: log.firstSeq, created: log.created } }
        : {};
    return { record: { gatewayId: record.gatewayId, at: record.at, catalog: parseCatalog(record.catalog), ...mark } };
  } catch (err) {
    return { unusable: (err as Error).message };
  }
}

export async function writeCatalogRecord(stream: SnapshotStream, record: CatalogRecord): Promise<void> {
  await stream.write(CATALOG_SUBJECT, new TextEncoder().encode(JSON.stringify(record)));
}

/**
 * The concert ids of the last catalog record, read without its authentication code: the
 * readers of the log (`tail`, `audit`) hold no snapshot key, and use this only to tell a typo
 * in `--concert` from a concert with no events yet, never to decide anything about seats.
 * Undefined when there is no record, it cannot be read (the role may not), or it is not one.
 */
export async function peekCatalogIds(store: EventStore): Promise<string[] | undefined> {
  try {
    const msg = await store.jsm.direct.getMessage(SNAPSHOT_STREAM, { last_by_subj: CATALOG_SUBJECT });
    if (!msg) return undefined;
    const record = JSON.parse(new TextDecoder().decode(msg.data)) as Partial<CatalogRecord>;
    return Array.isArray(record.catalog) ? record.catalog.map((c) => c?.id).filter((id): id is string => typeof id === 'string') : undefined;
  } catch {
    return undefined;
  }
}
