/**
 * One actor per concert, fed by one ordered consumer over the whole stream: the registry
 * replays the log into every actor at start, keeps following it live (events written by other
 * gateways arrive here too), and tells listeners about every event once it is applied.
 */
import { createActor, type Actor } from 'xstate';
import { newId } from '../ids.js';
import { GuichetError } from '../errors.js';
import type { StoredEvent } from '../events/envelope.js';
import type { EventStore, Following } from '../events/store.js';
import { layoutOfConcert, type Concert } from '../catalog.js';
import type { Layout } from '../layout.js';
import { DEFAULT_RULES, evolveInPlace, initialState, stateOfSeats, type ConcertCommand, type ConcertRules, type ConcertState, type Seat } from './concert.js';
import { concertMachine, type ConcertPorts, type Outcome } from './machine.js';
import { MeasuredBatching, type BatchPolicy } from './batching.js';
import type { ConcertSnapshot } from './snapshot.js';
import type { ConcertSnapshots } from './snapshot-store.js';

export type EventListener = (event: StoredEvent, state: ConcertState) => void;

export interface RegistryOptions {
  store: EventStore;
  catalog: readonly Concert[];
  /** This gateway's id, written as `source` on its events. */
  source: string;
  rules?: Partial<ConcertRules>;
  /** How long a command may wait for its actor before it is answered UNAVAILABLE (ms). */
  commandTimeoutMs?: number;
  /** Per-attempt acknowledgement timeout of an append (ms). */
  appendTimeoutMs?: number;
  now?: () => number;
  /** Progress of the start-up replay: events read so far and the sequence it reads up to. */
  onReplayProgress?: (seq: number, untilSeq: number) => void;
  /** Called for a message in the stream that is not a valid event. */
  onInvalidEvent?: (seq: number, error: Error) => void;
  /** When actors group waiting commands into one atomic batch (default: by measured costs, one policy for all concerts). */
  batching?: BatchPolicy;
  /** Start from concerts' snapshots and write them every `intervalMs` and at stop (absent: neither). */
  snapshots?: { store: ConcertSnapshots; intervalMs: number; onProblem?: (message: string) => void };
}

/** What start-up did: events replayed, from where, and the snapshots it started from. */
export interface StartupReport {
  events: number;
  fromSeq: number;
  untilSeq: number;
  snapshots: { used: number; ignored: string[] };
}

/** A replay longer than this many events is followed at once by fresh snapshots. */
const SNAPSHOT_AFTER_REPLAY_OF = 10_000;
/** How long a stopping gateway gives its last snapshots before it stops anyway. */
const STOP_SNAPSHOT_WAIT_MS = 3_000;

export class Registry {
  readonly catalog: readonly Concert[];
  readonly rules: ConcertRules;
  private readonly actors = new Map<string, Actor<typeof concertMachine>>();
  /** Each concert's rows and labels, made once from the catalog. */
  private readonly layouts: Map<string, Layout>;
  private readonly states = new Map<string, ConcertState>();
  /** Reference → concert, for every live booking this gateway knows. */
  private readonly references = new Map<string, string>();
  /**
   * Per concert, the references of its cancelled bookings. A reference is never issued twice
   * (the audit holds the log to it): a new one must avoid these as well as the live ones.
   */
  private readonly cancelledReferences = new Map<string, Set<string>>();
  private readonly listeners = new Set<EventListener>();
  private following?: Following;
  private readonly now: () => number;
  /** Shared by every actor: they all append to the same NATS, so they learn its costs together. */
  private readonly batching: BatchPolicy;
  /** Highest stream sequence seen by the follower. */
  private position = 0;
  /** Highest stream sequence of an event applied: this gateway's own appends count once acknowledged. */
  private highestApplied = 0;
  private available = true;
  /** Why the log cannot be trusted any more (its stream deleted or changed): writes stop for good. */
  private halted?: string;
  /** Per concert: the last event folded into its state (sequence and id). */
  private readonly lastApplied = new Map<string, { seq: number; id: string }>();
  /** Per concert: the last event the follower delivered to it. */
  private readonly lastDelivered = new Map<string, number>();
  /** Per concert: the `throughSeq` of the last snapshot written or loaded. */
  private readonly snapshotThrough = new Map<string, number>();
  private snapshotTimer?: NodeJS.Timeout;
  private snapshotting?: Promise<void>;

  constructor(private readonly options: RegistryOptions) {
    this.catalog = options.catalog;
    this.layouts = new Map(options.catalog.map((c) => [c.id, layoutOfConcert(c)]));
    this.rules = { ...DEFAULT_RULES, ...options.rules };
    this.now = options.now ?? Date.now;
    this.batching = options.batching ?? new MeasuredBatching();
  }

  /**
   * Replays the log, then follows it live. Resolves when every actor is ready.
   *
   * Each concert starts from its snapshot when it has a usable one, else from its initial
   * state; the replay begins after the lowest point the concerts start from, and skips, for
   * each concert, the events its snapshot already covers.
   *
   * During the replay the registry folds events itself, in place on arrays it owns (several
   * times faster than sending each to its machine, and no copy of the seats per event), and
   * hands each actor its state at the end, in
   * the same callback that delivered the last replayed event: an event that comes after it
   * is sent to an actor that is already loaded.
   */
  async start(): Promise<StartupReport> {
    const { store } = this.options;
    for (const concert of this.catalog) this.spawn(concert);
    // Snapshots first, then the end of the log: a snapshot another gateway writes meanwhile is
    // then still within the log it is checked against.
    const { usable, ignored, untilSeq } = await this.loadSnapshots();
    // Each concert's seats during the replay: arrays private to it, folded in place.
    const replayed = new Map<string, { seats: Seat[]; lastSeq: number; lastId: string; skipThrough: number }>(
      this.catalog.map((c) => {
        const snapshot = usable.get(c.id);
        return [
          c.id,
          snapshot
            ? { seats: [...snapshot.state.seats], lastSeq: snapshot.lastSeq, lastId: snapshot.lastEventId, skipThrough: snapshot.throughSeq }
            : { seats: [...this.states.get(c.id)!.seats], lastSeq: 0, lastId: '', skipThrough: 0 },
        ];
      }),
    );
    for (const [id, snapshot] of usable) {
      this.snapshotThrough.set(id, snapshot.throughSeq);
      for (const seat of snapshot.state.seats) if (seat.kind === 'booked') this.references.set(seat.reference, id);
      this.cancelledReferences.set(id, new Set(snapshot.cancelledReferences));
    }
    const fromSeq = Math.min(untilSeq, ...[...replayed.values()].map((r) => r.skipThrough)) + 1;
    let loading = true;
    let events = 0;
    let loaded!: () => void;
    const caughtUp = new Promise<void>((resolve) => (loaded = resolve));
    const finishLoading = () => {
      if (!loading) return;
      loading = false;
      for (const [id, actor] of this.actors) {
        const { seats, lastSeq, lastId } = replayed.get(id)!;
        const state = stateOfSeats(id, seats);
        this.states.set(id, state);
        if (lastSeq > 0) this.lastApplied.set(id, { seq: lastSeq, id: lastId });
        actor.send({ type: 'loaded', state, lastSeq });
      }
      loaded();
    };
    if (fromSeq > untilSeq) finishLoading();
    this.following = await store.follow({
      fromSeq,
      onEvent: (event) => {
        events++;
        if (!loading) {
          this.lastDelivered.set(event.concert, event.seq);
          this.actors.get(event.concert)?.send({ type: 'stream.event', event });
          return;
        }
        const folded = replayed.get(event.concert);
        if (!folded || event.seq <= folded.lastSeq || event.seq <= folded.skipThrough) return;
        evolveInPlace(folded.seats, event);
        folded.lastSeq = event.seq;
        folded.lastId = event.id;
        this.index(event);
      },
      onInvalid: (seq, err) => this.options.onInvalidEvent?.(seq, err),
      onPosition: (seq) => {
        this.position = seq;
        if (seq <= untilSeq) this.options.onReplayProgress?.(seq, untilSeq);
        if (seq >= untilSeq) finishLoading();
      },
    });
    this.position = Math.max(this.position, fromSeq - 1);
    await Promise.race([
      caughtUp,
      this.following.closed.then(() => {
        throw new Error('the event stream closed during start-up');
      }),
    ]);
    this.scheduleSnapshots(events >= SNAPSHOT_AFTER_REPLAY_OF);
    return { events, fromSeq, untilSeq, snapshots: { used: usable.size, ignored } };
  }

  /**
   * Reads each concert's snapshot and keeps those the log confirms: the event it names as
   * the concert's last is at that sequence in the log, and the log has no other event of the
   * concert up to the snapshot's `throughSeq`. (A log restored from an older copy, or a
   * snapshot from another catalog, fails this and the concert is replayed in full.)
   */
  private async loadSnapshots(): Promise<{ usable: Map<string, ConcertSnapshot>; ignored: string[]; untilSeq: number }> {
    const usable = new Map<string, ConcertSnapshot>();
    const ignored: string[] = [];
    const { store } = this.options;
    const snapshots = this.options.snapshots?.store;
    const reads = snapshots ? await Promise.all(this.catalog.map(async (concert) => ({ concert, read: await snapshots.read(concert.id) }))) : [];
    const untilSeq = (await store.position()).lastSeq;
    await Promise.all(
      reads.map(async ({ concert, read }) => {
        if ('missing' in read) return;
        const why = 'unusable' in read ? read.unusable : await this.snapshotProblem(concert, read.snapshot, untilSeq, store);
        if (why) ignored.push(`${concert.id}: ${why}`);
        else if ('snapshot' in read) usable.set(concert.id, read.snapshot);
      }),
    );
    for (const line of ignored) this.options.snapshots?.onProblem?.(`snapshot ignored, replaying in full: ${line}`);
    return { usable, ignored, untilSeq };
  }

  private async snapshotProblem(concert: Concert, snapshot: ConcertSnapshot, untilSeq: number, store: EventStore): Promise<string | undefined> {
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

  /**
   * The snapshot of a concert as this gateway holds it now. Its state includes every event
   * of the concert up to the follower's position when each one the follower delivered has
   * been applied (stream events are applied on arrival, so this is the usual case), and in
   * any case up to the last event applied.
   */
  private snapshotOf(concert: string): ConcertSnapshot {
    const applied = this.lastApplied.get(concert) ?? { seq: 0, id: '' };
    const delivered = this.lastDelivered.get(concert) ?? 0;
    const throughSeq = delivered <= applied.seq ? Math.max(this.position, applied.seq) : applied.seq;
    return {
      state: this.states.get(concert)!,
      throughSeq,
      lastSeq: applied.seq,
      lastEventId: applied.id,
      cancelledReferences: [...(this.cancelledReferences.get(concert) ?? [])],
    };
  }

  /** Writes a snapshot of each concert whose snapshot would cover more of the log than its last. */
  async writeSnapshots(): Promise<void> {
    const snapshots = this.options.snapshots;
    if (!snapshots) return;
    const writing = (async () => {
      await this.snapshotting;
      for (const concert of this.catalog) {
        const snapshot = this.snapshotOf(concert.id);
        if (snapshot.throughSeq <= (this.snapshotThrough.get(concert.id) ?? 0)) continue;
        try {
          await snapshots.store.write(snapshot);
          this.snapshotThrough.set(concert.id, snapshot.throughSeq);
        } catch (err) {
          // The next round tries again; the others would most likely fail the same way now.
          snapshots.onProblem?.(`snapshot of ${concert.id} not written: ${(err as Error).message}`);
          break;
        }
      }
    })();
    this.snapshotting = writing;
    await writing;
  }

  private scheduleSnapshots(now: boolean): void {
    const snapshots = this.options.snapshots;
    if (!snapshots || snapshots.intervalMs <= 0) return;
    if (now) void this.writeSnapshots();
    // Not while NATS is away: the writes would only time out.
    this.snapshotTimer = setInterval(() => this.available && void this.writeSnapshots(), snapshots.intervalMs);
    this.snapshotTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.snapshotTimer);
    // A gateway stopped in good order leaves snapshots from which the next one starts at once.
    if (this.following && this.available) {
      await Promise.race([this.writeSnapshots(), new Promise((r) => setTimeout(r, STOP_SNAPSHOT_WAIT_MS).unref())]);
    }
    await this.following?.stop();
    for (const actor of this.actors.values()) actor.stop();
  }

  /** The store is reachable or not (from the NATS connection's status); when not, commands fail fast. */
  setAvailable(available: boolean): void {
    this.available = available;
  }

  get isAvailable(): boolean {
    return this.available && this.halted === undefined;
  }

  /**
   * The log's stream vanished or changed under this gateway: from now on every command is
   * answered UNAVAILABLE, until an operator has looked and restarted the gateway.
   */
  halt(reason: string): void {
    this.halted ??= reason;
  }

  /** Sends a command to its concert's actor and waits for the outcome; rejects with a GuichetError. */
  execute(concert: string, command: ConcertCommand): Promise<Outcome> {
    const actor = this.actors.get(concert);
    if (!actor) return Promise.reject(new GuichetError('NO_SUCH_CONCERT', `no concert ${concert}`));
    if (this.halted !== undefined) {
      return Promise.reject(new GuichetError('UNAVAILABLE', 'the event log is not in a state this gateway can trust; an operator has been told'));
    }
    if (!this.available) {
      return Promise.reject(new GuichetError('UNAVAILABLE', 'the event store is not reachable; try again shortly'));
    }
    const timeoutMs = this.options.commandTimeoutMs ?? 10_000;
    return new Promise<Outcome>((resolve, reject) => {
      actor.send({ type: 'command', request: { command, deadline: this.now() + timeoutMs, resolve, reject } });
    });
  }

  concert(id: string): Concert | undefined {
    return this.catalog.find((c) => c.id === id);
  }

  layout(concert: string): Layout | undefined {
    return this.layouts.get(concert);
  }

  state(concert: string): ConcertState | undefined {
    return this.states.get(concert);
  }

  /** The concert of a live booking, if this gateway knows it. */
  concertOfReference(reference: string): string | undefined {
    return this.references.get(reference);
  }

  /** Whether a reference was ever issued (live or cancelled), as far as this gateway has seen. */
  isReferenceTaken = (reference: string): boolean => {
    if (this.references.has(reference)) return true;
    for (const cancelled of this.cancelledReferences.values()) if (cancelled.has(reference)) return true;
    return false;
  };

  /** Listens to every event applied, in stream order per concert. Returns the unsubscribe. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * How far this gateway knows the log goes: what its follower delivered, and its own appends
   * once acknowledged, which the follower may not have delivered yet (a gateway that stops
   * right after its last booking must not leave a mark short of it: a log restored without
   * that booking would then pass for whole).
   */
  get streamPosition(): number {
    return Math.max(this.position, this.highestApplied);
  }

  private spawn(concert: Concert): void {
    const state = initialState(concert.id, concert.capacity);
    this.states.set(concert.id, state);
    const { store } = this.options;
    const ports: ConcertPorts = {
      append: (events, expectedLastSeq) =>
        store.appendBatch(events, { expectedLastSeq, timeoutMs: this.options.appendTimeoutMs ?? 2_000 }),
      readAfter: (id, afterSeq, untilSeq) => store.readConcert(id, afterSeq, { untilSeq }),
      applied: (event, next) => this.applied(event, next),
      now: this.now,
      newId,
      source: this.options.source,
    };
    const actor = createActor(concertMachine, { input: { state, rules: this.rules, ports, batching: this.batching } });
    actor.subscribe({ error: (err) => console.error(`concert ${concert.id} actor failed:`, err) });
    actor.start();
    this.actors.set(concert.id, actor);
  }

  /** Keeps the reference index (reference → concert) in step with the bookings. */
  private index(event: StoredEvent): void {
    if (event.type === 'SeatBooked') this.references.set(event.data.reference, event.concert);
    if (event.type === 'BookingCancelled') {
      this.references.delete(event.data.reference);
      let cancelled = this.cancelledReferences.get(event.concert);
      if (!cancelled) this.cancelledReferences.set(event.concert, (cancelled = new Set()));
      cancelled.add(event.data.reference);
    }
  }

  private applied(event: StoredEvent, state: ConcertState): void {
    this.states.set(event.concert, state);
    this.lastApplied.set(event.concert, { seq: event.seq, id: event.id });
    if (event.seq > this.highestApplied) this.highestApplied = event.seq;
    this.index(event);
    for (const listener of this.listeners) {
      try {
        listener(event, state);
      } catch (err) {
        console.error('event listener failed:', err);
      }
    }
  }
}
