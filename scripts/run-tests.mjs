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
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('exit', (code, signal) => {
  // uvu's summary: "  Total:     12\n  Passed:    11\n  Skipped:   0"
  const plain = tail.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const failed = Math.max(0, total - passed - skipped) + (code === 0 ? 0 : total === 0 ? 1 : 0);
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(code ?? (signal ? 1 : 0));
});
