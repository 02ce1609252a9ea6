/** The concerts on sale: a JSON catalog, or the demo one. Every gateway on one NATS shares it. */
import { readFile } from 'node:fs/promises';
import { isValidConcertId } from './events/subjects.js';
import { isIsoTime } from './events/envelope.js';
import { layoutOf, rowsProblem, type Layout } from './layout.js';

export interface Concert {
  id: string;
  title: string;
  venue: string;
  /** ISO-8601 date and time of the performance. */
  date: string;
  capacity: number;
  /** Row sizes, front row first, when the catalog gives them (else rows of 10: src/layout.ts). */
  rows?: readonly number[];
}

/** The concert's seats in rows. */
export function layoutOfConcert(concert: Pick<Concert, 'capacity' | 'rows'>): Layout {
  return layoutOf(concert.capacity, concert.rows);
}

export const MAX_CAPACITY = 100_000;

export const DEMO_CATALOG: readonly Concert[] = [
  { id: 'jazz-nocturne', title: 'Nocturne Jazz Quartet', venue: 'Le Petit Duc, Aix-en-Provence', date: '2027-02-12T20:30:00+01:00', capacity: 100 },
  { id: 'orchestre-lyon', title: 'Orchestre de Lyon — Symphonie fantastique', venue: 'Auditorium de Lyon', date: '2027-03-06T20:00:00+01:00', capacity: 100 },
  { id: 'rock-garage', title: 'Les Garagistes', venue: 'La Cigale, Paris', date: '2027-04-17T21:00:00+02:00', capacity: 100 },
];

/** Checks a parsed catalog; throws an Error naming the first problem. */
export function parseCatalog(raw: unknown): Concert[] {
  const list = Array.isArray(raw) ? raw : (raw as { concerts?: unknown } | null)?.concerts;
  if (!Array.isArray(list) || list.length === 0) {
    throw new Error('a catalog is a non-empty JSON array of concerts, or {"concerts": [...]}');
  }
  const seen = new Set<string>();
  return list.map((entry: unknown, i): Concert => {
    const c = entry as Partial<Concert> | null;
    const where = `concert #${i + 1}`;
    if (!c || typeof c !== 'object') throw new Error(`${where} is not an object`);
    if (typeof c.id !== 'string' || !isValidConcertId(c.id)) {
      throw new Error(`${where}: id must be 1-64 letters, digits, '-' or '_'`);
    }
    if (seen.has(c.id)) throw new Error(`${where}: id ${c.id} appears twice`);
    seen.add(c.id);
    if (c.rows !== undefined) {
      const problem = rowsProblem(c.rows, c.capacity, MAX_CAPACITY);
      if (problem) throw new Error(`${where} (${c.id}): ${problem}`);
    }
    const rows = c.rows === undefined ? undefined : [...c.rows];
    const capacity = c.capacity ?? (rows ? rows.reduce((a, b) => a + b, 0) : 100);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new Error(`${where} (${c.id}): capacity must be an integer from 1 to ${MAX_CAPACITY}`);
    }
    const date = c.date ?? '';
    if (typeof date !== 'string' || (date !== '' && !isIsoTime(date))) {
      throw new Error(`${where} (${c.id}): date must be an ISO-8601 string such as 2027-02-12T20:30:00+01:00`);
    }
    // A title is what people choose by: without one a concert showed as "x  x".
    if (c.title === undefined) throw new Error(`${where} (${c.id}): title is missing (what the concert is called)`);
    for (const key of ['title', 'venue'] as const) {
      if (c[key] !== undefined && typeof c[key] !== 'string') throw new Error(`${where} (${c.id}): ${key} must be a string`);
    }
    if (c.title.trim() === '') throw new Error(`${where} (${c.id}): title is empty`);
    return { id: c.id, title: c.title, venue: c.venue ?? '', date, capacity, ...(rows ? { rows } : {}) };
  });
}

export async function loadCatalog(path: string | undefined): Promise<Concert[]> {
  if (!path) return [...DEMO_CATALOG];
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the catalog ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`the catalog ${path} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseCatalog(raw);
  } catch (err) {
    throw new Error(`the catalog ${path}: ${(err as Error).message}`);
  }
}

/**
 * What differs between this gateway's catalog and another's, one phrase each (empty when
 * they agree). Gateways sharing one NATS must agree: a concert one of them lacks is not on
 * sale there, and a capacity that differs makes them judge seat numbers differently (rows
 * that differ, seat labels and "best available").
 */
export function catalogDifferences(mine: readonly Concert[], theirs: readonly Concert[]): string[] {
  const other = new Map(theirs.map((c) => [c.id, c]));
  const differences: string[] = [];
  const onlyHere = mine.filter((c) => !other.has(c.id)).map((c) => c.id);
  const onlyThere = theirs.filter((c) => !mine.some((m) => m.id === c.id)).map((c) => c.id);
  if (onlyHere.length > 0) differences.push(`only here: ${onlyHere.join(', ')}`);
  if (onlyThere.length > 0) differences.push(`only there: ${onlyThere.join(', ')}`);
  for (const concert of mine) {
    const there = other.get(concert.id);
    if (!there) continue;
    const fields = (['capacity', 'rows', 'title', 'venue', 'date'] as const).filter(
      (f) => JSON.stringify(concert[f]) !== JSON.stringify(there[f]),
    );
    if (fields.length > 0) {
      differences.push(`${concert.id}: ${fields.map((f) => `${f} ${JSON.stringify(concert[f])} here, ${JSON.stringify(there[f])} there`).join(', ')}`);
    }
  }
  return differences;
}
