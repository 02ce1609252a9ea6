/**
 * The embedded NATS's secrets, created at first start under `--data` (never committed):
 * one nkey seed per role (`secrets/gateway.nk`, `reader.nk`, `admin.nk`) and the key that
 * authenticates concert snapshots (`secrets/snapshot.key`). Owner-only: the directory 0700,
 * the files 0600.
 *
 * Why nkeys rather than passwords: the server's configuration then holds only public keys, and
 * the client answers a challenge with a signature, so no secret is ever sent to the server,
 * kept in its configuration or in its process environment; and no bcrypt is needed.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import type { NatsCredentials } from '../nats-connection.js';
import { namesAUser, natsCredentials, type NatsFlags } from '../config.js';

export const ROLES = ['gateway', 'reader', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface EmbeddedSecrets {
  /** The public key (`U…`) of each role, for the server's configuration. */
  publicKeys: Record<Role, string>;
  /** The seed file of each role, for the clients. */
  seedFiles: Record<Role, string>;
  snapshotKey: string;
}

export function secretsDir(dataDir: string): string {
  return join(resolve(dataDir), 'secrets');
}

/** Reads the secrets under `dataDir`, creating those that are missing. */
export async function ensureEmbeddedSecrets(dataDir: string): Promise<EmbeddedSecrets> {
  const dir = secretsDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const publicKeys = {} as Record<Role, string>;
  const seedFiles = {} as Record<Role, string>;
  for (const role of ROLES) {
    const file = join(dir, `${role}.nk`);
    const seed = await ensureSecretFile(file, () => new TextDecoder().decode(nkeys.createUser().getSeed()));
    publicKeys[role] = nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
    seedFiles[role] = file;
  }
  const snapshotKey = await ensureSnapshotKey(dataDir);
  return { publicKeys, seedFiles, snapshotKey };
}

/** The snapshot key under `dataDir`, created when missing. */
export function ensureSnapshotKey(dataDir: string): Promise<string> {
  return ensureSecretFile(join(secretsDir(dataDir), 'snapshot.key'), () => randomBytes(32).toString('hex'));
}

async function ensureSecretFile(file: string, make: () => string): Promise<string> {
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  try {
    // `wx`: two processes starting at once cannot both write it.
    await writeFile(file, `${make()}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = (await stat(file)).mode & 0o077;
  if (mode !== 0) throw new Error(`${file} is readable by other users (mode ${((await stat(file)).mode & 0o777).toString(8)}): chmod 600 it`);
  const value = (await readFile(file, 'utf8')).trim();
  if (value === '') throw new Error(`${file} is empty: remove it to have a new one made`);
  return value;
}

/** The credentials the embedded default left for `role` under `dataDir`, if it did. */
export function embeddedCredentials(dataDir: string, role: Role): NatsCredentials | undefined {
  const file = join(secretsDir(dataDir), `${role}.nk`);
  return existsSync(file) ? { nkeyFile: file } : undefined;
}

/**
 * The credentials the flags give; when they name no user (nor does the URL), those the
 * embedded default left for `role` under `dataDir`, if any: `guichet audit` next to a
 * `guichet server` signs in as the reader by itself.
 */
export function credentialsOrEmbedded(flags: NatsFlags, urls: string, dataDir: string, role: Role): NatsCredentials {
  const given = natsCredentials(flags);
  if (namesAUser(given, urls)) return given;
  return { ...given, ...embeddedCredentials(dataDir, role) };
}

/** The environment nats.conf reads the public keys from. */
export function publicKeyEnvironment(secrets: EmbeddedSecrets): Record<string, string> {
  return {
    GUICHET_GATEWAY_NKEY: secrets.publicKeys.gateway,
    GUICHET_READER_NKEY: secrets.publicKeys.reader,
    GUICHET_ADMIN_NKEY: secrets.publicKeys.admin,
  };
}
