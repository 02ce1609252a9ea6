import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TurnBatches } from '../src/turn-batches.js';

const turn = () => new Promise((r) => setImmediate(r));

test('the values of one turn are handed over once per key, at its end, keys in the order they came', async () => {
  const handed: Array<[string, number[]]> = [];
  const batches = new TurnBatches<string, number>((key, values) => void handed.push([key, values]));
  batches.add('b', 1);
  batches.add('a', 2);
  batches.add('b', 3);
  assert.ok(batches.has('a') && !batches.has('c'));
  assert.equal(handed, [], 'nothing before the turn ends');
  await turn();
  assert.equal(handed, [['b', [1, 3]], ['a', [2]]]);
  assert.not.ok(batches.has('a'));
  batches.add('a', 4);
  await turn();
  assert.equal(handed.at(-1), ['a', [4]], 'a later turn is a batch of its own');
});

test('flush hands over at once, and the turn\'s end then has nothing left to hand over', async () => {
  const handed: Array<[string, number[]]> = [];
  const batches = new TurnBatches<string, number>((key, values) => void handed.push([key, values]));
  batches.add('a', 1);
  batches.flush();
  assert.equal(handed, [['a', [1]]]);
  await turn();
  assert.equal(handed, [['a', [1]]]);
});

test('a key with its maximum of values waiting is handed over at once, the rest of the turn after', async () => {
  const handed: Array<[string, number[]]> = [];
  const batches = new TurnBatches<string, number>((key, values) => void handed.push([key, values]), 3);
  for (const n of [1, 2, 3, 4]) batches.add('a', n);
  batches.add('b', 9);
  assert.equal(handed, [['a', [1, 2, 3]]], 'the full batch does not wait for the turn to end');
  await turn();
  assert.equal(handed, [['a', [1, 2, 3]], ['a', [4]], ['b', [9]]], 'in order, per key');
});

test.run();
