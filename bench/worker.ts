/**
 * A load process: opens connections to a gateway (or the raw server) with GuichetClient and
 * drives them as the parent says over IPC. Running the load in child processes keeps its CPU
 * out of the gateway's accounting (on 2 cores they still compete for the machine).
 */
import { GuichetClient, ServerError } from '../src/cli/client.js';
import { nowMs, sleep } from './lib/net.js';

export type WorkerCommand =
  | { op: 'connect'; host: string; port: number; count: number; concurrency: number; timeoutMs: number }
  | { op: 'throughput'; plans: Plan[]; startAt: number; durationMs: number }
  | { op: 'rush'; startAt: number; concert: string; capacity: number }
  | { op: 'watch'; concert: string }
  | { op: 'arrivals'; sentAt: Record<string, number> }
  | { op: 'close' };

/** The seats one client books, in order: runs of seats of one concert. */
export interface Plan {
  segments: Array<{ concert: string; seats: number[] }>;
}

export interface ConnectResult {
  connected: number;
  failed: number;
  errors: Record<string, number>;
  /** ms from connect() to HELLO, per connection. */
  connectMs: number[];
  elapsedMs: number;
}

export interface ThroughputResult {
  /** Epoch ms each booking completed. */
  doneAt: number[];
  /** HOLD sent → BOOK answered (ms). */
  latency: number[];
  errors: Record<string, number>;
  /** Seats each plan used (tried), to place the next run. */
  used: number[];
}

export interface RushResult {
  /** HOLD sent → answer (ms), one per connection answered. */
  holdLatency: number[];
  /** BOOK sent → answer (ms). */
  bookLatency: number[];
  codes: Record<string, number>;
  answered: number;
  connections: number;
  booked: number;
  /** Epoch ms of each BOOK OK. */
  bookedAt: number[];
  firstSentAt: number;
  closedDuring: number;
}

export interface ArrivalsResult {
  /** change key → latency (ms) of each watcher that got it. */
  latency: Record<string, number[]>;
  watchers: number;
  /** (watcher, change) pairs never delivered. */
  missing: number;
}

const clients: GuichetClient[] = [];
let closedDuring = 0;
const arrivals = new Map<string, number[]>();

function count(errors: Record<string, number>, err: unknown): void {
  const key = err instanceof ServerError ? err.code : err instanceof Error ? err.message.slice(0, 80) : String(err);
  errors[key] = (errors[key] ?? 0) + 1;
}

async function connectAll(c: Extract<WorkerCommand, { op: 'connect' }>): Promise<ConnectResult> {
  const started = nowMs();
  const errors: Record<string, number> = {};
  const connectMs: number[] = [];
  let next = 0;
  let failed = 0;
  const lane = async () => {
    while (next < c.count) {
      next++;
      const t = nowMs();
      try {
        const client = await GuichetClient.connect({ host: c.host, port: c.port, timeoutMs: c.timeoutMs });
        connectMs.push(nowMs() - t);
        client.on('close', () => closedDuring++);
        client.on('error', () => undefined);
        clients.push(client);
      } catch (err) {
        failed++;
        count(errors, err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(c.concurrency, c.count) }, lane));
  return { connected: clients.length, failed, errors, connectMs, elapsedMs: nowMs() - started };
}

async function throughput(c: Extract<WorkerCommand, { op: 'throughput' }>): Promise<ThroughputResult> {
  const doneAt: number[] = [];
  const latency: number[] = [];
  const errors: Record<string, number> = {};
  const used = c.plans.map(() => 0);
  const endAt = c.startAt + c.durationMs;
  await sleep(Math.max(0, c.startAt - nowMs()));
  await Promise.all(
    c.plans.map(async (plan, i) => {
      const client = clients[i];
      if (!client) return;
      const slots = plan.segments.flatMap((s) => s.seats.map((seat) => [s.concert, seat] as const));
      for (const [concert, seat] of slots) {
        if (nowMs() >= endAt || client.closed) break;
        used[i]!++;
        const t = nowMs();
        try {
          const held = await client.request<{ hold: string }>('HOLD', concert, seat);
          await client.request('BOOK', held.hold, 'Bench', 'Client');
          const done = nowMs();
          doneAt.push(done);
          latency.push(done - t);
        } catch (err) {
          count(errors, err);
        }
      }
    }),
  );
  return { doneAt, latency, errors, used };
}

async function rush(c: Extract<WorkerCommand, { op: 'rush' }>): Promise<RushResult> {
  const holdLatency: number[] = [];
  const bookLatency: number[] = [];
  const bookedAt: number[] = [];
  const codes: Record<string, number> = {};
  let answered = 0;
  const closedBefore = closedDuring;
  await sleep(Math.max(0, c.startAt - nowMs()));
  const firstSentAt = nowMs();
  // Every connection sends its HOLD in the same tick; the answers are awaited after.
  const races = clients.map((client) => {
    const seat = 1 + Math.floor(Math.random() * c.capacity);
    const t = nowMs();
    return client.request<{ hold: string }>('HOLD', c.concert, seat).then(
      async (held) => {
        holdLatency.push(nowMs() - t);
        answered++;
        codes['HOLD OK'] = (codes['HOLD OK'] ?? 0) + 1;
        const tb = nowMs();
        try {
          await client.request('BOOK', held.hold, 'Rush', 'Client');
          const done = nowMs();
          bookLatency.push(done - tb);
          bookedAt.push(done);
          codes['BOOK OK'] = (codes['BOOK OK'] ?? 0) + 1;
        } catch (err) {
          bookLatency.push(nowMs() - tb);
          count(codes, err);
        }
      },
      (err) => {
        if (err instanceof ServerError) {
          holdLatency.push(nowMs() - t);
          answered++;
        }
        count(codes, err);
      },
    );
  });
  await Promise.all(races);
  return {
    holdLatency,
    bookLatency,
    codes,
    answered,
    connections: clients.length,
    booked: bookedAt.length,
    bookedAt,
    firstSentAt,
    closedDuring: closedDuring - closedBefore,
  };
}

async function watch(c: Extract<WorkerCommand, { op: 'watch' }>): Promise<{ watching: number; errors: Record<string, number> }> {
  const errors: Record<string, number> = {};
  let watching = 0;
  await Promise.all(
    clients.map(async (client) => {
      client.on('event', (e: { type: string; seat: number }) => {
        const at = nowMs();
        const key = `${e.type}:${e.seat}`;
        let list = arrivals.get(key);
        if (!list) arrivals.set(key, (list = []));
        list.push(at);
      });
      try {
        await client.request('WATCH', c.concert);
        watching++;
      } catch (err) {
        count(errors, err);
      }
    }),
  );
  return { watching, errors };
}

function collect(c: Extract<WorkerCommand, { op: 'arrivals' }>): ArrivalsResult {
  const latency: Record<string, number[]> = {};
  let missing = 0;
  for (const [key, sentAt] of Object.entries(c.sentAt)) {
    const got = arrivals.get(key) ?? [];
    latency[key] = got.map((at) => at - sentAt);
    missing += Math.max(0, clients.length - got.length);
  }
  return { latency, watchers: clients.length, missing };
}

async function handle(command: WorkerCommand): Promise<unknown> {
  switch (command.op) {
    case 'connect':
      return connectAll(command);
    case 'throughput':
      return throughput(command);
    case 'rush':
      return rush(command);
    case 'watch':
      return watch(command);
    case 'arrivals':
      return collect(command);
    case 'close':
      for (const client of clients) client.close();
      clients.length = 0;
      setTimeout(() => process.exit(0), 50);
      return {};
  }
}

process.on('message', (message: { id: number; command: WorkerCommand }) => {
  handle(message.command).then(
    (result) => process.send!({ id: message.id, ok: true, result }),
    (err: unknown) => process.send!({ id: message.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
