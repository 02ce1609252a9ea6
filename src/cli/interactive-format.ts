/**
 * How the interactive client shows things: pure functions from the dialogue to text. Colour
 * is an option (a terminal without NO_COLOR); without it every screen says the same in plain
 * characters.
 */
import { renderConcerts, renderSeatGrid } from './render.js';
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
  1, c1 ...   a concert's number or id books in it directly

At the seat question: one seat (12 or its label B2), several (12 13 14, A4-A7, b7 b8),
  or best 4 for the best four seats side by side; they are held, booked and cancelled together.

At any question:
  -           go back one step (a seat you hold is given back)
  Enter       takes the answer in [brackets]; in [y/N], Enter is no
  m           (at the seat question) show the seat map again
  Ctrl-C      leave at once; a seat you hold is given back

Seat map: each seat is its number followed by its state:
  .  free    h  held by someone    H  held by you    x  booked
It redraws by itself as other people hold and book seats.

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

/** The seat map of the current step; the seats being chosen or held are highlighted in colour. */
export function formatSeats(d: Dialogue, o: FormatOptions): string {
  const step = d.step;
  if (!('seats' in step)) return '';
  const highlight = chosenSeats(d);
  return `${seatsHeading(d, o)}\n${renderSeatGrid(step.seats.map, { color: o.color, highlight })}`;
}

/**
 * The whole seat screen of a terminal, redrawn on every change: heading, grid, the last
 * change seen live, and the notes of the last answer.
 */
export function formatSeatScreen(d: Dialogue, o: FormatOptions & { lastChange?: string; notes: readonly string[] }): string {
  const lines = [formatSeats(d, o), ''];
  lines.push(o.lastChange ? paint(o.color, '2', `Live: ${o.lastChange}`) : paint(o.color, '2', 'Live: the map redraws as seats change.'));
  if (o.notes.length > 0) lines.push('', ...o.notes);
  return `${lines.join('\n')}\n`;
}

/** The booking reference, prominently, with the concert and every seat. */
export function formatBooked(d: Dialogue, b: Booking, o: FormatOptions): string {
  const rows = [
    `Booked: ${bookingText(b)}, ${concertTitle(d, b.concert)}`,
    `Name:   ${b.firstName} ${b.lastName}`,
    '',
    `Booking reference:  ${paint(o.color, '1;7', ` ${b.reference} `)}`,
  ];
  const width = Math.max(...rows.map((r) => visibleLength(r))) + 4;
  const [h, v, tl, tr, bl, br] = o.color ? ['─', '│', '┌', '┐', '└', '┘'] : ['-', '|', '+', '+', '+', '+'];
  const body = rows.map((r) => `${v}  ${r}${' '.repeat(width - 4 - visibleLength(r))}  ${v}`);
  return [
    `${tl}${h.repeat(width)}${tr}`,
    ...body,
    `${bl}${h.repeat(width)}${br}`,
    'Keep the reference: with your last name, it lets you cancel.',
  ].join('\n');
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

/** One output as text (without its final newline). */
export function formatOutput(d: Dialogue, out: Output, o: FormatOptions): string {
  switch (out.kind) {
    case 'say':
      return formatSay(out.text, out.tone, o);
    case 'concerts':
      return `Concerts:\n${renderConcerts(d.concerts)}`;
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

export function formatWelcome(d: Dialogue, where: string, holdSeconds: number): string {
  return [
    `guichet: connected to ${where}. A seat you hold waits ${formatRemaining(holdSeconds * 1000)} for your names.`,
    `Concerts:\n${renderConcerts(d.concerts)}`,
    'Type b to book, c to cancel, h for help, q to quit.',
  ].join('\n');
}
