/**
 * scripts/run-tests.mjs ends a test file with everything it started: a file killed for running
 * too long runs no exit handler, so the nats-server it started would outlive it (and the run)
 * unless its whole process group goes. Real runner, real nats-servers, fixture files in a
 * temporary folder.
 */
import { suite } from './support/suite.js';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const RUNNER = fileURLToPath(new URL('../../scripts/run-tests.mjs', import.meta.url));

/** A test file that starts a nats-server, writes its pid to `pidFile`, then does `then`. */
function fixture(pidFile: string, then: string): string {
  return [
    "import { spawn } from 'node:child_process';",
    "import { writeFileSync } from 'node:fs';",
    "const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1'], { stdio: 'ignore' });",
    `writeFileSync(${JSON.stringify(pidFile)}, String(server.pid));`,
    then,
    '',
  ].join('\n');
}

/** Gone, or a zombie waiting for its new parent to reap it: dead either way. */
async function isDead(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat === undefined || / Z /.test(stat.slice(stat.lastIndexOf(')')));
}

async function deadWithin(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await isDead(pid))) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const Runner = suite<{ dir: string }>('test runner: a file it ends takes its processes with it');
Runner.before(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'guichet-runner-'));
});
Runner.after(async (ctx) => {
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

Runner('a file past its time limit, and one that exits leaving a server running: both servers are killed', async ({ dir }) => {
  const tests = join(dir, 'dist', 'fixture');
  await mkdir(tests, { recursive: true });
  const hungPid = join(dir, 'hung.pid');
  const leftPid = join(dir, 'left.pid');
  // Hangs before its summary, as a test waiting on something that never comes.
  await writeFile(join(tests, 'a-hangs.test.js'), fixture(hungPid, 'setInterval(() => undefined, 1_000);'));
  // Passes and exits, its server still running (nothing tracked it).
  await writeFile(join(tests, 'b-leaves.test.js'), fixture(leftPid, "console.log('Total: 1\\nPassed: 1\\nSkipped: 0\\nDuration: 1ms'); process.exit(0);"));
  const pids: number[] = [];
  try {
    const run = await exec(process.execPath, [RUNNER, 'fixture'], { cwd: dir, env: { ...process.env, GUICHET_TEST_FILE_TIMEOUT: '2' }, timeout: 30_000 }).then(
      (r) => ({ ...r, code: 0 }),
      (e: { stdout: string; stderr: string; code: number }) => e,
    );
    pids.push(Number(await readFile(hungPid, 'utf8')), Number(await readFile(leftPid, 'utf8')));
    assert.ok(await deadWithin(pids[0]!, 2_000), 'the nats-server of the file ended for its time is killed');
    assert.ok(await deadWithin(pids[1]!, 2_000), 'the nats-server a file left running is killed');
    assert.match(run.stderr, /a-hangs\.test\.js ran longer than 2 s: ending it and the processes it started/);
    assert.match(run.stdout, /failing: a-hangs\.test\.js \(ran longer than 2 s\)/);
    assert.match(run.stdout, /1 passed, 1 failed, 0 skipped/);
    assert.is(run.code, 1);
  } finally {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // dead already
      }
    }
  }
});

Runner('one file given by its source path runs alone', async ({ dir }) => {
  const tests = join(dir, 'dist', 'test', 'one');
  await mkdir(tests, { recursive: true });
  const summary = (n: number) => `console.log('Total: ${n}\\nPassed: ${n}\\nSkipped: 0\\nDuration: 1ms');\n`;
  await writeFile(join(tests, 'this.test.js'), summary(2));
  await writeFile(join(tests, 'other.test.js'), summary(5));
  const run = await exec(process.execPath, [RUNNER, 'test/one/this.test.ts'], { cwd: dir, timeout: 30_000 });
  assert.match(run.stdout, /1 files in/);
  assert.match(run.stdout, /2 passed, 0 failed, 0 skipped/);
});

Runner.run();
