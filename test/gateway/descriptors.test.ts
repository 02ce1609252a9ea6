/** The descriptor limit, read from /proc/self/limits, and the connection ceiling it leaves. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connectionCeiling, descriptorReserve, readDescriptorLimit } from '../../src/gateway/descriptors.js';

const Limit = suite('descriptor limit');

const PROC = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            256                  4096                 files
Max locked memory         8388608              8388608              bytes
`;

Limit('reads the soft and hard limits of open files; "unlimited" is infinite; no such line: undefined', () => {
  assert.equal(readDescriptorLimit(PROC), { soft: 256, hard: 4096 });
  assert.equal(readDescriptorLimit(PROC.replace('256  ', 'unlimited')), { soft: Infinity, hard: 4096 });
  assert.is(readDescriptorLimit('nothing here'), undefined);
});

Limit("this process's own limit is read (Linux)", () => {
  const own = readDescriptorLimit();
  assert.ok(own && own.soft > 0 && own.hard >= own.soft, JSON.stringify(own));
});

Limit('the reserve: 5 % of the limit, at least 64, at most 1,024', () => {
  assert.is(descriptorReserve(256), 64);
  assert.is(descriptorReserve(20_000), 1_000);
  assert.is(descriptorReserve(1_048_576), 1_024);
});

Limit('--max-connections stays when it fits; else it is lowered, the log line saying why and what to do', () => {
  assert.equal(connectionCeiling(100, { soft: 256, hard: 256 }), { max: 100 });
  assert.equal(connectionCeiling(20_000, undefined), { max: 20_000 });
  const lowered = connectionCeiling(20_000, { soft: 20_000, hard: 20_000 });
  assert.is(lowered.max, 19_000, 'the issue: 20,000 connections allowed with 20,000 descriptors');
  assert.match(lowered.lowered!, /--max-connections 20000 lowered to 19000: this process may open 20000 descriptors/);
  assert.match(lowered.lowered!, /Node raises its soft limit to the hard one by itself and cannot go further/);
  assert.match(lowered.lowered!, /ulimit -n 21024/);
  assert.is(connectionCeiling(20_000, { soft: 256, hard: 256 }).max, 192);
});

Limit('the default lowered (not given by the operator): the same ceiling, worded as information, not as a fault', () => {
  const lowered = connectionCeiling(20_000, { soft: 20_000, hard: 20_000 }, false);
  assert.is(lowered.max, 19_000);
  assert.is(
    lowered.lowered,
    'at most 19000 connections at once (the default is 20000): this process may open 20000 descriptors ' +
      '(RLIMIT_NOFILE, soft 20000, hard 20000) and keeps 1000 for NATS, files and refusals. ' +
      'To allow more, raise the hard limit before starting (ulimit -n 21024, or LimitNOFILE= in a systemd unit)',
  );
  assert.equal(connectionCeiling(100, { soft: 256, hard: 256 }, false), { max: 100 }, 'nothing to say when it fits');
});

Limit.run();
