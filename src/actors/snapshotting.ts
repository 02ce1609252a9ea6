/**
 * A gateway's side of the concert snapshots: which ones it may start from (each checked against
 * the log), what a snapshot of a concert covers now, and when to write them (on a schedule, at
 * once after a long replay, and at a stop in good order). What a snapshot is and how it is
 * written down: src/actors/snapshot.ts.
 */
import type { EventStore } from '../events/store.js';
import type { Concert } from '../catalog.js';
import type { ConcertState } from './concert.js';
import type { ConcertSnapshot } from './snapshot.js';
import type { ConcertSnapshots } from './snapshot-store.js';

export interface SnapshotOptions {
  store: ConcertSnapshots;
  /** Between two rounds of writes (ms); 0 or less: no schedule, only the writes asked for. */
  intervalMs: number;
  onProblem?: (message: string) => void;
}

/** What the gateway holds of each concert's fold, from which a snapshot is taken. */
export interface FoldView {
  state(concert: string): ConcertState;
  cancelledReferences(concert: string): readonly string[];
  /** Highest stream sequence the follower has seen. */
  position(): number;
}

/** The snapshots a gateway may start from, the ones it may not and why, and the end of the log they were checked against. */
export interface LoadedSnapshots {
  usable: Map<string, ConcertSnapshot>;
  ignored: string[];
  untilSeq: number;
}

/** How long a stopping gateway gives its last snapshots before it stops anyway. */
const STOP_SNAPSHOT_WAIT_MS = 3_000;

/**
 * How far a concert's state covers the log. Stream events are applied the moment the follower
 * delivers them, so when every event delivered to the concert has been applied, the state
 * covers it up to the follower's position (or its own last append, if later); while one is
 * still on its way, only up to the last event applied.
 */
export function coveredThrough(lastAppliedSeq: number, lastDeliveredSeq: number, position: number): number {
  return lastDeliveredSeq <= lastAppliedSeq ? Math.max(position, lastAppliedSeq) : lastAppliedSeq;
}

export class Snapshotting {
  /** Per concert: the last event folded into its state (sequence and id). */
  private readonly lastApplied = new Map<string, { seq: number; id: string }>();
  /** Per concert: the last event the follower delivered to it. */
  private readonly lastDelivered = new Map<string, number>();
  /** Per concert: the `throughSeq` of the last snapshot written or loaded. */
  private readonly written = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;

  constructor(
    private readonly catalog: readonly Concert[],
    private readonly store: EventStore,
    private readonly options: SnapshotOptions | undefined,
    private readonly fold: FoldView,
  ) {}

  /** An event is folded into its concert's state. */
  applied(concert: string, seq: number, id: string): void {
    this.lastApplied.set(concert, { seq, id });
  }

  /** The follower delivered an event to its concert's actor (it may not be applied yet). */
  delivered(concert: string, seq: number): void {
    this.lastDelivered.set(concert, seq);
  }

  /**
   * Reads each concert's snapshot and keeps those the log confirms: the event it names as
   * the concert's last is at that sequence in the log, and the log has no other event of the
   * concert up to the snapshot's `throughSeq`. (A log restored from an older copy, or a
   * snapshot from another catalog, fails this and the concert is replayed in full.) Reads the
   * end of the log even without snapshots: the replay goes up to it.
   */
  async load(): Promise<LoadedSnapshots> {
    const usable = new Map<string, ConcertSnapshot>();
    const ignored: string[] = [];
    const snapshots = this.options?.store;
    // Snapshots first, then the end of the log: a snapshot another gateway writes meanwhile is
    // then still within the log it is checked against.
    const reads = snapshots ? await Promise.all(this.catalog.map(async (concert) => ({ concert, read: await snapshots.read(concert.id) }))) : [];
    const untilSeq = (await this.store.position()).lastSeq;
    await Promise.all(
      reads.map(async ({ concert, read }) => {
        if ('missing' in read) return;
        const why = 'unusable' in read ? read.unusable : await snapshotProblem(concert, read.snapshot, untilSeq, this.store);
        if (why) ignored.push(`${concert.id}: ${why}`);
        else if ('snapshot' in read) usable.set(concert.id, read.snapshot);
      }),
    );
    for (const line of ignored) this.options?.onProblem?.(`snapshot ignored, replaying in full: ${line}`);
    for (const [id, snapshot] of usable) this.written.set(id, snapshot.throughSeq);
    return { usable, ignored, untilSeq };
  }

  /** The snapshot of a concert as this gateway holds it now. */
  snapshotOf(concert: string): ConcertSnapshot {
    const applied = this.lastApplied.get(concert) ?? { seq: 0, id: '' };
    return {
      state: this.fold.state(concert),
      throughSeq: coveredThrough(applied.seq, this.lastDelivered.get(concert) ?? 0, this.fold.position()),
      lastSeq: applied.seq,
      lastEventId: applied.id,
      cancelledReferences: [...this.fold.cancelledReferences(concert)],
    };
  }

  /** Writes a snapshot of each concert whose snapshot would cover more of the log than its last. */
  async write(): Promise<void> {
    const snapshots = this.options;
    if (!snapshots) return;
    const writing = (async () => {
      await this.writing;
      for (const concert of this.catalog) {
        const snapshot = this.snapshotOf(concert.id);
        if (snapshot.throughSeq <= (this.written.get(concert.id) ?? 0)) continue;
        try {
          await snapshots.store.write(snapshot);
          this.written.set(concert.id, snapshot.throughSeq);
        } catch (err) {
          // The next round tries again; the others would most likely fail the same way now.
          snapshots.onProblem?.(`snapshot of ${concert.id} not written: ${(err as Error).message}`);
          break;
        }
      }
    })();
    this.writing = writing;
    await writing;
  }

  /** Writes every `intervalMs` while `available` says the store is reachable; `now`: a first round at once. */
  schedule(now: boolean, available: () => boolean): void {
    const snapshots = this.options;
    if (!snapshots || snapshots.intervalMs <= 0) return;
    if (now) void this.write();
    // Not while NATS is away: the writes would only time out.
    this.timer = setInterval(() => available() && void this.write(), snapshots.intervalMs);
    this.timer.unref();
  }

  /** Ends the schedule; `writeLast`: first a last round, given a few seconds at most. */
  async stop(writeLast: boolean): Promise<void> {
    clearInterval(this.timer);
    // A gateway stopped in good order leaves snapshots from which the next one starts at once.
    if (writeLast) await Promise.race([this.write(), new Promise((r) => setTimeout(r, STOP_SNAPSHOT_WAIT_MS).unref())]);
  }
}

/** Why a snapshot may not be used against this catalog and this log, or undefined when it may. */
async function snapshotProblem(concert: Concert, snapshot: ConcertSnapshot, untilSeq: number, store: EventStore): Promise<string | undefined> {
  if (snapshot.state.concert !== concert.id) return `it is of concert ${snapshot.state.concert}`;
  if (snapshot.state.capacity !== concert.capacity) return `capacity ${snapshot.state.capacity}, the catalog says ${concert.capacity}`;
  if (snapshot.throughSeq > untilSeq) return `it covers the log through ${snapshot.throughSeq}, the log ends at ${untilSeq}`;
  if (snapshot.lastSeq > 0 && (await store.eventIdAt(concert.id, snapshot.lastSeq)) !== snapshot.lastEventId) {
    return `the log has not its last event ${snapshot.lastEventId} at ${snapshot.lastSeq}`;
  }
  const next = await store.nextSeqOf(concert.id, snapshot.lastSeq);
  if (next > 0 && next <= snapshot.throughSeq) return `the log has an event of it at ${next}, which it does not include`;
  return undefined;
}
