import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient } from '../../src/cli/client.js';
import type { Guichet } from '../../src/guichet.js';
import { client, eventually, rejectsWith, startNats, startNode, type TestNats } from '../support/guichet.js';

interface Ctx {
  nats: TestNats;
  node: Guichet;
  c: GuichetClient;
}

const Errors = suite<Ctx>('every error code of the protocol');

Errors.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.node = await startNode(ctx.nats, {
    gateway: {
      // Small limits, so that the rate limit is reached quickly and without waiting.
      connectionRateLimit: { maxFailures: 3, slowAfter: 2, windowMs: 60_000, delayStepMs: 10, maxDelayMs: 20 },
      // Tests here hold again seats they released; the cool-down has tests of its own.
      addressLimits: { coolDownMs: 0 },
    },
  });
});
Errors.before.each(async (ctx) => {
  ctx.c = await client(ctx.node);
});
Errors.after.each((ctx) => ctx.c.close());
Errors.after(async (ctx) => {
  await ctx.node?.close();
  await ctx.nats?.stop();
});

/** Sends a raw line and resolves with the next line the server writes back. */
function rawReply(c: GuichetClient, text: string): Promise<string> {
  return new Promise((resolve) => {
    c.once('line', (line: string) => resolve(line));
    c.sendRaw(text);
  });
}

Errors('UNKNOWN_COMMAND for an unknown verb, with the tag echoed', async ({ c }) => {
  assert.match(await rawReply(c, '#t1 FLY me to the moon\n'), /^#t1 ERR UNKNOWN_COMMAND /);
});

Errors('BAD_ARGUMENTS for a wrong argument count, an unclosed quote, a seat that is not a number', async ({ c }) => {
  await rejectsWith(c.request('SEATS'), 'BAD_ARGUMENTS');
  await rejectsWith(c.request('HOLD', 'c1'), 'BAD_ARGUMENTS');
  await rejectsWith(c.request('HOLD', 'c1', 'abc'), 'BAD_ARGUMENTS');
  await rejectsWith(c.request('PING', 'extra'), 'BAD_ARGUMENTS');
  assert.match(await rawReply(c, '#q IDENT "Jean Pierre Dupont\n'), /^#q ERR BAD_ARGUMENTS unclosed double quote/);
});

Errors('LINE_TOO_LONG for a line over 4096 bytes; the connection goes on', async ({ c }) => {
  assert.match(await rawReply(c, `PING ${'x'.repeat(5000)}\n`), /^ERR LINE_TOO_LONG /);
  assert.equal(await c.request('PING'), {});
});

Errors('a line of exactly 4096 bytes is read', async ({ c }) => {
  const line = `#ok SEATS ${'y'.repeat(4096 - 10)}`;
  assert.is(Buffer.byteLength(line), 4096);
  assert.match(await rawReply(c, `${line}\r\n`), /^#ok ERR NO_SUCH_CONCERT /);
});

Errors('NO_SUCH_CONCERT from SEATS, WATCH and HOLD', async ({ c }) => {
  await rejectsWith(c.request('SEATS', 'nope'), 'NO_SUCH_CONCERT');
  await rejectsWith(c.request('WATCH', 'nope'), 'NO_SUCH_CONCERT');
  await rejectsWith(c.request('HOLD', 'nope', 1), 'NO_SUCH_CONCERT');
});

Errors('NO_SUCH_SEAT below 1 and above the capacity', async ({ c }) => {
  await rejectsWith(c.request('HOLD', 'c2', 0), 'NO_SUCH_SEAT');
  await rejectsWith(c.request('HOLD', 'c2', 11), 'NO_SUCH_SEAT');
});

Errors('SEAT_TAKEN for a held and for a booked seat', async ({ c, node }) => {
  const other = await client(node);
  const hold = await other.request<{ hold: string }>('HOLD', 'c2', 2);
  await rejectsWith(c.request('HOLD', 'c2', 2), 'SEAT_TAKEN');
  await other.request('BOOK', hold.hold, 'Ada', 'Lovelace');
  await rejectsWith(c.request('HOLD', 'c2', 2), 'SEAT_TAKEN');
  other.close();
});

Errors('HOLD_LIMIT past maxSeats (8) seats on one connection, across holds and concerts', async ({ c }) => {
  await c.request('HOLD', 'c1', 61);
  await c.request('HOLD', 'c1', 62, 63, 64);
  await c.request('HOLD', 'c2', 6);
  await c.request('HOLD', 'c2', 'best', 2);
  await rejectsWith(c.request('HOLD', 'c1', 71, 72, 73), 'HOLD_LIMIT');
  await c.request('HOLD', 'c1', 71);
  await rejectsWith(c.request('HOLD', 'c1', 65), 'HOLD_LIMIT');
});

Errors('NO_SUCH_HOLD for an unknown hold, another connection’s hold, and BOOK again of a hold booked here answers that booking', async ({ c, node }) => {
  await rejectsWith(c.request('BOOK', '01JUNKNOWNHOLD0000000000000', 'Ada', 'Lovelace'), 'NO_SUCH_HOLD');
  await rejectsWith(c.request('RELEASE', '01JUNKNOWNHOLD0000000000000'), 'NO_SUCH_HOLD');
  const other = await client(node);
  const theirs = await other.request<{ hold: string }>('HOLD', 'c1', 70);
  await rejectsWith(c.request('BOOK', theirs.hold, 'Ada', 'Lovelace'), 'NO_SUCH_HOLD');
  const mine = await c.request<{ hold: string }>('HOLD', 'c1', 71);
  const booking = await c.request('BOOK', mine.hold, 'Ada', 'Lovelace');
  // Sent again (its answer lost): the same booking, not NO_SUCH_HOLD (docs/protocol.md, "Retrying is safe").
  assert.equal(await c.request('BOOK', mine.hold, 'Ada', 'Lovelace'), booking);
  await rejectsWith(other.request('BOOK', mine.hold, 'Ada', 'Lovelace'), 'NO_SUCH_HOLD');
  other.close();
});

Errors('INVALID_NAME keeps the hold: a corrected BOOK then succeeds', async ({ c }) => {
  await rejectsWith(c.request('IDENT', 'R2', 'D2'), 'INVALID_NAME');
  const hold = await c.request<{ hold: string }>('HOLD', 'c1', 72);
  await rejectsWith(c.request('BOOK', hold.hold), 'INVALID_NAME'); // no IDENT yet
  await rejectsWith(c.request('BOOK', hold.hold, 'Ada', 'L0velace'), 'INVALID_NAME');
  await rejectsWith(c.request('BOOK', hold.hold, 'x'.repeat(65), 'Lovelace'), 'INVALID_NAME');
  const booking = await c.request<{ seat: number }>('BOOK', hold.hold, 'Ada', 'Lovelace');
  assert.is(booking.seat, 72);
});

Errors('BAD_REFERENCE for a reference with a wrong check digit or not 10 digits', async ({ c }) => {
  await rejectsWith(c.request('LOOKUP', '1234567890', 'Lovelace'), 'BAD_REFERENCE');
  await rejectsWith(c.request('CANCEL', '12345', 'Lovelace'), 'BAD_REFERENCE');
});

Errors('NOT_FOUND alike for an unknown reference and a wrong name; then RATE_LIMITED', async ({ c }) => {
  const hold = await c.request<{ hold: string }>('HOLD', 'c1', 73);
  const { reference } = await c.request<{ reference: string }>('BOOK', hold.hold, 'Ada', 'Lovelace');
  const wrongName = await rejectsWith(c.request('LOOKUP', reference, 'Byron'), 'NOT_FOUND');
  const unknown = await rejectsWith(c.request('CANCEL', '1234567897', 'Lovelace'), 'NOT_FOUND');
  assert.is(wrongName, unknown, 'the same message: neither the reference nor the name can be probed alone');
  await rejectsWith(c.request('LOOKUP', '1234567897', 'Lovelace'), 'NOT_FOUND');
  // Three failures on this connection: the next attempt is refused, even with the right name.
  await rejectsWith(c.request('LOOKUP', reference, 'Lovelace'), 'RATE_LIMITED');
});

Errors('HOLD_EXPIRED when the hold ran out before BOOK, whether or not its release is written yet', async ({ nats }) => {
  const quick = await startNode(nats, { holdSeconds: 1 });
  const c = await client(quick);
  // From another address: the one that let the hold run out waits for the cool-down.
  const other = await GuichetClient.connect({ port: quick.gateway.port, localAddress: '127.0.0.2' });
  try {
    const hold = await c.request<{ hold: string }>('HOLD', 'c2', 8);
    await new Promise((r) => setTimeout(r, 1_100));
    // Another address may take the seat at once, even before the release is written.
    await eventually(() => other.request('HOLD', 'c2', 8).then(() => true, () => false), Boolean, 3_000);
    await rejectsWith(c.request('BOOK', hold.hold, 'Ada', 'Lovelace'), 'HOLD_EXPIRED');
    // The hold is forgotten once its expiry has been said.
    await rejectsWith(c.request('BOOK', hold.hold, 'Ada', 'Lovelace'), 'NO_SUCH_HOLD');
  } finally {
    c.close();
    other.close();
    await quick.close();
  }
});

Errors('HOLD and BOOK retried after a lost answer give the same hold and the same booking', async ({ c }) => {
  const first = await c.request<{ hold: string; expiresAt: string }>('HOLD', 'c1', 80);
  const again = await c.request<{ hold: string; expiresAt: string }>('HOLD', 'c1', 80);
  assert.equal(again, first, 'the seat this connection holds is its own hold again');
  const booking = await c.request<{ reference: string }>('BOOK', first.hold, 'Ada', 'Lovelace');
  // The session forgets a booked hold: a retry of BOOK by a client whose answer was lost is
  // decided by the actor, which finds the hold booked and gives the same booking.
  const retried = await c.request<{ reference: string }>('HOLD', 'c1', 80).catch((e: { code: string }) => e.code);
  assert.is(retried, 'SEAT_TAKEN');
  assert.ok(/^\d{10}$/.test(booking.reference));
});

Errors.run();
