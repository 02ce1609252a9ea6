import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GuichetError, toGuichetError } from '../src/errors.js';

const Errors = suite('GuichetError');

Errors('an expected answer carries its code and message, without the cost of a stack trace', () => {
  const err = new GuichetError('SEAT_TAKEN', 'seat 42 is held');
  assert.is(err.code, 'SEAT_TAKEN');
  assert.is(err.message, 'seat 42 is held');
  assert.instance(err, Error);
  assert.is(err.stack?.includes('    at '), false, 'no frames');
});

Errors('a fault (INTERNAL) keeps its stack, and the cause it wraps keeps its own', () => {
  const cause = new TypeError('x is undefined');
  const err = toGuichetError(cause);
  assert.is(err.code, 'INTERNAL');
  assert.is(err.cause, cause);
  assert.ok(err.stack?.includes('    at '), 'frames');
  assert.ok(cause.stack?.includes('    at '));
});

Errors('the stack trace limit is restored for every other error', () => {
  const before = Error.stackTraceLimit;
  new GuichetError('NOT_FOUND', 'no such booking');
  assert.is(Error.stackTraceLimit, before);
  assert.ok(new Error('plain').stack?.includes('    at '));
});

Errors.run();
