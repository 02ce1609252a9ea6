/**
 * A point in the event log, as an operator writes it after `--until` or `--from`: a stream
 * sequence (`1234`), a time (`2027-02-12T20:30:00+01:00`, `2027-02-12` for midnight UTC),
 * a time ago (`90s`, `15m`, `2h`, `7d`) or, where following live, `new`.
 */
import { isIsoTime } from '../events/envelope.js';

export type LogPoint =
  | { readonly kind: 'seq'; readonly seq: number }
  | { readonly kind: 'time'; readonly time: number }
  | { readonly kind: 'new' };

const AGO_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Parses a log point; throws an Error saying what is accepted. `now` resolves `15m` and the like. */
export function parseLogPoint(text: string, options: { allowNew?: boolean; now?: number } = {}): LogPoint {
  const value = text.trim();
  if (/^\d+$/.test(value)) {
    const seq = Number(value);
    if (!Number.isSafeInteger(seq) || seq < 1) throw new Error(`a stream sequence starts at 1, not ${value}`);
    return { kind: 'seq', seq };
  }
  if (options.allowNew && value === 'new') return { kind: 'new' };
  const ago = /^(\d+)([smhd])$/.exec(value);
  if (ago) return { kind: 'time', time: (options.now ?? Date.now()) - Number(ago[1]) * AGO_UNITS[ago[2]!]! };
  if (DATE_ONLY.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    return { kind: 'time', time: Date.parse(`${value}T00:00:00Z`) };
  }
  if (isIsoTime(value)) return { kind: 'time', time: Date.parse(value) };
  throw new Error(
    `${JSON.stringify(text)} is not a stream sequence (e.g. 1234), an ISO-8601 time with a zone ` +
      `(e.g. 2027-02-12T20:30:00Z), a date (2027-02-12), a time ago (90s, 15m, 2h, 7d)` +
      (options.allowNew ? ' or new' : ''),
  );
}

export function describeLogPoint(point: LogPoint): string {
  switch (point.kind) {
    case 'seq':
      return `sequence ${point.seq}`;
    case 'time':
      return new Date(point.time).toISOString();
    case 'new':
      return 'new events only';
  }
}
