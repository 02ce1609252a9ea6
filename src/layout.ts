/**
 * A concert's seats in rows (DESIGN.md "Concert layout", fixed): row sizes front first, rows
 * named A…Z, AA, AB…, seats numbered 1…capacity row after row, a seat's label its row and its
 * place in the row (`A1`, `B7`). Also "best available": the deterministic choice of n adjacent
 * seats. Pure: no I/O, no state of its own.
 */
import { GuichetError } from './errors.js';

export interface Row {
  /** A, B, … Z, AA, AB, … */
  readonly name: string;
  /** Number of the row's first seat. */
  readonly first: number;
  /** Seats in the row. */
  readonly count: number;
}

export interface Layout {
  readonly capacity: number;
  /** Front (nearest the stage) first. */
  readonly rows: readonly Row[];
}

/** Seats per row when the catalog gives no `rows`. */
export const DEFAULT_ROW_SIZE = 10;

/** Row name of the row at `index` (0: A, 25: Z, 26: AA, 27: AB, 702: AAA). */
export function rowName(index: number): string {
  let name = '';
  let n = index + 1;
  while (n > 0) {
    const rest = (n - 1) % 26;
    name = String.fromCharCode(65 + rest) + name;
    n = Math.floor((n - 1) / 26);
  }
  return name;
}

/** Index of a row name (case-insensitive), or -1 when it is not a row name at all. */
function rowIndex(name: string): number {
  if (!/^[A-Za-z]{1,4}$/.test(name)) return -1;
  let n = 0;
  for (const c of name.toUpperCase()) n = n * 26 + (c.charCodeAt(0) - 64);
  return n - 1;
}

/** Rows of 10 seats, the last one the rest. */
export function defaultRowSizes(capacity: number): number[] {
  const sizes: number[] = [];
  for (let left = capacity; left > 0; left -= DEFAULT_ROW_SIZE) sizes.push(Math.min(DEFAULT_ROW_SIZE, left));
  return sizes;
}

/** The layout of `capacity` seats in rows of the given sizes (default: rows of 10). */
export function layoutOf(capacity: number, rowSizes?: readonly number[]): Layout {
  const sizes = rowSizes ?? defaultRowSizes(capacity);
  const rows: Row[] = [];
  let first = 1;
  sizes.forEach((count, i) => {
    rows.push({ name: rowName(i), first, count });
    first += count;
  });
  return { capacity, rows };
}

const defaultLayouts = new Map<number, Layout>();

/**
 * The layout of `capacity` seats in rows of 10, made once per capacity: a command without a
 * layout of its own asks for it, and making it is a pass over every row.
 */
export function defaultLayout(capacity: number): Layout {
  let layout = defaultLayouts.get(capacity);
  if (!layout) defaultLayouts.set(capacity, (layout = layoutOf(capacity)));
  return layout;
}

/**
 * Why a catalog's `rows` (and `capacity`) cannot be used, or undefined when they can.
 * `capacity` undefined: the rows give it.
 */
export function rowsProblem(rows: unknown, capacity: number | undefined, maxCapacity: number): string | undefined {
  if (!Array.isArray(rows)) return 'rows must be an array of row sizes, front row first, such as [8, 10, 12]';
  if (rows.length === 0) return 'rows must name at least one row';
  const bad = rows.findIndex((r) => typeof r !== 'number' || !Number.isInteger(r) || r < 1);
  if (bad >= 0) return `row ${rowName(bad)} has ${JSON.stringify(rows[bad])} seats: each row is a whole number of seats, at least 1`;
  const sum = (rows as number[]).reduce((a, b) => a + b, 0);
  if (sum > maxCapacity) return `rows add up to ${sum} seats, more than ${maxCapacity}`;
  if (capacity !== undefined && capacity !== sum) return `rows add up to ${sum} seats but capacity is ${capacity}`;
  return undefined;
}

/** The row holding `seat`, and its place in the row (1-based); undefined for no such seat. */
export function placeOf(layout: Layout, seat: number): { row: Row; place: number } | undefined {
  if (!Number.isInteger(seat) || seat < 1 || seat > layout.capacity) return undefined;
  // Binary search: halls of thousands of seats are labelled per event pushed.
  let lo = 0;
  let hi = layout.rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (layout.rows[mid]!.first <= seat) lo = mid;
    else hi = mid - 1;
  }
  const row = layout.rows[lo]!;
  return { row, place: seat - row.first + 1 };
}

/** `A1`, `B7`… for a seat of the layout; `#n` for a number outside it. */
export function labelOf(layout: Layout, seat: number): string {
  const at = placeOf(layout, seat);
  return at ? `${at.row.name}${at.place}` : `#${seat}`;
}

export function labelsOf(layout: Layout, seats: readonly number[]): string[] {
  return seats.map((s) => labelOf(layout, s));
}

const NUMBER = /^\d{1,9}$/;
const LABEL = /^([A-Za-z]{1,4})(\d{1,9})$/;

/**
 * A seat given as a number (`42`) or a label (`b7`, case-insensitive). Throws BAD_ARGUMENTS
 * for neither, NO_SUCH_SEAT for a seat the layout has not.
 */
export function parseSeat(layout: Layout, text: string): number {
  if (NUMBER.test(text)) {
    const seat = Number(text);
    if (seat < 1 || seat > layout.capacity) throw noSuchSeat(layout, text);
    return seat;
  }
  const m = LABEL.exec(text);
  if (!m) throw new GuichetError('BAD_ARGUMENTS', `${JSON.stringify(text)} is not a seat: give its number (42) or its label (B7)`);
  const row = layout.rows[rowIndex(m[1]!)];
  const place = Number(m[2]);
  if (!row || place < 1 || place > row.count) throw noSuchSeat(layout, text);
  return row.first + place - 1;
}

function noSuchSeat(layout: Layout, text: string): GuichetError {
  const last = layout.rows[layout.rows.length - 1];
  const labels = last ? `, labelled A1 to ${last.name}${last.count}` : '';
  return new GuichetError('NO_SUCH_SEAT', `no seat ${text}: seats are numbered 1 to ${layout.capacity}${labels}`);
}

// ---------------------------------------------------------------- best available

export type BestChoice = { seats: number[] } | { most: number };

/**
 * "Best available" (DESIGN.md): rows front to back; in each row every run of `n` adjacent
 * free seats; a run strands a seat when it leaves one free seat alone between it and a taken
 * seat or the row's end. The first row with a run that strands nothing, and in it the run
 * whose middle is nearest the row's middle (ties: the lower seat); failing that, the same
 * allowing stranded seats; failing that, `most`: the longest run of free seats in any row.
 */
export function bestAvailable(layout: Layout, isFree: (seat: number) => boolean, n: number): BestChoice {
  const strict = choose(layout, isFree, n, false);
  if (strict) return { seats: strict };
  const loose = choose(layout, isFree, n, true);
  if (loose) return { seats: loose };
  return { most: longestFreeRun(layout, isFree) };
}

function choose(layout: Layout, isFree: (seat: number) => boolean, n: number, allowStranding: boolean): number[] | undefined {
  for (const row of layout.rows) {
    if (row.count < n) continue;
    const free = (place: number) => place >= 0 && place < row.count && isFree(row.first + place);
    const middle = (row.count - 1) / 2;
    let best: number | undefined;
    let bestDistance = Number.POSITIVE_INFINITY;
    let run = 0; // free seats in a row ending at `end`
    for (let end = 0; end < row.count; end++) {
      run = free(end) ? run + 1 : 0;
      if (run < n) continue;
      const start = end - n + 1;
      if (!allowStranding && (strands(free, start - 1, -1, row.count) || strands(free, end + 1, 1, row.count))) continue;
      const distance = Math.abs(start + (n - 1) / 2 - middle);
      // Scanning upwards, a strictly nearer run replaces: on a tie the lower one stays.
      if (distance < bestDistance) {
        best = start;
        bestDistance = distance;
      }
    }
    if (best !== undefined) return Array.from({ length: n }, (_, i) => row.first + best! + i);
  }
  return undefined;
}

/** Whether the place next to a run (`place`, going away from it by `step`) is a free seat left alone. */
function strands(free: (place: number) => boolean, place: number, step: number, count: number): boolean {
  if (place < 0 || place >= count || !free(place)) return false;
  return !free(place + step);
}

function longestFreeRun(layout: Layout, isFree: (seat: number) => boolean): number {
  let most = 0;
  for (const row of layout.rows) {
    let run = 0;
    for (let seat = row.first; seat < row.first + row.count; seat++) {
      run = isFree(seat) ? run + 1 : 0;
      most = Math.max(most, run);
    }
  }
  return most;
}
