/**
 * What each verb does. A handler checks its arguments, asks the registry, and returns the
 * `OK` payload or throws the GuichetError that becomes `ERR CODE message`.
 */
import { newId } from '../ids.js';
import { GuichetError } from '../errors.js';
import type { Concert } from '../catalog.js';
import type { Registry } from '../actors/registry.js';
import {
  findBooking,
  invalidNameMessage,
  occupancy,
  occupancyUntil,
  seatAt,
  seatMap,
  seatsBookedBy,
  seatsOfBooking,
  seatsOfHold,
  type ConcertState,
  type ConcertCommand,
  type HoldRequest,
  type Occupancy,
} from '../actors/concert.js';
import { labelsOf, parseSeat, type Layout } from '../layout.js';
import { cleanName, sameLastName } from '../actors/names.js';
import { isWellFormedReference, newReference } from '../actors/reference.js';
import type { FailureLimiter } from './rate-limit.js';
import { MAX_ARGS } from './protocol.js';
import type { AddressLimits } from './address-limits.js';
import type { AddressFailures } from './shared-failures.js';
import type { RecentCancellations } from './cancellations.js';


/** One hold of a connection: one or several seats of one concert. */
export interface HeldSeats {
  concert: string;
  /** Ascending; empty while a `best` hold is not answered yet (its seats are not known). */
  seats: number[];
  /** How many seats it counts for against `maxSeats`. */
  count: number;
  expiresAt: number;
  /** Told UNAVAILABLE: perhaps stored, perhaps not. Released on close; not counted in the limit. */
  uncertain?: boolean;
}

/** What a handler may see and change of its connection. */
export interface SessionView {
  readonly id: string;
  readonly address: string;
  /** The key of its per-address limits: the IPv4 address, or the IPv6 /64 (address.ts). */
  readonly addressKey: string;
  firstName?: string;
  lastName?: string;
  /** This connection's holds: hold id → where and until when. */
  readonly holds: Map<string, HeldSeats>;
  /** Holds this connection booked (hold id → concert), the latest few: a BOOK sent again answers that booking. */
  readonly booked: Map<string, string>;
  readonly watching: Set<string>;
  /** Set by QUIT: the session closes after the reply. */
  closing: boolean;
}

export interface CommandEnv {
  registry: Registry;
  connectionLimiter: FailureLimiter;
  /** Failed look-ups per address, shared by the gateways on one NATS. */
  addressFailures: AddressFailures;
  addressLimits: AddressLimits;
  cancellations: RecentCancellations;
  now(): number;
  sleep(ms: number): Promise<void>;
}

interface Command {
  usage: string;
  summary: string;
  args: [min: number, max: number];
  run(session: SessionView, args: string[], env: CommandEnv): Promise<unknown> | unknown;
}

export const COMMANDS: Record<string, Command> = {
  CONCERTS: {
    usage: 'CONCERTS',
    summary: 'list the concerts with their free, held and booked seats (alias LIST)',
    args: [0, 0],
    run: (_s, _a, env) => ({ concerts: concertList(env) }),
  },
  SEATS: {
    usage: 'SEATS <concert>',
    summary: "a concert's seat map: one character per seat, . free, h held, H held by you, x booked",
    args: [1, 1],
    run: (s, [concert], env) => seatsPayload(env, concert!, s.id),
  },
  WATCH: {
    usage: 'WATCH <concert>',
    summary: 'the seat map, then an EVENT line for every change to that concert',
    args: [1, 1],
    run: (s, [concert], env) => {
      const payload = seatsPayload(env, concert!, s.id);
      s.watching.add(concert!);
      return payload;
    },
  },
  UNWATCH: {
    usage: 'UNWATCH [<concert>]',
    summary: 'stop the EVENT lines of one concert, or of all',
    args: [0, 1],
    run: (s, [concert]) => {
      if (concert === undefined) s.watching.clear();
      else s.watching.delete(concert);
      return {};
    },
  },
  IDENT: {
    usage: 'IDENT <first name> <last name>',
    summary: 'say who you are; BOOK then needs no names (quote names with spaces: "Jean Pierre")',
    args: [2, 2],
    run: (s, [first, last]) => {
      const names = checkNames(first!, last!);
      s.firstName = names.firstName;
      s.lastName = names.lastName;
      return names;
    },
  },
  HOLD: {
    usage: 'HOLD <concert> <seat> [<seat>…] | HOLD <concert> best <n>',
    summary: 'hold free seats (a number or a label such as B7; all or none), or the best n adjacent ones, while you give your names',
    args: [2, MAX_ARGS],
    run: (s, args, env) => hold(s, args, env),
  },
  BOOK: {
    usage: 'BOOK <hold> [<first name> <last name>]',
    summary: 'book every seat of a hold under one 10-digit booking reference',
    args: [1, 3],
    run: (s, args, env) => book(s, args, env),
  },
  RELEASE: {
    usage: 'RELEASE <hold>',
    summary: 'give the seats of a hold back',
    args: [1, 1],
    run: async (s, [holdId], env) => {
      const held = s.holds.get(holdId!);
      if (!held) throw new GuichetError('NO_SUCH_HOLD', `no hold ${holdId} on this connection`);
      s.holds.delete(holdId!);
      env.addressLimits.released(s.addressKey, holdId!);
      await env.registry.execute(held.concert, { type: 'Release', hold: holdId!, holder: s.id, reason: 'declined' });
      return {};
    },
  },
  LOOKUP: {
    usage: 'LOOKUP <reference> <last name>',
    summary: 'show a booking',
    args: [2, 16],
    run: async (s, args, env) => {
      const { concert, seats, booking } = await findOwnBooking(s, args, env);
      return { reference: booking.reference, concert, ...seatsPart(env, concert, seats), firstName: booking.firstName, lastName: booking.lastName };
    },
  },
  CANCEL: {
    usage: 'CANCEL <reference> <last name>',
    summary: 'cancel a booking; all its seats are free again',
    args: [2, 16],
    run: (s, args, env) => cancel(s, args, env),
  },
  PING: { usage: 'PING', summary: 'answers OK {}', args: [0, 0], run: () => ({}) },
  HELP: {
    usage: 'HELP',
    summary: 'this list',
    args: [0, 0],
    run: () => ({
      commands: Object.entries(COMMANDS).map(([verb, c]) => ({ verb, usage: c.usage, summary: c.summary })),
    }),
  },
  QUIT: {
    usage: 'QUIT',
    summary: 'close the connection (held seats are released)',
    args: [0, 0],
    run: (s) => {
      s.closing = true;
      return {};
    },
  },
};

export const ALIASES: Record<string, string> = { LIST: 'CONCERTS' };

export function lookupCommand(verb: string): Command | undefined {
  return COMMANDS[ALIASES[verb] ?? verb];
}

export function concertList(env: CommandEnv): Array<Concert & Occupancy> {
  const now = env.now();
  return env.registry.catalog.map((c) => ({ ...c, ...cachedOccupancy(stateOf(env, c.id), now) }));
}

/**
 * Every connection's HELLO lists every concert's occupancy: counted afresh, that is a pass
 * over every seat of every concert per connection (0.7 ms at 100 concerts of 2,000 seats,
 * 7 s of CPU for a burst of 10,000 connections). A state is never changed once made (an
 * event makes a new one), so its count holds until its earliest live hold expires.
 */
const occupancies = new WeakMap<ConcertState, { occupancy: Occupancy; until: number }>();

function cachedOccupancy(state: ConcertState, now: number): Occupancy {
  const cached = occupancies.get(state);
  if (cached && now < cached.until) return cached.occupancy;
  const fresh = occupancyUntil(state, now);
  occupancies.set(state, fresh);
  return fresh.occupancy;
}

function stateOf(env: CommandEnv, concert: string): ConcertState {
  const state = env.registry.state(concert);
  if (!state) throw new GuichetError('NO_SUCH_CONCERT', `no concert ${JSON.stringify(concert)}; CONCERTS lists them`);
  return state;
}

function seatsPayload(env: CommandEnv, concert: string, viewer: string) {
  const state = stateOf(env, concert);
  const now = env.now();
  return { concert, capacity: state.capacity, rows: layoutOf(env, concert).rows, map: seatMap(state, now, viewer), ...occupancy(state, now) };
}

function checkNames(first: string, last: string): { firstName: string; lastName: string } {
  const firstName = cleanName(first);
  const lastName = cleanName(last);
  if (!firstName || !lastName) throw new GuichetError('INVALID_NAME', invalidNameMessage);
  return { firstName, lastName };
}

function layoutOf(env: CommandEnv, concert: string): Layout {
  const layout = env.registry.layout(concert);
  if (!layout) throw new GuichetError('NO_SUCH_CONCERT', `no concert ${JSON.stringify(concert)}; CONCERTS lists them`);
  return layout;
}

/** `seats`, `labels` and `seat` (the first, for protocol-1 clients) of a reply. */
function seatsPart(env: CommandEnv, concert: string, seats: number[]) {
  return { seats, labels: labelsOf(layoutOf(env, concert), seats), seat: seats[0] };
}

/** Seats this connection holds now, across its holds and concerts (forgetting run-out holds). */
function liveSeats(s: SessionView, now: number): number {
  let live = 0;
  for (const [id, h] of s.holds) {
    if (h.expiresAt <= now) s.holds.delete(id);
    else if (!h.uncertain) live += h.count;
  }
  return live;
}

/**
 * The one place a HOLD of `n` seats is checked against the limits, before the actor is
 * asked: at most `maxSeats` in one hold (BAD_ARGUMENTS) and across the connection's holds
 * (HOLD_LIMIT), and across the holds of every connection of its address (HOLD_LIMIT).
 */
function checkHoldLimits(s: SessionView, n: number, env: CommandEnv): void {
  const max = env.registry.rules.maxSeats;
  if (n > max) throw new GuichetError('BAD_ARGUMENTS', `a hold is of at most ${max} seats`);
  const held = liveSeats(s, env.now());
  if (held + n > max) {
    throw new GuichetError('HOLD_LIMIT', `at most ${max} seats may be held at once; this connection holds ${held}`);
  }
  env.addressLimits.checkHold(s.addressKey, n);
}

/** `HOLD <concert> <seat>…` or `HOLD <concert> best <n>`, as the command asks the actor. */
function holdRequest(layout: Layout, seatArgs: string[]): HoldRequest {
  if (seatArgs[0]?.toLowerCase() === 'best') {
    if (seatArgs.length !== 2 || !/^\d{1,3}$/.test(seatArgs[1]!) || Number(seatArgs[1]) < 1) {
      throw new GuichetError('BAD_ARGUMENTS', 'usage: HOLD <concert> best <n>, n a number of seats such as 4');
    }
    return { best: Number(seatArgs[1]), layout };
  }
  return { seats: seatArgs.map((a) => parseSeat(layout, a)), layout };
}

/** The actor's Hold command for a HOLD request: a literal per form (a spread with more fields costs V8's slow path). */
function holdCommand(hold: string, holder: string, request: HoldRequest): ConcertCommand {
  if ('best' in request) {
    const { best, layout, avoid } = request;
    return avoid ? { type: 'Hold', hold, holder, best, layout, avoid } : { type: 'Hold', hold, holder, best, layout };
  }
  if ('seats' in request && request.layout) return { type: 'Hold', hold, holder, seats: request.seats, layout: request.layout };
  return { type: 'Hold', hold, holder, ...request };
}

async function hold(s: SessionView, [concert, ...seatArgs]: string[], env: CommandEnv) {
  stateOf(env, concert!);
  const layout = layoutOf(env, concert!);
  let request = holdRequest(layout, seatArgs);
  const count = 'best' in request ? request.best : 'seats' in request ? request.seats.length : 1;
  checkHoldLimits(s, count, env);
  const limits = env.addressLimits;
  if ('seats' in request) limits.checkCoolDown(s.addressKey, concert!, request.seats);
  // The best seats are chosen among those the address may hold now.
  if ('best' in request) request = { ...request, avoid: limits.coolingSeats(s.addressKey, concert!) };
  const holdId = newId();
  const asked = 'seats' in request ? [...request.seats].sort((a, b) => a - b) : [];
  // Counted against the address before the actor answers, so that pipelined HOLDs cannot pass
  // the limit together; one that fits only if some of those are refused waits for their
  // answers (HOLD_LIMIT only when it really passes the limit). A `best` hold's seats are not
  // known yet: placeholders, replaced below.
  const admitting = limits.admitHold(s.addressKey, holdId, concert!, asked.length > 0 ? asked : new Array<number>(count).fill(0));
  if (admitting) await admitting;
  // The connection's count too.
  s.holds.set(holdId, { concert: concert!, seats: asked, count, expiresAt: Number.POSITIVE_INFINITY });
  try {
    const outcome = await env.registry.execute(concert!, holdCommand(holdId, s.id, request));
    // The events it wrote say which seats (no scan of a large hall). None: this connection held
    // these seats already (a retry after UNAVAILABLE): the same hold, as the state has it.
    const written = outcome.events.flatMap((e) => (e.type === 'SeatHeld' && e.data.hold === holdId ? [e.data] : []));
    const first = seatAt(outcome.state, asked[0] ?? 0);
    const id = written.length > 0 ? holdId : first?.kind === 'held' && first.holder === s.id ? first.hold : holdId;
    const seats = written.length > 0 ? written.map((d) => d.seat) : seatsOfHold(outcome.state, id);
    const held = seatAt(outcome.state, seats[0] ?? 0);
    if (held?.kind !== 'held' || held.holder !== s.id) {
      // Stored, then over before the answer: the gateway that decided it, or this one, was
      // paused past its expiry (SIGSTOP, a long stall), and the release the concert's owner
      // wrote meanwhile is already in the state the answer carries.
      const ranOut = written.length > 0 && Date.parse(written[0]!.expiresAt) <= env.now();
      if (ranOut) throw new GuichetError('HOLD_EXPIRED', `the seats were held (hold ${holdId}), but the hold ran out before it could be answered; hold them again`);
      throw new GuichetError('INTERNAL', 'the hold was not recorded');
    }
    if (id !== holdId) {
      s.holds.delete(holdId);
      limits.forget(s.addressKey, holdId);
    }
    s.holds.set(id, { concert: concert!, seats, count: seats.length, expiresAt: held.expiresAt });
    limits.held(s.addressKey, id, concert!, seats, held.expiresAt);
    const { labels, seat } = seatsPart(env, concert!, seats);
    return { hold: id, concert, seats, labels, seat, expiresAt: new Date(held.expiresAt).toISOString() };
  } catch (err) {
    if (err instanceof GuichetError && err.code === 'UNAVAILABLE') {
      // The outcome is unknown: the append may still be stored. Remember the hold, not counted
      // against the limit, so that closing the connection releases it if it was.
      s.holds.set(holdId, { concert: concert!, seats: asked, count, expiresAt: env.now() + env.registry.rules.holdMs, uncertain: true });
    } else {
      s.holds.delete(holdId);
    }
    // Nor against the address: most UNAVAILABLE holds were never sent (NATS away), and counted
    // they would lock the address out for a hold time after the outage. A retry that finds the
    // hold stored counts it then.
    limits.forget(s.addressKey, holdId);
    throw err;
  }
}

async function book(s: SessionView, [holdId, first, last]: string[], env: CommandEnv) {
  if (first !== undefined && last === undefined) {
    throw new GuichetError('BAD_ARGUMENTS', 'give both names, as in BOOK <hold> Jeanne "Le Gall", or none after IDENT');
  }
  if (first === undefined && (!s.firstName || !s.lastName)) {
    throw new GuichetError('INVALID_NAME', 'give your first and last name, or IDENT first');
  }
  const names = first !== undefined ? checkNames(first, last!) : { firstName: s.firstName!, lastName: s.lastName! };
  const held = s.holds.get(holdId!);
  if (!held) return bookedAlready(s, holdId!, env);
  if (held.expiresAt <= env.now()) {
    s.holds.delete(holdId!);
    throw new GuichetError('HOLD_EXPIRED', `hold ${holdId} expired; hold the seat again`);
  }
  const reference = newReference(env.registry.isReferenceTaken);
  try {
    const outcome = await env.registry.execute(held.concert, { type: 'Book', hold: holdId!, holder: s.id, reference, firstName: names.firstName, lastName: names.lastName });
    // The events it wrote say what was booked (no scan of a large hall); none: it was booked
    // already (a retry after UNAVAILABLE), and the state says by what.
    const written = outcome.events.flatMap((e) => (e.type === 'SeatBooked' && e.data.hold === holdId ? [e.data] : []));
    const seats = written.length > 0 ? written.map((d) => d.seat) : seatsBookedBy(outcome.state, holdId!);
    const first = seatAt(outcome.state, seats[0] ?? 0);
    const booked = written[0] ?? (first?.kind === 'booked' ? first : undefined);
    if (!booked) throw new GuichetError('INTERNAL', 'the booking was not recorded');
    s.holds.delete(holdId!);
    env.addressLimits.forget(s.addressKey, holdId!);
    rememberBooked(s, holdId!, held.concert);
    const { reference: stored, firstName, lastName } = booked;
    const { labels, seat } = seatsPart(env, held.concert, seats);
    return { reference: stored, concert: held.concert, seats, labels, seat, firstName, lastName };
  } catch (err) {
    if (err instanceof GuichetError && (err.code === 'HOLD_EXPIRED' || err.code === 'NO_SUCH_HOLD')) s.holds.delete(holdId!);
    throw err;
  }
}

/** How many booked holds a connection remembers for BOOK's retries. */
const REMEMBERED_BOOKINGS = 64;

function rememberBooked(s: SessionView, hold: string, concert: string): void {
  s.booked.set(hold, concert);
  if (s.booked.size > REMEMBERED_BOOKINGS) s.booked.delete(s.booked.keys().next().value!);
}

/** BOOK of a hold this connection booked already (its answer was lost): that same booking. */
function bookedAlready(s: SessionView, holdId: string, env: CommandEnv) {
  const concert = s.booked.get(holdId);
  if (!concert) throw new GuichetError('NO_SUCH_HOLD', `no hold ${holdId} on this connection`);
  const state = stateOf(env, concert);
  const seats = seatsBookedBy(state, holdId);
  const first = seatAt(state, seats[0] ?? 0);
  if (first?.kind !== 'booked') throw new GuichetError('NO_SUCH_HOLD', `hold ${holdId} was booked, and that booking has since been cancelled`);
  const { reference, firstName, lastName } = first;
  return { reference, concert, ...seatsPart(env, concert, seats), firstName, lastName };
}

/**
 * CANCEL, safe to send again: a retry of a cancellation this address made (or was told
 * UNAVAILABLE for, though it was stored) answers that cancellation, and is no failed look-up.
 */
async function cancel(s: SessionView, args: string[], env: CommandEnv) {
  const [reference, ...words] = args;
  const lastName = words.join(' ');
  const earlier = env.cancellations.recall(s.addressKey, reference!, lastName);
  // A booking disappears only by its cancellation: gone, it was the one remembered.
  if (earlier && !env.registry.concertOfReference(reference!)) return earlier;
  const { concert, seats, booking } = await findOwnBooking(s, args, env);
  // Every seat of the booking is cancelled together, so its seats are the ones found.
  const answer = { reference: booking.reference, concert, ...seatsPart(env, concert, seats) };
  // Remembered before it is asked: an UNAVAILABLE answer may hide a stored cancellation.
  env.cancellations.remember(s.addressKey, booking.reference, booking.lastName, answer);
  try {
    await env.registry.execute(concert, { type: 'Cancel', reference: booking.reference, lastName: booking.lastName });
    return answer;
  } catch (err) {
    // Found here but not by the actor, once caught up: the earlier cancellation was stored.
    if (earlier && err instanceof GuichetError && err.code === 'NOT_FOUND') return earlier;
    if (!(err instanceof GuichetError && err.code === 'UNAVAILABLE')) env.cancellations.forget(s.addressKey, booking.reference);
    throw err;
  }
}

/** Checks the reference, the rate limits and the last name; counts a failure against both keys. */
async function findOwnBooking(s: SessionView, [reference, ...lastNameWords]: string[], env: CommandEnv) {
  if (!isWellFormedReference(reference!)) {
    throw new GuichetError('BAD_REFERENCE', 'a reference is 10 digits and its last one is a check digit; check for a typo');
  }
  const refused = (retryAfterMs: number) =>
    new GuichetError('RATE_LIMITED', `too many failed look-ups; try again in ${Math.ceil(retryAfterMs / 1000)} s`);
  const own = env.connectionLimiter.check(s.id);
  if (!own.allowed) throw refused(own.retryAfterMs);
  // Counted as a failure before the delay and taken back on success: look-ups sent in
  // parallel (from many connections of one address, or through several gateways) cannot all
  // pass while one waits.
  const address = await env.addressFailures.attempt(s.addressKey);
  if (!address.allowed) throw refused(address.retryAfterMs);
  env.connectionLimiter.fail(s.id);
  const delayMs = Math.max(own.delayMs, address.delayMs);
  if (delayMs > 0) await env.sleep(delayMs);
  const lastName = lastNameWords.join(' ');
  const concert = env.registry.concertOfReference(reference!);
  const state = concert ? env.registry.state(concert) : undefined;
  const found = state ? findBooking(state, reference!) : undefined;
  if (!concert || !found || !sameLastName(found.seat.lastName, lastName)) {
    throw new GuichetError('NOT_FOUND', 'no booking with that reference and last name');
  }
  env.connectionLimiter.forgive(s.id);
  await address.forgive();
  return { concert, seats: seatsOfBooking(state!, reference!), booking: found.seat };
}
