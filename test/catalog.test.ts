/** The catalog of concerts on sale: what parseCatalog accepts, fills in and refuses. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { catalogDifferences, parseCatalog, DEMO_CATALOG, MAX_CAPACITY, type Concert } from '../src/catalog.js';

const jazz: Concert = { id: 'jazz', title: 'Nocturne', venue: 'Le Petit Duc', date: '2027-02-12T20:30:00+01:00', capacity: 50 };
const rock: Concert = { id: 'rock_2', title: 'Garagistes', venue: 'La Cigale', date: '2027-04-17T21:00:00+02:00', capacity: 1 };

/** The message parseCatalog refuses `raw` with, or 'accepted'. */
function refusal(raw: unknown): string {
  try {
    parseCatalog(raw);
    return 'accepted';
  } catch (err) {
    return (err as Error).message;
  }
}

const NOT_A_CATALOG = 'a catalog is a non-empty JSON array of concerts, or {"concerts": [...]}';

// ================================================================== accepts

const Accepts = suite('parseCatalog accepts');

Accepts('a JSON array of concerts', () => {
  assert.equal(parseCatalog([jazz, rock]), [jazz, rock]);
});

Accepts('an object with a concerts array', () => {
  assert.equal(parseCatalog({ concerts: [jazz, rock] }), [jazz, rock]);
});

Accepts('the demo catalog', () => {
  assert.equal(parseCatalog(DEMO_CATALOG), [...DEMO_CATALOG]);
});

Accepts('a concert with only an id and a title, filling in the defaults', () => {
  assert.equal(parseCatalog([{ id: 'solo', title: 'Solo' }]), [{ id: 'solo', title: 'Solo', venue: '', date: '', capacity: 100 }]);
});

Accepts('capacity from 1 to MAX_CAPACITY', () => {
  assert.equal(
    parseCatalog([{ id: 'a', title: 'A', capacity: 1 }, { id: 'b', title: 'B', capacity: MAX_CAPACITY }]).map((c) => c.capacity),
    [1, MAX_CAPACITY],
  );
});

Accepts('an ISO-8601 date with any zone, or an empty one', () => {
  const dates = ['2027-02-12T20:30:00+01:00', '2027-02-12T19:30:00Z', '2027-02-12T20:30+01:00', '2027-02-12T14:30:00.000-05:00', ''];
  assert.equal(parseCatalog(dates.map((date, i) => ({ ...jazz, id: `c${i}`, date }))).map((c) => c.date), dates);
});

Accepts('keeps only the known fields', () => {
  assert.equal(parseCatalog([{ ...jazz, price: 30 }]), [jazz]);
});

Accepts.run();

// ================================================================== rejects

const Rejects = suite('parseCatalog rejects');

Rejects('what is not a non-empty list of concerts', () => {
  const bad = [null, undefined, 42, 'jazz', {}, { concerts: {} }, [], { concerts: [] }];
  assert.equal(bad.map(refusal), bad.map(() => NOT_A_CATALOG));
});

Rejects('an entry that is not an object', () => {
  assert.equal(refusal([jazz, null]), 'concert #2 is not an object');
  assert.equal(refusal(['jazz']), 'concert #1 is not an object');
});

Rejects('a missing or invalid id', () => {
  const message = "concert #1: id must be 1-64 letters, digits, '-' or '_'";
  const bad = [{}, { id: '' }, { id: 7 }, { id: 'a.b' }, { id: 'a b' }, { id: 'x'.repeat(65) }];
  assert.equal(bad.map((c) => refusal([c])), bad.map(() => message));
});

Rejects('an id that appears twice', () => {
  assert.equal(refusal([jazz, rock, { ...jazz, title: 'again' }]), 'concert #3: id jazz appears twice');
});

Rejects('a capacity that is not an integer from 1 to MAX_CAPACITY', () => {
  const message = `concert #1 (jazz): capacity must be an integer from 1 to ${MAX_CAPACITY}`;
  const bad = [0, -5, 2.5, MAX_CAPACITY + 1, '50', Number.NaN];
  assert.equal(bad.map((capacity) => refusal([{ ...jazz, capacity }])), bad.map(() => message));
});

const BAD_DATE = 'concert #1 (jazz): date must be an ISO-8601 string such as 2027-02-12T20:30:00+01:00';

Rejects('a date that is not a time', () => {
  assert.equal(refusal([{ ...jazz, date: 'next friday' }]), BAD_DATE);
});

Rejects('a date that is not a string', () => {
  const bad = [0, 2027, 1801942200000, true, {}, ['2027-02-12T20:30:00+01:00']];
  assert.equal(bad.map((date) => refusal([{ ...jazz, date }])), bad.map(() => BAD_DATE));
});

Rejects('a date string that is not ISO-8601 with a zone', () => {
  const bad = ['2027', '2027-02-12', '2027-02-12T20:30:00', '2027-02-12 20:30:00+01:00', 'Feb 12 2027 20:30', '12/02/2027', '1'];
  assert.equal(bad.map((date) => refusal([{ ...jazz, date }])), bad.map(() => BAD_DATE));
});

Rejects('a concert without a title, or with an empty one', () => {
  assert.equal(refusal([{ id: 'x' }]), 'concert #1 (x): title is missing (what the concert is called)');
  assert.equal(refusal([{ ...jazz, title: '  ' }]), 'concert #1 (jazz): title is empty');
});

Rejects('a title or venue that is not a string', () => {
  assert.equal(refusal([{ ...jazz, title: 42 }]), 'concert #1 (jazz): title must be a string');
  assert.equal(refusal([{ ...jazz, title: null }]), 'concert #1 (jazz): title must be a string');
  assert.equal(refusal([{ ...jazz, venue: ['Le Petit Duc'] }]), 'concert #1 (jazz): venue must be a string');
  assert.equal(refusal([{ ...jazz, venue: { name: 'Le Petit Duc' } }]), 'concert #1 (jazz): venue must be a string');
});

Rejects('names the concert at fault further down the list', () => {
  assert.equal(refusal([jazz, { ...rock, date: 2027 }]), 'concert #2 (rock_2): date must be an ISO-8601 string such as 2027-02-12T20:30:00+01:00');
});

Rejects.run();

const Differences = suite('catalogDifferences');

Differences('given the same concerts in another order, then there is no difference', () => {
  assert.equal(catalogDifferences([jazz, rock], [rock, { ...jazz }]), []);
});

Differences('given concerts on one side only, then each side is named', () => {
  assert.equal(catalogDifferences([jazz], [rock]), ['only here: jazz', 'only there: rock_2']);
});

Differences('given a concert whose capacity or details differ, then each field is named with both values', () => {
  assert.equal(catalogDifferences([jazz, rock], [{ ...jazz, capacity: 60, title: 'Nocturnes' }, rock]), [
    'jazz: capacity 50 here, 60 there, title "Nocturne" here, "Nocturnes" there',
  ]);
});

Differences.run();
