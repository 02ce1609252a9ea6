/** The pure checks of the log's settings and continuity: given a stream's info, what is wrong. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { StreamConfig, StreamInfo } from '@nats-io/jetstream';
import { continuityProblem, markOf } from '../../src/events/continuity.js';
import { streamProblems, ticketsStreamConfig } from '../../src/events/store.js';

const CREATED = '2026-12-01T08:00:00.123456789Z';

function info(state: { first_seq: number; last_seq: number; messages?: number }, created = CREATED): StreamInfo {
  return { created, config: ticketsStreamConfig(1), state: { messages: state.last_seq - state.first_seq + 1, ...state } } as unknown as StreamInfo;
}

test('the stream as created has nothing wrong', () => {
  assert.equal(streamProblems(ticketsStreamConfig(1) as StreamConfig), []);
});

test('every setting that could drop or change events is named', () => {
  const config = { ...ticketsStreamConfig(1), max_msgs: 5, max_age: 10, deny_purge: false, allow_msg_ttl: true, sealed: true } as StreamConfig;
  const problems = streamProblems(config).join('; ');
  for (const name of ['max_msgs 5', 'max_age 10', 'deny_purge off', 'allow_msg_ttl on', 'sealed']) assert.ok(problems.includes(name), `${name} in ${problems}`);
  // -1 and 0 are "no limit"
  assert.equal(streamProblems({ ...ticketsStreamConfig(1), max_msgs: -1, max_bytes: 0 } as StreamConfig), []);
});

test('a log that grew since the mark is fine', () => {
  const mark = markOf(info({ first_seq: 1, last_seq: 40 }));
  assert.is(continuityProblem(mark, info({ first_seq: 1, last_seq: 41 })), undefined);
  assert.is(continuityProblem(mark, info({ first_seq: 1, last_seq: 40 })), undefined);
});

test('a log that ends before the mark: both figures', () => {
  const mark = markOf(info({ first_seq: 1, last_seq: 40 }), 55);
  assert.is(mark.lastSeq, 55, 'the mark keeps the highest sequence seen');
  assert.match(continuityProblem(mark, info({ first_seq: 1, last_seq: 30 }))!, /ends at sequence 30, but the gateways saw it reach sequence 55/);
});

test('a stream made again, even refilled past the old end', () => {
  const mark = markOf(info({ first_seq: 1, last_seq: 40 }));
  const problem = continuityProblem(mark, info({ first_seq: 1, last_seq: 90 }, '2026-12-01T09:00:00Z'));
  assert.match(problem!, /deleted and made again, now ending at sequence 90/);
  assert.match(problem!, /through sequence 40/);
});

test('a stream made again before any event was seen loses nothing', () => {
  const mark = markOf(info({ first_seq: 0, last_seq: 0, messages: 0 }));
  assert.is(continuityProblem(mark, info({ first_seq: 0, last_seq: 0, messages: 0 }, '2026-12-01T09:00:00Z')), undefined);
});

test('a log whose first events were removed', () => {
  const mark = markOf(info({ first_seq: 1, last_seq: 40 }));
  assert.match(continuityProblem(mark, info({ first_seq: 39, last_seq: 40 }))!, /now starts at sequence 39, but started at 1/);
});

test.run();
