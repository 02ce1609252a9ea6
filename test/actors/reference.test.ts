/** Booking references: nine digits and a Luhn check digit. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isWellFormedReference, luhnCheckDigit, newReference, REFERENCE_LENGTH } from '../../src/actors/reference.js';

// ================================================================== luhnCheckDigit

const Luhn = suite('luhnCheckDigit');

Luhn('gives the check digit of the textbook example 7992739871 → 3', () => {
  assert.equal(luhnCheckDigit('7992739871'), 3);
});

Luhn('gives the check digit of nine-digit payloads', () => {
  assert.equal(
    ['123456789', '000000000', '100000000', '999999999', '400000000'].map(luhnCheckDigit),
    [7, 0, 8, 9, 2],
  );
});

Luhn('catches any single mistyped digit', () => {
  const body = '123456789';
  const check = luhnCheckDigit(body);
  const misses: string[] = [];
  for (let i = 0; i < body.length; i++) {
    for (let d = 0; d <= 9; d++) {
      const typo = body.slice(0, i) + d + body.slice(i + 1);
      if (typo !== body && luhnCheckDigit(typo) === check) misses.push(typo);
    }
  }
  assert.equal(misses, []);
});

Luhn('catches a swap of two adjacent different digits (other than 0↔9)', () => {
  const body = '123456789';
  const check = luhnCheckDigit(body);
  const misses: string[] = [];
  for (let i = 0; i + 1 < body.length; i++) {
    const swapped = body.slice(0, i) + body[i + 1] + body[i] + body.slice(i + 2);
    if (luhnCheckDigit(swapped) === check) misses.push(swapped);
  }
  assert.equal(misses, []);
});

Luhn.run();

// ================================================================== isWellFormedReference

const WellFormed = suite('isWellFormedReference');

WellFormed('accepts ten digits whose last is the check digit', () => {
  assert.equal([isWellFormedReference('1234567897'), isWellFormedReference('0000000000')], [true, true]);
});

WellFormed('refuses a wrong check digit', () => {
  assert.equal(isWellFormedReference('1234567890'), false);
});

WellFormed('refuses a single mistyped digit', () => {
  assert.equal(isWellFormedReference('1234567797'), false);
});

WellFormed('refuses anything but exactly ten digits', () => {
  const bad = ['', '123456789', '12345678970', '12345 6789', '123456789a', ' 1234567897', '1234567897\n', '１２３４５６７８９７', '-123456789'];
  assert.equal(bad.map(isWellFormedReference), bad.map(() => false));
});

WellFormed.run();

// ================================================================== newReference

const New = suite('newReference');

New('draws well-formed ten-digit references that do not start with 0', () => {
  const refs = Array.from({ length: 200 }, () => newReference());
  const bad = refs.filter((r) => r.length !== REFERENCE_LENGTH || !isWellFormedReference(r) || r.startsWith('0'));
  assert.equal(bad, []);
});

New('draws different references', () => {
  const refs = new Set(Array.from({ length: 200 }, () => newReference()));
  assert.equal(refs.size, 200);
});

New('skips references the caller says are taken', () => {
  const asked: string[] = [];
  const ref = newReference((r) => {
    asked.push(r);
    return asked.length < 3;
  });
  assert.equal({ asked: asked.length, returned: ref, wellFormed: isWellFormedReference(ref) }, { asked: 3, returned: asked[2], wellFormed: true });
});

New.run();
