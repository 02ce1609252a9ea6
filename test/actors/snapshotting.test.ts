/** What a concert's snapshot covers, from what the gateway has applied and been delivered. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { coveredThrough } from '../../src/actors/snapshotting.js';

const Covered = suite('coveredThrough');

Covered('given every event delivered to the concert applied, then it covers the log up to the follower position', () => {
  assert.is(coveredThrough(40, 40, 97), 97);
});

Covered('given a concert nothing was ever delivered to nor applied, then it covers the log up to the follower position', () => {
  assert.is(coveredThrough(0, 0, 12), 12);
});

Covered('given its own append applied beyond the follower position, then it covers up to that append', () => {
  assert.is(coveredThrough(50, 40, 45), 50);
});

Covered('given an event delivered but not yet applied, then it covers only up to the last applied', () => {
  assert.is(coveredThrough(40, 42, 97), 40);
});

Covered.run();
