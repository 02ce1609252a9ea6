/** One-shot client commands: connect, do one thing, print it (or its JSON), exit. */
import { isWellFormedReference } from '../actors/reference.js';
import { readFileSync } from 'node:fs';
import { GuichetClient, ServerError, type ClientTls, type ConcertSummary, type SeatEvent } from './client.js';
import { renderConcerts, renderSeatGrid, useColor } from './render.js';
import type { Row } from './seat-map.js';
import { describeSeats } from './seat-choice.js';

export interface ClientFlags extends TlsFlags {
  host: string;
  port: number;
  json: boolean;
}

export interface TlsFlags {
  tls?: boolean;
  tlsCa?: string;
}

/** `--tls` / `--tls-ca <file>` as the client's TLS options (undefined: plain TCP). */
export function clientTls(flags: TlsFlags): ClientTls | undefined {
  if (flags.tlsCa) {
    try {
      return { ca: readFileSync(flags.tlsCa) };
    } catch (err) {
      throw new UsageError(`cannot read --tls-ca ${flags.tlsCa}: ${(err as Error).message}`);
    }
  }
  return flags.tls ? {} : undefined;
}

/** A client connected as the flags say (address, TLS). */
export function connectWith(flags: ClientFlags): Promise<GuichetClient> {
  return connectClient(flags.host, flags.port, clientTls(flags));
}

/** A mistake the user can fix; printed without a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** No gateway answers at the address. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

/** Connects, or says what to do when nothing answers (the usual cause: no server started yet). */
export async function connectClient(host: string, port: number, tls?: ClientTls): Promise<GuichetClient> {
  try {
    return await GuichetClient.connect({ host, port, ...(tls ? { tls } : {}) });
  } catch (err) {
    if (err instanceof ServerError) throw err;
    const hint = /ECONNREFUSED/.test((err as Error).message) ? ' Is the server running? Start it with `npm start` (or `guichet server`).' : '';
    const message = (err as Error).message;
    throw new UnreachableError(hint ? `${message}.${hint}` : message);
  }
}

function print(flags: ClientFlags, payload: unknown, human: () => string): void {
  process.stdout.write(`${flags.json ? JSON.stringify(payload) : human()}\n`);
}

async function withClient<T>(flags: ClientFlags, run: (client: GuichetClient) => Promise<T>): Promise<T> {
  const client = await connectWith(flags);
  try {
    return await run(client);
  } finally {
    client.close();
  }
}

export function checkReference(reference: string): void {
  if (!isWellFormedReference(reference)) {
    throw new UsageError(`${reference} is not a booking reference: 10 digits whose last is a check digit (a typo?)`);
  }
}

export const concerts = (flags: ClientFlags) =>
  withClient(flags, async (c) => {
    const { concerts } = await c.request<{ concerts: ConcertSummary[] }>('CONCERTS');
    print(flags, { concerts }, () => renderConcerts(concerts));
  });

export const seats = (flags: ClientFlags, concert: string) =>
  withClient(flags, async (c) => {
    const reply = await c.request<{ concert: string; map: string; free: number; capacity: number; rows?: Row[] }>('SEATS', concert);
    print(flags, reply, () => `${concert}: ${reply.free} of ${reply.capacity} seats free\n${renderSeatGrid(reply.map, { color: useColor(process.stdout), rows: reply.rows })}`);
  });

/** What `guichet book` holds: the seats named, or the best n the server chooses. */
export function holdArguments(which: { seats: readonly string[]; best?: string }): string[] {
  if (which.best !== undefined) {
    if (which.seats.length > 0) throw new UsageError('give seats or --best <n>, not both');
    if (!/^\d{1,3}$/.test(which.best) || Number(which.best) < 1) throw new UsageError(`--best takes a number of seats, such as 4, not ${JSON.stringify(which.best)}`);
    return ['best', which.best];
  }
  if (which.seats.length === 0) throw new UsageError('name the seats (42 43, or B7 B8), or give --best <n>');
  return [...which.seats];
}

/** Seats of a reply in a sentence: `seat 42 (E2)`, `seats 12-14 (B2-B4)`; a protocol-1 reply has `seat` only. */
function seatsOfReply(r: { seat: number; seats?: number[]; labels?: string[] }): string {
  if (!r.seats || !r.labels) return `seat ${r.seat}`;
  return describeSeats(r.seats, r.labels);
}

type SeatsReply = { concert: string; seat: number; seats?: number[]; labels?: string[] };

export const book = (flags: ClientFlags, concert: string, which: { seats: readonly string[]; best?: string }, names: { first: string; last: string }) => {
  const args = holdArguments(which);
  return withClient(flags, async (c) => {
    const hold = await c.request<{ hold: string }>('HOLD', concert, ...args);
    try {
      const booking = await c.request<SeatsReply & { reference: string; firstName: string; lastName: string }>('BOOK', hold.hold, names.first, names.last);
      print(flags, booking, () => `Booked ${seatsOfReply(booking)} of ${concert} for ${booking.firstName} ${booking.lastName}.\nBooking reference: ${booking.reference}`);
    } catch (err) {
      await c.request('RELEASE', hold.hold).catch(() => undefined);
      throw err;
    }
  });
};

export const lookup = (flags: ClientFlags, reference: string, last: string) => {
  checkReference(reference);
  return withClient(flags, async (c) => {
    const b = await c.request<SeatsReply & { firstName: string; lastName: string }>('LOOKUP', reference, last);
    print(flags, b, () => `${reference}: ${seatsOfReply(b)} of ${b.concert}, for ${b.firstName} ${b.lastName}`);
  });
};

export const cancel = (flags: ClientFlags, reference: string, last: string) => {
  checkReference(reference);
  return withClient(flags, async (c) => {
    const r = await c.request<SeatsReply>('CANCEL', reference, last);
    const several = (r.seats?.length ?? 1) > 1;
    print(flags, r, () => `Cancelled ${reference}: ${seatsOfReply(r)} of ${r.concert} ${several ? 'are' : 'is'} free again.`);
  });
};

const WORDS: Record<string, string> = { SeatHeld: 'held', SeatBooked: 'booked', BookingCancelled: 'freed (booking cancelled)', SeatReleased: 'freed' };

export function describeEvent(e: SeatEvent): string {
  const time = new Date(e.at).toLocaleTimeString('en-GB');
  const why = e.reason ? ` (${e.reason})` : '';
  return `${time} seat ${e.seat} ${WORDS[e.type] ?? e.type}${why} — ${e.free} free, ${e.held} held, ${e.booked} booked`;
}
