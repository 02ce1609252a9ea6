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

interface HoldRecord {
  concert: string;
  seats: readonly number[];
  /** Infinity while the actor has not answered yet. */
  expiresAt: number;
  /** When it was released (declined, disconnected); an expired hold ends at its expiresAt. */
  endedAt?: number;
}

export class AddressLimits {
  private readonly connections = new Map<string, number>();
  private readonly watchers = new Map<string, number>();
  private readonly holds = new Map<string, Map<string, HoldRecord>>();

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
    const now = this.now();
    let n = 0;
    for (const h of this.holds.get(key)?.values() ?? []) if (h.endedAt === undefined && h.expiresAt > now) n += h.seats.length;
    return n;
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

  /** Throws COOL_DOWN when one of `seats` was held by `key` in a hold that ended unbooked a moment ago. */
  checkCoolDown(key: string, concert: string, seats: readonly number[]): void {
    const now = this.now();
    let until = 0;
    const cooling = new Set<number>();
    for (const h of this.holds.get(key)?.values() ?? []) {
      if (h.concert !== concert) continue;
      const end = this.endOf(h, now);
      if (end === undefined || end + this.options.coolDownMs <= now) continue;
      for (const seat of h.seats) {
        if (seats.includes(seat)) {
          cooling.add(seat);
          until = Math.max(until, end + this.options.coolDownMs);
        }
      }
    }
    if (cooling.size > 0) {
      const list = [...cooling].sort((a, b) => a - b).join(', ');
      throw new GuichetError(
        'COOL_DOWN',
        `this address held seat${cooling.size > 1 ? 's' : ''} ${list} of ${concert} until a moment ago; ` +
          `they are left to others for ${Math.ceil((until - now) / 1000)} s more`,
      );
    }
  }

  /** Records (or updates) a hold of `key`: counted against its limit until it expires or ends. */
  held(key: string, hold: string, concert: string, seats: readonly number[], expiresAt: number): void {
    let mine = this.holds.get(key);
    if (!mine) this.holds.set(key, (mine = new Map()));
    mine.set(hold, { concert, seats: [...seats], expiresAt });
  }

  /** A hold released unbooked (declined, disconnected): no longer counted, its seats cool down. */
  released(key: string, hold: string): void {
    const h = this.holds.get(key)?.get(hold);
    if (h && h.endedAt === undefined && h.expiresAt > this.now()) h.endedAt = this.now();
  }

  /** A hold that was booked, or never was (refused, or the same hold answered under another id): forgotten. */
  forget(key: string, hold: string): void {
    const mine = this.holds.get(key);
    mine?.delete(hold);
    if (mine?.size === 0) this.holds.delete(key);
  }

  /** Drops holds whose cool-down is over (call now and then: memory stays bounded). */
  sweep(): void {
    const now = this.now();
    for (const [key, mine] of this.holds) {
      for (const [id, h] of mine) {
        const end = this.endOf(h, now);
        if (end !== undefined && end + this.options.coolDownMs <= now) mine.delete(id);
      }
      if (mine.size === 0) this.holds.delete(key);
    }
  }

  /** Addresses with anything counted (tests: memory stays bounded). */
  get size(): number {
    return new Set([...this.connections.keys(), ...this.watchers.keys(), ...this.holds.keys()]).size;
  }

  private endOf(h: HoldRecord, now: number): number | undefined {
    if (h.endedAt !== undefined) return h.endedAt;
    return h.expiresAt <= now ? h.expiresAt : undefined;
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
