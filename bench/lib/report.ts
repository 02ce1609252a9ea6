/** The results table and the JSON file. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Row {
  benchmark: string;
  /** nats sync setting, or another variant. */
  setting: string;
  measure: string;
  /** Median over the runs. */
  value: number;
  unit: string;
  /** Every run's value. */
  runs?: number[];
  ceiling?: number;
  /** value ÷ ceiling (or the comparison the target names). */
  ratio?: number;
  target?: string;
  holds?: boolean;
}

export function formatNumber(x: number | undefined): string {
  if (x === undefined) return '';
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function table(rows: Row[]): string {
  const header = ['benchmark', 'nats', 'measure', 'median', 'unit', 'runs', 'ceiling', 'ratio', 'target', 'holds'];
  const body = rows.map((r) => [
    r.benchmark,
    r.setting,
    r.measure,
    formatNumber(r.value),
    r.unit,
    r.runs && r.runs.length > 1 ? r.runs.map(formatNumber).join(' / ') : '',
    formatNumber(r.ceiling),
    r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)} %`,
    r.target ?? '',
    r.holds === undefined ? '' : r.holds ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The same table in Markdown, for docs/benchmarks.md. */
export function markdownTable(rows: Row[]): string {
  const header = ['benchmark', 'nats sync', 'measure', 'median', 'runs', 'ceiling', 'ratio', 'target', 'holds'];
  const body = rows.map((r) => [
    r.benchmark,
    r.setting,
    r.measure,
    `${formatNumber(r.value)} ${r.unit}`,
    r.runs && r.runs.length > 1 ? r.runs.map(formatNumber).join(' / ') : '',
    r.ceiling === undefined ? '' : formatNumber(r.ceiling),
    r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)} %`,
    r.target ?? '',
    r.holds === undefined ? '' : r.holds ? 'yes' : '**no**',
  ]);
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...body.map((b) => `| ${b.join(' | ')} |`)].join('\n');
}

export function writeResults(dir: string, name: string, data: unknown): Promise<string> {
  return writeResultFile(dir, name, `${JSON.stringify(data, null, 2)}\n`);
}

/** Writes a result (JSON, a chart) under `dir`, creating it: bench/results is git-ignored, so a fresh clone has none. */
export async function writeResultFile(dir: string, name: string, text: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
