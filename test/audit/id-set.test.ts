/** The audit's set of event ids: exact for ULIDs and for anything else, through growth. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { monotonicFactory, ulid } from 'ulid';
import { IdSet } from '../../src/audit/id-set.js';

const Ids = suite('IdSet');

Ids('says where an id was first seen, and nothing for a new one', () => {
  const ids = new IdSet();
  const a = ulid();
  assert.is(ids.add(a, 1), undefined);
  assert.is(ids.add(ulid(), 2), undefined);
  assert.is(ids.add(a, 3), 1);
  assert.is(ids.add(a, 4), 1);
  assert.is(ids.size, 2);
});

Ids('keeps every id through growth, including ids a character apart', () => {
  const ids = new IdSet();
  const next = monotonicFactory();
  const all: string[] = [];
  for (let i = 0; i < 50_000; i++) all.push(next(1_800_000_000_000));
  all.forEach((id, i) => assert.is(ids.add(id, i + 1), undefined, id));
  all.forEach((id, i) => assert.is(ids.add(id, 1e9), i + 1));
  assert.is(ids.size, 50_000);
});

Ids('takes ids that are not ULIDs as they are', () => {
  const ids = new IdSet();
  assert.is(ids.add('evt-1', 1), undefined);
  assert.is(ids.add('01jq8z6x4k3v9m2n7p5r8s0t1w', 2), undefined, 'lowercase is another string');
  assert.is(ids.add('01JQ8Z6X4K3V9M2N7P5R8S0T1W', 3), undefined);
  assert.is(ids.add('evt-1', 4), 1);
  assert.is(ids.add('01jq8z6x4k3v9m2n7p5r8s0t1w', 5), 2);
  assert.is(ids.add('01JQ8Z6X4K3V9M2N7P5R8S0T1W', 6), 3);
  assert.is(ids.add('01JQ8Z6X4K3V9M2N7P5R8S0T1X', 7), undefined);
});

Ids.run();
