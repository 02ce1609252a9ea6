/**
 * How the interactive client shows things: pure functions from the dialogue to text. Colour
 * is an option (a terminal without NO_COLOR); without it every screen says the same in plain
 * characters.
 */
import { renderConcerts, renderSeatGrid } from './render.js';
import { drawWindow, legendLine, rowIndexOf, rowsFor, topShowing, windowOf, type MapWindow, type Row } from './seat-map.js';
import { rowsTaken, visibleLength, wrapText } from './screen.js';
import {
  bookingText,
  chosenSeats,
  concertTitle,
  countSeats,
  formatRemaining,
  type Booking,
  type Dialogue,
  type Output,
  type Prompt,
  type Tone,
} from './interactive-dialogue.js';

export interface FormatOptions {
  color: boolean;
  /** Terminal columns, when known: text that would wrap badly is fitted to them. */
  width?: number;
}

const paint = (on: boolean, code: string, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);
const TONES: Record<Tone, string> = { info: '0', warn: '33', ok: '32' };

export const HELP = `guichet interactive client: book and cancel concert seats.

Main menu (type the letter or the word, then Enter):
  b, book     choose a concert, then seats on its live map, then give your names
  c, cancel   cancel a booking with its reference and your last name
  l, list     the concerts and their free seats
  i, ident    say who you are once; bookings then offer your names
  h, help     this screen
  q, quit     leave (a seat you hold is given back)
  1, c1 ...   a concert's number, id or the start of its name books in it

At the seat question: one seat (12 or its label B2), several (12 13 14, A4-A7, b7 b8),
  or best 4 for the best four seats side by side; they are held, booked and cancelled together.

At any question:
  -           go back one step (a seat you hold is given back)
  Enter       takes the answer in [brackets]; in [y/N], Enter is no
  m           (at the seat question) show the seat map again
  n, p        (at the seat question, in a big hall) the next or previous rows
  row K       (at the seat question, in a big hall) go to row K
  q           leave, also from the concert, seat and reference questions
  Ctrl-C      leave at once; a seat you hold is given back

Seat map: a line per row (A, B, ...), each seat its place in the row and its state:
  .  free    h  held by someone    H  held by you    x  booked
A seat is its number (42) or its row and place (E2). The map redraws by itself
as other people hold and book seats.

From a script, pipe one answer per line, e.g.
  printf 'b\\n1\\n42\\ny\\nJeanne\\nDupont\\nq\\n' | guichet client 127.0.0.1 12345`;

export function formatSay(text: string, tone: Tone, o: FormatOptions): string {
  return paint(o.color, TONES[tone], text);
}

/** The concert's name and its counts, above the grid. */
export function seatsHeading(d: Dialogue, o: FormatOptions): string {
  const step = d.step;
  if (!('seats' in step)) return '';
  const { free, held, booked } = countSeats(step.seats.map);
  return `${paint(o.color, '1', concertTitle(d, step.seats.concert))}: ${free} free, ${held} held, ${booked} booked (of ${step.seats.capacity})`;
}

/** The whole seat map of the current step (a pipe's transcript); the seats chosen or held highlighted in colour. */
export function formatSeats(d: Dialogue, o: FormatOptions): string {
  const step = d.step;
  if (!('seats' in step)) return '';
  return `${seatsHeading(d, o)}\n${renderSeatGrid(step.seats.map, { color: o.color, highlight: chosenSeats(d), rows: step.seats.rows })}`;
}

export interface SeatScreenOptions extends FormatOptions {
  lastChange?: string;
  notes: readonly string[];
  /** The terminal's size; without it the whole map is shown. */
  width?: number;
  height?: number;
  /** First row shown (when the map does not fit), as the user last moved it. */
  top?: number;
  /** Columns the question under the screen takes, so that the screen leaves it room. */
  promptLength?: number;
  /** A seat to keep in view when none is being chosen (`guichet watch`: the last one that changed). */
  focus?: number;
  /** The user can move the window (n, p, row K): say how. */
  movable?: boolean;
}

export interface SeatScreen {
  lines: string[];
  /** The rows shown: where `n` and `p` move from. */
  window: MapWindow;
  rows: Row[];
}

/**
 * The whole seat screen of a terminal, redrawn in place on every change: heading, the map
 * (a window of its rows when it does not fit, with how to move), the last change seen live,
 * and the notes of the last answer; every line fits the width, and all of them the height.
 */
export function formatSeatScreen(d: Dialogue, o: SeatScreenOptions): SeatScreen {
  const step = d.step;
  if (!('seats' in step)) return { lines: [], window: { top: 0, count: 0, partial: false }, rows: [] };
  const { map, capacity } = step.seats;
  const rows = rowsFor(capacity, step.seats.rows);
  const fit = (text: string) => (o.width ? wrapText(text, o.width) : text.split('\n'));
  const heading = fit(seatsHeading(d, o));
  const legend = fit(legendLine(o.color));
  const live = fit(paint(o.color, '2', o.lastChange ? `Live: ${o.lastChange}` : 'Live: the map redraws as seats change.'));
  const notes = o.notes.length > 0 ? ['', ...o.notes.flatMap(fit)] : [];
  const promptRows = o.width ? rowsTaken((o.promptLength ?? 0) + 8, o.width) : 1;
  const rest = heading.length + legend.length + 1 + live.length + notes.length + promptRows;
  const budget = (o.height ?? Number.MAX_SAFE_INTEGER) - rest;
  const chosen = chosenSeats(d)[0] ?? o.focus;
  const top = o.top ?? rowIndexOf(rows, Math.max(1, map.indexOf('.') + 1));
  let window = windowOf(rows, { width: o.width, height: budget, top });
  if (window.partial) {
    // One line goes to saying where the window is and how to move it.
    window = windowOf(rows, { width: o.width, height: budget - 1, top });
    if (chosen !== undefined) window = windowOf(rows, { width: o.width, height: budget - 1, top: topShowing(window, rowIndexOf(rows, chosen)) });
  }
  const span = `Rows ${rows[window.top]!.name}-${rows[window.top + window.count - 1]!.name} of ${rows.length} (${rows[0]!.name}-${rows[rows.length - 1]!.name})`;
  const how = o.movable === false ? 'around the last change' : 'n next rows, p previous, row <name> to go there';
  const where = window.partial ? fit(paint(o.color, '2', `${span}: ${how}`)) : [];
  const grid = drawWindow(map, rows, window, { color: o.color, highlight: chosenSeats(d), width: o.width });
  return { lines: [...heading, ...where, ...grid, ...legend, '', ...live, ...notes], window, rows };
}

/**
 * The booking reference, prominently, with the concert and every seat; within `width` columns
 * when given (a long title goes on over several lines inside the box).
 */
export function formatBooked(d: Dialogue, b: Booking, o: FormatOptions & { width?: number }): string {
  const rows: Array<[string, string]> = [
    ['Booked: ', `${bookingText(b)}, ${concertTitle(d, b.concert)}`],
    ['Name:   ', `${b.firstName} ${b.lastName}`],
    ['', ''],
    ['Booking reference:  ', paint(o.color, '1;7', ` ${b.reference} `)],
  ];
  // The box's frame and margins take 6 columns.
  const room = o.width ? Math.max(20, o.width - 6) : Number.MAX_SAFE_INTEGER;
  const lines = rows.flatMap(([label, text]) => {
    const wrapped = wrapText(`${label}${text}`, room, ' '.repeat(label.length));
    return label === '' ? [''] : wrapped;
  });
  const width = Math.max(...lines.map((r) => visibleLength(r))) + 4;
  const [h, v, tl, tr, bl, br] = o.color ? ['─', '│', '┌', '┐', '└', '┘'] : ['-', '|', '+', '+', '+', '+'];
  const body = lines.map((r) => `${v}  ${r}${' '.repeat(width - 4 - visibleLength(r))}  ${v}`);
  return [
    `${tl}${h.repeat(width)}${tr}`,
    ...body,
    `${bl}${h.repeat(width)}${br}`,
    ...(o.width ? wrapText('Keep the reference: with your last name, it lets you cancel.', o.width) : ['Keep the reference: with your last name, it lets you cancel.']),
  ].join('\n');
}

/** The concert list, each line broken between words within `width` (continued under the title). */
function fitConcerts(d: Dialogue, width?: number): string {
  const text = renderConcerts(d.concerts);
  return width ? text.split('\n').flatMap((line) => wrapText(line, width, '    ')).join('\n') : text;
}

/** One output as text (without its final newline). */
export function formatOutput(d: Dialogue, out: Output, o: FormatOptions): string {
  switch (out.kind) {
    case 'say':
      // Broken between words, not by the terminal in the middle of one.
      return formatSay(o.width ? wrapText(out.text, o.width).join('\n') : out.text, out.tone, o);
    case 'concerts':
      return `Concerts:\n${fitConcerts(d, o.width)}`;
    case 'seats':
      return formatSeats(d, o);
    case 'booked':
      return formatBooked(d, out.booking, o);
    case 'help':
      return HELP;
  }
}

/** The question line: `Text [fallback]: `; decorated (bold, `> `) on a terminal only. */
export function formatPrompt(p: Prompt, o: FormatOptions & { decorate: boolean }): string {
  const fallback = p.fallback ? ` [${p.fallback}]` : '';
  if (!o.decorate) return `${p.text}${fallback}: `;
  return `${paint(o.color, '1', p.text)}${fallback}${paint(o.color, '36', ' > ')}`;
}

export function formatWelcome(d: Dialogue, where: string, holdSeconds: number, width?: number): string {
  const hello = `guichet: connected to ${where}. A seat you hold waits ${formatRemaining(holdSeconds * 1000)} for your names.`;
  return [
    width ? wrapText(hello, width).join('\n') : hello,
    `Concerts:\n${fitConcerts(d, width)}`,
    'Type b to book, c to cancel, h for help, q to quit.',
  ].join('\n');
}
