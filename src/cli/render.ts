/**
 * Terminal rendering shared by the CLI commands: the seat grid, the concert table. Colour only
 * when asked (a TTY without NO_COLOR); the plain characters always say the same thing.
 */
import type { ConcertSummary } from './client.js';

export interface RenderOptions {
  color: boolean;
  /** Seats per row. */
  columns?: number;
  /** Seats (1-based) shown in reverse video when colour is on: the ones being chosen. */
  highlight?: number | readonly number[];
}

const ESC = '\x1b[';
const paint = (on: boolean, code: string, text: string) => (on ? `${ESC}${code}m${text}${ESC}0m` : text);

export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb';
}

const LEGEND: Record<string, { word: string; code: string }> = {
  '.': { word: 'free', code: '32' },
  h: { word: 'held', code: '33' },
  H: { word: 'yours', code: '1;36' },
  x: { word: 'booked', code: '2;31' },
};

/**
 * The seat map as a grid: each cell shows the seat number and its state character, e.g.
 * ` 41.  42x  43H`, so it reads without colour and without a legend.
 */
export function renderSeatGrid(map: string, options: RenderOptions): string {
  const columns = options.columns ?? 10;
  const width = String(map.length).length;
  const rows: string[] = [];
  const highlighted = new Set(typeof options.highlight === 'number' ? [options.highlight] : (options.highlight ?? []));
  for (let start = 0; start < map.length; start += columns) {
    const cells: string[] = [];
    for (let i = start; i < Math.min(map.length, start + columns); i++) {
      const ch = map[i]!;
      const cell = `${String(i + 1).padStart(width)}${ch}`;
      const code = LEGEND[ch]?.code ?? '0';
      cells.push(paint(options.color, highlighted.has(i + 1) ? `${code};7` : code, cell));
    }
    rows.push(cells.join(' '));
  }
  const legend = Object.entries(LEGEND)
    .map(([ch, { word, code }]) => paint(options.color, code, `${ch} ${word}`))
    .join('   ');
  return `${rows.join('\n')}\n${legend}`;
}

export function renderConcerts(concerts: readonly ConcertSummary[]): string {
  const rows = concerts.map((c, i) => {
    const when = c.date ? new Date(c.date).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '';
    return `${String(i + 1).padStart(2)}. ${c.id.padEnd(16)} ${c.title}\n    ${[c.venue, when].filter(Boolean).join(' · ')} — ${c.free} free / ${c.capacity}`;
  });
  return rows.join('\n');
}
