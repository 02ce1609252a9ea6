/**
 * When a concert actor should group the commands waiting in its mailbox into one atomic
 * batch, and when it should commit them one by one.
 *
 * A plain publish with an expected sequence costs ~0.5 ms and an atomic batch ~3 ms whatever
 * its size (DESIGN.md, "Group commit"; measured here, 2 cores, `sync_interval: always`; on a
 * loaded machine a batch took 15-25 ms while a publish still took ~0.7). So committing `k`
 * waiting commands one by one takes about `k × plain`, in one batch about `batch`: the actor
 * groups them only when `k × plain > batch`. One client alone never waits behind a batch, and
 * a rush, whose mailbox is long, fills them. Both costs are measured as the actor goes
 * (moving averages of the appends it makes), so the threshold follows the machine it runs on.
 */

export interface BatchPolicy {
  /** How many of the `waiting` commands (≥ 1) to decide and commit together now. */
  groupSize(waiting: number): number;
  /** The cost of an append just made: `events` (1: a plain publish), how long it took. */
  observe(events: number, ms: number): void;
}

/** A moving average's weight for a new sample: the last ~20 appends count. */
const WEIGHT = 0.05;
/** What the first decisions go by until appends have been measured (DESIGN.md). */
export const INITIAL_PLAIN_MS = 0.5;
export const INITIAL_BATCH_MS = 3;

export class MeasuredBatching implements BatchPolicy {
  plainMs: number;
  batchMs: number;

  constructor(
    /** The most commands one batch carries (the server takes 1,000 messages per batch). */
    private readonly maxGroup = 1_000,
    initial: { plainMs?: number; batchMs?: number } = {},
  ) {
    this.plainMs = initial.plainMs ?? INITIAL_PLAIN_MS;
    this.batchMs = initial.batchMs ?? INITIAL_BATCH_MS;
  }

  groupSize(waiting: number): number {
    if (waiting <= 1 || waiting * this.plainMs <= this.batchMs) return 1;
    return Math.min(waiting, this.maxGroup);
  }

  observe(events: number, ms: number): void {
    if (!(ms >= 0)) return;
    if (events <= 1) this.plainMs += WEIGHT * (ms - this.plainMs);
    else this.batchMs += WEIGHT * (ms - this.batchMs);
  }
}

/** Every waiting command in one group, up to `max` (tests, and a ceiling to compare with). */
export const groupAll = (max = 1_000): BatchPolicy => ({
  groupSize: (waiting) => Math.max(1, Math.min(waiting, max)),
  observe: () => undefined,
});

/** One command at a time: the actor as it was before group commit. */
export const oneAtATime: BatchPolicy = { groupSize: () => 1, observe: () => undefined };
