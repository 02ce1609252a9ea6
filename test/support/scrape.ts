/** Reads a gateway's /metrics (Prometheus text format) into figures the tests can compare. */

export type Scrape = Map<string, number>;

export async function scrape(base: string): Promise<Scrape> {
  const res = await fetch(`${base}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}

/** Every sample, keyed as written: `name{label="value",…}` (labels in the metric's order) or `name`. */
export function parseMetrics(text: string): Scrape {
  const samples: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** A sample's value, 0 when it is absent (a counter not yet incremented). */
export function sample(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return s.get(parts.length ? `${name}{${parts.join(',')}}` : name) ?? 0;
}
