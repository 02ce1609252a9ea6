import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import { createJsonLogger, jsonLine } from '../../src/gateway/log-json.js';

function capture(quiet = false) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { log: createJsonLogger({ quiet, stream }), lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('each line is one JSON object with level, time and msg; quotes and newlines are escaped, not split', () => {
  const { log, lines } = capture();
  log.info('conn 01X "quoted"\nsecond line');
  log.warn('careful');
  log.error('broken');
  const got = lines();
  assert.equal(got.map((l) => [l['level'], l['msg']]), [['info', 'conn 01X "quoted"\nsecond line'], ['warn', 'careful'], ['error', 'broken']]);
  for (const l of got) assert.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(String(l['time'])));
});

test("a command's line has its fields at the top level, after level and time", () => {
  const { log, lines } = capture();
  log.command!({ connection: 'c1', peer: '127.0.0.1:5000', verb: 'HOLD', result: 'SEAT_TAKEN', durationMs: 0.25, request: 'HOLD x 1', reply: 'ERR SEAT_TAKEN "1"' });
  const [line] = lines();
  assert.equal(Object.keys(line!), ['level', 'time', 'connection', 'peer', 'verb', 'result', 'durationMs', 'request', 'reply']);
  assert.is(line!['reply'], 'ERR SEAT_TAKEN "1"');
});

test('quiet: only warnings and errors', () => {
  const { log, lines } = capture(true);
  log.info('hidden');
  log.command!({ connection: 'c', peer: 'p', verb: 'PING', result: 'OK', durationMs: 1, request: 'PING', reply: 'OK {}' });
  log.warn('shown');
  assert.equal(lines().map((l) => l['msg']), ['shown']);
  assert.ok(log.quiet, 'and says so, so that the session does not make the lines it would drop');
  assert.not.ok(capture(false).log.quiet);
  assert.equal(JSON.parse(jsonLine('stopped')).msg, 'stopped');
});

test.run();
