/** The seat question's parser, pure: one seat or several, ranges, labels, `best n`, checked against the map. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describeSeats, parseSeatChoice, type SeatMap } from '../../src/cli/seat-choice.js';

// 30 seats in rows of 10: A1 booked, B5 held by another, C1 held by me.
const MAP: SeatMap = { capacity: 30, map: `x${'.'.repeat(13)}h${'.'.repeat(5)}H${'.'.repeat(9)}` };
const seats = (...numbers: number[]) => ({ kind: 'choice', choice: { kind: 'seats', seats: numbers } });
const refused = (text: string, map: SeatMap = MAP) => {
  const a = parseSeatChoice(text, map, 8);
  return a.kind === 'invalid' ? a.message : `accepted ${JSON.stringify(a)}`;
};

const Choice = suite('seat question: what may be typed');

Choice('numbers separated by spaces or commas, in any order, come out ascending', () => {
  assert.equal(parseSeatChoice('12 13 14', MAP, 8), seats(12, 13, 14));
  assert.equal(parseSeatChoice(' 14,12 ,13 ', MAP, 8), seats(12, 13, 14));
});

Choice('labels in any case, and ranges of numbers or labels', () => {
  assert.equal(parseSeatChoice('b7', MAP, 8), seats(17));
  assert.equal(parseSeatChoice('A4-A7', MAP, 8), seats(4, 5, 6, 7));
  assert.equal(parseSeatChoice('a4-a7', MAP, 8), seats(4, 5, 6, 7));
  assert.equal(parseSeatChoice('9-12', MAP, 8), seats(9, 10, 11, 12));
  assert.equal(parseSeatChoice('A9-A10 b1', MAP, 8), seats(9, 10, 11));
});

Choice('best n, with or without a space, in any case', () => {
  assert.equal(parseSeatChoice('best 4', MAP, 8), { kind: 'choice', choice: { kind: 'best', count: 4 } });
  assert.equal(parseSeatChoice('BEST3', MAP, 8), { kind: 'choice', choice: { kind: 'best', count: 3 } });
  assert.is(refused('best 9'), 'At most 8 seats at once.');
  assert.is(refused('best 0'), 'best 1 or more: best 4 is four seats side by side.');
});

Choice('seats shown taken are refused at once, every one named', () => {
  assert.is(refused('1 2'), 'Seat 1 (A1) is booked; choose free seats (marked .).');
  assert.is(refused('B4-B6 1'), 'Seat 1 (A1) is booked; seat 15 (B5) is held by someone else right now; choose free seats (marked .).');
  assert.is(refused('c1 c2'), 'You already hold seat 21 (C1); choose free seats (marked .).');
});

Choice('a seat twice, too many seats, a range across rows or downwards', () => {
  assert.is(refused('4 a4'), 'Seat 4 (A4) is in your answer twice.');
  assert.is(refused('2-10'), 'At most 8 seats at once; that is 9.');
  assert.is(refused('A9-B2'), 'A range stays in one row, as in A4-A7: A9-B2 spans rows.');
  assert.is(refused('A7-A4'), 'A range goes upwards, as in A4-A7.');
});

Choice('no such seat, or not a seat at all', () => {
  assert.is(refused('31'), 'There is no seat 31: seats are numbered 1-30 (A1 to C10).');
  assert.is(refused('D1'), 'There is no seat D1: seats are numbered 1-30 (A1 to C10).');
  assert.is(refused('A11'), 'There is no seat A11: seats are numbered 1-30 (A1 to C10).');
  assert.is(refused('seat four'), 'Type a seat number (1-30) or label (A1), several (12 13 14, A4-A7), best 4, m to show the map again, or - to go back.');
});

Choice('the rows of the map are used when the server gives them', () => {
  const shaped: SeatMap = { capacity: 30, map: '.'.repeat(30), rows: [{ name: 'A', first: 1, count: 8 }, { name: 'B', first: 9, count: 22 }] };
  assert.equal(parseSeatChoice('b1-b3', shaped, 8), seats(9, 10, 11));
  assert.is(refused('A9', shaped), 'There is no seat A9: seats are numbered 1-30 (A1 to B22).');
});

Choice.run();

const Describe = suite('seat question: seats in a sentence');

Describe('one seat, a run of one row, or a list', () => {
  assert.is(describeSeats([11], ['B1']), 'seat 11 (B1)');
  assert.is(describeSeats([12, 13, 14], ['B2', 'B3', 'B4']), 'seats 12-14 (B2-B4)');
  assert.is(describeSeats([10, 11], ['A10', 'B1']), 'seats 10, 11 (A10, B1)');
  assert.is(describeSeats([12, 15], ['B2', 'B5']), 'seats 12, 15 (B2, B5)');
});

Describe.run();
