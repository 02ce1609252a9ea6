/** FailureLimiter: a key that fails too often is slowed, then refused, then forgiven once the window passes. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FailureLimiter, CONNECTION_LIMIT, ADDRESS_LIMIT, type RateLimitOptions } from '../../src/gateway/rate-limit.js';

/** Slowed from the 2nd failure, 100 ms more per failure up to 250 ms, refused at the 5th; a 10 s window. */
const OPTIONS: RateLimitOptions = { maxFailures: 5, slowAfter: 2, windowMs: 10_000, delayStepMs: 100, maxDelayMs: 250 };

/** A limiter on a clock the test moves by hand. */
function limiter(options: RateLimitOptions = OPTIONS) {
  let now = 1_000_000;
  const limit = new FailureLimiter(options, () => now);
  return {
    limit,
    at(ms: number) {
      now = 1_000_000 + ms;
      return this;
    },
    fail(key: string, times = 1) {
      for (let i = 0; i < times; i++) limit.fail(key);
      return this;
    },
    check: (key: string) => limit.check(key),
  };
}

// ================================================================== allowed, slowed, refused

const Verdict = suite('FailureLimiter: verdicts');

Verdict('allows a key never seen, without delay', () => {
  assert.equal(limiter().check('conn-1'), { allowed: true, delayMs: 0 });
});

Verdict('allows without delay below slowAfter failures', () => {
  assert.equal(limiter().fail('conn-1').check('conn-1'), { allowed: true, delayMs: 0 });
});

Verdict('delays once slowAfter failures are reached, more with each failure, up to maxDelayMs', () => {
  const l = limiter();
  const delays: unknown[] = [];
  for (let failures = 0; failures < OPTIONS.maxFailures; failures++) {
    delays.push(l.check('conn-1'));
    l.fail('conn-1');
  }
  assert.equal(delays, [
    { allowed: true, delayMs: 0 },
    { allowed: true, delayMs: 0 },
    { allowed: true, delayMs: 100 },
    { allowed: true, delayMs: 200 },
    { allowed: true, delayMs: 250 },
  ]);
});

Verdict('caps the delay at maxDelayMs however many failures', () => {
  const options = { ...OPTIONS, maxFailures: 100 };
  const l = limiter(options).fail('conn-1', 99);
  assert.equal(l.check('conn-1'), { allowed: true, delayMs: 250 });
});

Verdict('refuses at maxFailures, saying when to retry', () => {
  const l = limiter().fail('conn-1', 5).at(3_000);
  assert.equal(l.check('conn-1'), { allowed: false, retryAfterMs: 7_000 });
});

Verdict('retryAfterMs counts from the oldest failure still in the window', () => {
  const l = limiter();
  for (const t of [0, 1_000, 2_000, 3_000, 4_000]) l.at(t).fail('conn-1');
  assert.equal(l.at(5_000).check('conn-1'), { allowed: false, retryAfterMs: 5_000 });
});

Verdict('keys are counted apart', () => {
  const l = limiter().fail('conn-1', 5).fail('conn-2', 2);
  assert.equal([l.check('conn-1'), l.check('conn-2'), l.check('conn-3')], [
    { allowed: false, retryAfterMs: 10_000 },
    { allowed: true, delayMs: 100 },
    { allowed: true, delayMs: 0 },
  ]);
});

Verdict('checking does not count as a failure', () => {
  const l = limiter();
  for (let i = 0; i < 20; i++) l.check('conn-1');
  assert.equal(l.check('conn-1'), { allowed: true, delayMs: 0 });
});

Verdict.run();

// ================================================================== the window

const Window = suite('FailureLimiter: the sliding window');

Window('still refuses a moment before the window ends', () => {
  assert.equal(limiter().fail('conn-1', 5).at(9_999).check('conn-1'), { allowed: false, retryAfterMs: 1 });
});

Window('allows again, without delay, once the window has passed', () => {
  assert.equal(limiter().fail('conn-1', 5).at(10_000).check('conn-1'), { allowed: true, delayMs: 0 });
});

Window('allows again as soon as retryAfterMs has passed', () => {
  const l = limiter();
  for (const t of [0, 1_000, 2_000, 3_000, 4_000]) l.at(t).fail('conn-1');
  const refusal = l.at(5_000).check('conn-1');
  assert.equal(refusal, { allowed: false, retryAfterMs: 5_000 });
  // One failure has left the window: four remain, so allowed but slowed.
  assert.equal(l.at(10_000).check('conn-1'), { allowed: true, delayMs: 250 });
});

Window('failures leave the window one by one', () => {
  const l = limiter();
  for (const t of [0, 2_000, 4_000]) l.at(t).fail('conn-1');
  assert.equal(
    [l.at(9_999).check('conn-1'), l.at(10_000).check('conn-1'), l.at(12_000).check('conn-1'), l.at(14_000).check('conn-1')],
    [
      { allowed: true, delayMs: 200 },
      { allowed: true, delayMs: 100 },
      { allowed: true, delayMs: 0 },
      { allowed: true, delayMs: 0 },
    ],
  );
});

Window('keeps no more than maxFailures failures per key', () => {
  const l = limiter().fail('conn-1', 1_000);
  assert.equal((l.limit as any).failures.get('conn-1').length, OPTIONS.maxFailures);
});

Window.run();

// ================================================================== sweep

const Sweep = suite('FailureLimiter: sweep');

Sweep('forgets keys with no failure left in the window', () => {
  const l = limiter();
  l.at(0).fail('old');
  l.at(5_000).fail('recent');
  l.at(12_000).limit.sweep();
  assert.equal({ size: l.limit.size, keys: [...(l.limit as any).failures.keys()] }, { size: 1, keys: ['recent'] });
});

Sweep('forgets every key once the window has passed', () => {
  const l = limiter();
  for (let i = 0; i < 1_000; i++) l.fail(`conn-${i}`);
  assert.equal(l.limit.size, 1_000);
  l.at(10_000).limit.sweep();
  assert.equal(l.limit.size, 0);
});

Sweep('keeps keys whose failures are still in the window', () => {
  const l = limiter().fail('a').fail('b', 3);
  l.at(9_999).limit.sweep();
  assert.equal(l.limit.size, 2);
});

Sweep('a key swept away starts again from nothing', () => {
  const l = limiter().fail('conn-1', 5);
  l.at(10_000).limit.sweep();
  assert.equal(l.fail('conn-1').check('conn-1'), { allowed: true, delayMs: 0 });
});

Sweep.run();

// ================================================================== the limits in use

const Limits = suite('FailureLimiter: the limits in use');

Limits('a connection: 3 failures slow it, 5 refuse it for up to a minute', () => {
  const l = limiter(CONNECTION_LIMIT);
  const verdicts: unknown[] = [];
  for (let i = 0; i < 6; i++) {
    verdicts.push(l.check('conn-1'));
    l.fail('conn-1');
  }
  assert.equal(verdicts, [
    { allowed: true, delayMs: 0 },
    { allowed: true, delayMs: 0 },
    { allowed: true, delayMs: 0 },
    { allowed: true, delayMs: 500 },
    { allowed: true, delayMs: 1_000 },
    { allowed: false, retryAfterMs: 60_000 },
  ]);
});

Limits('an address: 10 failures slow it, 20 refuse it', () => {
  const at = (failures: number) => limiter(ADDRESS_LIMIT).fail('10.0.0.1', failures).check('10.0.0.1');
  assert.equal([at(0), at(9), at(10), at(19), at(20)], [
    { allowed: true, delayMs: 0 },
    { allowed: true, delayMs: 0 },
    { allowed: true, delayMs: 250 },
    { allowed: true, delayMs: 2_000 },
    { allowed: false, retryAfterMs: 60_000 },
  ]);
});

Limits.run();
