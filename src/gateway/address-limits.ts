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

export interface AddressLimitOptions {
  /** Seats one address may hold at once, over all its connections. */
  maxSeatsHeld: number;
  /** Connections one address may have open at once. */
  maxConnections: number;
  /** Concerts watched at once by one address, summed over its connections. */
  maxWatchers: number;
  /** After a hold of an address ends unbooked, how long its seats may not be held again by that address (ms). */
  coolDownMs: number;
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
  /** The earliest `expiresAt` of the live holds (Infinity: none runs out). */
  nextExpiry: number;
  /** `concert seat` → when its cool-down ends. */
  cooling: Map<string, number>;
}

export class AddressLimits {
  private readonly connections = new Map<string, number>();
  private readonly watchers = new Map<string, number>();
  private readonly holds = new Map<string, AddressHolds>();

  constructor(
    readonly options: AddressLimitOptions = ADDRESS_LIMIT_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a new connection of `key`; false (nothing counted) when the address has its maximum. */
  admitConnection(key: string): boolean {
    return take(this.connections, key, 1, this.options.maxConnections);
  }

  leaveConnection(key: string): void {
    give(this.connections, key, 1);
  }

  connectionsOf(key: string): number {
    return this.connections.get(key) ?? 0;
  }

  /** Counts one more watched concert of `key`, or throws WATCH_LIMIT. */
  startWatching(key: string): void {
    if (!take(this.watchers, key, 1, this.options.maxWatchers)) {
      throw new GuichetError(
        'WATCH_LIMIT',
        `this address (${key}) watches ${this.options.maxWatchers} concerts already over all its connections, its limit; UNWATCH one, or use SEATS`,
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
   * would take the address past its limit.
   */
  checkHold(key: string, seats: number): void {
    const held = this.seatsHeld(key);
    const max = this.options.maxSeatsHeld;
    if (held + seats > max) {
      throw new GuichetError(
        'HOLD_LIMIT',
        `this address (${key}) may hold at most ${max} seats at once over all its connections, the address's limit; it holds ${held}`,
      );
    }
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
    if (!mine) this.holds.set(key, (mine = { live: new Map(), seats: 0, nextExpiry: Number.POSITIVE_INFINITY, cooling: new Map() }));
    mine.seats -= mine.live.get(hold)?.seats.length ?? 0;
    mine.live.set(hold, { concert, seats: [...seats], expiresAt });
    mine.seats += seats.length;
    mine.nextExpiry = Math.min(mine.nextExpiry, expiresAt);
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
      mine.seats -= h.seats.length;
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
    mine.seats -= h.seats.length;
    const until = at + this.options.coolDownMs;
    if (until > this.now()) for (const seat of h.seats) mine.cooling.set(`${h.concert} ${seat}`, until);
    this.dropIfEmpty(key);
  }

  private dropIfEmpty(key: string): void {
    const mine = this.holds.get(key);
    if (mine && mine.live.size === 0 && mine.cooling.size === 0) this.holds.delete(key);
  }
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
