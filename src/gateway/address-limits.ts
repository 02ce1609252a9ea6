/**
 * What one address (an IPv4 address, an IPv6 /64: see address.ts) may take of a gateway at
 * once: connections, watched concerts, held seats; and the cool-down that keeps it from
 * taking back at once a seat whose hold it let go. Without these, 74 connections from one
 * address held every free seat of a sale in 0.27 s and re-held them the moment they ran out.
 *
 * Counted per gateway: a hold does not say its holder's address in the log (the events are
 * fixed), so an address spread over N gateways may hold N times the figure. The look-up
 * failure counts, which guard the booking references, are shared (shared-failures.ts).
 */
import { GuichetError } from '../errors.js';
import { AddressOverrides, type AddressOverride } from './address-overrides.js';

export interface AddressLimitOptions {
  /** Seats one address may hold at once, over all its connections. */
  maxSeatsHeld: number;
  /** Connections one address may have open at once. */
  maxConnections: number;
  /** Concerts watched at once by one address, summed over its connections. */
  maxWatchers: number;
  /** After a hold of an address ends unbooked, how long its seats may not be held again by that address (ms). */
  coolDownMs: number;
  /** Networks whose addresses have limits of their own (address-overrides.ts: known shared addresses). */
  overrides?: readonly AddressOverride[];
}

export const ADDRESS_LIMIT_DEFAULTS: AddressLimitOptions = {
  maxSeatsHeld: 32,
  maxConnections: 256,
  maxWatchers: 64,
  coolDownMs: 30_000,
};

interface LiveHold {
  concert: string;
  seats: readonly number[];
  /** Infinity while the actor has not answered yet. */
  expiresAt: number;
}

/**
 * One address's holds: the live ones and its seats cooling down. Every HOLD asks how many
 * seats its address holds, so the count is kept, not summed, and the live holds are looked
 * over for expiry only once the earliest of them has run out: behind one address (a NAT, or
 * a load test, with the limit raised) there can be thousands, and a pass over them per HOLD
 * was 38 % of the gateway's CPU in a rush of 10,000 (bench rush --profile).
 */
interface AddressHolds {
  live: Map<string, LiveHold>;
  /** Seats of the live holds. */
  seats: number;
  /** Of which: seats of holds the actor has not answered yet (they may still be refused). */
  pending: number;
  /** HOLDs that fit only if some pending ones are refused: they wait for those answers, in arrival order. */
  waiting: WaitingHold[];
  /** The earliest `expiresAt` of the live holds (Infinity: none runs out). */
  nextExpiry: number;
  /** `concert seat` → when its cool-down ends. */
  cooling: Map<string, number>;
}

interface WaitingHold {
  hold: string;
  concert: string;
  seats: readonly number[];
  admitted(): void;
  refused(err: GuichetError): void;
}

export class AddressLimits {
  private readonly connections = new Map<string, number>();
  private readonly watchers = new Map<string, number>();
  private readonly holds = new Map<string, AddressHolds>();
  private readonly overrides: AddressOverrides;

  constructor(
    readonly options: AddressLimitOptions = ADDRESS_LIMIT_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {
    this.overrides = new AddressOverrides(options.overrides);
  }

  /** Seats `key` may hold at once: its network's override, else the gateway's figure. */
  maxSeatsOf(key: string): number {
    return this.overrides.limitsOf(key)?.maxSeatsHeld ?? this.options.maxSeatsHeld;
  }

  /** Connections `key` may have open at once. */
  maxConnectionsOf(key: string): number {
    return this.overrides.limitsOf(key)?.maxConnections ?? this.options.maxConnections;
  }

  /** Concerts `key` may watch at once. */
  maxWatchersOf(key: string): number {
    return this.overrides.limitsOf(key)?.maxWatchers ?? this.options.maxWatchers;
  }

  /** Counts a new connection of `key`; false (nothing counted) when the address has its maximum. */
  admitConnection(key: string): boolean {
    return take(this.connections, key, 1, this.maxConnectionsOf(key));
  }

  leaveConnection(key: string): void {
    give(this.connections, key, 1);
  }

  connectionsOf(key: string): number {
    return this.connections.get(key) ?? 0;
  }

  /** Counts one more watched concert of `key`, or throws WATCH_LIMIT. */
  startWatching(key: string): void {
    const max = this.maxWatchersOf(key);
    if (!take(this.watchers, key, 1, max)) {
      throw new GuichetError(
        'WATCH_LIMIT',
        `this address (${key}) watches ${max} concerts already over all its connections, its limit; UNWATCH one, or use SEATS`,
      );
    }
  }

  stopWatching(key: string): void {
    give(this.watchers, key, 1);
  }

  /** Seats `key` holds now (or is being answered for), over all its connections. */
  seatsHeld(key: string): number {
    return this.settled(key)?.seats ?? 0;
  }

  /**
   * The check a HOLD makes before it asks the actor: throws HOLD_LIMIT when `seats` more
   * would take the address past its limit even if every HOLD of it still being answered were
   * refused (then granting it really would pass the limit).
   */
  checkHold(key: string, seats: number): void {
    const held = this.seatsHeld(key) - (this.holds.get(key)?.pending ?? 0);
    const max = this.maxSeatsOf(key);
    if (held + seats > max) throw holdLimit(key, max, held);
  }

  /**
   * Counts a HOLD of `key` for `seats` (placeholders for a `best n`) before the actor is asked,
   * so that HOLDs pipelined on many connections cannot pass the limit together. When it fits
   * with every pending HOLD of the address counted as granted, it is counted at once (and
   * undefined returned). When it passes the limit even with every pending one refused, it is
   * refused: HOLD_LIMIT. Otherwise whether it fits depends on answers not yet given (50
   * connections of a school racing for one seat: the first 32 are pending, and 31 of them will
   * be SEAT_TAKEN): it waits for them, in arrival order, and the promise resolves once it is
   * counted, or rejects with HOLD_LIMIT once the answers show it does not fit. It never waits
   * for long: every pending HOLD is answered within the actor's deadline.
   */
  admitHold(key: string, hold: string, concert: string, seats: readonly number[]): Promise<void> | undefined {
    this.checkHold(key, seats.length);
    const mine = this.settled(key);
    if (!mine || (mine.waiting.length === 0 && mine.seats + seats.length <= this.maxSeatsOf(key))) {
      this.recordPending(key, hold, concert, seats);
      return undefined;
    }
    return new Promise<void>((admitted, refused) => {
      mine.waiting.push({ hold, concert, seats, admitted, refused });
    });
  }

  /** The seats of `concert` that `key` may not hold yet (their cool-down), for a `best n` to pass over. */
  coolingSeats(key: string, concert: string): number[] {
    const mine = this.settled(key);
    if (!mine || mine.cooling.size === 0) return [];
    const now = this.now();
    const prefix = `${concert} `;
    const seats: number[] = [];
    for (const [id, end] of mine.cooling) {
      if (end <= now) mine.cooling.delete(id);
      else if (id.startsWith(prefix)) seats.push(Number(id.slice(prefix.length)));
    }
    return seats;
  }

  /** Throws COOL_DOWN when one of `seats` was held by `key` in a hold that ended unbooked a moment ago. */
  checkCoolDown(key: string, concert: string, seats: readonly number[]): void {
    const mine = this.settled(key);
    if (!mine || mine.cooling.size === 0) return;
    const now = this.now();
    let until = 0;
    const cooling: number[] = [];
    for (const seat of seats) {
      const id = `${concert} ${seat}`;
      const end = mine.cooling.get(id);
      if (end === undefined) continue;
      if (end <= now) {
        mine.cooling.delete(id);
        continue;
      }
      cooling.push(seat);
      until = Math.max(until, end);
    }
    if (cooling.length > 0) {
      const list = cooling.sort((a, b) => a - b).join(', ');
      throw new GuichetError(
        'COOL_DOWN',
        `this address held seat${cooling.length > 1 ? 's' : ''} ${list} of ${concert} until a moment ago; ` +
          `they are left to others for ${Math.ceil((until - now) / 1000)} s more`,
      );
    }
  }

  /** Records (or updates) a hold of `key`: counted against its limit until it expires or ends. */
  held(key: string, hold: string, concert: string, seats: readonly number[], expiresAt: number): void {
    let mine = this.holds.get(key);
    if (!mine) this.holds.set(key, (mine = { live: new Map(), seats: 0, pending: 0, waiting: [], nextExpiry: Number.POSITIVE_INFINITY, cooling: new Map() }));
    const before = mine.live.get(hold);
    if (before) this.uncount(mine, before);
    const h = { concert, seats: [...seats], expiresAt };
    mine.live.set(hold, h);
    mine.seats += seats.length;
    if (expiresAt === Number.POSITIVE_INFINITY) mine.pending += seats.length;
    mine.nextExpiry = Math.min(mine.nextExpiry, expiresAt);
    if (before?.expiresAt === Number.POSITIVE_INFINITY) this.wake(key);
  }

  /** A hold released unbooked (declined, disconnected): no longer counted, its seats cool down from now. */
  released(key: string, hold: string): void {
    const mine = this.holds.get(key);
    const h = mine?.live.get(hold);
    if (!mine || !h) return;
    this.end(mine, key, hold, h, Math.min(h.expiresAt, this.now()));
  }

  /** A hold that was booked, or never was (refused, or the same hold answered under another id): forgotten. */
  forget(key: string, hold: string): void {
    const mine = this.holds.get(key);
    const h = mine?.live.get(hold);
    if (mine && h) {
      mine.live.delete(hold);
      this.uncount(mine, h);
      this.wake(key);
    }
    this.dropIfEmpty(key);
  }

  /** Drops what no longer counts nor cools (call now and then: memory stays bounded). */
  sweep(): void {
    const now = this.now();
    for (const key of [...this.holds.keys()]) {
      const mine = this.settled(key);
      if (!mine) continue;
      for (const [id, end] of mine.cooling) if (end <= now) mine.cooling.delete(id);
      this.dropIfEmpty(key);
    }
  }

  /** Addresses with anything counted (tests: memory stays bounded). */
  get size(): number {
    return new Set([...this.connections.keys(), ...this.watchers.keys(), ...this.holds.keys()]).size;
  }

  /** The address's holds, with those that expired moved to their cool-down. */
  private settled(key: string): AddressHolds | undefined {
    const mine = this.holds.get(key);
    if (!mine) return undefined;
    const now = this.now();
    if (now < mine.nextExpiry) return mine;
    let next = Number.POSITIVE_INFINITY;
    for (const [id, h] of mine.live) {
      if (h.expiresAt <= now) this.end(mine, key, id, h, h.expiresAt);
      else next = Math.min(next, h.expiresAt);
    }
    mine.nextExpiry = next;
    return this.holds.get(key);
  }

  private end(mine: AddressHolds, key: string, id: string, h: LiveHold, at: number): void {
    mine.live.delete(id);
    this.uncount(mine, h);
    const until = at + this.options.coolDownMs;
    if (until > this.now()) for (const seat of h.seats) mine.cooling.set(`${h.concert} ${seat}`, until);
    this.wake(key);
    this.dropIfEmpty(key);
  }

  private uncount(mine: AddressHolds, h: LiveHold): void {
    mine.seats -= h.seats.length;
    if (h.expiresAt === Number.POSITIVE_INFINITY) mine.pending -= h.seats.length;
  }

  /** Counts a HOLD being answered: its seats pass the limit only if it is granted. */
  private recordPending(key: string, hold: string, concert: string, seats: readonly number[]): void {
    this.held(key, hold, concert, seats, Number.POSITIVE_INFINITY);
  }

  /**
   * After an answer or an end: the waiting HOLDs of `key`, first come first, are counted (they
   * now fit with every pending one granted) or refused (they pass the limit with every pending
   * one refused); the first that still depends on pending answers keeps its place, and those
   * behind it theirs.
   */
  private wake(key: string): void {
    const mine = this.holds.get(key);
    if (!mine || mine.waiting.length === 0) return;
    const max = this.maxSeatsOf(key);
    while (mine.waiting.length > 0) {
      const w = mine.waiting[0]!;
      const decided = mine.seats - mine.pending;
      if (decided + w.seats.length > max) {
        mine.waiting.shift();
        w.refused(holdLimit(key, max, decided));
      } else if (mine.seats + w.seats.length <= max) {
        mine.waiting.shift();
        this.recordPending(key, w.hold, w.concert, w.seats);
        w.admitted();
      } else {
        return;
      }
    }
  }

  private dropIfEmpty(key: string): void {
    const mine = this.holds.get(key);
    if (mine && mine.live.size === 0 && mine.cooling.size === 0 && mine.waiting.length === 0) this.holds.delete(key);
  }
}

function holdLimit(key: string, max: number, held: number): GuichetError {
  return new GuichetError(
    'HOLD_LIMIT',
    `this address (${key}) may hold at most ${max} seats at once over all its connections, the address's limit; it holds ${held}`,
  );
}

function take(counts: Map<string, number>, key: string, n: number, max: number): boolean {
  const current = counts.get(key) ?? 0;
  if (current + n > max) return false;
  counts.set(key, current + n);
  return true;
}

function give(counts: Map<string, number>, key: string, n: number): void {
  const left = (counts.get(key) ?? 0) - n;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
