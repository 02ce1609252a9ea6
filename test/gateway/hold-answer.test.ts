/**
 * What HOLD answers when the hold it stored is already over by the time the answer comes: the
 * gateway (or the owner it forwarded to) was paused past the hold's expiry, and the state the
 * answer carries already has the release the concert's owner wrote meanwhile
 * (test/faults/ownership.test.ts, owner frozen with SIGSTOP). HOLD_EXPIRED, not INTERNAL.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMANDS, type CommandEnv, type SessionView } from '../../src/gateway/commands.js';
import { AddressLimits } from '../../src/gateway/address-limits.js';
import { GuichetError } from '../../src/errors.js';
import { evolve, initialState, type ConcertState } from '../../src/actors/concert-state.js';
import { defaultLayout } from '../../src/layout.js';
import type { Registry } from '../../src/actors/registry.js';
import type { StoredEvent } from '../../src/events/envelope.js';

const NOW = Date.parse('2027-01-01T20:00:00Z');

function session(): SessionView {
  return { id: 'conn-1', address: '127.0.0.2', addressKey: '127.0.0.2', holds: new Map(), booked: new Map(), watching: new Set(), closing: false };
}

/** A registry whose HOLD outcome is the stored SeatHeld and the state `after` it. */
function envWith(after: (held: StoredEvent) => ConcertState): CommandEnv {
  const layout = defaultLayout(20);
  const registry = {
    rules: { holdMs: 2_000, maxSeats: 8 },
    layout: () => layout,
    state: () => initialState('c', 20),
    execute: async (concert: string, command: { hold: string; holder: string }) => {
      const held: StoredEvent = {
        id: '01M9000000000000000000000A',
        type: 'SeatHeld',
        v: 1,
        concert,
        at: new Date(NOW - 5_000).toISOString(),
        source: 'gw-owner',
        seq: 7,
        data: { seat: 3, hold: command.hold, holder: command.holder, expiresAt: new Date(NOW - 3_000).toISOString() },
      } as StoredEvent;
      return { events: [held], state: after(held) };
    },
  } as unknown as Registry;
  return { registry, addressLimits: new AddressLimits(undefined, () => NOW), now: () => NOW } as unknown as CommandEnv;
}

const Hold = suite('HOLD answered after its hold ran out');

Hold('the hold was stored and released (expired) before the answer: HOLD_EXPIRED, and the connection keeps no hold', async () => {
  const s = session();
  const env = envWith((held) =>
    evolve(evolve(initialState('c', 20), held), { type: 'SeatReleased', data: { seat: 3, hold: (held.data as { hold: string }).hold, reason: 'expired' } } as never),
  );
  try {
    await COMMANDS.HOLD!.run(s, ['c', '3'], env);
    assert.unreachable('HOLD should fail');
  } catch (err) {
    assert.instance(err, GuichetError, String((err as Error).stack));
    assert.is((err as GuichetError).code, 'HOLD_EXPIRED');
  }
  assert.is(s.holds.size, 0);
});

Hold('stored, and the state says the seat is not this connection\'s although the hold is still live: INTERNAL (a fault)', async () => {
  const live = envWith(() => initialState('c', 20));
  (live as { now: () => number }).now = () => NOW - 4_000;
  try {
    await COMMANDS.HOLD!.run(session(), ['c', '3'], live);
    assert.unreachable('HOLD should fail');
  } catch (err) {
    assert.is((err as GuichetError).code, 'INTERNAL');
  }
});

Hold.run();
