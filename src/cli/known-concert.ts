/**
 * `tail --concert X` and `audit --concert X` read the log, not a gateway, so nothing refused a
 * typo: they followed or audited an empty subject in silence. A concert is known when the log
 * has events of it or the catalog says it exists (the one the last gateway left in
 * TICKETS_SNAPSHOTS, or the one given).
 */
import type { Concert } from '../catalog.js';
import { peekCatalogIds } from '../catalog-record.js';
import type { EventStore } from '../events/store.js';

/** Throws, naming the concerts it knows, when `concert` is neither in the log nor in a catalog. */
export async function checkKnownConcert(store: EventStore, concert: string, catalog?: readonly Concert[]): Promise<void> {
  if (catalog?.some((c) => c.id === concert)) return;
  if ((await store.lastSeqOf(concert)) > 0) return;
  const known = (await peekCatalogIds(store)) ?? catalog?.map((c) => c.id) ?? [];
  if (known.includes(concert)) return;
  const list = known.length > 0 ? ` (the catalog has ${known.join(', ')})` : '';
  throw new Error(`no concert ${JSON.stringify(concert)}: it has no events in the log and is not in the catalog${list}`);
}
