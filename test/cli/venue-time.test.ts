/**
 * Concert dates are the venue's local time, read from the catalog date's own offset: the
 * same words on every machine, whatever its TZ (checked by running the compiled formatter
 * and the concert list in child processes under several TZ values).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatVenueTime } from '../../src/cli/venue-time.js';

const RENDER = fileURLToPath(new URL('../../src/cli/render.js', import.meta.url));

test('the venue wall clock and its offset, from the string itself', () => {
  assert.is(formatVenueTime('2027-02-12T20:30:00+01:00'), 'Fri 12 Feb 2027, 20:30 (UTC+01:00)');
  assert.is(formatVenueTime('2027-04-17T21:00:00+02:00'), 'Sat 17 Apr 2027, 21:00 (UTC+02:00)');
  assert.is(formatVenueTime('2027-01-01T20:00:00Z'), 'Fri 1 Jan 2027, 20:00 (UTC)');
  // Late at night west of UTC: still that evening, not the next day.
  assert.is(formatVenueTime('2027-07-04T23:45:00.000-07:00'), 'Sun 4 Jul 2027, 23:45 (UTC-07:00)');
  assert.is(formatVenueTime('2027-03-06T20:00+05:30'), 'Sat 6 Mar 2027, 20:00 (UTC+05:30)');
});

test('something that is not an ISO time with a zone is shown as given', () => {
  assert.is(formatVenueTime('next Friday'), 'next Friday');
});

test('the concert list says the same under every TZ of the viewer', () => {
  const script = `
    const { renderConcerts } = await import(${JSON.stringify(RENDER)});
    process.stdout.write(renderConcerts([{ id: 'jazz', title: 'Jazz', venue: 'Aix', date: '2027-02-12T20:30:00+01:00', capacity: 100, free: 100, held: 0, booked: 0 }]));`;
  const seen = new Set<string>();
  for (const tz of ['UTC', 'Asia/Tokyo', 'America/Los_Angeles', 'Europe/Paris', 'Pacific/Kiritimati']) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TZ: tz }, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /Aix · Fri 12 Feb 2027, 20:30 \(UTC\+01:00\)/, `TZ=${tz}: ${r.stdout}`);
    seen.add(r.stdout);
  }
  assert.is(seen.size, 1);
});

test.run();
