/** Fitting text to a terminal's width, and drawing a screen in place (no ESC[2J). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { drawInPlace, rowsTaken, visibleLength, wrapText } from '../../src/cli/screen.js';

test('wrapped between words within the width; colour codes take no room; a long word is cut', () => {
  assert.equal(wrapText('Seat 43 of Orchestre de Lyon is held for you', 20), ['Seat 43 of Orchestre', 'de Lyon is held for', 'you']);
  assert.equal(wrapText('Booked: seat 43, Orchestre de Lyon', 20, '        '), ['Booked: seat 43,', '        Orchestre de', '        Lyon']);
  assert.equal(wrapText('\x1b[1mBold\x1b[0m text', 9), ['\x1b[1mBold\x1b[0m text']);
  assert.is(visibleLength('\x1b[1;7m 1234 \x1b[0m'), 6);
  assert.equal(wrapText('x'.repeat(25), 10), ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  assert.equal(wrapText('one\ntwo', 40), ['one', 'two']);
  // Indentation and inner runs of spaces are kept; continued lines take the indent given.
  assert.equal(wrapText('    Le Petit Duc, Aix-en-Provence · Fri 12 Feb', 30, '    '), ['    Le Petit Duc,', '    Aix-en-Provence · Fri 12', '    Feb']);
  assert.equal(wrapText(' 1. c1     Concert One', 40), [' 1. c1     Concert One']);
  assert.equal(wrapText('abcdefghijklmnop', 8, '        '), ['abcdefgh', 'ijklmnop']);
});

test('a question of 60 columns takes two rows of a 60-column terminal (the cursor goes after it)', () => {
  assert.equal([rowsTaken(10, 60), rowsTaken(59, 60), rowsTaken(60, 60), rowsTaken(130, 60)], [1, 1, 2, 3]);
});

test('a screen is drawn from the top left, each line erased to its end, the rest below erased; never cleared', () => {
  assert.is(drawInPlace(['a', 'b']), '\x1b[Ha\x1b[K\nb\x1b[K\n\x1b[J');
  assert.not.match(drawInPlace(['a']), /\x1b\[2J/);
});

test.run();
