/**
 * Which live gateway should own a concert: rendezvous (highest random weight) hashing. Every
 * gateway computes the same answer from the same set of live gateways, with no coordination;
 * a gateway that joins takes about 1/n of the concerts, and one that leaves gives away only its
 * own, each to the gateway that comes next for it (the rest stay where they are).
 *
 * Pure: the hash is SHA-1 of the concert and gateway ids, so the choice is the same in every
 * process and on every machine.
 */
import { createHash } from 'node:crypto';

/** The gateway among `gateways` that should own `concert`; undefined when there is none. */
export function preferredOwner(concert: string, gateways: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const gateway of gateways) {
    const weight = weightOf(concert, gateway);
    // Ties (a 2^-48 chance) go to the lower id, so that every gateway still agrees.
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && gateway < best)) {
      best = gateway;
      bestWeight = weight;
    }
  }
  return best;
}

function weightOf(concert: string, gateway: string): number {
  // The first 6 bytes: an integer exactly representable as a number.
  return createHash('sha1').update(concert).update('\0').update(gateway).digest().readUIntBE(0, 6);
}
