/**
 * The cancellations this gateway made (or tried to: the answer was UNAVAILABLE), per address,
 * so that a CANCEL sent again answers the cancellation it was. Without it, a CANCEL told
 * UNAVAILABLE whose event had in fact been stored found no booking on its retry: `NOT_FOUND`,
 * counted as a failed look-up. Only the address that cancelled, with the reference and the
 * last name it gave, is answered from here: nothing is told that it did not know.
 */
import { sameLastName } from '../actors/names.js';

interface Cancellation {
  lastName: string;
  answer: Record<string, unknown>;
  at: number;
}

/** How long a cancellation is remembered: far longer than a client's retries take. */
const REMEMBER_MS = 10 * 60_000;
/** At most this many (the oldest forgotten first): memory stays bounded whatever is cancelled. */
const MAX_REMEMBERED = 10_000;

export class RecentCancellations {
  private readonly byKey = new Map<string, Cancellation>();

  constructor(private readonly now: () => number = Date.now) {}

  remember(address: string, reference: string, lastName: string, answer: Record<string, unknown>): void {
    const key = `${address} ${reference}`;
    this.byKey.delete(key); // to the end of the insertion order
    this.byKey.set(key, { lastName, answer, at: this.now() });
    while (this.byKey.size > MAX_REMEMBERED) this.byKey.delete(this.byKey.keys().next().value!);
  }

  /** The answer of an earlier cancellation of `reference` by `address` under this last name. */
  recall(address: string, reference: string, lastName: string): Record<string, unknown> | undefined {
    const key = `${address} ${reference}`;
    const c = this.byKey.get(key);
    if (!c) return undefined;
    if (c.at + REMEMBER_MS <= this.now()) {
      this.byKey.delete(key);
      return undefined;
    }
    return sameLastName(c.lastName, lastName) ? c.answer : undefined;
  }

  forget(address: string, reference: string): void {
    this.byKey.delete(`${address} ${reference}`);
  }

  get size(): number {
    return this.byKey.size;
  }
}
