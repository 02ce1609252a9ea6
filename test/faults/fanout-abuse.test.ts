/**
 * Red team "fan-out amplification", as an attacker would try it: one address opens 5,000
 * connections and WATCHes a concert on each, while another client holds and releases seats
 * as fast as it can. With the default per-address limits it gets 256 connections and 64
 * watchers (every other attempt is answered `ERR TOO_MANY_CONNECTIONS` or `WATCH_LIMIT`);
 * with them lifted it gets all 5,000. The other client's rate is reported for both, not
 * asserted (a timing on a shared machine).
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { GuichetClient } from '../../src/cli/client.js';
import { startNats, type TestNats } from '../support/nats.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { report, within } from '../support/faults.js';

const ATTEMPTS = 5_000;
const CONCERT = 'jazz-nocturne'; // of the demo catalog
const MEASURE_MS = 4_000;

const Fan = suite<{ nats: TestNats; gateways: GatewayProcess[] }>('faults: fan-out amplification from one address');

Fan.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.gateways = [];
});
Fan.after(async (ctx) => {
  await Promise.all((ctx.gateways ?? []).map((g) => g.stop()));
  await ctx.nats?.stop();
});

type Outcome = 'watching' | 'TOO_MANY_CONNECTIONS' | 'WATCH_LIMIT' | 'other';

/** One attacker connection from 127.0.0.3: WATCH after HELLO, then it never reads again. */
function attacker(port: number, sockets: Socket[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' });
    sockets.push(s);
    let text = '';
    let asked = false;
    s.setEncoding('utf8');
    s.on('error', () => resolve('other'));
    s.on('close', () => resolve('other'));
    s.on('data', (d: string) => {
      text += d;
      if (text.startsWith('ERR TOO_MANY_CONNECTIONS')) return resolve('TOO_MANY_CONNECTIONS');
      if (!asked && text.startsWith('HELLO ') && text.includes('\n')) {
        asked = true;
        s.write(`#w WATCH ${CONCERT}\n`);
      }
      if (text.includes('#w OK')) {
        s.pause();
        resolve('watching');
      }
      if (text.includes('#w ERR WATCH_LIMIT')) resolve('WATCH_LIMIT');
    });
  });
}

/** HOLD then RELEASE pairs per second of a client from 127.0.0.2. */
async function pairsPerSecond(port: number): Promise<number> {
  const c = await GuichetClient.connect({ port, localAddress: '127.0.0.2' });
  let pairs = 0;
  let seat = 0;
  const end = Date.now() + MEASURE_MS;
  try {
    while (Date.now() < end) {
      seat = (seat % 90) + 1;
      const { hold } = await c.request<{ hold: string }>('HOLD', CONCERT, seat);
      await c.request('RELEASE', hold);
      pairs++;
    }
  } finally {
    c.close();
  }
  return Math.round(pairs / (MEASURE_MS / 1000));
}

async function run(ctx: { nats: TestNats; gateways: GatewayProcess[] }, serverArgs: string[]) {
  // The measuring client HOLDs and RELEASEs seats in a loop, which the cool-down forbids one address.
  const g = await startGatewayProcess({ natsUrl: ctx.nats.url, snapshotSeconds: 0, serverArgs: ['--hold-cool-down', '0', ...serverArgs] });
  ctx.gateways.push(g);
  const before = await pairsPerSecond(g.port);
  const sockets: Socket[] = [];
  try {
    const outcomes = await Promise.all(Array.from({ length: ATTEMPTS }, () => attacker(g.port, sockets)));
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
    const during = await pairsPerSecond(g.port);
    return { counts, before, during };
  } finally {
    for (const s of sockets) s.destroy();
    await g.stop();
  }
}

Fan('5,000 watchers tried from one address: 64 watch, every other attempt is told why; the limits lifted, all 5,000 watch (rates reported)', (ctx) =>
  within(180_000, 'fan-out amplification', async () => {
    const limited = await run(ctx, []);
    const lifted = await run(ctx, ['--max-connections-per-address', '1000000', '--max-watchers-per-address', '1000000']);
    await report('fan-out amplification from one address', {
      'attempts from 127.0.0.3': ATTEMPTS,
      'default limits: outcomes': limited.counts,
      "default limits: another client's HOLD+RELEASE pairs/s before / during": `${limited.before} / ${limited.during}`,
      'limits lifted: outcomes': lifted.counts,
      "limits lifted: another client's HOLD+RELEASE pairs/s before / during": `${lifted.before} / ${lifted.during}`,
    });
    assert.equal(limited.counts, { watching: 64, WATCH_LIMIT: 256 - 64, TOO_MANY_CONNECTIONS: ATTEMPTS - 256 });
    assert.equal(lifted.counts, { watching: ATTEMPTS });
  }),
);

Fan.run();
