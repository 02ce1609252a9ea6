/**
 * Counters and histograms for the paths every command and every append takes, kept as plain
 * numbers and turned into prom-client's metric values only when scraped.
 *
 * prom-client's own, even through a cached `labels()` child, hashes the label values into a
 * string on every `inc` and `observe`: measured here 0.85 µs per command (a counter and a
 * histogram) and 0.96 µs per append, against a few tens of ns for these. They are registered
 * in the same prom-client registry and written in the same text format.
 */
import type { Registry } from 'prom-client';

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What a prom-client registry asks of a metric (registry.js: `get()`, `name`, `help`, `type`). */
abstract class Tally<C> {
  private readonly children = new Map<string, { child: C; labels: Record<string, string> }>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly labelNames: readonly string[],
  ) {
    registry.registerMetric(this as never);
  }

  /** The child of these label values (in labelNames' order), made once: keep it. */
  child(...values: string[]): C {
    const key = values.join('\u0000');
    let entry = this.children.get(key);
    if (!entry) this.children.set(key, (entry = { child: this.make(), labels: Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]!])) }));
    return entry.child;
  }

  protected abstract make(): C;
  protected abstract values(child: C, labels: Record<string, string>): MetricValue[];

  async get() {
    const values: MetricValue[] = [];
    for (const { child, labels } of this.children.values()) values.push(...this.values(child, labels));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  reset(): void {}
}

export class FastCounter extends Tally<{ value: number; inc(): void }> {
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[] = []) {
    super(registry, name, help, 'counter', labelNames);
  }

  protected make() {
    return {
      value: 0,
      inc() {
        this.value++;
      },
    };
  }

  protected values(c: { value: number }, labels: Record<string, string>): MetricValue[] {
    return [{ value: c.value, labels }];
  }
}

interface Buckets {
  counts: Float64Array;
  sum: number;
  count: number;
  observe(value: number): void;
}

export class FastHistogram extends Tally<Buckets> {
  constructor(
    registry: Registry,
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {
    super(registry, name, help, 'histogram', labelNames);
  }

  protected make(): Buckets {
    const bounds = this.bounds;
    return {
      counts: new Float64Array(bounds.length),
      sum: 0,
      count: 0,
      observe(value: number) {
        this.sum += value;
        this.count++;
        // Per bucket, not cumulative (summed when scraped); past the last bound only +Inf counts it.
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            this.counts[i]!++;
            return;
          }
        }
      },
    };
  }

  protected values(b: Buckets, labels: Record<string, string>): MetricValue[] {
    const out: MetricValue[] = [];
    let cumulative = 0;
    this.bounds.forEach((le, i) => {
      cumulative += b.counts[i]!;
      out.push({ value: cumulative, labels: { ...labels, le }, metricName: `${this.name}_bucket` });
    });
    out.push({ value: b.count, labels: { ...labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
    out.push({ value: b.sum, labels, metricName: `${this.name}_sum` });
    out.push({ value: b.count, labels, metricName: `${this.name}_count` });
    return out;
  }
}
