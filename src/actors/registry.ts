/**
 * One actor per concert, fed by one ordered consumer over the whole stream: the registry
 * spawns the actors, routes commands to them, and tells listeners about every event once it
 * is applied. It wires three helpers: the start-up replay (src/actors/replay.ts), the
 * snapshots it starts from and writes (src/actors/snapshotting.ts) and the reference index
 * (src/actors/reference-index.ts). After the replay it keeps following the log live (events
 * written by other gateways arrive here too).
 */
import { createActor, type Actor } from 'xstate';
import { newId } from '../ids.js';
import { GuichetError } from '../errors.js';
import type { StoredEvent } from '../events/envelope.js';
import type { EventStore, Following } from '../events/store.js';
import { SUBJECT_PREFIX } from '../events/subjects.js';
import { layoutOfConcert, type Concert } from '../catalog.js';
import type { Layout } from '../layout.js';
import { DEFAULT_RULES, initialState, type ConcertCommand, type ConcertRules, type ConcertState } from './concert.js';
import { concertMachine, type ConcertPorts, type Outcome, type Request } from './machine.js';
import { MeasuredBatching, type BatchPolicy } from './batching.js';
import { ReferenceIndex } from './reference-index.js';
import { ReplayFold, replayThenFollow, type Replayed } from './replay.js';
import { Snapshotting, type SnapshotOptions } from './snapshotting.js';
import { Forwarding, NoSuchGateway } from './forwarding.js';
import { TurnBatches } from '../turn-batches.js';
import type { ForwardLink } from '../events/forward-link.js';

export type EventListener = (event: StoredEvent, state: ConcertState) => void;

/** Who decides for each concert (src/actors/ownership.ts). */
export interface ConcertOwners {
  /** The deciding gateway's id; undefined when none is known (this gateway then decides). */
  ownerOf(concert: string): string | undefined;
  /** Whether this gateway writes the concert's expiry releases (it owns it, or nobody does). */
  decidesFor(concert: string): boolean;
}

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
  snapshots?: SnapshotOptions;
  /**
   * Concert ownership: commands of a concert another gateway owns are forwarded to it over
   * `link`, and this gateway answers those forwarded to it (absent: every command is decided here).
   */
  owners?: ConcertOwners;
  link?: ForwardLink;
}

/** What start-up did: events replayed, from where, and the snapshots it started from. */
export interface StartupReport {
  events: number;
  fromSeq: number;
  untilSeq: number;
  snapshots: { used: number; ignored: string[] };
}

/**
 * How many of the last events other gateways wrote are kept at hand, for the answers of
 * forwarded commands (the owner's answer names them; they usually arrived through the stream a
 * moment before it). Missed, the answer is read from the state instead. About 1 MB at most.
 */
const RECENT_EVENTS = 2_048;

/**
 * The most commands of one concert handed to its actor at once. Their screening costs a few µs
 * each and one hand-over a few tens: 256 keeps that a small share, and lets the first
 * answers of a 10,000-client rush go out after about 10 ms of reading, not 400.
 */
const COMMANDS_PER_HAND_OVER = 256;

/** A replay longer than this many events is followed at once by fresh snapshots. */
const SNAPSHOT_AFTER_REPLAY_OF = 10_000;

export class Registry {
  readonly catalog: readonly Concert[];
  readonly rules: ConcertRules;
  private readonly actors = new Map<string, Actor<typeof concertMachine>>();
  /** Each concert's rows and labels, made once from the catalog. */
  private readonly layouts: Map<string, Layout>;
  private readonly states = new Map<string, ConcertState>();
  private readonly references = new ReferenceIndex();
  private readonly snapshots: Snapshotting;
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
  /** Per concert, the last stream sequence its state includes. */
  private readonly appliedSeqs = new Map<string, number>();
  /** Forwarded commands' answers waiting for this gateway's state to include their events. */
  private readonly waiters = new Map<string, Array<{ seq: number; resolve: () => void }>>();
  private readonly forwarding?: Forwarding;
  /** The last events other gateways wrote, by stream sequence modulo its length (forwarded answers name theirs). */
  private readonly recent: (StoredEvent | undefined)[] = new Array(RECENT_EVENTS);
  /** Live events delivered this turn, per concert, on their way to its actor. */
  private readonly delivering = new TurnBatches<string, StoredEvent>((concert, events) =>
    this.actors.get(concert)?.send({ type: 'stream.events', events }),
  );
  /**
   * Commands received this turn for a busy actor, per concert, on their way to it: at the
   * turn's end, or as soon as COMMANDS_PER_HAND_OVER wait (so that a rush's first commands are
   * answered while the rest are still being read).
   */
  private readonly commanding = new TurnBatches<string, Request>((concert, requests) => {
    const actor = this.actors.get(concert);
    if (requests.length === 1) actor?.send({ type: 'command', request: requests[0]! });
    else actor?.send({ type: 'commands', requests });
  }, COMMANDS_PER_HAND_OVER);

  constructor(private readonly options: RegistryOptions) {
    this.catalog = options.catalog;
    this.layouts = new Map(options.catalog.map((c) => [c.id, layoutOfConcert(c)]));
    this.rules = { ...DEFAULT_RULES, ...options.rules };
    this.now = options.now ?? Date.now;
    this.batching = options.batching ?? new MeasuredBatching();
    this.snapshots = new Snapshotting(options.catalog, options.store, options.snapshots, {
      state: (concert) => this.states.get(concert)!,
      cancelledReferences: (concert) => this.references.cancelledOf(concert),
      position: () => this.position,
    });
    if (options.link) {
      this.forwarding = new Forwarding(options.link, options.source, {
        executeHere: (concert, command, deadline, rules) => this.executeHere(concert, command, deadline, rules),
        appliedSeq: (concert) => this.appliedSeqs.get(concert) ?? 0,
        recentEvents: (first, last) => this.recentEvents(first, last),
        appliedThrough: (concert, seq, deadline) => this.appliedThrough(concert, seq, deadline),
        layout: (concert) => this.layouts.get(concert),
        now: this.now,
      });
    }
  }

  /**
   * Replays the log, then follows it live. Resolves when every actor is ready.
   *
   * Each concert starts from its snapshot when it has a usable one, else from its initial
   * state; the replay begins after the lowest point the concerts start from, and skips, for
   * each concert, the events its snapshot already covers (src/actors/replay.ts).
   */
  async start(): Promise<StartupReport> {
    for (const concert of this.catalog) this.spawn(concert);
    const { usable, ignored, untilSeq } = await this.snapshots.load();
    for (const snapshot of usable.values()) this.references.seed(snapshot);
    const replay = await replayThenFollow(this.options.store, new ReplayFold(this.catalog, usable), untilSeq, {
      onFolded: (event) => this.references.note(event),
      onLoaded: (replayed) => this.loaded(replayed),
      onLive: (event) => {
        this.snapshots.delivered(event.concert, event.seq);
        this.toActor(event);
      },
      // This gateway's own appends come back from the stream: applied already at their acknowledgement.
      skipLive: (subject, seq) => seq <= (this.appliedSeqs.get(subject.slice(SUBJECT_PREFIX.length + 1)) ?? 0),
      onPosition: (seq) => (this.position = seq),
      onInvalid: this.options.onInvalidEvent,
      onProgress: this.options.onReplayProgress,
    });
    this.following = replay.following;
    this.position = Math.max(this.position, replay.fromSeq - 1);
    await replay.loaded;
    this.snapshots.schedule(replay.events >= SNAPSHOT_AFTER_REPLAY_OF, () => this.available);
    this.forwarding?.serve();
    return { events: replay.events, fromSeq: replay.fromSeq, untilSeq, snapshots: { used: usable.size, ignored } };
  }

  /**
   * Live events reach their actor in batches: those the follower delivers in one turn of the
   * event loop are applied together (one transition, one fold, one look at the next expiry),
   * not one by one. A gateway that forwards a hot concert's commands hears all of its events
   * from the stream, and one transition per event was a fifth of its CPU.
   */
  private toActor(event: StoredEvent): void {
    this.delivering.add(event.concert, event);
  }

  /** Hands each actor its replayed state. */
  private loaded(replayed: Map<string, Replayed>): void {
    for (const [id, actor] of this.actors) {
      const { state, lastSeq, lastId } = replayed.get(id)!;
      this.states.set(id, state);
      this.appliedSeqs.set(id, lastSeq);
      if (lastSeq > 0) this.snapshots.applied(id, lastSeq, lastId);
      actor.send({ type: 'loaded', state, lastSeq });
    }
  }

  /** Writes a snapshot of each concert whose snapshot would cover more of the log than its last. */
  writeSnapshots(): Promise<void> {
    return this.snapshots.write();
  }

  async stop(): Promise<void> {
    await this.forwarding?.stop();
    await this.snapshots.stop(this.following !== undefined && this.available);
    await this.following?.stop();
    this.commanding.flush(); // commands of this turn are in the actors' hands, not dropped
    for (const actor of this.actors.values()) actor.stop();
  }

  /** The store is reachable or not (from the NATS connection's status); when not, commands fail fast. */
  setAvailable(available: boolean): void {
    this.available = available;
  }

  get isAvailable(): boolean {
    return this.available && this.halted === undefined;
  }

  /** Why writes stopped for good (the readiness probe says it), or undefined. */
  get haltReason(): string | undefined {
    return this.halted;
  }

  /** The follower's own position in the stream, without this gateway's acknowledged appends: how far it has read (the lag metric). */
  get followerPosition(): number {
    return this.position;
  }

  /**
   * The log's stream vanished or changed under this gateway: from now on every command is
   * answered UNAVAILABLE, until an operator has looked and restarted the gateway.
   */
  halt(reason: string): void {
    this.halted ??= reason;
  }

  /**
   * Has the command decided, by this gateway's actor or, when another gateway owns the concert,
   * by that one's, and waits for the outcome; rejects with a GuichetError.
   */
  async execute(concert: string, command: ConcertCommand): Promise<Outcome> {
    const deadline = this.now() + (this.options.commandTimeoutMs ?? 10_000);
    const owner = this.forwarding && this.options.owners?.ownerOf(concert);
    if (owner === undefined || owner === this.options.source || !this.actors.has(concert) || !this.isAvailable) {
      return this.executeHere(concert, command, deadline);
    }
    try {
      return await this.forwarding!.forward(owner, concert, command, deadline, this.rules);
    } catch (err) {
      // The owner is gone (nobody listens for it): nothing was run there, so decide here. The
      // expected sequence keeps this safe even if it still runs somewhere.
      if (err instanceof NoSuchGateway) return this.executeHere(concert, command, deadline);
      throw err;
    }
  }

  /** Sends a command to this gateway's actor for the concert and waits for the outcome. */
  private executeHere(concert: string, command: ConcertCommand, deadline: number, rules?: ConcertRules): Promise<Outcome> {
    const actor = this.actors.get(concert);
    if (!actor) return Promise.reject(new GuichetError('NO_SUCH_CONCERT', `no concert ${concert}`));
    if (this.halted !== undefined) {
      return Promise.reject(new GuichetError('UNAVAILABLE', 'the event log is not in a state this gateway can trust; an operator has been told'));
    }
    if (!this.available) {
      return Promise.reject(new GuichetError('UNAVAILABLE', 'the event store is not reachable; try again shortly'));
    }
    // Literals, not a spread with more fields (V8's slow path; see storedAt in envelope.ts).
    return new Promise<Outcome>((resolve, reject) =>
      this.toActorCommand(concert, rules ? { command, deadline, resolve, reject, rules } : { command, deadline, resolve, reject }),
    );
  }

  /**
   * Commands reach their actor in batches, like live events: those received in one turn of the
   * event loop go as one `commands` message (screened and queued one by one, in order), not a
   * transition each. On a hot concert a turn brings tens of them, and the machine's transition
   * (its snapshot, its guards, its expiry timer) cost more than screening a command.
   */
  private toActorCommand(concert: string, request: Request): void {
    // An idle actor takes it at once: a lone client's command is not held back a turn (those
    // that follow in this turn would wait for its append anyway, and go together).
    const actor = this.actors.get(concert);
    if (!this.commanding.has(concert) && actor?.getSnapshot().value === 'ready') actor.send({ type: 'command', request });
    else this.commanding.add(concert, request);
  }

  /**
   * The concert's state once it includes stream sequence `seq`; UNAVAILABLE if it does not by
   * `deadline` (the follower is behind: the decision was taken, this gateway cannot show it yet).
   */
  private appliedThrough(concert: string, seq: number, deadline: number): Promise<ConcertState> {
    const state = () => this.states.get(concert)!;
    if ((this.appliedSeqs.get(concert) ?? 0) >= seq) return Promise.resolve(state());
    return new Promise((resolve, reject) => {
      const waiting = this.waiters.get(concert) ?? [];
      this.waiters.set(concert, waiting);
      const waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve(state());
        },
      };
      const timer = setTimeout(() => {
        const i = waiting.indexOf(waiter);
        if (i >= 0) waiting.splice(i, 1);
        reject(new GuichetError('UNAVAILABLE', 'this gateway has not yet heard the decision from the event log; try again'));
      }, Math.max(0, deadline - this.now()));
      waiting.push(waiter);
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
    return this.references.concertOf(reference);
  }

  /** Whether a reference was ever issued (live or cancelled), as far as this gateway has seen. */
  isReferenceTaken = (reference: string): boolean => this.references.isTaken(reference);

  /** The applied events at stream sequences `first` through `last`, if all are still at hand. */
  private recentEvents(first: number, last: number): StoredEvent[] | undefined {
    if (last - first >= RECENT_EVENTS) return undefined;
    const events: StoredEvent[] = [];
    for (let seq = first; seq <= last; seq++) {
      const e = this.recent[seq % RECENT_EVENTS];
      if (e?.seq !== seq) return undefined;
      events.push(e);
    }
    return events;
  }

  /** A gateway is gone (its presence ran out): commands forwarded to it are answered UNAVAILABLE now. */
  gatewayGone(gateway: string): void {
    this.forwarding?.gatewayGone(gateway);
  }

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
      appendsInFlight: () => store.appendsInFlight,
      decidesExpiry: () => this.options.owners?.decidesFor(concert.id) ?? true,
      now: this.now,
      newId,
      source: this.options.source,
    };
    const actor = createActor(concertMachine, { input: { state, rules: this.rules, ports, batching: this.batching } });
    actor.subscribe({ error: (err) => console.error(`concert ${concert.id} actor failed:`, err) });
    actor.start();
    this.actors.set(concert.id, actor);
  }

  private applied(event: StoredEvent, state: ConcertState): void {
    this.states.set(event.concert, state);
    this.appliedSeqs.set(event.concert, event.seq);
    // Only others' events: an answer this gateway forwarded names events its owner wrote.
    if (event.source !== this.options.source) this.recent[event.seq % RECENT_EVENTS] = event;
    const waiting = this.waiters.get(event.concert);
    if (waiting && waiting.length > 0) {
      const ready = waiting.filter((w) => w.seq <= event.seq);
      if (ready.length > 0) {
        this.waiters.set(event.concert, waiting.filter((w) => w.seq > event.seq));
        for (const w of ready) w.resolve();
      }
    }
    this.snapshots.applied(event.concert, event.seq, event.id);
    if (event.seq > this.highestApplied) this.highestApplied = event.seq;
    this.references.note(event);
    for (const listener of this.listeners) {
      try {
        listener(event, state);
      } catch (err) {
        console.error('event listener failed:', err);
      }
    }
  }
}
