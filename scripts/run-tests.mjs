#!/usr/bin/env node
// Runs the uvu test files compiled under dist/, each in its own process, one after another,
// and ends with the plain closing line "N passed, N failed, N skipped" that CI reads.
//
// One process per file: uvu stops the whole run at the first suite whose hook throws
// ("Exiting early before testing is finished"), which would hide every later file's result;
// a file that leaves a socket or a timer open would also hold the run for ever. Here each
// file is reported on its own and the run goes on.
//
// Each file runs in a process group of its own, and a file that is ended (it ran too long, or
// hung after its summary) is ended with everything it started: its nats-servers and gateway
// processes are killed with it, not left running (a SIGKILLed file runs no exit handler).
//
// Usage: run-tests.mjs <dir under test/, or one test file> [--ignore <regex>] [--filter <regex>]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';

const args = process.argv.slice(2);
const dir = args[0] && !args[0].startsWith('--') ? args.shift() : 'test';
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? new RegExp(args[i + 1]) : undefined;
};
const ignore = option('--ignore');
const filter = option('--filter');
// One file (test/x/y.test.ts, or its .js): its folder is the root and it is the only file.
const single = /\.test\.[jt]s$/.test(dir) ? join('dist', dir.replace(/\.ts$/, '.js')) : undefined;
const root = single ? dirname(single) : join('dist', dir);

/** Time a file may take after it printed its summary before it is ended (something left open). */
const EXIT_GRACE_MS = 15_000;
/**
 * The longest one file may run (GUICHET_TEST_FILE_TIMEOUT, seconds): a suite that hangs before
 * its summary (a test waiting on something that never comes) is ended and counted as failed,
 * rather than holding the whole run until CI's limit. The slowest file takes about 2 minutes.
 */
const FILE_TIMEOUT_MS = Number(process.env.GUICHET_TEST_FILE_TIMEOUT ?? 480) * 1000;

const files = (single ? walk(single) : walk(root))
  .filter((f) => f.endsWith('.test.js'))
  .map((f) => relative(root, f))
  .filter((f) => !ignore?.test(f) && (!filter || filter.test(f)))
  .sort();

if (files.length === 0) {
  console.error(`no test files under ${root} (did the build run?)`);
  process.exit(1);
}

/** The file running now: a runner stopped by a signal stops it and what it started. */
let current;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (current) killGroup(current, 'SIGKILL');
    process.exit(1);
  });
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const broken = [];
const started = Date.now();
for (const file of files) {
  const result = await runFile(join(root, file));
  totals.passed += result.passed;
  totals.failed += result.failed;
  totals.skipped += result.skipped;
  if (result.failed > 0) broken.push(`${file}${result.reason ? ` (${result.reason})` : ''}`);
}

console.log(`\n${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (broken.length > 0) console.log(`failing: ${broken.join(', ')}`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);

function walk(path) {
  let entries;
  try {
    if (statSync(path).isFile()) return [path];
    entries = readdirSync(path);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const full = join(path, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

/** Signals a file's whole process group (its pid is the group's id: it is spawned detached). */
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: nothing of the group is left.
  }
}

/** Runs one file; its counts come from uvu's summary ("Total: 12 / Passed: 11 / Skipped: 0"). */
function runFile(path) {
  return new Promise((resolve) => {
    // detached: a group of its own, so that ending it ends what it started too.
    const child = spawn(process.execPath, [path], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    current = child;
    let tail = '';
    let hung = false;
    let graceTimer;
    let timedOut = false;
    const fileTimer = setTimeout(() => {
      timedOut = true;
      console.error(`\n${path} ran longer than ${FILE_TIMEOUT_MS / 1000} s: ending it and the processes it started (GUICHET_TEST_FILE_TIMEOUT)`);
      killGroup(child, 'SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
      if (!graceTimer && /Duration:/.test(tail)) {
        graceTimer = setTimeout(() => {
          hung = true;
          console.error(`\n${path} did not exit ${EXIT_GRACE_MS / 1000} s after its summary (a suite left something open): ending it and the processes it started`);
          killGroup(child, 'SIGKILL');
        }, EXIT_GRACE_MS);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(graceTimer);
      clearTimeout(fileTimer);
      current = undefined;
      // A file's exit handler kills the servers it started (test/support/children.ts); whatever
      // it could not (it crashed past it, a grandchild it did not track) goes now.
      killGroup(child, 'SIGKILL');
      const plain = tail.replace(/\x1b\[[0-9;]*m/g, '');
      const summary = /Total:\s+(\d+)[\s\S]*?Passed:\s+(\d+)[\s\S]*?Skipped:\s+(\d+)/.exec(plain);
      const total = Number(summary?.[1] ?? 0);
      const passed = Number(summary?.[2] ?? 0);
      const skipped = Number(summary?.[3] ?? 0);
      let failed = Math.max(0, total - passed - skipped);
      let reason = '';
      if (timedOut) reason = `ran longer than ${FILE_TIMEOUT_MS / 1000} s`;
      else if (!summary) reason = `stopped before its summary: ${signal ?? `exit ${code}`}`;
      else if (hung) reason = 'left something open';
      else if (code !== 0 && failed === 0) reason = `exit ${code}`;
      // A file that crashed, hung or exited non-zero with every test passed still counts as one failure.
      if (reason && failed === 0) failed = 1;
      resolve({ passed, failed, skipped, reason });
    });
  });
}
