/** Counts said in words: "1 concert", "2 concerts" (the server said "1 concerts"). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { plural } from '../src/plural.js';
import { describeStartup } from '../src/guichet.js';

test('singular for exactly one, plural otherwise', () => {
  assert.equal([0, 1, 2].map((n) => plural(n, 'concert')), ['0 concerts', '1 concert', '2 concerts']);
  assert.is(plural(1_000, 'event', 'events', (n) => n.toLocaleString('en-US')), '1,000 events');
});

test('the start-up line counts one concert and one event in the singular', () => {
  const startup = { ms: 12, fromSeq: 1, untilSeq: 1, events: 1, snapshots: { used: 1 } } as Parameters<typeof describeStartup>[0];
  assert.is(describeStartup(startup, 1), '1 of 1 concert from its snapshot, then replayed 1 event (sequences 1 to 1) in 12 ms');
});

test.run();
