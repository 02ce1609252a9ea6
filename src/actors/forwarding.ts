/**
 * Commands forwarded to a concert's owner (ownership.ts), and their answers, over the
 * gateway-to-gateway link (src/events/forward-link.ts).
 *
 * The sender's side: `forward` sends the command, waits for the owner's answer, then waits
 * until its own copy of the concert has applied the events the answer names (they reach it
 * through the stream, like every other gateway's). So a client that is told OK and then asks
 * this gateway for the seat map or its booking sees its own write, and the watchers of this
 * gateway have had their EVENT lines before the reply, exactly as when the gateway decides
 * itself. The owner's side: `serve` runs each forwarded command on the owner's actor.
 *
 * A forwarded command carries how far the sender's copy of the concert goes, and the owner
 * decides it only once its own copy goes as far: a concert that just changed owner (a gateway
 * joined, left, or took over) is decided by a gateway that knows at least what the client was
 * told, never refused for a hold or a booking the new owner has not read yet.
 *
 * A forwarded command has its deadline, or FORWARD_BUDGET_MS if sooner (wall clock; the owner
 * is told it less a margin, so it gives up before the sender does and a late answer is never an
 * OK the client was not given). No answer in time, or the connection dropped while waiting, is
 * UNAVAILABLE: the command may have run, as when an append's acknowledgement is lost.
 */
import { GuichetError, toGuichetError, type ErrorCode, ERROR_CODES } from '../errors.js';
import type { StoredEvent } from '../events/envelope.js';
import { ForwardLost, ForwardTimeout, NoSuchGateway, type ForwardLink } from '../events/forward-link.js';
import type { Layout } from '../layout.js';
import type { ConcertCommand, ConcertRules, ConcertState } from './concert.js';
import type { Outcome } from './machine.js';

/** What forwarding needs of this gateway's own concerts (the registry). */
export interface LocalConcerts {
  /** Runs the command on this gateway's actor for the concert, by the sender's rules. */
  executeHere(concert: string, command: ConcertCommand, deadline: number, rules: ConcertRules): Promise<Outcome>;
  /** The last stream sequence the concert's state here includes. */
  appliedSeq(concert: string): number;
  /** The events at stream sequences `first` through `last`, if this gateway still has them all at hand. */
  recentEvents(first: number, last: number): StoredEvent[] | undefined;
  /** The concert's state once it includes `seq`, or at `deadline` the state it has then. */
  appliedThrough(concert: string, seq: number, deadline: number): Promise<ConcertState>;
  layout(concert: string): Layout | undefined;
  now(): number;
}

/** The owner answers this long before the sender's deadline, so that its answer arrives in time. */
export const DEADLINE_MARGIN_MS = 250;

/**
 * How long a forwarded command may take, at most (less when the command's own deadline is
 * sooner): the owner is given the same budget, so it never decides after the sender gave up.
 * An owner answers in milliseconds, a few hundred under a rush; a request or an answer lost
 * with a NATS node that died on its route never comes, and without this bound its command
 * waited its whole 10 s deadline, and every client behind it (the cluster fault test: a 10 s
 * pause when a node was killed, limit 5 s).
 */
export const FORWARD_BUDGET_MS = 3_000;

export { NoSuchGateway };

export class Forwarding {
  private stopServing?: () => Promise<void>;
  /** The commands waiting on each gateway's answer: failed at once if that gateway is gone. */
  private readonly waiting = new Map<string, Set<(err: GuichetError) => void>>();

  constructor(
    private readonly link: ForwardLink,
    private readonly self: string,
    private readonly local: LocalConcerts,
  ) {}

  /** Starts answering the commands other gateways forward to this one. */
  serve(): void {
    this.stopServing = this.link.serve(this.self, (bytes) => this.answer(bytes));
  }

  /** Stops taking forwarded commands; those already received are answered. */
  async stop(): Promise<void> {
    await this.stopServing?.().catch(() => undefined);
  }

  /**
   * Runs the command on `owner`, by this gateway's `rules` (those its clients were told in
   * HELLO), and resolves with its outcome, the state being this gateway's
   * once it includes the outcome. Rejects with the owner's GuichetError, UNAVAILABLE when it
   * did not answer in time, or NoSuchGateway when nobody listens for it (nothing was run).
   */
  async forward(owner: string, concert: string, command: ConcertCommand, deadline: number, rules: ConcertRules): Promise<Outcome> {
    const after = this.local.appliedSeq(concert);
    const budget = Math.min(deadline, this.local.now() + FORWARD_BUDGET_MS);
    const request = encodeRequest({ concert, command, deadline: budget - DEADLINE_MARGIN_MS, rules, after });
    let reply: Reply;
    let fail!: (err: GuichetError) => void;
    const gone = new Promise<never>((_, reject) => (fail = reject));
    const waiting = this.waiting.get(owner) ?? new Set();
    this.waiting.set(owner, waiting.add(fail));
    try {
      reply = decodeReply(await Promise.race([this.link.request(owner, request, budget - this.local.now()), gone]));
    } catch (err) {
      if (err instanceof GuichetError) throw err;
      if (err instanceof NoSuchGateway) throw err;
      if (err instanceof ForwardTimeout) {
        throw new GuichetError('UNAVAILABLE', 'the gateway deciding for this concert did not answer in time; try again', { cause: err });
      }
      if (err instanceof ForwardLost) {
        throw new GuichetError('UNAVAILABLE', 'the connection to the event store dropped while the command was with the gateway deciding for this concert (it may have run); try again', { cause: err });
      }
      throw new GuichetError('UNAVAILABLE', `cannot reach the gateway deciding for this concert (${(err as Error).message}); try again`, { cause: err });
    } finally {
      waiting.delete(fail);
      if (waiting.size === 0 && this.waiting.get(owner) === waiting) this.waiting.delete(owner);
    }
    if ('error' in reply) throw reply.error;
    const state = await this.local.appliedThrough(concert, reply.seq, deadline);
    // The events themselves came through the stream: the answer names them by sequence. (Were
    // they no longer at hand, the state says the same: the gateway reads it when no event is given.)
    const events = reply.events ? (this.local.recentEvents(reply.events.first, reply.events.last) ?? []) : [];
    return { events, state };
  }

  /**
   * The gateway's lease ran out (it died, froze or lost NATS): its answers will not come in
   * time, so the commands waiting on it are answered UNAVAILABLE now rather than at their
   * deadline. One it did run is like an append whose acknowledgement was lost; one it runs when
   * it wakes, before that deadline, is too (the client was told it may have happened).
   */
  gatewayGone(gateway: string): void {
    const waiting = this.waiting.get(gateway);
    if (!waiting) return;
    this.waiting.delete(gateway);
    const error = new GuichetError('UNAVAILABLE', 'the gateway deciding for this concert stopped answering; try again');
    for (const fail of waiting) fail(error);
  }

  private async answer(bytes: Uint8Array): Promise<Uint8Array> {
    let concert: string;
    try {
      const request = decodeRequest(bytes, (c) => this.local.layout(c));
      concert = request.concert;
      // What the sender had seen first (a new owner may not have read the last owner's events yet).
      if (request.after > this.local.appliedSeq(concert)) await this.local.appliedThrough(concert, request.after, request.deadline);
      const outcome = await this.local.executeHere(concert, request.command, request.deadline, request.rules);
      const first = outcome.events[0]?.seq;
      const last = outcome.events.at(-1)?.seq ?? 0;
      return encodeReply({ seq: Math.max(last, this.local.appliedSeq(concert)), ...(first !== undefined ? { events: { first, last } } : {}) });
    } catch (err) {
      return encodeReply({ error: toGuichetError(err) });
    }
  }
}

// ---------------------------------------------------------------- codec

interface Request {
  concert: string;
  command: ConcertCommand;
  deadline: number;
  rules: ConcertRules;
  /** The last stream sequence the sender's copy of the concert includes (0: none said). */
  after: number;
}

/**
 * The owner's answer: an error, or how far the sender must have read for its copy to show the
 * outcome (`seq`) and the sequences of the command's own events (consecutive: one decision's
 * events are stored together), not the events, which the sender reads from the stream anyway.
 */
type Reply = { seq: number; events?: { first: number; last: number } } | { error: GuichetError };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A command as JSON: its layout is left out (the owner has the same catalog) and put back there. */
export function encodeRequest({ concert, command, deadline, rules, after }: Request): Uint8Array {
  const { layout, ...rest } = command as ConcertCommand & { layout?: Layout };
  return encoder.encode(JSON.stringify({ concert, deadline, rules, after, command: rest, layout: layout !== undefined }));
}

export function decodeRequest(bytes: Uint8Array, layoutOf: (concert: string) => Layout | undefined): Request {
  const raw = JSON.parse(decoder.decode(bytes)) as { concert?: unknown; deadline?: unknown; command?: unknown; layout?: unknown; rules?: Partial<ConcertRules>; after?: unknown };
  const { holdMs, maxSeats } = raw.rules ?? {};
  if (
    typeof raw.concert !== 'string' ||
    typeof raw.deadline !== 'number' ||
    typeof raw.command !== 'object' ||
    raw.command === null ||
    typeof holdMs !== 'number' ||
    typeof maxSeats !== 'number'
  ) {
    throw new GuichetError('BAD_ARGUMENTS', 'a forwarded command must have a concert, a deadline, the rules and a command');
  }
  const layout = layoutOf(raw.concert);
  if (!layout) throw new GuichetError('NO_SUCH_CONCERT', `no concert ${raw.concert}`);
  const command = (raw.layout === true ? { ...raw.command, layout } : raw.command) as ConcertCommand;
  // A sender that does not say how far it read (an older gateway): decided on this one's copy as it is.
  const after = typeof raw.after === 'number' && Number.isSafeInteger(raw.after) && raw.after > 0 ? raw.after : 0;
  return { concert: raw.concert, deadline: raw.deadline, command, rules: { holdMs, maxSeats }, after };
}

export function encodeReply(reply: Reply): Uint8Array {
  if ('error' in reply) return encoder.encode(JSON.stringify({ error: reply.error.code, message: reply.error.message }));
  return encoder.encode(JSON.stringify(reply));
}

export function decodeReply(bytes: Uint8Array): Reply {
  const raw = JSON.parse(decoder.decode(bytes)) as { error?: unknown; message?: unknown; seq?: unknown; events?: { first?: unknown; last?: unknown } };
  if (typeof raw.error === 'string') {
    const code = (ERROR_CODES as readonly string[]).includes(raw.error) ? (raw.error as ErrorCode) : 'INTERNAL';
    return { error: new GuichetError(code, typeof raw.message === 'string' ? raw.message : raw.error) };
  }
  const sequence = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!sequence(raw.seq)) throw new Error('a forwarded answer must have a sequence');
  if (raw.events === undefined) return { seq: raw.seq };
  const { first, last } = raw.events;
  if (!sequence(first) || !sequence(last) || first < 1 || last < first || last > raw.seq) throw new Error('a forwarded answer names its events by their sequences');
  return { seq: raw.seq, events: { first, last } };
}
