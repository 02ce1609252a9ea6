/**
 * When a concert actor should group the commands waiting in its mailbox into one atomic
 * batch, and when it should commit them one by one.
 *
 * A plain publish with an expected sequence costs ~0.5 ms and an atomic batch ~3 ms whatever
 * its size (DESIGN.md, "Group commit"; measured here, 2 cores, `sync_interval: always`; on a
 * loaded machine a batch took 15-25 ms while a publish still took ~0.7). So committing `k`
 * waiting commands one by one takes about `k × plain`, in one batch about `batch`: the actor
 * groups them only when `k × plain > batch`. One client alone never waits behind a batch, and
 * a rush, whose mailbox is long, fills them. Both costs are measured as the actors go (a low
 * percentile of the last appends of each kind), so the threshold follows the machine; only
 * appends sent while few others were in flight count (see CROWD).
 */

export interface BatchPolicy {
  /**
   * How many of the `waiting` commands (≥ 1) to decide and commit together now, `others` being
   * the appends of this gateway in flight (other concerts').
   */
  groupSize(waiting: number, others?: number): number;
  /**
   * The cost of an append just made: `events` (1: a plain publish), how long it took, and how
   * many other appends of this gateway were in flight when it was sent.
   */
  observe(events: number, ms: number, others?: number): void;
}

/** How many recent appends of each kind the estimates look at. */
const WINDOW = 64;
/**
 * The estimate is a low percentile of the recent costs, not their mean: an append's measured
 * time also holds the time the gateway's event loop was busy elsewhere before it saw the ack
 * (answering the commands of the previous batch, screening new ones), which has nothing to do
 * with the append and, counted in, made plain appends look as slow as batches (measured: 7 ms
 * "plain" against 20 ms batches at 8 clients, so the actor batched and sold half as much).
 */
const PERCENTILE = 0.25;
/**
 * A batch measured dear once (a busy moment) would never be tried again: after this many plain
 * appends with commands waiting, one is, at the cost of one slower round.
 */
const PROBE_AFTER = 500;
/**
 * An append sent while more than this many others were in flight is not a measure of what it
 * costs: it queued behind them. The stream writes one append at a time, and a batch commit
 * takes it ~3 ms (an fsync of its own) whatever its size, a plain publish a fraction of that;
 * under a crowd both waited the same queue, so their times looked alike and small groups went
 * as batches. 100 concerts of 4 clients each then sold 595 bookings a second, where plain
 * publishes for groups of fewer than 10 sold 1,371 (bench throughput, 400 clients).
 */
export const CROWD = 1;
/**
 * The smallest group worth a batch while other appends are in flight. The stream takes a batch
 * commit ~3 ms whatever its size, one at a time (~300 a second, DESIGN.md), while plain
 * publishes of many concerts overlap (3,000-3,500 a second over 100 subjects, the throughput
 * bench's ceiling): a batch of fewer than ~10 events stores fewer events per second of the
 * stream's time than plain publishes do, and when every concert commits, that time is what
 * runs out (400 clients on 100 concerts: 595 bookings/s with batches of 2-4, 1,371 with plain
 * publishes below 10). One concert alone (a hot sale) goes by the costs measured.
 */
export const CROWDED_BATCH = 10;
/** What the first decisions go by until appends have been measured (DESIGN.md). */
export const INITIAL_PLAIN_MS = 0.5;
export const INITIAL_BATCH_MS = 3;

/** The recent costs of one kind of append, and a low percentile of them. */
class Costs {
  private readonly samples = new Float64Array(WINDOW);
  private count = 0;
  private next = 0;
  private current: number;
  /** Worked out again only when asked after a new sample (every append adds one). */
  private stale = false;

  constructor(initial: number) {
    this.current = initial;
  }

  get estimate(): number {
    if (this.stale) {
      // A typed array sorts numerically without a comparator: a few hundred ns for 64.
      const sorted = this.samples.slice(0, this.count).sort();
      this.current = sorted[Math.floor(PERCENTILE * (this.count - 1))]!;
      this.stale = false;
    }
    return this.current;
  }

  add(ms: number): void {
    this.samples[this.next] = ms;
    this.count = Math.min(WINDOW, this.count + 1);
    this.next = (this.next + 1) % WINDOW;
    this.stale = true;
  }
}

export class MeasuredBatching implements BatchPolicy {
  private readonly plain: Costs;
  private readonly batch: Costs;

  constructor(
    /** The most commands one batch carries (the server takes 1,000 messages per batch). */
    private readonly maxGroup = 1_000,
    initial: { plainMs?: number; batchMs?: number } = {},
  ) {
    this.plain = new Costs(initial.plainMs ?? INITIAL_PLAIN_MS);
    this.batch = new Costs(initial.batchMs ?? INITIAL_BATCH_MS);
  }

  get plainMs(): number {
    return this.plain.estimate;
  }

  get batchMs(): number {
    return this.batch.estimate;
  }

  /** Plain appends since the last batch: past PROBE_AFTER, a batch is tried, so that its cost is known again. */
  private sinceBatch = 0;

  groupSize(waiting: number, others = 0): number {
    if (waiting <= 1) return 1;
    if (others > CROWD && waiting < CROWDED_BATCH) return 1;
    const probe = this.sinceBatch >= PROBE_AFTER;
    if (!probe && waiting * this.plainMs <= this.batchMs) return 1;
    return Math.min(waiting, this.maxGroup);
  }

  observe(events: number, ms: number, others = 0): void {
    if (!(ms >= 0) || others > CROWD) return;
    if (events <= 1) {
      this.plain.add(ms);
      this.sinceBatch++;
    } else {
      this.batch.add(ms);
      this.sinceBatch = 0;
    }
  }
}

/** Every waiting command in one group, up to `max` (tests, and a ceiling to compare with). */
export const groupAll = (max = 1_000): BatchPolicy => ({
  groupSize: (waiting) => Math.max(1, Math.min(waiting, max)),
  observe: () => undefined,
});

/** One command at a time: the actor as it was before group commit. */
export const oneAtATime: BatchPolicy = { groupSize: () => 1, observe: () => undefined };
