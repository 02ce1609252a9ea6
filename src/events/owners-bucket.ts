/**
 * The JetStream KV bucket `guichet_owners` (stream `KV_guichet_owners`, in memory, history 1):
 * who decides for which concert, and which gateways are alive. Liveness, never safety: every
 * append still carries its expected sequence, so a wrong entry here costs time, not seats.
 *
 * Every entry is a lease: the bucket's `ttl` (the stream's max_age) drops an entry not written
 * again within it, and the server then writes a delete marker (`markerTTL`, ADR-43), so every
 * watcher hears of an expiry at once, judged by one clock, the server's. Owners renew their
 * entries with compare-and-set on the revision they wrote, so a renewal after someone else took
 * over fails instead of taking it back. This module only stores and watches entries; what they
 * mean is src/actors/ownership.ts's.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, StorageType, jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';

export const OWNERS_BUCKET = 'guichet_owners';
export const OWNERS_STREAM = `KV_${OWNERS_BUCKET}`;

/** One entry as a watcher sees it: `value` undefined when deleted or expired. */
export interface OwnersEntry {
  key: string;
  value: string | undefined;
  revision: number;
  /** Gone because it was not renewed in time (the server's marker), not deleted by its writer. */
  expired: boolean;
}

export interface OwnersBucketOptions {
  /** An entry not renewed within this long expires (the bucket's ttl; ms, at least 1 s). */
  leaseMs: number;
  replicas?: number;
  /** Each operation fails after this long (a frozen server answers nothing). */
  timeoutMs: number;
}

/** How long the server keeps the delete marker of an expired entry (its minimum). */
const MARKER_TTL_MS = 1_000;

export class OwnersBucket {
  private constructor(
    private kv: KV,
    private readonly nc: NatsConnection,
    private readonly options: OwnersBucketOptions,
  ) {}

  /**
   * Opens the bucket, creating it when missing. An existing bucket is used as it is, whatever
   * ttl it was made with: gateways on one NATS must agree on the lease (docs/operations.md).
   */
  static async open(nc: NatsConnection, options: OwnersBucketOptions): Promise<OwnersBucket> {
    return new OwnersBucket(await openKv(nc, options), nc, options);
  }

  /** Opens the bucket again: a NATS restarted without it (it is kept in memory) gets it anew. */
  async reopen(): Promise<void> {
    this.kv = await openKv(this.nc, this.options);
  }

  /**
   * Calls `onEntry` for every entry now in the bucket, then for every change, in order, until
   * the returned stop is called. `onEnd` is called if the watch ends by itself (an error).
   */
  async watch(onEntry: (entry: OwnersEntry) => void, onEnd: (err?: unknown) => void): Promise<() => void> {
    const watcher = await this.kv.watch({ key: '>' });
    let stopped = false;
    void (async () => {
      try {
        for await (const e of watcher) {
          // The client library reports the server's expiry marker (Nats-Marker-Reason: MaxAge) as PURGE.
          onEntry({ key: e.key, value: e.operation === 'PUT' ? e.string() : undefined, revision: e.revision, expired: e.operation === 'PURGE' });
        }
        if (!stopped) onEnd();
      } catch (err) {
        if (!stopped) onEnd(err);
      }
    })();
    return () => {
      stopped = true;
      watcher.stop();
    };
  }

  /** Writes `value` if the key has no live entry; its revision, or undefined when it has one. */
  create(key: string, value: string): Promise<number | undefined> {
    return this.kv.create(key, value).catch(conflictAsUndefined);
  }

  /** Writes `value` if the key is still at `revision`; the new revision, or undefined when it moved. */
  update(key: string, value: string, revision: number): Promise<number | undefined> {
    return this.kv.update(key, value, revision).catch(conflictAsUndefined);
  }

  /** The revision of the key's live entry, if it has one. */
  async revisionOf(key: string): Promise<number | undefined> {
    const entry = await this.kv.get(key);
    return entry && entry.operation === 'PUT' ? entry.revision : undefined;
  }

  /** Deletes the entry if it is still at `revision` (a hand-over); false when it moved. */
  async release(key: string, revision: number): Promise<boolean> {
    try {
      await this.kv.delete(key, { previousSeq: revision });
      return true;
    } catch (err) {
      conflictAsUndefined(err);
      return false;
    }
  }
}

function openKv(nc: NatsConnection, options: OwnersBucketOptions): Promise<KV> {
  const kvm = new Kvm(jetstream(nc, { timeout: options.timeoutMs }));
  // Kvm.create looks the bucket up first and makes it only when missing.
  return kvm.create(OWNERS_BUCKET, {
    history: 1,
    ttl: options.leaseMs,
    markerTTL: MARKER_TTL_MS,
    storage: StorageType.Memory,
    replicas: options.replicas ?? 1,
    timeout: options.timeoutMs,
  });
}

function conflictAsUndefined(err: unknown): undefined {
  const conflict =
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
  if (conflict) return undefined;
  throw err;
}
