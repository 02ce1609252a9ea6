/**
 * The benchmarks still run: `npm run bench` is not part of the tests (its figures are not
 * assertions), so a change elsewhere can break it unseen — the authentication of the trust
 * boundary once did, when the ceiling scripts still connected with the gateway's rights.
 * This runs the quick form of the benchmarks that start helper scripts against NATS with each
 * role (hot: the append ceilings, admin; cold start: the raw replay, reader; actor) and checks
 * that each printed its figures; the figures themselves are not judged.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;

test('npm run bench -- hot coldstart actor --quick runs to the end and reports every benchmark', async () => {
  const results = mkdtempSync(join(tmpdir(), 'guichet-bench-smoke-'));
  try {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'run.js'), 'hot', 'coldstart', 'actor', '--quick'], {
      env: { ...process.env, GUICHET_BENCH_RESULTS: results },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-6000)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.is(code, 0, stderr);
    assert.not.match(stderr, /FAILED/, stderr);
    const { rows } = JSON.parse(readFileSync(join(results, 'latest.json'), 'utf8')) as { rows: Array<{ benchmark: string; value: number }> };
    for (const benchmark of ['hot', 'cold start', 'actor']) {
      const mine = rows.filter((r) => r.benchmark === benchmark);
      assert.ok(mine.length > 0, `no figures from ${benchmark}: ${stderr}`);
      assert.ok(mine.every((r) => Number.isFinite(r.value)), `${benchmark} printed a figure that is not a number`);
    }
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
});

test.run();
