/**
 * The concert actor alone: CPU per booking of `concertMachine` and the decider with in-memory
 * ports (bench/actor-cpu.ts), no NATS and no sockets: the part of the gateway's CPU per
 * booking that the actor costs, steady whatever else the machine does. A hall of 20,000 seats
 * (the hot concert) and of 2,000 (the throughput benchmark's), 1 to 200 clients; and a
 * follower's copy of the hot concert (a gateway that does not own it) applying its events.
 */
import { runNodeScript, type Context } from '../lib/context.js';

interface Case {
  capacity: number;
  clients: number;
  /** A follower's copy, events handed over this many at a time (absent: the deciding actor). */
  follower?: number;
  /** decodeEvent alone, over a follower's events. */
  decodeOnly?: boolean;
  cpuPerBookingUs: number;
  runs: number[];
}

export async function actor(ctx: Context): Promise<void> {
  ctx.log(`actor alone (in-memory ports): ${ctx.runs} run(s) per case`);
  const { result } = await runNodeScript<Case[]>('actor-cpu.js', ['--runs', String(ctx.runs), '--bookings', ctx.quick ? '2000' : '20000']);
  for (const c of result) {
    const what = c.decodeOnly ? 'decodeEvent alone' : c.follower === undefined ? `${c.clients} clients` : `follower, ${c.follower} events a turn`;
    ctx.log(`  ${c.capacity} seats, ${what}: ${c.cpuPerBookingUs.toFixed(1)} µs CPU per booking`);
    ctx.rows.push({
      benchmark: 'actor',
      setting: 'in memory',
      measure: c.decodeOnly
        ? 'decodeEvent alone: CPU per booking (its two events)'
        : c.follower === undefined
          ? `${c.capacity.toLocaleString('en-US')} seats, ${c.clients} clients: actor CPU per booking`
          : `${c.capacity.toLocaleString('en-US')} seats, a follower's copy, ${c.follower} events a turn: CPU per booking (decoding included)`,
      value: c.cpuPerBookingUs,
      unit: 'µs',
      runs: c.runs,
    });
  }
  ctx.details['actor'] = result;
}
