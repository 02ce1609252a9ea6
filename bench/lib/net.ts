/** Loopback ports. */

// The same loopback helpers as the tests use.
export { freePort, waitForPort } from '../../test/support/net.js';

/** Wall-clock time in ms with sub-millisecond precision, comparable across processes of one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
