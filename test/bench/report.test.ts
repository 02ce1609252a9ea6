/**
 * The benchmark results folder is git-ignored, so a fresh clone has none: writing a result
 * (the JSON, the throughput chart) creates it (`npm run bench` failed with ENOENT on
 * bench/results/throughput-latency.svg).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeResultFile, writeResults } from '../../bench/lib/report.js';

test('a chart and a JSON result are written into a results folder that does not exist yet', async () => {
  const root = mkdtempSync(join(tmpdir(), 'guichet-bench-'));
  try {
    const dir = join(root, 'bench', 'results');
    assert.not.ok(existsSync(dir));
    const chart = await writeResultFile(dir, 'throughput-latency.svg', '<svg/>');
    assert.is(chart, join(dir, 'throughput-latency.svg'));
    assert.is(readFileSync(chart, 'utf8'), '<svg/>');
    const json = await writeResults(join(dir, 'again'), 'latest.json', { rows: [] });
    assert.equal(JSON.parse(readFileSync(json, 'utf8')), { rows: [] });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
