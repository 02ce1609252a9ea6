/**
 * The interactive client's dialogue without I/O: answers parsed, steps taken on answers and
 * replies (given a dialogue / when an answer or reply / then the next step, what is shown and
 * sent), live seat changes, and what the screens say.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  answer as answerAt,
  endOfInput,
  findConcert,
  formatRemaining,
  holdOf,
  parseMenuChoice,
  parseNameAnswer,
  parseKeepalive,
  parsePort,
  parseReferenceAnswer,
  parseSeatAnswer,
  parseYesNo,
  promptOf,
  reply,
  seatEvent,
  seatsOf,
  startDialogue,
  type Dialogue,
  type Hold,
  type Seats,
  type Step,
} from '../../src/cli/interactive-dialogue.js';
import { formatBooked, formatPrompt, formatSeatScreen } from '../../src/cli/interactive-format.js';
import { renderSeatGrid } from '../../src/cli/render.js';
import type { ConcertSummary, SeatEvent } from '../../src/cli/client.js';
import { luhnCheckDigit } from '../../src/actors/reference.js';

const CONCERTS: ConcertSummary[] = [
  { id: 'c1', title: 'Concert One', venue: 'Hall A', date: '2027-01-01T20:00:00Z', capacity: 10, free: 10, held: 0, booked: 0 },
  { id: 'c2', title: 'Concert Two', venue: 'Hall B', date: '2027-01-02T20:00:00Z', capacity: 5, free: 5, held: 0, booked: 0 },
];
const NOW = Date.parse('2027-01-01T12:00:00Z');
const SEATS: Seats = { concert: 'c1', capacity: 10, map: '..x.h.....' };
const HOLD: Hold = { id: '01HOLD', concert: 'c1', seats: [4], labels: ['A4'], expiresAt: NOW + 90_000 };
/** Answers given at NOW (a hold runs out by the clock). */
const answer = (d: Dialogue, text: string) => answerAt(d, text, NOW);
const REFERENCE = (() => {
  const body = '123456789';
  return body + String(luhnCheckDigit(body));
})();
/** The same reference with its check digit changed: a typo. */
const TYPO = REFERENCE.slice(0, 9) + String((Number(REFERENCE[9]) + 1) % 10);

const at = (step: Step, extra: Partial<Dialogue> = {}): Dialogue => ({ concerts: CONCERTS, step, ...extra });
const ok = (payload: unknown) => ({ ok: true as const, payload });
const err = (code: string, message = 'because') => ({ ok: false as const, code, message });
/** A transition as plain data: where it goes, the kinds of what it shows, what it sends. */
const summary = (t: ReturnType<typeof answer>) => ({
  step: t.dialogue.step.at,
  out: t.out.map((o) => (o.kind === 'say' ? `${o.tone}: ${o.text}` : o.kind)),
  send: t.send ? [t.send.verb, ...t.send.args] : undefined,
  notify: t.notify?.map((n) => [n.verb, ...n.args]),
});

// ================================================================== answers

const Answers = suite('interactive: reading answers');

Answers('menu letters and words, any case; anything else is not a choice', () => {
  assert.equal(['b', 'Book', ' c ', 'l', 'LIST', 'i', 'h', '?', 'q', 'exit', 'x', ''].map(parseMenuChoice), [
    'book', 'book', 'cancel', 'list', 'list', 'ident', 'help', 'help', 'quit', 'quit', undefined, undefined,
  ]);
});

Answers('yes/no: y or yes, n or no, Enter takes the default, anything else asks again', () => {
  assert.equal(['y', 'YES', 'n', 'no', '', 'oui'].map((a) => parseYesNo(a, false)), [true, true, false, false, false, undefined]);
  assert.equal(parseYesNo('', true), true);
});

Answers('a concert by its number in the list or by its id', () => {
  assert.equal([findConcert(CONCERTS, '2')?.id, findConcert(CONCERTS, 'C1')?.id, findConcert(CONCERTS, '3'), findConcert(CONCERTS, '0'), findConcert(CONCERTS, 'zz')], [
    'c2', 'c1', undefined, undefined, undefined,
  ]);
});

Answers('a seat is checked against the map shown: range, booked, held by another', () => {
  const seats = (...numbers: number[]) => ({ kind: 'choice', choice: { kind: 'seats', seats: numbers } });
  assert.equal(parseSeatAnswer('4', SEATS), seats(4));
  assert.equal(parseSeatAnswer(' 10 ', SEATS), seats(10));
  assert.equal(parseSeatAnswer('a4', SEATS), seats(4));
  assert.equal(parseSeatAnswer('3', SEATS), { kind: 'invalid', message: 'Seat 3 (A3) is booked; choose a free seat (marked .).' });
  assert.equal(parseSeatAnswer('5', SEATS), { kind: 'invalid', message: 'Seat 5 (A5) is held by someone else right now; choose a free seat (marked .).' });
  assert.equal(parseSeatAnswer('11', SEATS), { kind: 'invalid', message: 'There is no seat 11: seats are numbered 1-10 (A1 to A10).' });
  assert.equal(parseSeatAnswer('0', SEATS).kind, 'invalid');
  assert.equal(parseSeatAnswer('four', SEATS), {
    kind: 'invalid', message: 'Type a seat number (1-10) or label (A1), several (12 13 14, A4-A7), best 4, m to show the map again, or - to go back.',
  });
  // A label as the map shows it: row A, place 4 is seat 4; row B of 10-seat rows starts at 11.
  assert.equal(parseSeatAnswer('A3', SEATS).kind, 'invalid');
  assert.equal(parseSeatAnswer('B1', { ...SEATS, capacity: 20, map: '.'.repeat(20) }), seats(11));
  assert.equal(parseSeatAnswer('B1', { ...SEATS, capacity: 20, map: '.'.repeat(20), rows: [{ name: 'A', first: 1, count: 8 }, { name: 'B', first: 9, count: 12 }] }), seats(9));
  assert.equal([parseSeatAnswer('', SEATS), parseSeatAnswer('-', SEATS), parseSeatAnswer('m', SEATS)], [{ kind: 'back' }, { kind: 'back' }, { kind: 'map' }]);
});

Answers('a reference: 10 digits whose check digit matches; spaces and hyphens ignored', () => {
  assert.equal(parseReferenceAnswer(REFERENCE), { kind: 'reference', reference: REFERENCE });
  assert.equal(parseReferenceAnswer(`${REFERENCE.slice(0, 3)} ${REFERENCE.slice(3, 6)}-${REFERENCE.slice(6)}`), { kind: 'reference', reference: REFERENCE });
  assert.equal(parseReferenceAnswer(TYPO), { kind: 'invalid', message: `${TYPO} is not a booking reference: its check digit does not match. A typo?` });
  assert.equal(parseReferenceAnswer('12345'), { kind: 'invalid', message: 'A booking reference is 10 digits, as printed when you booked.' });
  assert.equal(parseReferenceAnswer('-'), { kind: 'back' });
});

Answers('a name: as typed, Enter takes the offered one, - goes back', () => {
  assert.equal(parseNameAnswer('  Jean Pierre '), { kind: 'name', name: 'Jean Pierre' });
  assert.equal(parseNameAnswer('', 'Jeanne'), { kind: 'name', name: 'Jeanne' });
  assert.equal(parseNameAnswer(''), { kind: 'missing' });
  assert.equal(parseNameAnswer('-', 'Jeanne'), { kind: 'back' });
});

Answers('the port argument', () => {
  assert.equal(parsePort('12345'), 12345);
  assert.throws(() => parsePort('0'), /from 1 to 65535/);
  assert.throws(() => parsePort('http'), /from 1 to 65535/);
});

Answers('--keepalive: seconds (a fraction allowed) in ms; 0 none; absent or empty 30 s; anything else refused', () => {
  assert.equal([parseKeepalive('10'), parseKeepalive('0.25'), parseKeepalive('0'), parseKeepalive(undefined), parseKeepalive(' ')], [10_000, 250, 0, 30_000, 30_000]);
  for (const bad of ['-1', 'often', '1e3', '90000']) assert.throws(() => parseKeepalive(bad), /--keepalive must be a number of seconds from 0 \(never\) to 86400/);
});

Answers.run();

// ================================================================== booking

const Book = suite('interactive: the booking dialogue');

Book('b right after the concert list (HELLO\'s or l\'s) asks which concert at once', () => {
  assert.equal(summary(answer(startDialogue({ concerts: CONCERTS }), 'b')), { step: 'concert', out: [], send: undefined, notify: undefined });
  const listed = reply(at({ at: 'listing', then: 'menu' }), ok({ concerts: CONCERTS }), NOW);
  assert.equal(summary(answer(listed.dialogue, 'b')).step, 'concert');
});

Book('b later lists the concerts afresh, then asks which', () => {
  const t = answer(at({ at: 'menu' }), 'b');
  assert.equal(summary(t), { step: 'listing', out: [], send: ['CONCERTS'], notify: undefined });
  const shown = reply(t.dialogue, ok({ concerts: CONCERTS }), NOW);
  assert.equal(summary(shown), { step: 'concert', out: ['concerts'], send: undefined, notify: undefined });
  assert.is(shown.dialogue.listed, false);
});

Book('a concert chosen by number is watched; its map is shown', () => {
  const t = answer(at({ at: 'concert' }), '1');
  assert.equal(summary(t), { step: 'watching', out: [], send: ['WATCH', 'c1'], notify: undefined });
  const shown = reply(t.dialogue, ok({ concert: 'c1', capacity: 10, map: SEATS.map, free: 8, held: 1, booked: 1 }), NOW);
  assert.equal(shown.dialogue.step, { at: 'seat', seats: SEATS });
  assert.equal(summary(shown).out, ['seats']);
});

Book('a concert number or id typed at the menu books in it directly', () => {
  assert.equal(summary(answer(at({ at: 'menu' }), 'c2')).send, ['WATCH', 'c2']);
  assert.equal(summary(answer(at({ at: 'menu' }), 'zz')).out, ['warn: Unknown choice "zz": type b, c, l, i, h or q (h for help).']);
});

Book('a free seat asks for confirmation; a taken one is refused at once', () => {
  assert.equal(answer(at({ at: 'seat', seats: SEATS }), '4').dialogue.step, { at: 'confirm', seats: SEATS, choice: { kind: 'seats', seats: [4] } });
  assert.equal(summary(answer(at({ at: 'seat', seats: SEATS }), '3')), {
    step: 'seat', out: ['warn: Seat 3 (A3) is booked; choose a free seat (marked .).'], send: undefined, notify: undefined,
  });
});

Book('no (or Enter) at "Hold seat 4 (A4)? [y/N]" chooses again; yes holds', () => {
  const confirm = at({ at: 'confirm', seats: SEATS, choice: { kind: 'seats', seats: [4] } });
  assert.equal(promptOf(confirm, NOW).text, 'Hold seat 4 (A4)? [y/N]');
  for (const no of ['n', '']) assert.equal(summary(answer(confirm, no)).step, 'seat');
  assert.equal(summary(answer(confirm, 'maybe')), { step: 'confirm', out: ['warn: Answer y (hold them) or n (choose again).'], send: undefined, notify: undefined });
  assert.equal(summary(answer(confirm, 'y')), { step: 'holding', out: [], send: ['HOLD', 'c1', 4], notify: undefined });
});

Book('a seat taken meanwhile: say so, mark it, choose again', () => {
  const t = reply(at({ at: 'holding', seats: SEATS, choice: { kind: 'seats', seats: [4] } }), err('SEAT_TAKEN'), NOW);
  assert.equal(summary(t).out, ['warn: Seat 4 (A4) was taken meanwhile; choose again.', 'seats']);
  assert.equal(t.dialogue.step, { at: 'seat', seats: { ...SEATS, map: '..xhh.....' } });
});

Book('the hold is shown with its remaining time, then the names are asked', () => {
  // A protocol-1 server's reply: `seat` only; the label is that of rows of 10.
  const t = reply(at({ at: 'holding', seats: SEATS, choice: { kind: 'seats', seats: [4] } }), ok({ hold: '01HOLD', concert: 'c1', seat: 4, expiresAt: new Date(NOW + 120_000).toISOString() }), NOW);
  assert.equal(t.dialogue.step.at, 'first');
  assert.equal(holdOf(t.dialogue), { id: '01HOLD', concert: 'c1', seats: [4], labels: ['A4'], expiresAt: NOW + 120_000 });
  assert.match(summary(t).out[0]!, /^ok: Seat 4 \(A4\) of Concert One \(c1\) is held for you: 2:00 left \(until \d\d:\d\d:\d\d\)\.$/);
  assert.equal(promptOf(t.dialogue, NOW + 30_500).text, 'First name (seat 4 (A4) held, 1:30 left)');
});

Book('names after IDENT are offered; Enter takes them; BOOK carries both', () => {
  const names = { firstName: 'Jeanne', lastName: 'Dupont' };
  const first = at({ at: 'first', seats: SEATS, hold: HOLD }, { names });
  assert.equal(promptOf(first, NOW).fallback, 'Jeanne');
  const last = answer(first, '');
  assert.equal(last.dialogue.step, { at: 'last', seats: SEATS, hold: HOLD, firstName: 'Jeanne' });
  assert.equal(summary(answer(last.dialogue, 'Le Gall')).send, ['BOOK', '01HOLD', 'Jeanne', 'Le Gall']);
});

Book('an invalid name asks both names again; the hold stays', () => {
  const t = reply(at({ at: 'booking', seats: SEATS, hold: HOLD }), err('INVALID_NAME', 'names are letters'), NOW);
  assert.equal(t.dialogue.step, { at: 'first', seats: SEATS, hold: HOLD });
  assert.equal(summary(t).out, ['warn: That name was refused: names are letters', 'info: Seat 4 (A4) is still held for you (1:30 left). Your names again, please.']);
  assert.equal(t.notify, undefined);
});

Book('a hold that ran out goes back to choosing a seat', () => {
  const t = reply(at({ at: 'booking', seats: { ...SEATS, map: '..xHh.....' }, hold: HOLD }), err('HOLD_EXPIRED'), NOW);
  assert.equal(t.dialogue.step, { at: 'seat', seats: SEATS });
});

Book('a bad name is refused as it is typed, saying which and why; the hold stays', () => {
  const first = at({ at: 'first', seats: SEATS, hold: HOLD });
  assert.equal(summary(answer(first, 'Jeanne2')), {
    step: 'first', out: ['warn: That first name has digits in it: a name is letters. Type it again (or - to give seat 4 (A4) back).'], send: undefined, notify: undefined,
  });
  assert.match(summary(answer(first, 'Jeanne 🎸')).out[0]!, /^warn: That first name has "🎸" in it: only letters, spaces, hyphens and apostrophes\./);
  assert.match(summary(answer(first, 'x'.repeat(300))).out[0]!, /^warn: That first name is 300 characters long: at most 64\./);
  const last = at({ at: 'last', seats: SEATS, hold: HOLD, firstName: 'Jeanne' });
  assert.match(summary(answer(last, '-Dupont')).out[0]!, /^warn: That last name must start and end with a letter\./);
  assert.equal(summary(answer(at({ at: 'ident-first' }), '42')).step, 'ident-first');
});

Book('a hold that has run out is said at the next name, not after both', () => {
  const first = at({ at: 'first', seats: { ...SEATS, map: '...H......' }, hold: HOLD });
  const t = answerAt(first, 'Jeanne', HOLD.expiresAt + 1);
  assert.equal(summary(t), {
    step: 'seat', out: ['warn: Your hold on seat 4 (A4) ran out; choose again.', 'seats'], send: undefined, notify: [['RELEASE', '01HOLD']],
  });
  assert.is(t.dialogue.step.at === 'seat' && t.dialogue.step.seats.map[3], '.');
});

Book('q leaves from the concert, seat and confirmation questions too', () => {
  for (const step of [{ at: 'concert' }, { at: 'seat', seats: SEATS }, { at: 'confirm', seats: SEATS, choice: { kind: 'seats', seats: [4] } }, { at: 'reference' }] as Step[]) {
    assert.is(summary(answer(at(step), 'q')).step, 'quit', step.at);
  }
  // Not at a name question: "Q" could be one.
  assert.is(summary(answer(at({ at: 'last', seats: SEATS, hold: HOLD, firstName: 'Jeanne' }), 'Q')).step, 'booking');
});

Book("the server's protocol words become the CLI's", () => {
  const t = reply(at({ at: 'watching', concert: 'zz' }), err('NO_SUCH_CONCERT', 'no concert "zz"; CONCERTS lists them'), NOW);
  assert.equal(summary(t).out, ['warn: Cannot show that concert: no concert "zz" (see `guichet concerts`) (NO_SUCH_CONCERT)']);
});

Book('a concert by the start of its id or title, when only one has it', () => {
  assert.is(findConcert(CONCERTS, 'concert')?.id, undefined);
  assert.is(findConcert(CONCERTS, 'concert t')?.id, 'c2');
  assert.is(findConcert(CONCERTS, 'C1')?.id, 'c1');
  assert.is(findConcert(CONCERTS, '')?.id, undefined);
});

Book('- at a name question gives the seat back', () => {
  assert.equal(summary(answer(at({ at: 'first', seats: SEATS, hold: HOLD }), '-')), {
    step: 'seat', out: ['info: Seat 4 (A4) given back. Choose again.', 'seats'], send: undefined, notify: [['RELEASE', '01HOLD']],
  });
});

Book('booked: the reference is shown, the map is no longer watched', () => {
  const booking = { reference: REFERENCE, concert: 'c1', seats: [4], labels: ['A4'], firstName: 'Jeanne', lastName: 'Dupont' };
  const t = reply(at({ at: 'booking', seats: SEATS, hold: HOLD }), ok({ ...booking, seat: 4 }), NOW);
  assert.equal(t.out, [{ kind: 'booked', booking }]);
  assert.equal(summary(t), { step: 'menu', out: ['booked'], send: undefined, notify: [['UNWATCH', 'c1']] });
});

Book('- at the seat question goes back to the menu and stops watching', () => {
  assert.equal(summary(answer(at({ at: 'seat', seats: SEATS }), '-')), { step: 'menu', out: [], send: undefined, notify: [['UNWATCH', 'c1']] });
});

Book.run();

// ================================================================== cancelling

const Cancel = suite('interactive: the cancellation dialogue');

Cancel('a mistyped reference is caught by its check digit and asked again, before any request', () => {
  const t = answer(at({ at: 'reference' }), TYPO);
  assert.equal(summary(t).step, 'reference');
  assert.equal(t.send, undefined);
  assert.equal(answer(at({ at: 'reference' }), REFERENCE).dialogue.step, { at: 'cancel-last', reference: REFERENCE });
});

Cancel('the last name is checked with LOOKUP; no match asks it again', () => {
  const t = answer(at({ at: 'cancel-last', reference: REFERENCE }), 'Martin');
  assert.equal(summary(t).send, ['LOOKUP', REFERENCE, 'Martin']);
  const again = reply(t.dialogue, err('NOT_FOUND'), NOW);
  assert.equal(again.dialogue.step, { at: 'cancel-last', reference: REFERENCE });
  assert.equal(summary(again).out, [`warn: No booking ${REFERENCE} under the last name "Martin". Try the last name again, or - to retype the reference.`]);
});

Cancel('rate limited: say so and stop asking', () => {
  const t = reply(at({ at: 'looking-up', reference: REFERENCE, lastName: 'X' }), err('RATE_LIMITED', 'too many failed look-ups; try again in 60 s'), NOW);
  assert.equal(summary(t), { step: 'menu', out: ['warn: Too many failed look-ups; try again in 60 s. Not asking again for now.'], send: undefined, notify: undefined });
});

Cancel('the booking is shown, then "Cancel it? [y/N]": no keeps it, yes cancels', () => {
  const booking = { reference: REFERENCE, concert: 'c1', seats: [7], labels: ['A7'], seat: 7, firstName: 'Jeanne', lastName: 'Dupont' };
  const shown = reply(at({ at: 'looking-up', reference: REFERENCE, lastName: 'dupont' }), ok(booking), NOW);
  assert.equal(summary(shown).out, [`info: Booking ${REFERENCE}: seat 7 (A7) of Concert One (c1), for Jeanne Dupont.`]);
  assert.equal(promptOf(shown.dialogue, NOW).text, 'Cancel it? [y/N]');
  assert.equal(summary(answer(shown.dialogue, '')), { step: 'menu', out: [`info: Kept: booking ${REFERENCE} is unchanged.`], send: undefined, notify: undefined });
  const cancelling = answer(shown.dialogue, 'y');
  assert.equal(summary(cancelling).send, ['CANCEL', REFERENCE, 'dupont']);
  assert.equal(summary(reply(cancelling.dialogue, ok({ reference: REFERENCE, concert: 'c1', seats: [7], labels: ['A7'], seat: 7 }), NOW)).out, [
    `ok: Cancelled booking ${REFERENCE}: seat 7 (A7) of Concert One (c1) is free again.`,
  ]);
});

Cancel.run();

// ================================================================== ident, live changes, leaving

const Other = suite('interactive: ident, live seat changes, end of input');

Other('IDENT remembers the names the server accepted', () => {
  const t = answer(at({ at: 'ident-last', firstName: 'jeanne' }), 'dupont');
  assert.equal(summary(t).send, ['IDENT', 'jeanne', 'dupont']);
  const done = reply(t.dialogue, ok({ firstName: 'jeanne', lastName: 'dupont' }), NOW);
  assert.equal(done.dialogue.names, { firstName: 'jeanne', lastName: 'dupont' });
  assert.equal(reply(t.dialogue, err('INVALID_NAME'), NOW).dialogue.step, { at: 'ident-first' });
});

Other('a seat event changes the map shown, and only for that concert', () => {
  const e = (concert: string, seat: number, state: SeatEvent['state']): SeatEvent => ({
    concert, seq: 1, type: 'SeatBooked', seat, state, at: new Date(NOW).toISOString(), free: 0, held: 0, booked: 0,
  });
  const d = at({ at: 'confirm', seats: SEATS, choice: { kind: 'seats', seats: [4] } });
  assert.equal(seatEvent(d, e('c1', 1, 'x')).step, { at: 'confirm', seats: { ...SEATS, map: 'x.x.h.....' }, choice: { kind: 'seats', seats: [4] } });
  assert.is(seatEvent(d, e('c2', 1, 'x')), d);
  assert.is(seatEvent(at({ at: 'menu' }), e('c1', 1, 'x')).step.at, 'menu');
});

Other('input that ends at the menu is a normal end; mid-question is not, and the seat goes back', () => {
  assert.equal(endOfInput(at({ at: 'menu' })), { code: 0 });
  assert.equal(endOfInput(at({ at: 'last', seats: SEATS, hold: HOLD, firstName: 'J' })), {
    code: 1, message: 'Input ended in the middle of a question (last). Seat 4 (A4) is given back.',
  });
});

Other.run();

// ================================================================== screens

const Screens = suite('interactive: what the screens say');

Screens('the grid reads without colour: rows of 10 named A-J, place and state character per seat, seat numbers at the end', () => {
  const map = `x${'.'.repeat(40)}h${'.'.repeat(10)}H${'.'.repeat(47)}`;
  const grid = renderSeatGrid(map, { color: false });
  const lines = grid.split('\n');
  assert.equal(lines.length, 11);
  assert.equal(lines[0], 'A  1x  2.  3.  4.  5.  6.  7.  8.  9. 10.    1-10');
  assert.ok(lines[4]!.startsWith('E  1.  2h'), lines[4]);
  assert.ok(lines[5]!.startsWith('F  1.  2.  3H'), lines[5]);
  assert.ok(lines[9]!.endsWith('  91-100'), lines[9]);
  assert.equal(lines[10], '. free   h held   H yours   x booked');
  assert.not.match(grid, /\x1b/);
});

Screens('with colour each state has its own colour and the chosen seat is highlighted', () => {
  const grid = renderSeatGrid('.hHx', { color: true, highlight: 1 });
  assert.ok(grid.includes('\x1b[32;7m1.\x1b[0m'), grid);
  assert.ok(grid.includes('\x1b[33m2h\x1b[0m'));
  assert.ok(grid.includes('\x1b[1;36m3H\x1b[0m'));
  assert.ok(grid.includes('\x1b[2;31m4x\x1b[0m'));
});

Screens('the seat screen: heading with counts, grid, last live change, notes', () => {
  const d = at({ at: 'seat', seats: SEATS });
  const { lines } = formatSeatScreen(d, { color: false, lastChange: '12:00:00 seat 3 booked', notes: ['Seat 3 is booked.'] });
  assert.equal(lines.slice(0, 2), ['Concert One (c1): 8 free, 1 held, 1 booked (of 10)', 'A  1.  2.  3x  4.  5h  6.  7.  8.  9. 10.  1-10']);
  assert.equal(lines.slice(-4), ['', 'Live: 12:00:00 seat 3 booked', '', 'Seat 3 is booked.']);
});

Screens('the booking reference stands out, with the concert and the seat', () => {
  const text = formatBooked(at({ at: 'menu' }), { reference: REFERENCE, concert: 'c1', seats: [42], labels: ['E2'], firstName: 'Jeanne', lastName: 'Dupont' }, { color: false });
  assert.equal(text.split('\n'), [
    '+------------------------------------------+',
    '|  Booked: seat 42 (E2), Concert One (c1)  |',
    '|  Name:   Jeanne Dupont                   |',
    '|                                          |',
    `|  Booking reference:   ${REFERENCE}         |`,
    '+------------------------------------------+',
    'Keep the reference: with your last name, it lets you cancel.',
  ]);
});

Screens('questions: plain on a pipe, decorated on a terminal; the offered answer in brackets', () => {
  assert.equal(formatPrompt({ text: 'First name', fallback: 'Jeanne' }, { color: false, decorate: false }), 'First name [Jeanne]: ');
  assert.equal(formatPrompt({ text: 'Seat' }, { color: false, decorate: true }), 'Seat > ');
  assert.equal(formatPrompt({ text: 'Seat' }, { color: true, decorate: true }), '\x1b[1mSeat\x1b[0m\x1b[36m > \x1b[0m');
});

Screens('remaining time as m:ss, never negative', () => {
  assert.equal([formatRemaining(120_000), formatRemaining(61_001), formatRemaining(999), formatRemaining(-5)], ['2:00', '1:02', '0:01', '0:00']);
});

Screens.run();

// ================================================================== a group of seats

const Group = suite('interactive: a group of seats');

const ROWS = [{ name: 'A', first: 1, count: 5 }, { name: 'B', first: 6, count: 5 }];
const HALL: Seats = { concert: 'c1', capacity: 10, map: '..x.......', rows: ROWS };
const GROUP: Hold = { id: '01GROUP', concert: 'c1', seats: [7, 8, 9], labels: ['B2', 'B3', 'B4'], expiresAt: NOW + 90_000 };

Group('several seats are confirmed together, then held in one HOLD', () => {
  const confirm = answer(at({ at: 'seat', seats: HALL }), 'b2-b4');
  assert.equal(confirm.dialogue.step, { at: 'confirm', seats: HALL, choice: { kind: 'seats', seats: [7, 8, 9] } });
  assert.equal(promptOf(confirm.dialogue, NOW).text, 'Hold seats 7-9 (B2-B4)? [y/N]');
  assert.equal(summary(answer(confirm.dialogue, 'y')).send, ['HOLD', 'c1', 7, 8, 9]);
});

Group('best n asks the server, and shows the seats it chose', () => {
  const confirm = answer(at({ at: 'seat', seats: HALL }, { maxSeats: 8 }), 'best 3');
  assert.equal(promptOf(confirm.dialogue, NOW).text, 'Hold the best 3 seats side by side? [y/N]');
  const holding = answer(confirm.dialogue, 'y');
  assert.equal(summary(holding).send, ['HOLD', 'c1', 'best', 3]);
  const held = reply(holding.dialogue, ok({ hold: '01GROUP', concert: 'c1', seats: [7, 8, 9], labels: ['B2', 'B3', 'B4'], seat: 7, expiresAt: new Date(NOW + 90_000).toISOString() }), NOW);
  assert.equal(holdOf(held.dialogue), GROUP);
  assert.match(summary(held).out[0]!, /^ok: Seats 7-9 \(B2-B4\) of Concert One \(c1\) are held for you: 1:30 left/);
  assert.is(seatsOf(held.dialogue)!.map, '..x...HHH.');
  assert.equal(promptOf(held.dialogue, NOW).text, 'First name (seats 7-9 (B2-B4) held, 1:30 left)');
});

Group('no adjacent seats, or some taken meanwhile: say why and choose again', () => {
  const best = reply(at({ at: 'holding', seats: HALL, choice: { kind: 'best', count: 6 } }), err('NO_ADJACENT_SEATS', 'no row has 6 adjacent free seats; the most there are is 5'), NOW);
  assert.equal(summary(best), {
    step: 'seat', out: ['warn: no row has 6 adjacent free seats; the most there are is 5: choose seats one by one, or fewer.'], send: undefined, notify: undefined,
  });
  const taken = reply(at({ at: 'holding', seats: HALL, choice: { kind: 'seats', seats: [7, 8] } }), err('SEAT_TAKEN', 'seat 8 (B3) is not free; nothing was held'), NOW);
  assert.equal(summary(taken).out, ['warn: Seats 7-8 (B2-B3) could not all be held: seat 8 (B3) is not free; nothing was held; choose again.', 'seats']);
});

Group('the booking box shows every seat under one reference', () => {
  const booking = { reference: REFERENCE, concert: 'c1', seats: [7, 8, 9], labels: ['B2', 'B3', 'B4'], firstName: 'Jeanne', lastName: 'Dupont' };
  const t = reply(at({ at: 'booking', seats: HALL, hold: GROUP }), ok({ ...booking, seat: 7 }), NOW);
  assert.equal(t.out, [{ kind: 'booked', booking }]);
  assert.ok(formatBooked(at({ at: 'menu' }), booking, { color: false }).includes('|  Booked: seats 7-9 (B2-B4), Concert One (c1)  |'));
});

Group('giving a group back frees every seat of it on the map', () => {
  const t = answer(at({ at: 'first', seats: { ...HALL, map: '..x...HHH.' }, hold: GROUP }), '-');
  assert.equal(summary(t).out[0], 'info: Seats 7-9 (B2-B4) given back. Choose again.');
  assert.is(seatsOf(t.dialogue)!.map, HALL.map);
  assert.equal(t.notify, [{ verb: 'RELEASE', args: ['01GROUP'] }]);
});

Group('cancelling shows every seat of the booking and frees them all', () => {
  const booking = { reference: REFERENCE, concert: 'c1', seats: [7, 8, 9], labels: ['B2', 'B3', 'B4'], seat: 7, firstName: 'Jeanne', lastName: 'Dupont' };
  const shown = reply(at({ at: 'looking-up', reference: REFERENCE, lastName: 'dupont' }), ok(booking), NOW);
  assert.equal(summary(shown).out, [`info: Booking ${REFERENCE}: seats 7-9 (B2-B4) of Concert One (c1), for Jeanne Dupont.`]);
  const cancelling = answer(shown.dialogue, 'y');
  const { firstName: _f, lastName: _l, ...cancelled } = booking;
  assert.equal(summary(reply(cancelling.dialogue, ok(cancelled), NOW)).out, [
    `ok: Cancelled booking ${REFERENCE}: seats 7-9 (B2-B4) of Concert One (c1) are all free again.`,
  ]);
});

Group('maxSeats comes from HELLO (or maxHolds from a protocol-1 server)', () => {
  assert.is(startDialogue({ concerts: CONCERTS, maxSeats: 6 }).maxSeats, 6);
  assert.is(startDialogue({ concerts: CONCERTS, maxHolds: 4 }).maxSeats, 4);
  const d = at({ at: 'seat', seats: HALL }, { maxSeats: 2 });
  assert.equal(summary(answer(d, '4 5 6')).out, ['warn: At most 2 seats at once; that is 3.']);
});

Group.run();
