/**
 * The seat map in rows, as pure functions: row names, the server's rows or rows of 10, labels,
 * drawing within a width, and the window of rows that fits a height (10,000 rows at 100,000
 * seats), moved with n, p and `row K`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { drawMap, drawWindow, parseMapMove, rowIndexOf, rowsFor, topShowing, windowOf } from '../../src/cli/seat-map.js';

test('without rows from the server: rows of 10, the last the rest', () => {
  assert.equal(rowsFor(25), [
    { name: 'A', first: 1, count: 10 },
    { name: 'B', first: 11, count: 10 },
    { name: 'C', first: 21, count: 5 },
  ]);
  assert.is(rowsFor(100_000).length, 10_000);
});

test("the server's rows when they cover the capacity exactly, else rows of 10", () => {
  const rows = [{ name: 'A', first: 1, count: 8 }, { name: 'B', first: 9, count: 12 }];
  assert.equal(rowsFor(20, rows), rows);
  assert.equal(rowsFor(21, rows).length, 3, 'a sum that is not the capacity is not trusted');
  assert.equal(rowsFor(20, [{ name: 'A', first: 2, count: 19 }]).length, 2);
});

test('the row of a seat, by binary search over 10,000 rows', () => {
  const rows = rowsFor(100_000);
  assert.equal([1, 10, 11, 50_005, 100_000].map((s) => rowIndexOf(rows, s)), [0, 0, 1, 5000, 9999]);
  assert.is(rows[5000]!.name, 'GJI');
});

test('a row wider than the width goes on over several lines; the seat numbers only when they fit', () => {
  const rows = [{ name: 'A', first: 1, count: 20 }];
  const map = `x${'.'.repeat(19)}`;
  assert.equal(drawMap(map, rows, { color: false }), ['A  1x  2.  3.  4.  5.  6.  7.  8.  9. 10. 11. 12. 13. 14. 15. 16. 17. 18. 19. 20.  1-20']);
  const narrow = drawMap(map, rows, { color: false, width: 30 });
  assert.equal(narrow, ['A  1x  2.  3.  4.  5.  6.  7.', '   8.  9. 10. 11. 12. 13. 14.', '  15. 16. 17. 18. 19. 20.']);
  assert.ok(narrow.every((l) => l.length <= 30));
});

test('the whole map when it fits the height; else a full window from the top asked, ending at the last row', () => {
  const small = rowsFor(100);
  assert.equal(windowOf(small, { height: 10, top: 3 }), { top: 0, count: 10, partial: false });
  const big = rowsFor(100_000);
  assert.equal(windowOf(big, { height: 20, top: 5000 }), { top: 5000, count: 20, partial: true });
  assert.equal(windowOf(big, { height: 20, top: 9_995 }), { top: 9_980, count: 20, partial: true });
  const w = windowOf(big, { height: 20, top: 0, width: 80 });
  assert.is(drawWindow('.'.repeat(100_000), big, w, { color: false, width: 80 }).length, 20);
});

test('n, p and row K move the window; anything else is not a move', () => {
  const rows = rowsFor(100_000);
  const w = { top: 100, count: 20, partial: true };
  assert.is(parseMapMove('n', w, rows), 120);
  assert.is(parseMapMove('P', w, rows), 80);
  assert.is(parseMapMove('p', { ...w, top: 5 }, rows), 0);
  assert.is(parseMapMove('n', { ...w, top: 9_980 }, rows), 9_980);
  assert.is(parseMapMove('row gji', w, rows), 5000);
  assert.equal(['row', 'row ZZZZ', '42', 'GJI5', 'm', '-'].map((a) => parseMapMove(a, w, rows)), [undefined, undefined, undefined, undefined, undefined, undefined]);
});

test('a seat out of the window brings it to the middle; one in it keeps the window', () => {
  const w = { top: 100, count: 20, partial: true };
  assert.is(topShowing(w, 110), 100);
  assert.is(topShowing(w, 500), 490);
  assert.is(topShowing(w, 3), 0);
});

test.run();
