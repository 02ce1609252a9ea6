/**
 * Retries an operation that fails while what it needs is on its way (a NATS server still
 * starting, a cluster electing its leaders), pausing 0.25 s, then twice as long each time up
 * to 2 s, until it succeeds, fails in a way that waiting cannot mend, or the wait is over.
 * Each failure that is followed by another attempt is told to `onWait`, so that a long wait
 * shows progress.
 */
export interface WaitOptions {
  /** How long to keep trying (ms). An attempt that would start past it is not made. */
  waitMs: number;
  /** Told each time an attempt failed and another follows, with why and how long it has waited. */
  onWait?: (reason: string, waitedMs: number) => void;
  /** Errors to give up on at once (default: none). */
  isPermanent?: (err: unknown) => boolean;
  /** The error to throw when the wait is over, from the last failure. */
  giveUp: (err: unknown, waitedMs: number) => Error;
}

const FIRST_PAUSE_MS = 250;
const LONGEST_PAUSE_MS = 2_000;

export async function retryWhileWaiting<T>(attempt: () => Promise<T>, options: WaitOptions): Promise<T> {
  const started = Date.now();
  let pause = FIRST_PAUSE_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (options.isPermanent?.(err)) throw err;
      const waited = Date.now() - started;
      if (waited + pause > options.waitMs) throw options.giveUp(err, waited);
      options.onWait?.(err instanceof Error ? err.message : String(err), waited);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
    }
  }
}
