/** Rows, labels, seats given as numbers or labels, and "best available" (DESIGN.md "Concert layout"). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bestAvailable, labelOf, labelsOf, layoutOf, parseSeat, rowName, rowsProblem, type Layout } from '../src/layout.js';
import { parseCatalog } from '../src/catalog.js';
import { GuichetError } from '../src/errors.js';

// ================================================================== rows and labels

const Rows = suite('layout: rows and labels');

Rows('row names run A…Z, then AA, AB…, AZ, BA…, ZZ, AAA', () => {
  assert.equal([0, 1, 25, 26, 27, 51, 52, 701, 702].map(rowName), ['A', 'B', 'Z', 'AA', 'AB', 'AZ', 'BA', 'ZZ', 'AAA']);
});

Rows('without row sizes, rows of 10, the last one the rest', () => {
  assert.equal(layoutOf(100).rows.map((r) => [r.name, r.first, r.count]), [
    ['A', 1, 10], ['B', 11, 10], ['C', 21, 10], ['D', 31, 10], ['E', 41, 10],
    ['F', 51, 10], ['G', 61, 10], ['H', 71, 10], ['I', 81, 10], ['J', 91, 10],
  ]);
  assert.equal(layoutOf(25).rows, [
    { name: 'A', first: 1, count: 10 },
    { name: 'B', first: 11, count: 10 },
    { name: 'C', first: 21, count: 5 },
  ]);
  assert.equal(layoutOf(3).rows, [{ name: 'A', first: 1, count: 3 }]);
});

Rows('with row sizes, front first, seats numbered row after row', () => {
  assert.equal(layoutOf(30, [8, 10, 12]).rows, [
    { name: 'A', first: 1, count: 8 },
    { name: 'B', first: 9, count: 10 },
    { name: 'C', first: 19, count: 12 },
  ]);
});

Rows("a seat's label is its row and its place in the row", () => {
  const tens = layoutOf(100);
  assert.equal(labelsOf(tens, [1, 10, 11, 42, 100]), ['A1', 'A10', 'B1', 'E2', 'J10']);
  const uneven = layoutOf(30, [8, 10, 12]);
  assert.equal(labelsOf(uneven, [1, 8, 9, 18, 19, 30]), ['A1', 'A8', 'B1', 'B10', 'C1', 'C12']);
});

Rows('rows past Z are AA, AB…: seat 261 of 10-seat rows is AA1', () => {
  const big = layoutOf(2_000);
  assert.equal(big.rows.length, 200);
  assert.equal(labelsOf(big, [260, 261, 271, 2_000]), ['Z10', 'AA1', 'AB1', 'GR10']);
});

Rows('a number outside the hall is labelled #n, not a made-up row', () => {
  assert.equal(labelOf(layoutOf(10), 11), '#11');
  assert.equal(labelOf(layoutOf(10), 0), '#0');
});

Rows.run();

// ================================================================== parse a seat

const Parse = suite('layout: a seat given as number or label');

const hall = layoutOf(30, [8, 10, 12]);
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    return err instanceof GuichetError ? err.code : String(err);
  }
};

Parse('a number is that seat', () => {
  assert.equal(parseSeat(hall, '1'), 1);
  assert.equal(parseSeat(hall, '30'), 30);
  assert.equal(parseSeat(hall, '007'), 7);
});

Parse('a label is its row and place, in any case', () => {
  assert.equal(parseSeat(hall, 'A1'), 1);
  assert.equal(parseSeat(hall, 'b7'), 15);
  assert.equal(parseSeat(hall, 'C12'), 30);
  assert.equal(parseSeat(layoutOf(2_000), 'aa1'), 261);
});

Parse('a seat the hall has not is NO_SUCH_SEAT', () => {
  for (const text of ['0', '31', 'A9', 'A0', 'D1', 'B11', 'ZZZZ1']) assert.equal(codeOf(() => parseSeat(hall, text)), 'NO_SUCH_SEAT', text);
});

Parse('what is neither a number nor a label is BAD_ARGUMENTS', () => {
  for (const text of ['', '-1', '1.5', 'A', '7A', 'A-1', 'AAAAA1', 'seat', '１']) assert.equal(codeOf(() => parseSeat(hall, text)), 'BAD_ARGUMENTS', text);
});

Parse('NO_SUCH_SEAT says the numbers and labels there are', () => {
  try {
    parseSeat(hall, 'D1');
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, 'no seat D1: seats are numbered 1 to 30, labelled A1 to C12');
  }
});

Parse.run();

// ================================================================== catalog rows

const Catalog = suite('catalog: rows');

const refusal = (raw: unknown): string => {
  try {
    parseCatalog(raw);
    return 'accepted';
  } catch (err) {
    return (err as Error).message;
  }
};

Catalog('rows give the capacity when it is left out', () => {
  assert.equal(parseCatalog([{ id: 'hall', title: 'Hall', rows: [8, 10, 12] }])[0], {
    id: 'hall', title: 'Hall', venue: '', date: '', capacity: 30, rows: [8, 10, 12],
  });
});

Catalog('rows and a capacity that agree are accepted', () => {
  assert.equal(parseCatalog([{ id: 'hall', title: 'Hall', rows: [5, 5], capacity: 10 }])[0]!.capacity, 10);
});

Catalog('a concert without rows has none in the catalog (rows of 10 are the default)', () => {
  assert.not.ok('rows' in parseCatalog([{ id: 'hall', title: 'Hall', capacity: 40 }])[0]!);
});

Catalog('bad rows are refused with a clear message', () => {
  const cases: Array<[unknown, string]> = [
    [[], 'concert #1 (hall): rows must name at least one row'],
    [[10, 0], 'concert #1 (hall): row B has 0 seats: each row is a whole number of seats, at least 1'],
    [[-3], 'concert #1 (hall): row A has -3 seats: each row is a whole number of seats, at least 1'],
    [[10, 2.5], 'concert #1 (hall): row B has 2.5 seats: each row is a whole number of seats, at least 1'],
    [['10'], 'concert #1 (hall): row A has "10" seats: each row is a whole number of seats, at least 1'],
    [10, 'concert #1 (hall): rows must be an array of row sizes, front row first, such as [8, 10, 12]'],
    [[60_000, 60_000], 'concert #1 (hall): rows add up to 120000 seats, more than 100000'],
  ];
  for (const [rows, message] of cases) assert.is(refusal([{ id: 'hall', rows }]), message, JSON.stringify(rows));
});

Catalog('rows that do not add up to the capacity are refused', () => {
  assert.is(refusal([{ id: 'hall', title: 'Hall', rows: [8, 10], capacity: 20 }]), 'concert #1 (hall): rows add up to 18 seats but capacity is 20');
});

Catalog('rowsProblem accepts good rows', () => {
  assert.is(rowsProblem([1], undefined, 10), undefined);
  assert.is(rowsProblem([4, 6], 10, 10), undefined);
});

Catalog.run();

// ================================================================== best available

const Best = suite('layout: best available');

/** The hall as a picture: one string per row, `.` free, `x` taken. */
function picture(...rows: string[]): { layout: Layout; isFree: (seat: number) => boolean } {
  const layout = layoutOf(
    rows.reduce((n, r) => n + r.length, 0),
    rows.map((r) => r.length),
  );
  const map = rows.join('');
  return { layout, isFree: (seat) => map[seat - 1] === '.' };
}

const best = (hall: ReturnType<typeof picture>, n: number) => {
  const choice = bestAvailable(hall.layout, hall.isFree, n);
  return 'seats' in choice ? labelsOf(hall.layout, choice.seats).join(' ') : `most ${choice.most}`;
};

Best('empty hall of 10-seat rows: best 4 is A4–A7, best 2 is A5–A6', () => {
  const empty = picture('..........', '..........', '..........');
  assert.is(best(empty, 4), 'A4 A5 A6 A7');
  assert.is(best(empty, 2), 'A5 A6');
});

Best('empty row: a tie between two centred runs goes to the lower seat', () => {
  const empty = picture('..........');
  assert.is(best(empty, 3), 'A4 A5 A6');
  assert.is(best(empty, 1), 'A5');
  assert.is(best(empty, 10), 'A1 A2 A3 A4 A5 A6 A7 A8 A9 A10');
});

Best('a run that would strand a seat is passed over for one that strands none', () => {
  // A2 taken: A4-A7 is centred but leaves A3 alone next to A2; A3-A6 and A5-A8 strand
  // nothing and are as near the middle: the lower wins.
  assert.is(best(picture('.x........'), 4), 'A3 A4 A5 A6');
  // Stranding next to the row's end counts too: in a row of 6, A2-A5 leaves A1 and A6 alone.
  assert.is(best(picture('......'), 4), 'A1 A2 A3 A4');
});

Best('a front row with only stranding runs loses to a row further back that has a clean one', () => {
  // Row A: 5 free seats with taken seats around, a run of 4 always leaves one alone.
  const hall = picture('xx.....xxx', '..........');
  assert.is(best(hall, 4), 'B4 B5 B6 B7');
});

Best('a row too full or too short is skipped for one further back', () => {
  assert.is(best(picture('xxxx..xxxx', '..........'), 3), 'B4 B5 B6');
  assert.is(best(picture('..', '......'), 3), 'B1 B2 B3');
});

Best('when nothing else fits, a run that strands a seat is taken (front row first)', () => {
  const hall = picture('xx.....xxx', 'x.....xxxx');
  assert.is(best(hall, 4), 'A4 A5 A6 A7');
});

Best('a run filling a gap exactly strands nothing', () => {
  assert.is(best(picture('xxx....xxx'), 4), 'A4 A5 A6 A7');
});

Best('no row with n adjacent free seats: the most there are', () => {
  assert.is(best(picture('..x..x...x', '.x.x.x.x.x'), 4), 'most 3');
  assert.is(best(picture('xxxxxxxxxx'), 1), 'most 0');
  assert.is(best(picture('....', '.....'), 6), 'most 5');
});

Best('rows of different sizes: the middle is each row’s own', () => {
  assert.is(best(picture('......', '............'), 2), 'A3 A4');
  assert.is(best(picture('xxxxxx', '............'), 2), 'B6 B7');
});

Best.run();
