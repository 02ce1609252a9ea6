/**
 * Values gathered per key during one turn of the event loop and handed over together at its
 * end (`setImmediate`: after the I/O callbacks of the turn), one call per key, in the order the
 * keys first came. A hot concert brings tens of commands, events or forwarded requests a turn;
 * one hand-over each (a machine transition, a NATS message) cost more than the work itself.
 */
export class TurnBatches<K, V> {
  private readonly pending = new Map<K, V[]>();

  constructor(
    private readonly handOver: (key: K, values: V[]) => void,
    /**
     * A key's values are handed over as soon as this many wait, without waiting for the turn's
     * end. A turn can be long: libuv reads up to 48 × 1,024 ready sockets before it runs the
     * turn's `setImmediate` callbacks, so in a rush of 10,000 clients every command waited for
     * the last one to be read (about 0.4 s) before any was answered, where a server answering
     * as it reads answers the first at once.
     */
    private readonly maxBatch = Number.POSITIVE_INFINITY,
  ) {}

  /** Whether values of `key` wait for the end of this turn. */
  has(key: K): boolean {
    return this.pending.has(key);
  }

  add(key: K, value: V): void {
    const waiting = this.pending.get(key);
    if (waiting) {
      waiting.push(value);
      if (waiting.length >= this.maxBatch) {
        this.pending.delete(key);
        this.handOver(key, waiting);
      }
      return;
    }
    this.pending.set(key, [value]);
    if (this.pending.size === 1) setImmediate(() => this.flush());
  }

  /** Hands over what waits now (the turn's end does it; a stop, before it closes). */
  flush(): void {
    if (this.pending.size === 0) return;
    const batches = [...this.pending];
    this.pending.clear();
    for (const [key, values] of batches) this.handOver(key, values);
  }
}
