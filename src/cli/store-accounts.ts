/**
 * An embedded NATS store made before readers had an account of their own: nats-server kept
 * every stream in its global account, under `<store>/jetstream/$G`. With nats-accounts.conf
 * the gateways' streams are the account GUICHET's, under `<store>/jetstream/GUICHET`, and a
 * server started on the old store would not see them: the gateways would make a new, empty
 * TICKETS and sell again every seat already sold. So before the embedded server starts, the
 * old account's directory is moved to the new one's name, once, and it is said. (A stream's
 * files do not name their account; the directory does.) Never when GUICHET has a store
 * already: then both exist, and which to keep is the operator's call.
 */
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';

/** The account the gateways' streams are in (nats-accounts.conf). */
export const GATEWAYS_ACCOUNT = 'GUICHET';

/** Moves `<store>/jetstream/$G` to `<store>/jetstream/GUICHET` when only the first exists; true when moved. */
export async function moveGlobalAccountStore(store: string, log: (line: string) => void): Promise<boolean> {
  const from = join(store, 'jetstream', '$G');
  const to = join(store, 'jetstream', GATEWAYS_ACCOUNT);
  if (!existsSync(from)) return false;
  if (existsSync(to)) {
    log(`${from} and ${to} both exist: the gateways use ${to}; the other is left as it is (docs/operations.md, "Readers in an account of their own")`);
    return false;
  }
  await rename(from, to);
  log(`moved the event log's store from NATS's global account to the gateways' account: ${from} -> ${to} (readers now have an account of their own; docs/operations.md)`);
  return true;
}
