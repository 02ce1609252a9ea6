import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WatchedConcerts, WatcherIndex } from '../../src/gateway/watchers.js';

const Index = suite('watchers: each connection\'s concerts and each concert\'s connections, in step');

const list = (index: WatcherIndex<string>, concert: string) => [...(index.watchersOf(concert) ?? [])].sort();

Index('given two connections, when they watch, then each concert lists its watchers', () => {
  const index = new WatcherIndex<string>();
  const a = new WatchedConcerts(index, 'a');
  const b = new WatchedConcerts(index, 'b');
  a.add('jazz').add('rock');
  b.add('jazz');
  b.add('jazz'); // twice: still once
  assert.equal(list(index, 'jazz'), ['a', 'b']);
  assert.equal(list(index, 'rock'), ['a']);
  assert.is(index.watchersOf('opera'), undefined);
  assert.equal([...a].sort(), ['jazz', 'rock']);
});

Index('when one unwatches a concert, or all, then only it leaves those concerts', () => {
  const index = new WatcherIndex<string>();
  const a = new WatchedConcerts(index, 'a');
  const b = new WatchedConcerts(index, 'b');
  a.add('jazz').add('rock');
  b.add('jazz');
  assert.is(a.delete('rock'), true);
  assert.is(a.delete('rock'), false);
  assert.is(index.watchersOf('rock'), undefined, 'an empty concert is forgotten');
  a.clear();
  assert.equal(list(index, 'jazz'), ['b']);
  assert.is(a.size, 0);
});

Index('when a watcher leaves while the fan-out iterates a concert, then the others are still visited', () => {
  const index = new WatcherIndex<string>();
  const sets = ['a', 'b', 'c'].map((w) => new WatchedConcerts(index, w));
  for (const s of sets) s.add('jazz');
  const visited: string[] = [];
  for (const watcher of index.watchersOf('jazz')!) {
    visited.push(watcher);
    if (watcher === 'a') sets[0]!.clear(); // dropped as a slow consumer mid-fan-out
  }
  assert.equal(visited, ['a', 'b', 'c']);
  assert.equal(list(index, 'jazz'), ['b', 'c']);
});

Index.run();
