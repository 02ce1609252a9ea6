/**
 * The concert actor alone: CPU per booking of `concertMachine` and the decider with in-memory
 * ports (bench/actor-cpu.ts), no NATS and no sockets: the part of the gateway's CPU per
 * booking that the actor costs, steady whatever else the machine does. A hall of 20,000 seats
 * (the hot concert) and of 2,000 (the throughput benchmark's), 1 to 200 clients.
 */
import { runNodeScript, type Context } from '../lib/context.js';

interface Case {
  capacity: number;
  clients: number;
  cpuPerBookingUs: number;
  runs: number[];
}

export async function actor(ctx: Context): Promise<void> {
  ctx.log(`actor alone (in-memory ports): ${ctx.runs} run(s) per case`);
  const { result } = await runNodeScript<Case[]>('actor-cpu.js', ['--runs', String(ctx.runs), '--bookings', ctx.quick ? '2000' : '20000']);
  for (const c of result) {
    ctx.log(`  ${c.capacity} seats, ${c.clients} clients: ${c.cpuPerBookingUs.toFixed(1)} µs CPU per booking`);
    ctx.rows.push({
      benchmark: 'actor',
      setting: 'in memory',
      measure: `${c.capacity.toLocaleString('en-US')} seats, ${c.clients} clients: actor CPU per booking`,
      value: c.cpuPerBookingUs,
      unit: 'µs',
      runs: c.runs,
    });
  }
  ctx.details['actor'] = result;
}
