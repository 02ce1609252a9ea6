/**
 * The concert actor: an xstate machine that decides commands one at a time and commits their
 * events with one append in flight, grouping the decisions that waited (group commit).
 *
 *   loading ──loaded──▶ ready ──mail, decided──▶ appending ──stored──▶ ready
 *                         ▲  ▲                     │  │  ▲
 *                         │  └───none to write─────┘  │  │ caught up: decided again
 *                         │                   conflict│  │
 *                         └──────mine stored─────── catchingUp
 *
 * On its way to `appending` it takes the next command, or, when several wait and a batch is
 * worth it (batching.ts), as many as the batch policy says: it decides them in order, each
 * against the state the previous ones leave (a draft, not the state), and commits all their events in
 * `appending` as one atomic batch with the concert's expected sequence. Each command of the
 * group is answered once the batch is stored, with the state after the batch. On a
 * conflict (another gateway wrote first) the actor catches up and decides the whole group
 * again; a batch refused otherwise stores nothing, and every command of it is answered
 * UNAVAILABLE. A command the stored state refuses (or one with nothing to write, or past its
 * deadline, before the group has any event) is answered at once: it did not depend on the
 * group.
 *
 * Commands that arrive while it is busy wait in `mailbox`, in order, unless the current
 * state already refuses them: those are answered at once (see `screenOrEnqueue`), as is a
 * HOLD of seats that the group in flight takes (SEAT_TAKEN: they are being held; see
 * `takenInFlight`). An idle actor answers a command its state refuses without leaving
 * `ready`. Events read
 * from the stream (this gateway's and other gateways') are applied in any state; each is
 * applied once, by stream sequence. The rules themselves are in concert.ts; this file only
 * sequences them with I/O.
 */
import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import { GuichetError, toGuichetError } from '../errors.js';
import type { EventEnvelope, StoredEvent } from '../events/envelope.js';
import { EVENT_VERSION, storedAt } from '../events/envelope.js';
import { AppendConflict, MAX_BATCH_EVENTS } from '../events/store.js';
import { MeasuredBatching, type BatchPolicy } from './batching.js';
import { decide, evolveAll, nextExpiry, type ConcertCommand, type ConcertRules, type ConcertState } from './concert.js';

/**
 * What a command led to: the events it stored (none for a no-op) and the state after the
 * append that stored them (for a command committed in a group: after the whole batch). A
 * later command of the same batch could touch its seats only by naming them with this answer
 * (a hold id, a reference), or as the release of a connection that closed, which reads none.
 */
export interface Outcome {
  events: StoredEvent[];
  state: ConcertState;
}

export interface Request {
  command: ConcertCommand;
  /**
   * The rules to decide it by, when not the actor's: a command forwarded from another gateway
   * is decided by the rules that gateway told its client in HELLO (hold time, seats per holder).
   */
  rules?: ConcertRules;
  /** Wall-clock time (ms) after which the caller has given up: it is answered UNAVAILABLE. */
  deadline: number;
  resolve: (outcome: Outcome) => void;
  reject: (error: GuichetError) => void;
}

/** The I/O an actor needs, given by its registry. */
export interface ConcertPorts {
  /**
   * Stores the events (one or more, of this concert) all or none, with consecutive sequences,
   * if the concert is still at `expectedLastSeq`; resolves with the last one's sequence and
   * throws AppendConflict when another writer got there first.
   */
  append(events: readonly EventEnvelope[], expectedLastSeq: number): Promise<number>;
  /** Events of this concert after `afterSeq`, up to `untilSeq` when known, else the last one now. */
  readAfter(concert: string, afterSeq: number, untilSeq?: number): Promise<StoredEvent[]>;
  /** Called once for every event applied to the state, in stream order. */
  applied(event: StoredEvent, state: ConcertState): void;
  /** Appends of this gateway (every concert's) in flight now: the crowd an append meets (absent: 0). */
  appendsInFlight?(): number;
  /**
   * Whether this actor writes the releases of expired holds (absent: yes). Only a concert's
   * owner does, so that gateways do not race for them; an expired hold counts as free anyway.
   */
  decidesExpiry?(): boolean;
  now(): number;
  newId(): string;
  /** Id of this gateway, written as each event's `source`. */
  source: string;
}

export interface ConcertInput {
  state: ConcertState;
  rules: ConcertRules;
  ports: ConcertPorts;
  /** When to group waiting commands into one batch (default: measured, see batching.ts). */
  batching?: BatchPolicy;
}

/** One command of the group being committed, and what deciding it gave. */
interface Member {
  request: Request;
  /** Its events (none: a no-op, or refused). */
  events: EventEnvelope[];
  refusal?: GuichetError;
}

interface ConcertContext extends ConcertInput {
  batching: BatchPolicy;
  /** Stream sequence of the last event applied (0: none): the expected sequence of the next append. */
  lastSeq: number;
  mailbox: Request[];
  /** The commands decided together, in order, waiting for their events to be stored. */
  group: Member[];
  /** All the group's events, in order: one append. */
  pending: EventEnvelope[];
  /**
   * The group's events seen in the log while its append was in flight or being caught up (from
   * the stream, or a catch-up read): an append whose acknowledgement was lost (a timeout, the
   * gateway paused) may be stored although it ends in a conflict or an error. Then the group is
   * answered from these, never decided again: decided again after its hold had run out, a HOLD
   * was stored twice under one hold id (the owner-freeze fault test).
   */
  seenStored: StoredEvent[];
  /** Conflicts met by the current group: bounded, so a pathological race cannot spin for ever. */
  conflicts: number;
  /** The subject's last sequence as the refused append reported it: where catching up ends. */
  conflictSeq?: number;
  /** No expiry release before this time (ms): backs off while the store is failing. */
  expiryBackoffUntil: number;
  /** When the expiry alarm rings (ms; undefined: not set). See `armExpiry`. */
  alarmAt?: number;
}

export type ConcertEvent =
  | { type: 'command'; request: Request }
  /** Several commands, in order (those the registry received in one turn of the event loop). */
  | { type: 'commands'; requests: readonly Request[] }
  | { type: 'stream.event'; event: StoredEvent }
  /** Several events read from the stream, in order (what the follower delivered in one turn). */
  | { type: 'stream.events'; events: readonly StoredEvent[] }
  /** The replay is done: the registry folded the log (faster than event by event here) into `state`. */
  | { type: 'loaded'; state: ConcertState; lastSeq: number }
  /** The append of the group (started on entering `appending`) stored it; its last event is at `lastSeq`. */
  | { type: 'append.stored'; lastSeq: number }
  | { type: 'append.failed'; error: unknown }
  /** The expiry alarm rang: a hold may have run out (see `armExpiry`). */
  | { type: 'expiry.due' };

const MAX_CONFLICTS = 50;
/** The id of the expiry alarm's delayed event. */
const EXPIRY_ALARM = 'expiry';
const EXPIRY_RETRY_MS = 1_000;
/** The longest delay a timer takes (setTimeout's limit is about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Applies stored events unless applied already (one may come from the ack and from the
 * stream), in order, folded into one new state: every listener, and every command of a
 * group, sees the state after all of them.
 */
function applyAll(context: Pick<ConcertContext, 'state' | 'lastSeq' | 'ports'>, events: readonly StoredEvent[]): Pick<ConcertContext, 'state' | 'lastSeq'> {
  const { state: before, ports } = context;
  let lastSeq = context.lastSeq;
  const fresh: StoredEvent[] = [];
  for (const e of events) {
    if (e.seq <= lastSeq || e.concert !== before.concert) continue;
    fresh.push(e);
    lastSeq = e.seq;
  }
  if (fresh.length === 0) return { state: before, lastSeq: context.lastSeq };
  const state = evolveAll(before, fresh);
  for (const e of fresh) ports.applied(e, state);
  return { state, lastSeq };
}

/** The error `decide` gives for a command against this state (default: the current one), if it refuses it. */
function refusalOf(context: ConcertContext, { command, rules }: Request, state = context.state): GuichetError | undefined {
  if (command.type === 'ReleaseExpired') return undefined;
  try {
    decide(state, command, context.ports.now(), rules ?? context.rules);
    return undefined;
  } catch (err) {
    const e = toGuichetError(err);
    return e.code === 'INTERNAL' ? undefined : e;
  }
}

/** The refusals that say a seat asked for is taken: those a hold in flight may give at once. */
const TAKEN_CODES: ReadonlySet<string> = new Set(['SEAT_TAKEN', 'NO_ADJACENT_SEATS']);

/**
 * The group in flight, by its `pending` array: the state it was decided against, and the state
 * it leaves once stored (made when first needed). A HOLD of seats the group takes is refused
 * at once, not kept waiting for the append: in a rush, thousands of them waited for each
 * batch's acknowledgement. The group is valid while no event has been applied since it was
 * decided (the base is the state) and its append has not conflicted (the entry is dropped then).
 */
interface InFlight {
  base: ConcertState;
  draft?: ConcertState;
}
const inFlight = new WeakMap<readonly EventEnvelope[], InFlight>();

/** Whether this refusal of the command is one a hold in flight may give at once: a HOLD whose seats are taken. */
function saysTaken(request: Request, refusal: GuichetError): boolean {
  return request.command.type === 'Hold' && TAKEN_CODES.has(refusal.code);
}

/** SEAT_TAKEN (or NO_ADJACENT_SEATS) for a command that only the group in flight refuses; undefined otherwise. */
function takenInFlight(context: ConcertContext, request: Request, pending: readonly EventEnvelope[] = context.pending): GuichetError | undefined {
  const group = inFlight.get(pending);
  if (!group || group.base !== context.state || request.command.type !== 'Hold') return undefined;
  group.draft ??= evolveAll(group.base, pending);
  const refusal = refusalOf(context, request, group.draft);
  return refusal && saysTaken(request, refusal) ? refusal : undefined;
}

/** The refusal a guard found, for the action of its transition to answer with. */
const refusals = new WeakMap<Request, GuichetError>();

function unavailable(err: unknown): GuichetError {
  const e = toGuichetError(err);
  if (e.code !== 'INTERNAL') return e;
  return new GuichetError('UNAVAILABLE', 'the event store is not reachable; try again', { cause: err });
}

const tooLate = () => new GuichetError('UNAVAILABLE', 'the concert was too busy to answer in time; try again');

/** Of these stored events, those that are the pending group's own (by event id). */
function ownEvents(context: Pick<ConcertContext, 'pending'>, events: readonly StoredEvent[]): StoredEvent[] {
  const { pending } = context;
  if (pending.length === 0 || events.length === 0) return [];
  // Ids are ULIDs made by this gateway for this group: a linear look over a short batch, or a set for a long one.
  const ids = pending.length <= 8 ? undefined : new Set(pending.map((e) => e.id));
  return events.filter((e) => (ids ? ids.has(e.id) : pending.some((p) => p.id === e.id)));
}

/** Answers each command of the group with its own events (in the group's order) and the state after. */
function answerGroup(group: readonly Member[], stored: readonly StoredEvent[], state: ConcertState): void {
  const byId = new Map(stored.map((e) => [e.id, e]));
  for (const member of group) {
    if (member.refusal) member.request.reject(member.refusal);
    else member.request.resolve({ events: member.events.map((e) => byId.get(e.id)!), state });
  }
}

/** No group being committed: what every path that ends one leaves. */
function noGroup(): Pick<ConcertContext, 'group' | 'pending' | 'seenStored'> {
  return { group: [], pending: [], seenStored: [] };
}

/** The events of one append with their sequences: consecutive, the last at `lastSeq`. */
function storedEvents(events: readonly EventEnvelope[], lastSeq: number): StoredEvent[] {
  const first = lastSeq - events.length + 1;
  return events.map((e, i) => storedAt(e, first + i));
}

/**
 * Takes commands off the mailbox and decides them in order, each against the state the
 * previous ones leave: as many as the batch policy says, and no more events than a batch takes.
 * Commands answered at once (see the file's comment) are not members of the group.
 */
function decideGroup(context: ConcertContext): Pick<ConcertContext, 'group' | 'pending' | 'expiryBackoffUntil'> {
  const { mailbox, rules, ports } = context;
  const now = ports.now();
  const expiryBackoffUntil = mailDueExpiries(context, now);
  const at = new Date(now).toISOString();
  const concert = context.state.concert;
  const group: Member[] = [];
  const pending: EventEnvelope[] = [];
  let take = context.batching.groupSize(mailbox.length, ports.appendsInFlight?.() ?? 0);
  /** HOLDs refused by this group's own events (SEAT_TAKEN): a sign that the rest of the mailbox wants its seats too. */
  let takenByGroup = 0;
  /** The state the next decision is taken against: the committed state and the group's events so far. */
  let draft = context.state;
  /** How many of the group's events `draft` has. */
  let folded = 0;
  while (take > 0 && mailbox.length > 0) {
    const request = mailbox[0]!;
    if (now > request.deadline) {
      mailbox.shift();
      request.reject(tooLate());
      continue;
    }
    let decided;
    try {
      decided = decide(draft, request.command, now, request.rules ?? rules);
    } catch (err) {
      mailbox.shift();
      // Refused by the committed state too (or no event comes before it in the group): it
      // does not depend on the group, and is answered now; it takes no place in the group.
      // (A rush's mailbox is thousands of HOLDs screened while the seats were still free: once
      // one batch holds them, the rest are all answered in one pass, not one group at a time.)
      const refusal = pending.length === 0 ? toGuichetError(err) : refusalOf(context, request);
      if (refusal) {
        request.reject(refusal);
        continue;
      }
      const error = toGuichetError(err);
      if (saysTaken(request, error)) {
        // Its seats are taken by this group: refused now, as the ones that come while it is in flight are.
        request.reject(error);
        takenByGroup++;
        continue;
      }
      take--;
      group.push({ request, events: [], refusal: error });
      continue;
    }
    if (pending.length > 0 && pending.length + decided.length > MAX_BATCH_EVENTS) break; // the next group takes it
    mailbox.shift();
    take--;
    if (decided.length === 0 && pending.length === 0) {
      request.resolve({ events: [], state: context.state });
      continue;
    }
    const events = decided.map(
      (event) => ({ id: ports.newId(), v: EVENT_VERSION, concert, at, source: ports.source, type: event.type, data: event.data }) as EventEnvelope,
    );
    group.push({ request, events });
    if (events.length === 0) continue;
    pending.push(...events);
    if (take > 0 && mailbox.length > 0) {
      draft = evolveAll(draft, events);
      folded = pending.length;
    }
  }
  // The draft, when it has every event of the group, is the state the group leaves: not folded again.
  if (pending.length > 0) inFlight.set(pending, folded === pending.length ? { base: context.state, draft } : { base: context.state });
  // A contended group (some HOLDs of its seats were refused by it): the HOLDs left waiting for
  // the next group that it refuses are answered now too, not once its append is stored.
  if (takenByGroup > 0 && mailbox.length > 0) refuseTakenInFlight(context, pending);
  return { group, pending, expiryBackoffUntil };
}

/** Answers, and takes off the mailbox, every HOLD refused by the group `pending` (just decided). */
function refuseTakenInFlight(context: ConcertContext, pending: readonly EventEnvelope[]): void {
  const { mailbox } = context;
  let kept = 0;
  for (const request of mailbox) {
    const refusal = takenInFlight(context, request, pending);
    if (refusal) request.reject(refusal);
    else mailbox[kept++] = request;
  }
  mailbox.length = kept;
}

/** When the next expiry release is due: the earliest hold's end, not before the back-off ends; undefined: no hold. */
function expiryAlarmTime(context: Pick<ConcertContext, 'state' | 'expiryBackoffUntil'>): number | undefined {
  const at = nextExpiry(context.state);
  return at === undefined ? undefined : Math.max(at, context.expiryBackoffUntil);
}

/** The most expired holds released in one group when they are due while commands wait. */
const EXPIRIES_PER_GROUP = 32;

function expiryRequest(): Request {
  return { command: { type: 'ReleaseExpired' }, deadline: Number.POSITIVE_INFINITY, resolve: () => undefined, reject: () => undefined };
}

/**
 * Holds that ran out while commands keep coming: their releases go first into the group being
 * decided (each releases one hold, against the releases before it). The timer of `ready` never
 * fires under a steady load, since `ready` is left at once for the next command: an owner busy
 * with a rush released the holds of a killed gateway's clients 3-4 s late, one per lull.
 * Returns the expiry back-off to keep (set when releases were mailed; cleared once stored).
 */
function mailDueExpiries(context: ConcertContext, now: number): number {
  const { mailbox, ports, expiryBackoffUntil } = context;
  if (now < expiryBackoffUntil || ports.decidesExpiry?.() === false) return expiryBackoffUntil;
  const next = nextExpiry(context.state);
  if (next === undefined || next > now) return expiryBackoffUntil;
  mailbox.unshift(...Array.from({ length: EXPIRIES_PER_GROUP }, expiryRequest));
  return now + EXPIRY_RETRY_MS;
}

export const concertMachine = setup({
  types: {
    context: {} as ConcertContext,
    events: {} as ConcertEvent,
    input: {} as ConcertInput & { lastSeq?: number },
  },
  actors: {
    catchUp: fromPromise<StoredEvent[], { ports: ConcertPorts; concert: string; afterSeq: number; untilSeq?: number }>(({ input }) =>
      input.ports.readAfter(input.concert, input.afterSeq, input.untilSeq),
    ),
  },
  guards: {
    hasMail: ({ context }) => context.mailbox.length > 0,
    nothingToWrite: ({ context }) => context.pending.length === 0,
    isConflict: ({ event }) => event.type === 'append.failed' && event.error instanceof AppendConflict,
    /** Every event of the group is in the log (seen from the stream, or in what was caught up). */
    groupStored: ({ context, event }) => {
      if (context.pending.length === 0) return false;
      const caught = 'output' in event && Array.isArray(event.output) ? ownEvents(context, event.output as StoredEvent[]) : [];
      // Distinct ids: an event may have come both from the stream and from the catch-up.
      return new Set([...context.seenStored, ...caught].map((e) => e.id)).size >= context.pending.length;
    },
    tooManyConflicts: ({ context }) => context.conflicts >= MAX_CONFLICTS,
    /** The command is one the current state refuses (kept for `refuseNow`: decided once). */
    refusedNow: ({ context, event }) => {
      if (event.type !== 'command') return false;
      const refusal = refusalOf(context, event.request);
      if (refusal) refusals.set(event.request, refusal);
      return refusal !== undefined;
    },
    /** A hold has run out and expiry releases are not backing off. */
    expiryDue: ({ context }) => {
      const at = expiryAlarmTime(context);
      return at !== undefined && at <= context.ports.now();
    },
  },
  actions: {
    /**
     * Starts the group's append; its outcome comes back as `append.stored` or `append.failed`.
     * An action, not an invoked promise actor: spawning a child actor per append (its own
     * AbortController, system registration and snapshot) was a fifth of the actor's CPU per
     * command (bench/actor-cpu.ts). There is still exactly one append in flight: the machine
     * leaves `appending` only on its outcome.
     */
    startAppend: ({ context, self }) => {
      const { ports, batching, pending, lastSeq } = context;
      if (pending.length === 0) return; // nothing to write: `appending` is left at once
      const started = performance.now();
      const others = ports.appendsInFlight?.() ?? 0;
      const answer = (event: ConcertEvent) => {
        if (self.getSnapshot().status === 'active') self.send(event);
      };
      ports.append(pending, lastSeq).then(
        (stored) => {
          batching.observe(pending.length, performance.now() - started, others);
          answer({ type: 'append.stored', lastSeq: stored });
        },
        (error: unknown) => answer({ type: 'append.failed', error }),
      );
    },
    applyStreamEvent: assign(({ context, event }) => {
      const events = event.type === 'stream.event' ? [event.event] : event.type === 'stream.events' ? event.events : undefined;
      if (!events) return {};
      const own = ownEvents(context, events);
      const { state, lastSeq } = applyAll(context, events);
      return own.length > 0 ? { state, lastSeq, seenStored: [...context.seenStored, ...own] } : { state, lastSeq };
    }),
    // The mailbox is one array changed in place (push / shift), not copied per command: a
    // rush queues thousands of commands, and copying made that quadratic (29 % of CPU in GC).
    enqueue: ({ context, event }) => {
      if (event.type === 'command') context.mailbox.push(event.request);
      else if (event.type === 'commands') for (const request of event.requests) context.mailbox.push(request);
    },
    /**
     * A command the current state already refuses is answered at once instead of waiting its
     * turn: it is concurrent with whatever is being appended, so ordering it first is a valid
     * history, and in a rush most commands are refusals (SEAT_TAKEN). So is a HOLD of seats the
     * group in flight takes: should that append fail, the seats stay free and the refusal was
     * early, but no seat is ever promised before it is stored. A command the state accepts
     * waits in the mailbox and is decided again when its turn comes.
     */
    screenOrEnqueue: ({ context, event }) => {
      const requests = event.type === 'command' ? [event.request] : event.type === 'commands' ? event.requests : [];
      for (const request of requests) {
        const refusal = refusalOf(context, request) ?? takenInFlight(context, request);
        if (refusal) request.reject(refusal);
        else context.mailbox.push(request);
      }
    },
    /** Answers the command `refusedNow` found refused, with its refusal. */
    refuseNow: ({ context, event }) => {
      if (event.type !== 'command') return;
      const { request } = event;
      request.reject(refusals.get(request) ?? refusalOf(context, request)!);
      refusals.delete(request);
    },
    /**
     * Sets the alarm for the time the earliest hold runs out (or the expiry back-off ends), on
     * entering `ready`, unless it is set to ring by then already: an alarm that rings early finds
     * nothing due and is set again. An idle actor enters `ready` after every command; setting
     * its timer anew each time (xstate's `after`) cost a schedule and a cancel per command.
     */
    armExpiry: enqueueActions(({ context, enqueue }) => {
      const at = expiryAlarmTime(context);
      if (at === undefined || (context.alarmAt !== undefined && context.alarmAt <= at)) return;
      const now = context.ports.now();
      enqueue.cancel(EXPIRY_ALARM);
      enqueue.raise({ type: 'expiry.due' }, { id: EXPIRY_ALARM, delay: Math.min(MAX_TIMER_MS, Math.max(0, at - now)) });
      enqueue.assign({ alarmAt: Math.min(at, now + MAX_TIMER_MS) });
    }),
    alarmRang: assign({ alarmAt: undefined }),
    mailExpiry: assign(({ context }) => {
      // Not this gateway's to write: looked at again in a moment, in case it becomes the owner.
      if (context.ports.decidesExpiry?.() === false) return { expiryBackoffUntil: context.ports.now() + EXPIRY_RETRY_MS };
      context.mailbox.push(expiryRequest());
      return { expiryBackoffUntil: context.ports.now() + EXPIRY_RETRY_MS };
    }),
    decideGroup: assign(({ context }) => decideGroup(context)),
    /**
     * Applies the stored events, answers each command of the group, in order, and ends the
     * group. One assign for all of it, as on every path taken once per append: each assign
     * costs the machine a new snapshot (bench/actor-cpu.ts). Its result is one literal, not a
     * spread with more fields after it (`{ ...next, … }`), which takes V8's slow path: about a
     * microsecond each (see storedAt in envelope.ts).
     */
    applyStoredAndReply: assign(({ context, event }) => {
      if (event.type !== 'append.stored') return {};
      const stored = storedEvents(context.pending, event.lastSeq);
      const { state, lastSeq } = applyAll(context, stored);
      answerGroup(context.group, stored, state);
      return { state, lastSeq, group: [], pending: [], seenStored: [], conflicts: 0, expiryBackoffUntil: 0 };
    }),
    /** The append failed or conflicted, but the log has the group's events: answered from them. */
    replySeenStored: assign(({ context, event }) => {
      const caught = 'output' in event && Array.isArray(event.output) ? (event.output as StoredEvent[]) : [];
      const next = applyAll(context, caught);
      const seen = [...context.seenStored, ...ownEvents(context, caught)];
      answerGroup(context.group, seen, next.state);
      return { ...next, conflicts: 0 };
    }),
    applyCaughtUp: assign(({ context, event }) => {
      if (!('output' in event) || !Array.isArray(event.output)) return {};
      return { ...applyAll(context, event.output as StoredEvent[]), conflicts: context.conflicts + 1 };
    }),
    /** The group goes back to the front of the mailbox, to be decided again against the state caught up. */
    requeueGroup: ({ context }) => {
      context.mailbox.unshift(...context.group.map((m) => m.request));
    },
    replyFailure: ({ context, event }) => {
      const error = unavailable('error' in event ? event.error : event);
      for (const m of context.group) m.request.reject(error);
    },
    /** The group's append conflicted: it is decided again, so its seats refuse nothing meanwhile. */
    forgetInFlight: ({ context }) => {
      inFlight.delete(context.pending);
    },
    replyContention: ({ context }) => {
      const error = new GuichetError('UNAVAILABLE', 'too many concurrent writers on this concert; try again');
      for (const m of context.group) m.request.reject(error);
    },
    noteConflict: assign({
      conflictSeq: ({ event }) => (event.type === 'append.failed' && event.error instanceof AppendConflict ? event.error.lastSeq : undefined),
    }),
    takeLoaded: assign(({ context, event }) =>
      event.type === 'loaded' && event.lastSeq >= context.lastSeq ? { state: event.state, lastSeq: event.lastSeq } : {},
    ),
    clearGroup: assign(noGroup),
    /** The group is over, and so is its run of conflicts. */
    endGroup: assign(() => ({ group: [], pending: [], seenStored: [], conflicts: 0 })),
    allowExpiryNow: assign({ expiryBackoffUntil: 0 }),
  },
}).createMachine({
  id: 'concert',
  initial: 'loading',
  context: ({ input }) => ({
    ...input,
    batching: input.batching ?? new MeasuredBatching(),
    lastSeq: input.lastSeq ?? 0,
    mailbox: [],
    group: [],
    pending: [],
    seenStored: [],
    conflicts: 0,
    expiryBackoffUntil: 0,
  }),
  on: {
    // Rung while busy: `ready` sets it again on the way back.
    'expiry.due': { actions: 'alarmRang' },
    command: { actions: 'screenOrEnqueue' },
    commands: { actions: 'screenOrEnqueue' },
    'stream.event': { actions: 'applyStreamEvent' },
    'stream.events': { actions: 'applyStreamEvent' },
  },
  states: {
    loading: {
      // Not screened: the state is not loaded yet, so its refusals would be wrong.
      on: { loaded: { target: 'ready', actions: 'takeLoaded' }, command: { actions: 'enqueue' }, commands: { actions: 'enqueue' } },
    },
    // Commands are decided on the way from `ready` to `appending` (a transition's actions run
    // before the entry of its target), not in a state of their own: each state the machine
    // passes through is a microstep, and an idle actor takes each command this way.
    ready: {
      entry: 'armExpiry',
      always: { guard: 'hasMail', target: 'appending', actions: 'decideGroup' },
      on: {
        // A command the state refuses is answered without leaving `ready`: in a rush, once the
        // seats are held, each of thousands of HOLDs came alone to an idle actor, and passing
        // through `appending` and back cost it two microsteps, two assigns and the expiry alarm's
        // look. One it accepts is decided on its way to `appending`: decided twice (the guard's
        // decision, then the group's), a few µs.
        command: [
          { guard: 'refusedNow', actions: 'refuseNow' },
          { target: 'appending', actions: ['enqueue', 'decideGroup'] },
        ],
        // Re-entering sets the expiry alarm again from the new state, if it must ring sooner.
        'stream.event': { target: 'ready', reenter: true, actions: 'applyStreamEvent' },
        'stream.events': { target: 'ready', reenter: true, actions: 'applyStreamEvent' },
        'expiry.due': [
          { guard: 'expiryDue', target: 'ready', reenter: true, actions: ['alarmRang', 'mailExpiry'] },
          { target: 'ready', reenter: true, actions: 'alarmRang' },
        ],
      },
    },
    appending: {
      entry: 'startAppend',
      // Every command of the group was answered (refused, nothing to write, too late): no append.
      always: { guard: 'nothingToWrite', target: 'ready', actions: 'endGroup' },
      on: {
        'append.stored': { target: 'ready', actions: 'applyStoredAndReply' },
        'append.failed': [
          { guard: 'groupStored', target: 'ready', actions: ['replySeenStored', 'clearGroup', 'allowExpiryNow'] },
          { guard: 'isConflict', target: 'catchingUp', actions: ['noteConflict', 'forgetInFlight'] },
          { target: 'ready', actions: ['replyFailure', 'endGroup'] },
        ],
      },
    },
    catchingUp: {
      invoke: {
        src: 'catchUp',
        input: ({ context }) => ({
          ports: context.ports,
          concert: context.state.concert,
          afterSeq: context.lastSeq,
          untilSeq: context.conflictSeq,
        }),
        onDone: [
          { guard: 'groupStored', target: 'ready', actions: ['replySeenStored', 'clearGroup', 'allowExpiryNow'] },
          { guard: 'tooManyConflicts', target: 'ready', actions: ['applyCaughtUp', 'replyContention', 'endGroup'] },
          { target: 'appending', actions: ['applyCaughtUp', 'requeueGroup', 'clearGroup', 'decideGroup'] },
        ],
        onError: { target: 'ready', actions: ['replyFailure', 'endGroup'] },
      },
    },
  },
});
