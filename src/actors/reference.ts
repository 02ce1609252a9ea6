/**
 * Booking references: 10 digits, nine random ones from a cryptographic source and a Luhn
 * check digit, so that a mistyped reference is caught before it reaches the server.
 */
import { randomInt } from 'node:crypto';

export const REFERENCE_LENGTH = 10;

/** The Luhn check digit for a string of digits. */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  // Walking from the right, every second digit (starting with the rightmost payload digit) doubles.
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function isWellFormedReference(reference: string): boolean {
  if (!/^\d{10}$/.test(reference)) return false;
  return luhnCheckDigit(reference.slice(0, 9)) === reference.charCodeAt(9) - 48;
}

/** A new reference; `isTaken` lets the caller keep references unique among known bookings. */
export function newReference(isTaken: (reference: string) => boolean = () => false): string {
  for (;;) {
    // The first digit is never 0, so a reference survives being read as a number.
    const body = String(randomInt(100_000_000, 1_000_000_000));
    const reference = body + String(luhnCheckDigit(body));
    if (!isTaken(reference)) return reference;
  }
}
