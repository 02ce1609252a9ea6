#!/usr/bin/env node
// Runs the uvu suites compiled under dist/ and ends with the plain closing line
// "N passed, N failed" (and skipped) that CI reads.
// Usage: run-tests.mjs <dir under test/> [--ignore <regex>]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// uvu's package exports do not list its bin; it is at a fixed place in node_modules.
const uvu = fileURLToPath(new URL('../node_modules/uvu/bin.js', import.meta.url));
const [dir = 'test', ...rest] = process.argv.slice(2);

const child = spawn(process.execPath, [uvu, `dist/${dir}`, '\\.test\\.js$', ...rest], { stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
let summaryTimer;
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
  // uvu prints its summary when every suite has run; a suite that left a socket or a timer
  // behind would then keep the process alive for ever. Give it 15 s to exit, then end it.
  if (!summaryTimer && /Duration:/.test(tail)) {
    summaryTimer = setTimeout(() => {
      console.error('\nthe test process did not exit 15 s after its summary (a suite left something open): ending it');
      hungAfterSummary = true;
      child.kill('SIGKILL');
    }, 15_000);
    summaryTimer.unref();
  }
});
let hungAfterSummary = false;
child.on('exit', (code, signal) => {
  // uvu's summary: "  Total:     12\n  Passed:    11\n  Skipped:   0"
  const plain = tail.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const failed = Math.max(0, total - passed - skipped) + (code === 0 ? 0 : total === 0 || hungAfterSummary ? 1 : 0);
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(hungAfterSummary ? 1 : (code ?? (signal ? 1 : 0)));
});
