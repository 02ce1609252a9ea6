/**
 * The concert actor: an xstate machine that handles one command at a time.
 *
 *   loading ──loaded──▶ ready ──mail──▶ deciding ──event──▶ appending ──stored──▶ ready
 *                         ▲                │  ▲                 │
 *                         └──refused/none──┘  └──caught up── catchingUp ◀──conflict
 *
 * Commands that arrive while it is busy wait in `mailbox`, in order, unless the current
 * state already refuses them: those are answered at once (see `screenOrEnqueue`). Events read from the
 * stream (this gateway's and other gateways') are applied in any state; each is applied once,
 * by stream sequence. The rules themselves are in concert.ts; this file only sequences them
 * with I/O.
 */
import { assign, fromPromise, setup } from 'xstate';
import { GuichetError, toGuichetError } from '../errors.js';
import type { EventEnvelope, StoredEvent } from '../events/envelope.js';
import { EVENT_VERSION } from '../events/envelope.js';
import { AppendConflict } from '../events/store.js';
import { decide, evolve, nextExpiry, type ConcertCommand, type ConcertRules, type ConcertState } from './concert.js';

/** What a command led to: the events it stored (none for a no-op) and the state after them. */
export interface Outcome {
  events: StoredEvent[];
  state: ConcertState;
}

export interface Request {
  command: ConcertCommand;
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
  now(): number;
  newId(): string;
  /** Id of this gateway, written as each event's `source`. */
  source: string;
}

export interface ConcertInput {
  state: ConcertState;
  rules: ConcertRules;
  ports: ConcertPorts;
}

interface ConcertContext extends ConcertInput {
  /** Stream sequence of the last event applied (0: none): the expected sequence of the next append. */
  lastSeq: number;
  mailbox: Request[];
  current?: Request;
  /** The events being appended for `current`. */
  pending?: EventEnvelope[];
  /** Conflicts met by `current`: bounded, so a pathological race cannot spin for ever. */
  conflicts: number;
  /** The subject's last sequence as the refused append reported it: where catching up ends. */
  conflictSeq?: number;
  /** The outcome of the last decision, when it was a refusal or a no-op. */
  refusal?: GuichetError;
  /** No expiry release before this time (ms): backs off while the store is failing. */
  expiryBackoffUntil: number;
}

export type ConcertEvent =
  | { type: 'command'; request: Request }
  | { type: 'stream.event'; event: StoredEvent }
  /** The replay is done: the registry folded the log (faster than event by event here) into `state`. */
  | { type: 'loaded'; state: ConcertState; lastSeq: number };

const MAX_CONFLICTS = 50;
const EXPIRY_RETRY_MS = 1_000;
/** The longest delay a timer takes (setTimeout's limit is about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Applies a stored event unless it was applied already (it may come from the ack and from the stream). */
function apply(context: ConcertContext, event: StoredEvent): Pick<ConcertContext, 'state' | 'lastSeq'> {
  if (event.seq <= context.lastSeq || event.concert !== context.state.concert) {
    return { state: context.state, lastSeq: context.lastSeq };
  }
  const state = evolve(context.state, event);
  context.ports.applied(event, state);
  return { state, lastSeq: event.seq };
}

/** The error `decide` gives for a command against the current state, if it refuses it. */
function refusalOf(context: ConcertContext, command: ConcertCommand): GuichetError | undefined {
  if (command.type === 'ReleaseExpired') return undefined;
  try {
    decide(context.state, command, context.ports.now(), context.rules);
    return undefined;
  } catch (err) {
    const e = toGuichetError(err);
    return e.code === 'INTERNAL' ? undefined : e;
  }
}

/** The events of one append with their sequences: consecutive, the last at `lastSeq`. */
function storedEvents(events: readonly EventEnvelope[], lastSeq: number): StoredEvent[] {
  const first = lastSeq - events.length + 1;
  return events.map((e, i) => ({ ...e, seq: first + i }));
}

function unavailable(err: unknown): GuichetError {
  const e = toGuichetError(err);
  if (e.code !== 'INTERNAL') return e;
  return new GuichetError('UNAVAILABLE', 'the event store is not reachable; try again', { cause: err });
}

export const concertMachine = setup({
  types: {
    context: {} as ConcertContext,
    events: {} as ConcertEvent,
    input: {} as ConcertInput & { lastSeq?: number },
  },
  actors: {
    append: fromPromise<number, { ports: ConcertPorts; events: EventEnvelope[]; expectedLastSeq: number }>(({ input }) =>
      input.ports.append(input.events, input.expectedLastSeq),
    ),
    catchUp: fromPromise<StoredEvent[], { ports: ConcertPorts; concert: string; afterSeq: number; untilSeq?: number }>(({ input }) =>
      input.ports.readAfter(input.concert, input.afterSeq, input.untilSeq),
    ),
  },
  delays: {
    /** Until the earliest hold runs out, so that its release is written on time. */
    untilNextExpiry: ({ context }) => {
      const at = nextExpiry(context.state);
      if (at === undefined) return MAX_TIMER_MS;
      const now = context.ports.now();
      return Math.min(MAX_TIMER_MS, Math.max(at - now, context.expiryBackoffUntil - now, 0));
    },
  },
  guards: {
    hasMail: ({ context }) => context.mailbox.length > 0,
    refused: ({ context }) => context.refusal !== undefined,
    nothingToWrite: ({ context }) => context.pending === undefined,
    isConflict: ({ event }) => 'error' in event && event.error instanceof AppendConflict,
    tooManyConflicts: ({ context }) => context.conflicts >= MAX_CONFLICTS,
  },
  actions: {
    applyStreamEvent: assign(({ context, event }) => (event.type === 'stream.event' ? apply(context, event.event) : {})),
    /**
     * A command the current state already refuses is answered at once instead of waiting its
     * turn: it is concurrent with whatever is being appended, so ordering it first is a valid
     * history, and in a rush most commands are refusals (SEAT_TAKEN). A command the state
     * accepts waits in the mailbox and is decided again when its turn comes.
     */
    // The mailbox is one array changed in place (push / shift), not copied per command: a
    // rush queues thousands of commands, and copying made that quadratic (29 % of CPU in GC).
    enqueue: ({ context, event }) => {
      if (event.type === 'command') context.mailbox.push(event.request);
    },
    screenOrEnqueue: ({ context, event }) => {
      if (event.type !== 'command') return;
      const refusal = refusalOf(context, event.request.command);
      if (refusal) event.request.reject(refusal);
      else context.mailbox.push(event.request);
    },
    mailExpiry: assign(({ context }) => {
      context.mailbox.push({
        command: { type: 'ReleaseExpired' },
        deadline: Number.POSITIVE_INFINITY,
        resolve: () => undefined,
        reject: () => undefined,
      });
      return { expiryBackoffUntil: context.ports.now() + EXPIRY_RETRY_MS };
    }),
    takeNext: assign(({ context }) => ({ current: context.mailbox.shift(), conflicts: 0 })),
    decideCurrent: assign(({ context }) => {
      const request = context.current;
      if (!request) return { refusal: new GuichetError('INTERNAL', 'no command to decide'), pending: undefined };
      const now = context.ports.now();
      if (now > request.deadline) {
        return { refusal: new GuichetError('UNAVAILABLE', 'the concert was too busy to answer in time; try again'), pending: undefined };
      }
      try {
        const decided = decide(context.state, request.command, now, context.rules);
        if (decided.length === 0) return { refusal: undefined, pending: undefined };
        const at = new Date(now).toISOString();
        const pending = decided.map(
          (event) =>
            ({ id: context.ports.newId(), v: EVENT_VERSION, concert: context.state.concert, at, source: context.ports.source, ...event }) as EventEnvelope,
        );
        return { refusal: undefined, pending };
      } catch (err) {
        return { refusal: toGuichetError(err), pending: undefined };
      }
    }),
    applyStored: assign(({ context, event }) => {
      if (!('output' in event) || typeof event.output !== 'number' || !context.pending) return {};
      let next = { state: context.state, lastSeq: context.lastSeq };
      for (const e of storedEvents(context.pending, event.output)) next = apply({ ...context, ...next }, e);
      return next;
    }),
    applyCaughtUp: assign(({ context, event }) => {
      if (!('output' in event) || !Array.isArray(event.output)) return {};
      let next = { state: context.state, lastSeq: context.lastSeq };
      for (const e of event.output as StoredEvent[]) next = apply({ ...context, ...next }, e);
      return { ...next, conflicts: context.conflicts + 1 };
    }),
    replyStored: ({ context, event }) => {
      const seq = 'output' in event && typeof event.output === 'number' ? event.output : 0;
      context.current?.resolve({ events: storedEvents(context.pending ?? [], seq), state: context.state });
    },
    replyNothing: ({ context }) => context.current?.resolve({ events: [], state: context.state }),
    replyRefusal: ({ context }) => context.current?.reject(context.refusal ?? new GuichetError('INTERNAL', 'refused')),
    replyFailure: ({ context, event }) => context.current?.reject(unavailable('error' in event ? event.error : event)),
    replyContention: ({ context }) =>
      context.current?.reject(new GuichetError('UNAVAILABLE', 'too many concurrent writers on this concert; try again')),
    noteConflict: assign({
      conflictSeq: ({ event }) => ('error' in event && event.error instanceof AppendConflict ? event.error.lastSeq : undefined),
    }),
    takeLoaded: assign(({ context, event }) =>
      event.type === 'loaded' && event.lastSeq >= context.lastSeq ? { state: event.state, lastSeq: event.lastSeq } : {},
    ),
    clearCurrent: assign({ current: undefined, pending: undefined, refusal: undefined }),
    allowExpiryNow: assign({ expiryBackoffUntil: 0 }),
  },
}).createMachine({
  id: 'concert',
  initial: 'loading',
  context: ({ input }) => ({
    ...input,
    lastSeq: input.lastSeq ?? 0,
    mailbox: [],
    conflicts: 0,
    expiryBackoffUntil: 0,
  }),
  on: {
    command: { actions: 'screenOrEnqueue' },
    'stream.event': { actions: 'applyStreamEvent' },
  },
  states: {
    loading: {
      // Not screened: the state is not loaded yet, so its refusals would be wrong.
      on: { loaded: { target: 'ready', actions: 'takeLoaded' }, command: { actions: 'enqueue' } },
    },
    ready: {
      always: { guard: 'hasMail', target: 'deciding', actions: 'takeNext' },
      on: {
        // Re-entering restarts the expiry timer from the new state.
        'stream.event': { target: 'ready', reenter: true, actions: 'applyStreamEvent' },
      },
      after: {
        untilNextExpiry: { target: 'ready', reenter: true, actions: 'mailExpiry' },
      },
    },
    deciding: {
      entry: 'decideCurrent',
      always: [
        { guard: 'refused', target: 'ready', actions: ['replyRefusal', 'clearCurrent'] },
        { guard: 'nothingToWrite', target: 'ready', actions: ['replyNothing', 'clearCurrent'] },
        { target: 'appending' },
      ],
    },
    appending: {
      invoke: {
        src: 'append',
        input: ({ context }) => ({ ports: context.ports, events: context.pending!, expectedLastSeq: context.lastSeq }),
        onDone: { target: 'ready', actions: ['applyStored', 'replyStored', 'clearCurrent', 'allowExpiryNow'] },
        onError: [
          { guard: 'isConflict', target: 'catchingUp', actions: 'noteConflict' },
          { target: 'ready', actions: ['replyFailure', 'clearCurrent'] },
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
          { guard: 'tooManyConflicts', target: 'ready', actions: ['replyContention', 'clearCurrent'] },
          { target: 'deciding', actions: 'applyCaughtUp' },
        ],
        onError: { target: 'ready', actions: ['replyFailure', 'clearCurrent'] },
      },
    },
  },
});
