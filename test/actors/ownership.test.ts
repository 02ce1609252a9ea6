/**
 * Placement and the moves of concert ownership, as pure functions: given what a gateway sees
 * (live gateways, owners, its own leases), which leases it takes and which it hands over.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { preferredOwner } from '../../src/actors/placement.js';
import { planMoves, type OwnershipView } from '../../src/actors/ownership.js';

const CONCERTS = Array.from({ length: 200 }, (_, i) => `concert-${i}`);

const Placement = suite('placement: rendezvous hashing');

Placement('no gateway, no owner; one gateway owns everything', () => {
  assert.is(preferredOwner('c1', []), undefined);
  assert.ok(CONCERTS.every((c) => preferredOwner(c, ['gw-a']) === 'gw-a'));
});

Placement('the same answer whatever the order the gateways are listed in', () => {
  for (const c of CONCERTS) assert.is(preferredOwner(c, ['gw-a', 'gw-b', 'gw-c']), preferredOwner(c, ['gw-c', 'gw-a', 'gw-b']));
});

Placement('concerts spread over the gateways (each of three gets between 20 % and 47 % of 200)', () => {
  const counts = new Map<string, number>();
  for (const c of CONCERTS) {
    const owner = preferredOwner(c, ['gw-a', 'gw-b', 'gw-c'])!;
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  for (const g of ['gw-a', 'gw-b', 'gw-c']) {
    const n = counts.get(g) ?? 0;
    assert.ok(n >= 40 && n <= 94, `${g} owns ${n}`);
  }
});

Placement('a gateway that joins takes concerts only from the others, and one that leaves moves only its own', () => {
  const before = new Map(CONCERTS.map((c) => [c, preferredOwner(c, ['gw-a', 'gw-b'])]));
  const joined = new Map(CONCERTS.map((c) => [c, preferredOwner(c, ['gw-a', 'gw-b', 'gw-c'])]));
  for (const c of CONCERTS) if (joined.get(c) !== before.get(c)) assert.is(joined.get(c), 'gw-c', `${c} moved to the newcomer only`);
  const left = new Map(CONCERTS.map((c) => [c, preferredOwner(c, ['gw-a', 'gw-c'])]));
  for (const c of CONCERTS) if (joined.get(c) !== 'gw-b') assert.is(left.get(c), joined.get(c), `${c} stayed where it was`);
});

const Moves = suite('ownership moves: given a view, when planning, then take and hand over');

function view(partial: Partial<OwnershipView>): OwnershipView {
  return { self: 'gw-a', live: new Set(['gw-a']), owners: new Map(), mine: new Set(), freeSince: new Map(), now: 10_000, graceMs: 3_000, ...partial };
}

const TWO = ['gw-a', 'gw-b'];
const ofA = CONCERTS.filter((c) => preferredOwner(c, TWO) === 'gw-a').slice(0, 3);
const ofB = CONCERTS.filter((c) => preferredOwner(c, TWO) === 'gw-b').slice(0, 3);

Moves('alone, a gateway takes every free concert', () => {
  assert.equal(planMoves(CONCERTS.slice(0, 5), view({})), { take: CONCERTS.slice(0, 5), release: [] });
});

Moves('it takes the free concerts placed on it, and leaves those placed on a live other to it', () => {
  const plan = planMoves([...ofA, ...ofB], view({ live: new Set(TWO), freeSince: new Map([...ofA, ...ofB].map((c) => [c, 9_000])) }));
  assert.equal(plan, { take: ofA, release: [] });
});

Moves('a free concert its preferred owner has not taken within the grace is taken by another', () => {
  const plan = planMoves(ofB, view({ live: new Set(TWO), freeSince: new Map(ofB.map((c) => [c, 7_000])) }));
  assert.equal(plan, { take: ofB, release: [] });
});

Moves('an owned concert is not taken, whoever owns it', () => {
  const owners = new Map([...ofA.map((c) => [c, 'gw-b'] as const), ...ofB.map((c) => [c, 'gw-b'] as const)]);
  assert.equal(planMoves([...ofA, ...ofB], view({ live: new Set(TWO), owners })), { take: [], release: [] });
});

Moves('a gateway hands over the concerts it owns that are placed on a newcomer, and keeps its own', () => {
  const mine = new Set([...ofA, ...ofB]);
  const owners = new Map([...mine].map((c) => [c, 'gw-a']));
  assert.equal(planMoves([...ofA, ...ofB], view({ live: new Set(TWO), owners, mine })), { take: [], release: ofB });
});

Moves('while it does not see itself live, it still plans as one of the live gateways', () => {
  const plan = planMoves(ofA, view({ live: new Set(['gw-b']), freeSince: new Map(ofA.map((c) => [c, 9_999])) }));
  assert.equal(plan, { take: ofA, release: [] });
});

Placement.run();
Moves.run();
