/** One-shot client commands: connect, do one thing, print it (or its JSON), exit. */
import { isWellFormedReference } from '../actors/reference.js';
import { readFileSync } from 'node:fs';
import { GuichetClient, type ClientTls, type ConcertSummary, type SeatEvent } from './client.js';
import { renderConcerts, renderSeatGrid, useColor } from './render.js';

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

function connectWith(flags: ClientFlags): Promise<GuichetClient> {
  const tls = clientTls(flags);
  return GuichetClient.connect({ host: flags.host, port: flags.port, ...(tls ? { tls } : {}) });
}

/** A mistake the user can fix; printed without a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
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
    const reply = await c.request<{ concert: string; map: string; free: number; capacity: number }>('SEATS', concert);
    print(flags, reply, () => `${concert}: ${reply.free} of ${reply.capacity} seats free\n${renderSeatGrid(reply.map, { color: useColor(process.stdout) })}`);
  });

export const book = (flags: ClientFlags, concert: string, seat: string, names: { first: string; last: string }) =>
  withClient(flags, async (c) => {
    const hold = await c.request<{ hold: string }>('HOLD', concert, seat);
    try {
      const booking = await c.request<{ reference: string; seat: number; firstName: string; lastName: string }>('BOOK', hold.hold, names.first, names.last);
      print(flags, booking, () => `Booked seat ${booking.seat} of ${concert} for ${booking.firstName} ${booking.lastName}.\nBooking reference: ${booking.reference}`);
    } catch (err) {
      await c.request('RELEASE', hold.hold).catch(() => undefined);
      throw err;
    }
  });

export const lookup = (flags: ClientFlags, reference: string, last: string) => {
  checkReference(reference);
  return withClient(flags, async (c) => {
    const b = await c.request<{ concert: string; seat: number; firstName: string; lastName: string }>('LOOKUP', reference, last);
    print(flags, b, () => `${reference}: seat ${b.seat} of ${b.concert}, for ${b.firstName} ${b.lastName}`);
  });
};

export const cancel = (flags: ClientFlags, reference: string, last: string) => {
  checkReference(reference);
  return withClient(flags, async (c) => {
    const r = await c.request<{ concert: string; seat: number }>('CANCEL', reference, last);
    print(flags, r, () => `Cancelled ${reference}: seat ${r.seat} of ${r.concert} is free again.`);
  });
};

/** Follows a concert until interrupted or until the server closes the connection. */
export async function watch(flags: ClientFlags, concert: string): Promise<void> {
  const c = await connectWith(flags);
  const initial = await c.request<{ map: string; free: number; capacity: number }>('WATCH', concert);
  print(flags, initial, () => `${concert}: ${initial.free} of ${initial.capacity} free\n${renderSeatGrid(initial.map, { color: useColor(process.stdout) })}\nWatching; Ctrl-C to stop.`);
  c.on('event', (e: SeatEvent) => print(flags, e, () => describeEvent(e)));
  c.on('notice', (err: Error) => process.stderr.write(`server: ${err.message}\n`));
  process.once('SIGINT', () => c.close());
  await c.waitClosed();
}

const WORDS: Record<string, string> = { SeatHeld: 'held', SeatBooked: 'booked', BookingCancelled: 'freed (booking cancelled)', SeatReleased: 'freed' };

export function describeEvent(e: SeatEvent): string {
  const time = new Date(e.at).toLocaleTimeString('en-GB');
  const why = e.reason ? ` (${e.reason})` : '';
  return `${time} seat ${e.seat} ${WORDS[e.type] ?? e.type}${why} — ${e.free} free, ${e.held} held, ${e.booked} booked`;
}
