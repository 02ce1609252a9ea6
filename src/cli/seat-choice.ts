/**
 * The interactive client's seat question, pure: what the user typed (`12`, `12 13 14`,
 * `A4-A7`, `b7`, `12-14, c1`, `best 4`), checked against the map they see, and how chosen
 * seats read in a sentence. No I/O.
 */
import { labelOf, labelsOf, layoutOf, parseSeat, placeOf, type Layout, type Row } from '../layout.js';

/** A seat map as the dialogue knows it: one character per seat (`.` `h` `H` `x`), and its rows. */
export interface SeatMap {
  capacity: number;
  map: string;
  /** From SEATS/WATCH; absent from a protocol-1 server: rows of 10 are assumed. */
  rows?: readonly Row[];
}

export type SeatChoice = { kind: 'seats'; seats: number[] } | { kind: 'best'; count: number };

export type ChoiceAnswer = { kind: 'choice'; choice: SeatChoice } | { kind: 'invalid'; message: string };

export function layoutOfMap(m: SeatMap): Layout {
  return m.rows && m.rows.length > 0 ? { capacity: m.capacity, rows: m.rows } : layoutOf(m.capacity);
}

/**
 * Seats as typed, checked against the map: every seat exists, none twice, none shown taken,
 * at most `maxSeats`. `best <n>` asks the server for the best n adjacent seats.
 */
export function parseSeatChoice(text: string, m: SeatMap, maxSeats: number): ChoiceAnswer {
  const layout = layoutOfMap(m);
  const w = text.trim().toLowerCase();
  const best = /^best\s*(\d+)$/.exec(w);
  if (best) {
    const count = Number(best[1]);
    if (count < 1) return invalid('best 1 or more: best 4 is four seats side by side.');
    if (count > maxSeats) return invalid(`At most ${maxSeats} seats at once.`);
    return { kind: 'choice', choice: { kind: 'best', count } };
  }
  const seats: number[] = [];
  for (const token of w.split(/[\s,]+/).filter(Boolean)) {
    const read = readToken(token, layout);
    if (typeof read === 'string') return invalid(read);
    seats.push(...read);
  }
  if (seats.length === 0) return invalid(usage(layout));
  const sorted = [...seats].sort((a, b) => a - b);
  const twice = sorted.find((n, i) => i > 0 && sorted[i - 1] === n);
  if (twice !== undefined) return invalid(`Seat ${describeOne(twice, layout)} is in your answer twice.`);
  if (sorted.length > maxSeats) return invalid(`At most ${maxSeats} seats at once; that is ${sorted.length}.`);
  const taken = takenMessage(sorted, m, layout);
  if (taken) return invalid(taken);
  return { kind: 'choice', choice: { kind: 'seats', seats: sorted } };
}

const invalid = (message: string): ChoiceAnswer => ({ kind: 'invalid', message });

function usage(layout: Layout): string {
  return `Type a seat number (1-${layout.capacity}) or label (A1), several (12 13 14, A4-A7), best 4, m to show the map again, or - to go back.`;
}

/** One seat, or a range `12-14` / `A4-A7`; a string says what is wrong. */
function readToken(token: string, layout: Layout): number[] | string {
  const dash = token.indexOf('-');
  if (dash > 0) {
    const from = seatOf(token.slice(0, dash), layout);
    const to = seatOf(token.slice(dash + 1), layout);
    if (typeof from === 'string') return from;
    if (typeof to === 'string') return to;
    const labelled = /[a-z]/.test(token);
    if (labelled && placeOf(layout, from)!.row !== placeOf(layout, to)!.row) {
      return `A range stays in one row, as in A4-A7: ${token.toUpperCase()} spans rows.`;
    }
    if (to < from) return `A range goes upwards, as in ${labelOf(layout, to)}-${labelOf(layout, from)}.`;
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  }
  const seat = seatOf(token, layout);
  return typeof seat === 'string' ? seat : [seat];
}

function seatOf(text: string, layout: Layout): number | string {
  try {
    return parseSeat(layout, text);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'NO_SUCH_SEAT') {
      const last = layout.rows[layout.rows.length - 1]!;
      return `There is no seat ${text.toUpperCase()}: seats are numbered 1-${layout.capacity} (A1 to ${last.name}${last.count}).`;
    }
    return usage(layout);
  }
}

/** Why some chosen seats cannot be held, as the map shows them; undefined when all are free. */
function takenMessage(seats: readonly number[], m: SeatMap, layout: Layout): string | undefined {
  const booked = seats.filter((n) => m.map[n - 1] === 'x');
  const theirs = seats.filter((n) => m.map[n - 1] === 'h');
  const mine = seats.filter((n) => m.map[n - 1] === 'H');
  const problems: string[] = [];
  const text = (seats: number[]) => describeSeats(seats, labelsOf(layout, seats));
  if (booked.length > 0) problems.push(`${text(booked)} ${booked.length === 1 ? 'is' : 'are'} booked`);
  if (theirs.length > 0) problems.push(`${text(theirs)} ${theirs.length === 1 ? 'is' : 'are'} held by someone else right now`);
  if (mine.length > 0) problems.push(`you already hold ${text(mine)}`);
  if (problems.length === 0) return undefined;
  return `${capital(problems.join('; '))}; choose ${seats.length === 1 ? 'a free seat' : 'free seats'} (marked .).`;
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function describeOne(seat: number, layout: Layout): string {
  return `${seat} (${labelOf(layout, seat)})`;
}

/**
 * Seats in a sentence, numbers and labels: `seat 11 (B1)`, `seats 12-14 (B2-B4)` for
 * adjacent seats of one row, else `seats 12, 15 (B2, B5)`.
 */
export function describeSeats(seats: readonly number[], labels: readonly string[]): string {
  if (seats.length === 1) return `seat ${seats[0]} (${labels[0]})`;
  const first = seats[0]!;
  const row = (label: string | undefined) => label?.replace(/\d+$/, '');
  const oneRun = seats.every((n, i) => n === first + i) && labels.every((l) => row(l) === row(labels[0]));
  if (oneRun) return `seats ${first}-${seats[seats.length - 1]} (${labels[0]}-${labels[labels.length - 1]})`;
  return `seats ${seats.join(', ')} (${labels.join(', ')})`;
}
