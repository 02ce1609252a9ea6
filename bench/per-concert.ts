/**
 * One concert's write rate: the limit of one subject per concert (docs/operations.md,
 * "Limits of the design"). A gateway process with one concert of 20,000 seats; N clients
 * loop HOLD + BOOK on seats of their own; bookings/s over a window. Ceiling, in the same
 * run: one Node process appending a chain of events with expected sequence to one subject.
 *
 *   npm run build && node dist/bench/per-concert.js [--clients 1,10,50] [--seconds 4]
 */
import { parseArgs } from 'node:util';
import { GuichetClient } from '../src/cli/client.js';
import { EventStore } from '../src/events/store.js';
import { EVENT_VERSION } from '../src/events/envelope.js';
import { ulid } from 'ulid';
import { startNats } from './lib/nats.js';
import { spawnGateway } from './lib/proc.js';
import { writeCatalog } from './lib/context.js';
import { summarize } from './lib/stats.js';

const { values } = parseArgs({
  options: { clients: { type: 'string', default: '1,10,50' }, seconds: { type: 'string', default: '4' } },
});
const levels = values.clients!.split(',').map(Number);
const seconds = Number(values.seconds);

async function ceiling(url: string): Promise<number> {
  const { connectNats } = await import('../src/nats-connection.js');
  const nc = await connectNats(url, {});
  const store = await EventStore.open(nc);
  await store.ensureStream();
  let last = await store.lastSeqOf('ceiling');
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    last = await store.append(
      { id: ulid(), v: EVENT_VERSION, concert: 'ceiling', at: new Date().toISOString(), source: 'bench', type: 'SeatReleased', data: { seat: 1, hold: ulid(), reason: 'declined' } },
      { expectedLastSeq: last },
    );
    n++;
  }
  await nc.close();
  return n / seconds;
}

const nats = await startNats({ sync: 'always' });
try {
  const catalogFile = await writeCatalog([{ id: 'solo', title: 'Solo', venue: 'Bench', date: '', capacity: 20_000 }]);
  const gateway = await spawnGateway({ natsUrl: nats.url, catalogFile, args: ['--max-seats', '100'] });
  const raw = await ceiling(nats.url);
  console.log(`ceiling: ${raw.toFixed(0)} appends/s, one subject, one after another (sync_interval: always)`);
  let nextSeat = 1;
  for (const clients of levels) {
    const conns = await Promise.all(Array.from({ length: clients }, () => GuichetClient.connect({ port: gateway.port })));
    const latencies: number[] = [];
    let bookings = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      conns.map(async (c) => {
        while (performance.now() < end && nextSeat <= 20_000) {
          const t = performance.now();
          const { hold } = await c.request<{ hold: string }>('HOLD', 'solo', nextSeat++);
          await c.request('BOOK', hold, 'Ada', 'Lovelace');
          latencies.push(performance.now() - t);
          bookings++;
        }
      }),
    );
    conns.forEach((c) => c.close());
    const rate = bookings / seconds;
    const s = summarize(latencies);
    console.log(
      `${String(clients).padStart(3)} clients: ${rate.toFixed(0)} bookings/s = ${(2 * rate).toFixed(0)} events/s ` +
        `(${((200 * rate) / raw).toFixed(0)} % of the ceiling); hold+book p50 ${s.p50} ms, p99 ${s.p99} ms`,
    );
  }
  await gateway.stop();
} finally {
  await nats.stop();
}
