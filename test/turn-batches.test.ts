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

test.run();
