/**
 * The start-up replay: every concert's state rebuilt from the log (after its snapshot, when it
 * has a usable one), then handed to its actor at the very point the live stream takes over.
 *
 * The fold is done here, in place on seat arrays private to the replay (several times faster
 * than sending each event to its machine, and no copy of the seats per event). The states are
 * handed over in the same callback that delivered the last replayed event: an event that comes
 * after it goes to an actor that is already loaded, so none can slip in between.
 */
import type { StoredEvent } from '../events/envelope.js';
import type { EventStore, Following } from '../events/store.js';
import type { Concert } from '../catalog.js';
import { evolveInPlace, initialState, stateOfSeats, type ConcertState, type Seat } from './concert.js';
import type { ConcertSnapshot } from './snapshot.js';

/** A concert's state at the end of the replay, and the last event folded into it (0 and '' for none). */
export interface Replayed {
  readonly state: ConcertState;
  readonly lastSeq: number;
  readonly lastId: string;
}

/** One concert during the replay: its seats, the last event folded in, and what its snapshot covers. */
interface Folding {
  seats: Seat[];
  lastSeq: number;
  lastId: string;
  skipThrough: number;
}

/** The fold of the start-up replay, per concert, from its snapshot or its initial state. */
export class ReplayFold {
  private readonly concerts: Map<string, Folding>;

  constructor(catalog: readonly Concert[], snapshots: ReadonlyMap<string, ConcertSnapshot>) {
    this.concerts = new Map(
      catalog.map((c) => {
        const snapshot = snapshots.get(c.id);
        return [
          c.id,
          snapshot
            ? { seats: [...snapshot.state.seats], lastSeq: snapshot.lastSeq, lastId: snapshot.lastEventId, skipThrough: snapshot.throughSeq }
            : { seats: [...initialState(c.id, c.capacity).seats], lastSeq: 0, lastId: '', skipThrough: 0 },
        ];
      }),
    );
  }

  /**
   * Where the replay begins: after the lowest point the concerts start from (a concert
   * without a snapshot starts from the beginning), and never past the end of the log.
   */
  fromSeq(untilSeq: number): number {
    return Math.min(untilSeq, ...[...this.concerts.values()].map((c) => c.skipThrough)) + 1;
  }

  /**
   * Folds an event into its concert's seats, unless its concert is not in the catalog or it is
   * already in the state (at or below the concert's last event, or what its snapshot covers).
   * Returns whether it was folded.
   */
  fold(event: StoredEvent): boolean {
    const folding = this.concerts.get(event.concert);
    if (!folding || event.seq <= folding.lastSeq || event.seq <= folding.skipThrough) return false;
    evolveInPlace(folding.seats, event);
    folding.lastSeq = event.seq;
    folding.lastId = event.id;
    return true;
  }

  /** Every concert's state as folded so far. The seat arrays pass to the states: fold no more after this. */
  finish(): Map<string, Replayed> {
    const replayed = new Map<string, Replayed>();
    for (const [id, { seats, lastSeq, lastId }] of this.concerts) replayed.set(id, { state: stateOfSeats(id, seats), lastSeq, lastId });
    return replayed;
  }
}

export interface ReplayHandlers {
  /** An event the replay folded into its concert's state. */
  onFolded(event: StoredEvent): void;
  /** The replay is over: every concert's state, given once, before any live event. */
  onLoaded(replayed: Map<string, Replayed>): void;
  /** An event after the replay, for its concert's actor. */
  onLive(event: StoredEvent): void;
  /** After the replay: a message of `subject` at `seq` the actors have already (not decoded). */
  skipLive?(subject: string, seq: number): boolean;
  /** The consumer's position in the stream, replayed or live. */
  onPosition(seq: number): void;
  onInvalid?: (seq: number, error: Error) => void;
  /** Progress of the replay: events read so far and the sequence it reads up to. */
  onProgress?: (seq: number, untilSeq: number) => void;
}

export interface StartupReplay {
  readonly following: Following;
  readonly fromSeq: number;
  /** Resolves once the states are handed over; rejects if the stream closes before. */
  readonly loaded: Promise<void>;
  /** Events delivered so far, replayed or live. */
  readonly events: number;
}

/**
 * Follows the log from where the fold begins: events up to `untilSeq` (the end of the log when
 * the gateway started) are folded, then the states are handed over and later events go live.
 */
export async function replayThenFollow(store: EventStore, fold: ReplayFold, untilSeq: number, handlers: ReplayHandlers): Promise<StartupReplay> {
  const fromSeq = fold.fromSeq(untilSeq);
  let loading = true;
  let events = 0;
  let loaded!: () => void;
  const caughtUp = new Promise<void>((resolve) => (loaded = resolve));
  const finishLoading = () => {
    if (!loading) return;
    loading = false;
    handlers.onLoaded(fold.finish());
    loaded();
  };
  if (fromSeq > untilSeq) finishLoading();
  const following = await store.follow({
    fromSeq,
    onEvent: (event) => {
      events++;
      if (!loading) handlers.onLive(event);
      else if (fold.fold(event)) handlers.onFolded(event);
    },
    onInvalid: (seq, err) => handlers.onInvalid?.(seq, err),
    ...(handlers.skipLive ? { skip: (subject: string, seq: number) => !loading && handlers.skipLive!(subject, seq) } : {}),
    onPosition: (seq) => {
      handlers.onPosition(seq);
      if (seq <= untilSeq) handlers.onProgress?.(seq, untilSeq);
      if (seq >= untilSeq) finishLoading();
    },
  });
  return {
    following,
    fromSeq,
    loaded: Promise.race([
      caughtUp,
      following.closed.then(() => {
        throw new Error('the event stream closed during start-up');
      }),
    ]),
    get events() {
      return events;
    },
  };
}
