/**
 * Scenario 7 — clock and time: holds expire when they say, across a gateway restart. A hold
 * carries its absolute expiry (`expiresAt`) in the log, so a gateway restarted before the
 * expiry (even with another --hold-seconds) keeps the seat held until then and no longer;
 * one restarted after it finds the seat free at once and writes the release. BOOK just
 * before the expiry succeeds, just after it answers HOLD_EXPIRED.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient } from '../../src/cli/client.js';
import { startNats, type TestNats } from '../support/nats.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { readLog, report, settle, sleep, within } from '../support/faults.js';

const CONCERT = 'rock-garage';
const HOLD_SECONDS = 3;

const Clock = suite<{ nats: TestNats; g: GatewayProcess }>('faults: holds expire on time across restarts');

Clock.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.g = await startGatewayProcess({ natsUrl: ctx.nats.url, holdSeconds: HOLD_SECONDS, gatewayId: 'gw-clock' });
});

Clock.after(async (ctx) => {
  await ctx.g?.stop();
  await ctx.nats?.stop();
});

async function hold(c: GuichetClient, seats: number[]): Promise<Array<{ hold: string; seat: number; expiresAt: number }>> {
  const out = [];
  for (const seat of seats) {
    const r = await c.request<{ hold: string; expiresAt: string }>('HOLD', CONCERT, seat);
    out.push({ hold: r.hold, seat, expiresAt: Date.parse(r.expiresAt) });
  }
  return out;
}

/** Polls SEATS until the seat shows free; returns when (ms since the epoch). */
async function freedAt(c: GuichetClient, seat: number, untilMs: number): Promise<number | undefined> {
  while (Date.now() < untilMs) {
    const r = await settle(c.request<{ map: string }>('SEATS', CONCERT), 2_000);
    if (r.ok && r.value.map[seat - 1] === '.') return Date.now();
    await sleep(25);
  }
  return undefined;
}

async function releases(ctx: { nats: TestNats }, holds: string[]) {
  const log = await readLog(ctx.nats.url);
  return holds.map((h) => log.find((e) => e.type === 'SeatReleased' && e.data.hold === h));
}

Clock('restarted before the expiry (with another --hold-seconds): held until expiresAt, free from then, released as expired', (ctx) =>
  within(60_000, 'restart before expiry', async () => {
    const c = await GuichetClient.connect({ port: ctx.g.port });
    const holds = await hold(c, [1, 2, 3]);
    await ctx.g.kill('SIGKILL');
    c.close();
    await ctx.g.start({ holdSeconds: 60 });
    const restartedAt = Date.now();
    const d = await GuichetClient.connect({ port: ctx.g.port });
    const map = (await d.request<{ map: string }>('SEATS', CONCERT)).map;
    const taken = await settle(d.request('HOLD', CONCERT, 1), 5_000);
    const expiresAt = Math.max(...holds.map((h) => h.expiresAt));
    const freed = await Promise.all(holds.map((h) => freedAt(d, h.seat, h.expiresAt + 5_000)));
    const again = await settle(d.request<{ expiresAt: string }>('HOLD', CONCERT, 1), 5_000);
    await sleep(500);
    const released = await releases(ctx, holds.map((h) => h.hold));
    d.close();
    const earlyMs = freed.map((f, i) => (f === undefined ? NaN : f - holds[i]!.expiresAt));
    const releaseLagMs = released.map((e, i) => (e ? Date.parse(e.at) - holds[i]!.expiresAt : NaN));

    await report('holds across a restart before their expiry', {
      'hold time before / after the restart s': `${HOLD_SECONDS} / 60`,
      'restart done, s before the expiry': ((expiresAt - restartedAt) / 1000).toFixed(2),
      'seats 1-3 after the restart': map.slice(0, 3),
      'HOLD of seat 1 by another client': taken.ok ? 'OK' : taken.code,
      'seen free, ms after expiresAt (SEATS polled every 25 ms)': earlyMs,
      'release written, ms after expiresAt': releaseLagMs,
      'release reasons': released.map((e) => (e?.type === 'SeatReleased' ? e.data.reason : 'none')),
      'HOLD of seat 1 after the expiry': again.ok ? `OK, for ${((Date.parse(again.value.expiresAt) - Date.now()) / 1000).toFixed(0)} s` : again.code,
    });

    assert.ok(expiresAt > restartedAt, 'the gateway was back before the holds expired (else this proves nothing)');
    assert.is(map.slice(0, 3), 'hhh', 'still held after the restart');
    assert.is(taken.ok ? 'OK' : taken.code, 'SEAT_TAKEN');
    for (const ms of earlyMs) assert.ok(ms >= 0 && ms < 500, `free from expiresAt, not before, not much after (${ms} ms)`);
    for (const e of released) assert.ok(e?.type === 'SeatReleased' && e.data.reason === 'expired', 'released as expired');
    for (const ms of releaseLagMs) assert.ok(ms >= 0 && ms < 1_000, `release written within 1 s of the expiry (${ms} ms)`);
    assert.ok(again.ok, 'the seat can be held again');
  }),
);

Clock('down across the expiry: free at once after the restart, the release written at start', (ctx) =>
  within(60_000, 'down across expiry', async () => {
    await ctx.g.kill('SIGKILL');
    await ctx.g.start({ holdSeconds: HOLD_SECONDS });
    const c = await GuichetClient.connect({ port: ctx.g.port });
    const holds = await hold(c, [4, 5, 6]);
    await ctx.g.kill('SIGKILL');
    c.close();
    const expiresAt = Math.max(...holds.map((h) => h.expiresAt));
    await sleep(Math.max(0, expiresAt - Date.now()) + 1_000);
    await ctx.g.start();
    const restartedAt = Date.now();
    const d = await GuichetClient.connect({ port: ctx.g.port });
    const map = (await d.request<{ map: string }>('SEATS', CONCERT)).map;
    const again = await settle(d.request('HOLD', CONCERT, 4), 5_000);
    await sleep(1_000);
    const released = await releases(ctx, holds.map((h) => h.hold));
    d.close();
    const afterStartMs = released.map((e) => (e ? Date.parse(e.at) - restartedAt : NaN));

    await report('holds expired while the gateway was down', {
      'seats 4-6 right after the restart': map.slice(3, 6),
      'HOLD of seat 4': again.ok ? 'OK' : again.code,
      'releases written, ms after the gateway was back': afterStartMs,
      'release reasons': released.map((e) => (e?.type === 'SeatReleased' ? e.data.reason : 'none')),
    });

    assert.is(map.slice(3, 6), '...', 'free at once');
    assert.ok(again.ok, 'and can be held');
    for (const e of released) assert.ok(e?.type === 'SeatReleased' && e.data.reason === 'expired', 'released as expired');
    for (const ms of afterStartMs) assert.ok(ms < 2_000, `released soon after the start (${ms} ms)`);
  }),
);

Clock('BOOK just before expiresAt succeeds; just after, HOLD_EXPIRED', (ctx) =>
  within(30_000, 'expiry boundary', async () => {
    const c = await GuichetClient.connect({ port: ctx.g.port });
    const [early, late] = await hold(c, [7, 8]);
    await sleep(Math.max(0, early!.expiresAt - 300 - Date.now()));
    const before = await settle(c.request<{ reference: string }>('BOOK', early!.hold, 'Ada', 'Lovelace'), 5_000);
    await sleep(Math.max(0, late!.expiresAt + 100 - Date.now()));
    const after = await settle(c.request('BOOK', late!.hold, 'Ada', 'Lovelace'), 5_000);
    c.close();

    await report('BOOK at the edge of a hold', {
      'BOOK 300 ms before expiresAt': before.ok ? 'OK' : before.code,
      'BOOK 100 ms after expiresAt': after.ok ? 'OK' : after.code,
    });
    assert.ok(before.ok, 'booked in time');
    assert.is(after.ok ? 'OK' : after.code, 'HOLD_EXPIRED');
  }),
);

Clock.run();
