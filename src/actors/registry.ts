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
import type { Concert } from '../catalog.js';
import { DEFAULT_RULES, evolveInPlace, initialState, type ConcertCommand, type ConcertRules, type ConcertState, type Seat } from './concert.js';
import { concertMachine, type ConcertPorts, type Outcome } from './machine.js';

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
}

export class Registry {
  readonly catalog: readonly Concert[];
  readonly rules: ConcertRules;
  private readonly actors = new Map<string, Actor<typeof concertMachine>>();
  private readonly states = new Map<string, ConcertState>();
  /** Reference → concert, for every live booking this gateway knows. */
  private readonly references = new Map<string, string>();
  private readonly listeners = new Set<EventListener>();
  private following?: Following;
  private readonly now: () => number;
  /** Highest stream sequence seen by the follower. */
  private position = 0;
  private available = true;

  constructor(private readonly options: RegistryOptions) {
    this.catalog = options.catalog;
    this.rules = { ...DEFAULT_RULES, ...options.rules };
    this.now = options.now ?? Date.now;
  }

  /**
   * Replays the log, then follows it live. Resolves when every actor is ready.
   *
   * During the replay the registry folds events itself, in place on arrays it owns (several
   * times faster than sending each to its machine, and no copy of the seats per event), and
   * hands each actor its state at the end, in
   * the same callback that delivered the last replayed event: an event that comes after it
   * is sent to an actor that is already loaded.
   */
  async start(): Promise<{ events: number; untilSeq: number }> {
    const { store } = this.options;
    for (const concert of this.catalog) this.spawn(concert);
    const untilSeq = (await store.position()).lastSeq;
    // Each concert's seats during the replay: arrays private to it, folded in place.
    const replayed = new Map<string, { seats: Seat[]; lastSeq: number }>(
      this.catalog.map((c) => [c.id, { seats: [...this.states.get(c.id)!.seats], lastSeq: 0 }]),
    );
    let loading = true;
    let events = 0;
    let loaded!: () => void;
    const caughtUp = new Promise<void>((resolve) => (loaded = resolve));
    const finishLoading = () => {
      if (!loading) return;
      loading = false;
      for (const [id, actor] of this.actors) {
        const { seats, lastSeq } = replayed.get(id)!;
        const state: ConcertState = { ...this.states.get(id)!, seats };
        this.states.set(id, state);
        actor.send({ type: 'loaded', state, lastSeq });
      }
      loaded();
    };
    if (untilSeq === 0) finishLoading();
    this.following = await store.follow({
      onEvent: (event) => {
        events++;
        if (!loading) {
          this.actors.get(event.concert)?.send({ type: 'stream.event', event });
          return;
        }
        const folded = replayed.get(event.concert);
        if (!folded || event.seq <= folded.lastSeq) return;
        evolveInPlace(folded.seats, event);
        folded.lastSeq = event.seq;
        this.index(event);
      },
      onInvalid: (seq, err) => this.options.onInvalidEvent?.(seq, err),
      onPosition: (seq) => {
        this.position = seq;
        if (seq <= untilSeq) this.options.onReplayProgress?.(seq, untilSeq);
        if (seq >= untilSeq) finishLoading();
      },
    });
    await Promise.race([
      caughtUp,
      this.following.closed.then(() => {
        throw new Error('the event stream closed during start-up');
      }),
    ]);
    return { events, untilSeq };
  }

  async stop(): Promise<void> {
    await this.following?.stop();
    for (const actor of this.actors.values()) actor.stop();
  }

  /** The store is reachable or not (from the NATS connection's status); when not, commands fail fast. */
  setAvailable(available: boolean): void {
    this.available = available;
  }

  get isAvailable(): boolean {
    return this.available;
  }

  /** Sends a command to its concert's actor and waits for the outcome; rejects with a GuichetError. */
  execute(concert: string, command: ConcertCommand): Promise<Outcome> {
    const actor = this.actors.get(concert);
    if (!actor) return Promise.reject(new GuichetError('NO_SUCH_CONCERT', `no concert ${concert}`));
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

  state(concert: string): ConcertState | undefined {
    return this.states.get(concert);
  }

  /** The concert of a live booking, if this gateway knows it. */
  concertOfReference(reference: string): string | undefined {
    return this.references.get(reference);
  }

  isReferenceTaken = (reference: string): boolean => this.references.has(reference);

  /** Listens to every event applied, in stream order per concert. Returns the unsubscribe. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get streamPosition(): number {
    return this.position;
  }

  private spawn(concert: Concert): void {
    const state = initialState(concert.id, concert.capacity);
    this.states.set(concert.id, state);
    const { store } = this.options;
    const ports: ConcertPorts = {
      append: (event, expectedLastSeq) =>
        store.append(event, { expectedLastSeq, timeoutMs: this.options.appendTimeoutMs ?? 2_000 }),
      readAfter: (id, afterSeq, untilSeq) => store.readConcert(id, afterSeq, { untilSeq }),
      applied: (event, next) => this.applied(event, next),
      now: this.now,
      newId,
      source: this.options.source,
    };
    const actor = createActor(concertMachine, { input: { state, rules: this.rules, ports } });
    actor.subscribe({ error: (err) => console.error(`concert ${concert.id} actor failed:`, err) });
    actor.start();
    this.actors.set(concert.id, actor);
  }

  /** Keeps the reference index (reference → concert) in step with the bookings. */
  private index(event: StoredEvent): void {
    if (event.type === 'SeatBooked') this.references.set(event.data.reference, event.concert);
    if (event.type === 'BookingCancelled') this.references.delete(event.data.reference);
  }

  private applied(event: StoredEvent, state: ConcertState): void {
    this.states.set(event.concert, state);
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
