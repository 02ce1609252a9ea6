/** Starts guichet nodes in this process against a test nats-server, and clients to them. */
import { startGuichet, type Guichet, type GuichetOptions } from '../../src/guichet.js';
import { GuichetClient } from '../../src/cli/client.js';
import type { Concert } from '../../src/catalog.js';
import type { Logger } from '../../src/gateway/log.js';
import { startNats, type TestNats } from './nats.js';

export const TEST_CATALOG: Concert[] = [
  { id: 'c1', title: 'Concert One', venue: 'Hall A', date: '2027-01-01T20:00:00Z', capacity: 100 },
  { id: 'c2', title: 'Concert Two', venue: 'Hall B', date: '2027-01-02T20:00:00Z', capacity: 10 },
];

/** The snapshot key of every node the tests start (several gateways must share one). */
export const TEST_SNAPSHOT_KEY = 'test-snapshot-key-0123456789abcdef0123456789';

/** A node on a test nats-server, or on any NATS URL (a cluster's node, a server not started yet). */
export async function startNode(nats: TestNats | string, options: Partial<GuichetOptions> = {}): Promise<Guichet> {
  return startGuichet({
    natsUrl: typeof nats === 'string' ? nats : nats.url,
    host: '127.0.0.1',
    port: 0,
    catalog: TEST_CATALOG,
    holdSeconds: 120,
    snapshotKey: TEST_SNAPSHOT_KEY,
    ...options,
  });
}

/** A logger that keeps the warnings and errors a node says, for tests to read. */
export function recordingLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
}

export function client(node: Guichet): Promise<GuichetClient> {
  return GuichetClient.connect({ port: node.gateway.port });
}

/** Resolves with the first value of `poll` that passes `ok`, polling until `timeoutMs`. */
export async function eventually<T>(poll: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await poll();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export { startNats, type TestNats };

/** Asserts that a request fails with the given `ERR` code; returns the error's message. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<string> {
  try {
    const value = await promise;
    throw new Error(`expected ERR ${code}, got OK ${JSON.stringify(value)}`);
  } catch (err) {
    const actual = (err as { code?: string }).code;
    if (actual !== code) throw new Error(`expected ERR ${code}, got ${actual ?? ''} ${(err as Error).message}`);
    return (err as Error).message;
  }
}
