/**
 * Terminal rendering shared by the CLI commands: the seat grid, the concert table. Colour only
 * when asked (a TTY without NO_COLOR); the plain characters always say the same thing.
 */
import type { ConcertSummary } from './client.js';
import { formatVenueTime } from './venue-time.js';
import { drawMap, legendLine, rowsFor, type Row } from './seat-map.js';

export interface RenderOptions {
  color: boolean;
  /** The hall's rows, from the server's reply; rows of 10 when absent (an older server). */
  rows?: readonly Row[];
  /** Seats (1-based) shown in reverse video when colour is on: the ones being chosen or held. */
  highlight?: number | readonly number[];
  /** Terminal columns, when known: a wider row goes on over several lines. */
  width?: number;
}

export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb';
}

/**
 * The whole seat map in rows (seat-map.ts): each row its name, then each seat its place and
 * state character, e.g. `B  1.  2x  3H … 11-20`, so it reads without colour; then the legend.
 */
export function renderSeatGrid(map: string, options: RenderOptions): string {
  const rows = rowsFor(map.length, options.rows);
  const lines = drawMap(map, rows, { color: options.color, highlight: options.highlight, width: options.width });
  return `${lines.join('\n')}\n${legendLine(options.color)}`;
}

export function renderConcerts(concerts: readonly ConcertSummary[]): string {
  const rows = concerts.map((c, i) => {
    // The catalog may leave venue and date out: say so rather than print nothing.
    const venue = c.venue || 'venue not given';
    const when = c.date ? formatVenueTime(c.date) : 'date not given';
    return `${String(i + 1).padStart(2)}. ${c.id.padEnd(16)} ${c.title}\n    ${venue} · ${when} — ${c.free} free / ${c.capacity}`;
  });
  return rows.join('\n');
}
