/**
 * The seat map drawn in rows, as the hall is: each line is a row's name and its seats, each
 * seat its place in the row and its state (` 1.  2x  3H`), so it reads without colour; the
 * seat numbers of the row at its end. A map taller than the screen is shown a window of rows
 * at a time (`windowOf`), and a row wider than the screen goes on over several lines.
 *
 * Rows come from the server's `SEATS`/`WATCH` reply (`rows`); an older server sends none, and
 * then rows are of 10 seats, A–J for 100 (DESIGN.md "Concert layout"), as src/layout.ts
 * lays them out.
 */
import { layoutOf as hallLayout, type Row } from '../layout.js';

export type { Row };

/** The server's rows when they cover the capacity exactly; else rows of 10, the last the rest. */
export function rowsFor(capacity: number, rows?: readonly Row[]): Row[] {
  if (rows && rows.length > 0 && coversExactly(capacity, rows)) return [...rows];
  return [...hallLayout(capacity).rows];
}

function coversExactly(capacity: number, rows: readonly Row[]): boolean {
  let next = 1;
  for (const r of rows) {
    if (typeof r?.name !== 'string' || r.first !== next || !Number.isInteger(r.count) || r.count < 1) return false;
    next += r.count;
  }
  return next === capacity + 1;
}

/** The index of the row that holds `seat` (binary search: 10,000 rows at 100,000 seats). */
export function rowIndexOf(rows: readonly Row[], seat: number): number {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (rows[mid]!.first <= seat) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The row called `name` (any case). */
export function findRow(rows: readonly Row[], name: string): Row | undefined {
  const wanted = name.trim().toUpperCase();
  return rows.find((r) => r.name.toUpperCase() === wanted);
}

// ================================================================== drawing

export interface MapOptions {
  color: boolean;
  /** Seats shown in reverse video (colour on): the ones being chosen or held. */
  highlight?: number | readonly number[];
  /** Terminal columns: a row wider than this goes on over several lines. */
  width?: number;
}

const ESC = '\x1b[';
const paint = (on: boolean, code: string, text: string) => (on ? `${ESC}${code}m${text}${ESC}0m` : text);

export const LEGEND: Record<string, { word: string; code: string }> = {
  '.': { word: 'free', code: '32' },
  h: { word: 'held', code: '33' },
  H: { word: 'yours', code: '1;36' },
  x: { word: 'booked', code: '2;31' },
};

export function legendLine(color: boolean, states = '.hHx'): string {
  return [...states].map((ch) => paint(color, LEGEND[ch]!.code, `${ch} ${LEGEND[ch]!.word}`)).join('   ');
}

/** How the rows of one map are laid out: the same for every row, so a window can count lines. */
interface Layout {
  nameWidth: number;
  placeWidth: number;
  /** Seats per line. */
  perLine: number;
  /** The seat numbers at the end of each row fit: their width, else 0. */
  rangeWidth: number;
}

function layoutOf(rows: readonly Row[], width?: number): Layout {
  const nameWidth = Math.max(...rows.map((r) => r.name.length));
  const longest = Math.max(...rows.map((r) => r.count));
  const placeWidth = String(longest).length;
  const cell = placeWidth + 2; // place, state, space
  // The last row's numbers are the longest.
  const last = rows[rows.length - 1]!;
  const rangeWidth = rangeOf(last).length;
  if (width === undefined) return { nameWidth, placeWidth, perLine: longest, rangeWidth };
  const room = Math.max(cell, width - nameWidth - 1);
  const perLine = Math.max(1, Math.min(longest, Math.floor(room / cell)));
  const fits = perLine === longest && nameWidth + longest * cell + 2 + rangeWidth <= width;
  return { nameWidth, placeWidth, perLine, rangeWidth: fits ? rangeWidth : 0 };
}

const rangeOf = (row: Row) => `${row.first}-${row.first + row.count - 1}`;

/** How many lines row `row` takes. */
const linesOf = (row: Row, layout: Layout) => Math.ceil(row.count / layout.perLine);

function drawRow(map: string, row: Row, layout: Layout, o: MapOptions, highlighted: ReadonlySet<number>): string[] {
  const lines: string[] = [];
  for (let start = 0; start < row.count; start += layout.perLine) {
    const cells: string[] = [];
    for (let place = start + 1; place <= Math.min(row.count, start + layout.perLine); place++) {
      const seat = row.first + place - 1;
      const ch = map[seat - 1] ?? '?';
      const code = LEGEND[ch]?.code ?? '0';
      cells.push(paint(o.color, highlighted.has(seat) ? `${code};7` : code, `${String(place).padStart(layout.placeWidth)}${ch}`));
    }
    const name = start === 0 ? row.name : '';
    let line = `${name.padEnd(layout.nameWidth)} ${cells.join(' ')}`;
    if (layout.rangeWidth > 0 && start === 0) {
      // Padded as if every row were full, so that the numbers line up.
      const pad = (layout.perLine - Math.min(row.count, layout.perLine)) * (layout.placeWidth + 2);
      line += `${' '.repeat(pad)}  ${paint(o.color, '2', rangeOf(row).padStart(layout.rangeWidth))}`;
    }
    lines.push(line);
  }
  return lines;
}

/** Every row of the map, one line each (more when a row is wider than `width`). */
export function drawMap(map: string, rows: readonly Row[], o: MapOptions): string[] {
  const layout = layoutOf(rows, o.width);
  const highlighted = highlightedSeats(o);
  return rows.flatMap((row) => drawRow(map, row, layout, o, highlighted));
}

function highlightedSeats(o: MapOptions): ReadonlySet<number> {
  return new Set(typeof o.highlight === 'number' ? [o.highlight] : (o.highlight ?? []));
}

export interface MapWindow {
  /** Index of the first row shown. */
  top: number;
  /** Rows shown: top … top + count - 1. */
  count: number;
  /** True when some rows are not shown. */
  partial: boolean;
}

/**
 * The rows that fit in `height` lines, starting at row `top` (as near as the end allows), or
 * all of them when they fit. A row is shown whole or not at all.
 */
export function windowOf(rows: readonly Row[], o: { width?: number; height: number; top: number }): MapWindow {
  const layout = layoutOf(rows, o.width);
  const height = Math.max(1, o.height);
  // Fits whole? (Summed with an early exit: 10,000 rows are not all counted when 20 fit.)
  let total = 0;
  for (const row of rows) {
    total += linesOf(row, layout);
    if (total > height) break;
  }
  if (total <= height) return { top: 0, count: rows.length, partial: false };
  let top = Math.max(0, Math.min(o.top, rows.length - 1));
  // From `top`, as many rows as fit; at the end, start earlier so that the window is full.
  let used = 0;
  let end = top;
  while (end < rows.length && used + linesOf(rows[end]!, layout) <= height) used += linesOf(rows[end++]!, layout);
  while (top > 0 && used + linesOf(rows[top - 1]!, layout) <= height) used += linesOf(rows[--top]!, layout);
  return { top, count: Math.max(1, end - top), partial: true };
}

/** The rows of `window`, drawn. */
export function drawWindow(map: string, rows: readonly Row[], window: MapWindow, o: MapOptions): string[] {
  const layout = layoutOf(rows, o.width);
  const highlighted = highlightedSeats(o);
  return rows.slice(window.top, window.top + window.count).flatMap((row) => drawRow(map, row, layout, o, highlighted));
}

/** A window's top moved so that row `index` is in it, near its middle when it has to move. */
export function topShowing(window: MapWindow, index: number): number {
  if (index >= window.top && index < window.top + window.count) return window.top;
  return Math.max(0, index - Math.floor(window.count / 2));
}

/**
 * The window's new top for an answer that moves it: `n` (next rows), `p` (previous) or
 * `row K`; undefined for any other answer (a seat, `m`, `-`: the dialogue's).
 */
export function parseMapMove(text: string, window: MapWindow, rows: readonly Row[]): number | undefined {
  const w = text.trim().toLowerCase();
  if (w === 'n' || w === 'next') return Math.min(window.top + window.count, Math.max(0, rows.length - window.count));
  if (w === 'p' || w === 'previous') return Math.max(0, window.top - window.count);
  const m = /^row\s+([a-z]+)$/.exec(w);
  if (!m) return undefined;
  const index = rows.findIndex((r) => r.name.toLowerCase() === m[1]);
  return index < 0 ? undefined : index;
}
