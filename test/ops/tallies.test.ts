import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../src/ops/tallies.js';
import { parseMetrics, sample } from '../support/scrape.js';
import { Metrics } from '../../src/ops/metrics.js';
import type { BatchPolicy } from '../../src/actors/batching.js';

test('a counter child counts, and is written with its labels in their order', async () => {
  const r = new Registry();
  const c = new FastCounter(r, 'x_total', 'help', ['verb', 'result']);
  const ok = c.child('HOLD', 'OK');
  ok.inc();
  ok.inc();
  c.child('HOLD', 'SEAT_TAKEN').inc();
  assert.is(c.child('HOLD', 'OK'), ok, 'the same child again');
  const s = parseMetrics(await r.metrics());
  assert.is(sample(s, 'x_total', { verb: 'HOLD', result: 'OK' }), 2);
  assert.is(sample(s, 'x_total', { verb: 'HOLD', result: 'SEAT_TAKEN' }), 1);
  assert.match(await r.metrics(), /# TYPE x_total counter/);
});

test('a histogram: cumulative buckets, +Inf, sum and count; a value on a bound falls in that bucket', async () => {
  const r = new Registry();
  const h = new FastHistogram(r, 'd_seconds', 'help', ['kind'], [0.1, 1, 10]).child('plain');
  for (const v of [0.05, 0.1, 0.5, 3, 99]) h.observe(v);
  const s = parseMetrics(await r.metrics());
  const b = (le: string) => sample(s, 'd_seconds_bucket', { kind: 'plain', le });
  assert.equal([b('0.1'), b('1'), b('10'), b('+Inf')], [2, 3, 4, 5]);
  assert.is(sample(s, 'd_seconds_count', { kind: 'plain' }), 5);
  assert.ok(Math.abs(sample(s, 'd_seconds_sum', { kind: 'plain' }) - 102.65) < 1e-9);
  assert.match(await r.metrics(), /# TYPE d_seconds histogram/);
});

test('the timed batch policy hands the policy it wraps every figure of an append, the crowd it met included', async () => {
  const seen: Array<[number, number, number | undefined]> = [];
  const inner: BatchPolicy = { groupSize: (w, others) => w + (others ?? 0), observe: (events, ms, others) => void seen.push([events, ms, others]) };
  const timed = new Metrics().batching(inner);
  timed.observe(3, 2.5, 17);
  timed.observe(1, 0.4);
  assert.equal(seen, [[3, 2.5, 17], [1, 0.4, undefined]]);
  assert.is(timed.groupSize(9, 4), 13);
});

test.run();
