/** The --address-limits file: which entries are accepted, what each wrong one is told, and which network an address key falls in. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressOverrides, checkAddressOverrides, readAddressOverrides } from '../../src/gateway/address-overrides.js';
import { addressKey } from '../../src/gateway/address.js';

const Check = suite('address overrides: the file');

function refusal(value: unknown): string {
  try {
    checkAddressOverrides(value);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(value)}`);
}

Check('IPv4 and IPv6 networks with some or all limits are accepted as given', () => {
  const list = [
    { cidr: '10.0.0.0/8', maxSeats: 512, maxConnections: 4096 },
    { cidr: '192.0.2.7/32', maxWatchers: 200 },
    { cidr: '2001:db8:1::/48', maxSeats: 64 },
    { cidr: '2001:db8:2:3::/64', maxConnections: 1000 },
  ];
  assert.equal(checkAddressOverrides(list), list);
  assert.equal(checkAddressOverrides([]), []);
});

Check('each mistake is named with its entry', () => {
  assert.match(refusal({ cidr: '10.0.0.0/8' }), /expected a JSON array/);
  assert.match(refusal(['10.0.0.0/8']), /entry 1: expected an object/);
  assert.match(refusal([{ maxSeats: 3 }]), /entry 1: "cidr" is missing/);
  assert.match(refusal([{ cidr: '10.0.0.0', maxSeats: 3 }]), /entry 1: "10.0.0.0" is not a CIDR/);
  assert.match(refusal([{ cidr: '10.0.0.0/33', maxSeats: 3 }]), /an IPv4 prefix is at most \/32/);
  assert.match(refusal([{ cidr: '300.0.0.0/8', maxSeats: 3 }]), /neither an IPv4 nor an IPv6 address/);
  assert.match(refusal([{ cidr: '10.0.0.1/8', maxSeats: 3 }]), /has bits set past its \/8 \(did you mean 10\.0\.0\.0\/8\?\)/);
  assert.match(refusal([{ cidr: '2001:db8::1/64', maxSeats: 3 }]), /has bits set past its \/64/);
  assert.match(refusal([{ cidr: '2001:db8::/96', maxSeats: 3 }]), /counted by \/64, so an IPv6 CIDR is at most a \/64/);
  assert.match(refusal([{ cidr: '10.0.0.0/8' }]), /entry 1 \(10\.0\.0\.0\/8\): gives no limit/);
  assert.match(refusal([{ cidr: '10.0.0.0/8', maxSeats: 0 }]), /"maxSeats" must be a whole number from 1 to 1000000, not 0/);
  assert.match(refusal([{ cidr: '10.0.0.0/8', maxSeats: '5' }]), /"maxSeats" must be a whole number/);
  assert.match(refusal([{ cidr: '10.0.0.0/8', maxSeats: 2.5 }]), /"maxSeats" must be a whole number/);
  assert.match(refusal([{ cidr: '10.0.0.0/8', maxseats: 5 }]), /entry 1: unknown field "maxseats"/);
  assert.match(refusal([{ cidr: '10.0.0.0/8', maxSeats: 5 }, { cidr: '10.0.0.0/8', maxSeats: 6 }]), /entry 2: 10\.0\.0\.0\/8 is the network of entry 1 again/);
});

Check('the file: read, parsed and checked, its name in every error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guichet-overrides-'));
  try {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify([{ cidr: '10.0.0.0/8', maxSeats: 512, maxConnections: 4096 }]));
    assert.equal(readAddressOverrides(good), [{ cidr: '10.0.0.0/8', maxSeats: 512, maxConnections: 4096 }]);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '[{ "cidr": "10.0.0.0/8", }]');
    assert.throws(() => readAddressOverrides(broken), (err: Error) => err.message.startsWith(`--address-limits ${broken}: not JSON`));
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, '[{ "cidr": "10.0.0.0/8" }]');
    assert.throws(() => readAddressOverrides(wrong), (err: Error) => err.message === `--address-limits ${wrong}: entry 1 (10.0.0.0/8): gives no limit (maxSeats, maxConnections, maxWatchers)`);
    assert.throws(() => readAddressOverrides(join(dir, 'missing.json')), /--address-limits .*missing\.json: cannot read it \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Check.run();

const Match = suite('address overrides: which network an address is in');

Match('the most specific network holding the key wins; IPv4 and IPv6 keys as address.ts makes them', () => {
  const o = new AddressOverrides([
    { cidr: '0.0.0.0/0', maxSeats: 40 },
    { cidr: '198.51.100.0/24', maxSeats: 300 },
    { cidr: '198.51.100.128/25', maxSeats: 600 },
    { cidr: '2001:db8::/32', maxSeats: 64 },
    { cidr: '2001:db8:aa:bb::/64', maxSeats: 128 },
  ]);
  assert.is(o.limitsOf('198.51.100.1')?.maxSeatsHeld, 300);
  assert.is(o.limitsOf('198.51.100.200')?.maxSeatsHeld, 600);
  assert.is(o.limitsOf(addressKey('::ffff:198.51.100.200'))?.maxSeatsHeld, 600, 'IPv4 through a dual-stack socket');
  assert.is(o.limitsOf('203.0.113.9')?.maxSeatsHeld, 40, '0.0.0.0/0 holds every IPv4 address');
  assert.is(o.limitsOf(addressKey('2001:db8:aa:bb::1'))?.maxSeatsHeld, 128);
  assert.is(o.limitsOf(addressKey('2001:db8:aa:bc::1'))?.maxSeatsHeld, 64);
  assert.is(o.limitsOf(addressKey('2001:db9::1')), undefined, 'no IPv6 network holds it');
  assert.is(o.limitsOf('unknown'), undefined);
  assert.is(o.limitsOf('1:2:3'), undefined, 'an unparsed key matches no network');
});

Match.run();
