/**
 * Values gathered per key during one turn of the event loop and handed over together at its
 * end (`setImmediate`: after the I/O callbacks of the turn), one call per key, in the order the
 * keys first came. A hot concert brings tens of commands, events or forwarded requests a turn;
 * one hand-over each (a machine transition, a NATS message) cost more than the work itself.
 */
export class TurnBatches<K, V> {
  private readonly pending = new Map<K, V[]>();

  constructor(private readonly handOver: (key: K, values: V[]) => void) {}

  /** Whether values of `key` wait for the end of this turn. */
  has(key: K): boolean {
    return this.pending.has(key);
  }

  add(key: K, value: V): void {
    const waiting = this.pending.get(key);
    if (waiting) {
      waiting.push(value);
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
