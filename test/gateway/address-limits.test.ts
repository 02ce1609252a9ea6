/** addressKey (IPv4 as is, IPv6 by /64) and AddressLimits (connections, watchers, seats held, cool-down), on a clock moved by hand. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { addressKey } from '../../src/gateway/address.js';
import { AddressLimits, type AddressLimitOptions } from '../../src/gateway/address-limits.js';
import { GuichetError } from '../../src/errors.js';

const Key = suite('addressKey');

Key('an IPv4 address is its own key, also seen through a dual-stack socket', () => {
  assert.is(addressKey('127.0.0.2'), '127.0.0.2');
  assert.is(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.is(addressKey('::FFFF:192.0.2.7'), '192.0.2.7');
});

Key('IPv6 addresses of one /64 share a key, whatever their spelling', () => {
  const a = addressKey('2001:db8:0:1::1');
  assert.is(a, '2001:db8:0:1::/64');
  assert.is(addressKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff'), a);
  assert.is(addressKey('2001:DB8:0:1:abcd::'), a);
  assert.is(addressKey('2001:db8:0:1::1%eth0'), a, 'a zone id is not part of the peer');
  assert.is.not(addressKey('2001:db8:0:2::1'), a, 'the next /64 is another key');
});

Key('short forms: loopback, all-zero prefix, an embedded IPv4 tail', () => {
  assert.is(addressKey('::1'), '0:0:0:0::/64');
  assert.is(addressKey('fe80::1'), 'fe80:0:0:0::/64');
  assert.is(addressKey('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64');
});

Key('what cannot be parsed is kept whole (never merged with another peer); none is "unknown"', () => {
  assert.is(addressKey('1:2:3'), '1:2:3');
  assert.is(addressKey('1::2::3'), '1::2::3');
  assert.is(addressKey(undefined), 'unknown');
});

Key.run();

const OPTIONS: AddressLimitOptions = { maxSeatsHeld: 4, maxConnections: 2, maxWatchers: 2, coolDownMs: 30_000 };

function limits() {
  let now = 1_000_000;
  const l = new AddressLimits(OPTIONS, () => now);
  return { l, advance: (ms: number) => void (now += ms), now: () => now };
}

function codeOf(f: () => void): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    return (err as GuichetError).code;
  }
}

const Counts = suite('AddressLimits: connections and watchers');

Counts('a third connection of one address is refused; another address is not; a closed one makes room', () => {
  const { l } = limits();
  assert.ok(l.admitConnection('a'));
  assert.ok(l.admitConnection('a'));
  assert.not.ok(l.admitConnection('a'), 'the address has its maximum');
  assert.ok(l.admitConnection('b'));
  l.leaveConnection('a');
  assert.ok(l.admitConnection('a'));
  assert.is(l.connectionsOf('a'), 2);
});

Counts('watchers: past the limit WATCH_LIMIT, whose message says it is the address; each stop gives one back; nothing left counted', () => {
  const { l } = limits();
  l.startWatching('a');
  l.startWatching('a');
  assert.is(codeOf(() => l.startWatching('a')), 'WATCH_LIMIT');
  try {
    l.startWatching('a');
  } catch (err) {
    assert.match((err as Error).message, /this address \(a\) watches 2 concerts already/);
  }
  l.stopWatching('a');
  l.startWatching('a');
  l.stopWatching('a');
  l.stopWatching('a');
  assert.is(l.size, 0, 'an address with nothing counted is forgotten');
});

Counts.run();

const Seats = suite('AddressLimits: seats held at once');

Seats('the check takes the number of seats asked: 3 held, 1 more fits, 2 more do not', () => {
  const { l, now } = limits();
  l.held('a', 'h1', 'c1', [1, 2, 3], now() + 60_000);
  assert.is(l.seatsHeld('a'), 3);
  assert.is(codeOf(() => l.checkHold('a', 1)), undefined);
  assert.is(codeOf(() => l.checkHold('a', 2)), 'HOLD_LIMIT');
  assert.is(codeOf(() => l.checkHold('b', 4)), undefined, 'another address has its own count');
  try {
    l.checkHold('a', 2);
  } catch (err) {
    assert.match((err as Error).message, /this address \(a\) may hold at most 4 seats at once over all its connections, the address's limit; it holds 3/);
  }
});

Seats('a hold being answered counts (pipelined HOLDs cannot pass together); expired, released or booked ones do not', () => {
  const { l, now, advance } = limits();
  l.held('a', 'pending', 'c1', [1], Number.POSITIVE_INFINITY);
  l.held('a', 'expiring', 'c1', [2], now() + 1_000);
  l.held('a', 'released', 'c1', [3], now() + 60_000);
  l.held('a', 'booked', 'c1', [4], now() + 60_000);
  assert.is(l.seatsHeld('a'), 4);
  l.released('a', 'released');
  l.forget('a', 'booked');
  advance(1_000);
  assert.is(l.seatsHeld('a'), 1, 'only the one being answered');
});

Seats('thousands of holds behind one address: the count follows every way a hold ends, a hold recorded twice counts once', () => {
  let now = 1_000_000;
  const l = new AddressLimits({ ...OPTIONS, maxSeatsHeld: 1_000_000 }, () => now);
  // 3,000 holds of 2 seats, each first recorded while its answer is awaited (placeholders, no expiry).
  for (let i = 0; i < 3_000; i++) l.held('10.0.0.1', `h${i}`, 'c1', [0, 0], Number.POSITIVE_INFINITY);
  assert.is(l.seatsHeld('10.0.0.1'), 6_000);
  // Answered: the real seats; the first 1,000 run out in 10 s, the rest in 60 s.
  for (let i = 0; i < 3_000; i++) l.held('10.0.0.1', `h${i}`, 'c1', [2 * i + 1, 2 * i + 2], now + (i < 1_000 ? 10_000 : 60_000));
  assert.is(l.seatsHeld('10.0.0.1'), 6_000);
  for (let i = 1_000; i < 1_500; i++) l.forget('10.0.0.1', `h${i}`); // booked
  for (let i = 1_500; i < 1_750; i++) l.released('10.0.0.1', `h${i}`); // declined
  l.forget('10.0.0.1', 'h-unknown');
  assert.is(l.seatsHeld('10.0.0.1'), 6_000 - 1_000 - 500);
  now += 10_000; // the first 1,000 run out
  assert.is(l.seatsHeld('10.0.0.1'), 4_500 - 2_000);
  assert.is(codeOf(() => l.checkCoolDown('10.0.0.1', 'c1', [1])), 'COOL_DOWN', 'an expired hold cools down');
  now += 50_000; // and the rest
  assert.is(l.seatsHeld('10.0.0.1'), 0);
});

Seats.run();

const Cool = suite('AddressLimits: cool-down');

Cool('a seat whose hold expired cannot be held again by that address for the cool-down; other seats, addresses and concerts can', () => {
  const { l, now, advance } = limits();
  l.held('a', 'h1', 'c1', [5, 6], now() + 10_000);
  advance(10_000);
  assert.is(codeOf(() => l.checkCoolDown('a', 'c1', [6, 7])), 'COOL_DOWN');
  try {
    l.checkCoolDown('a', 'c1', [4, 5, 6]);
  } catch (err) {
    assert.match((err as Error).message, /held seats 5, 6 of c1 until a moment ago; they are left to others for 30 s more/);
  }
  assert.is(codeOf(() => l.checkCoolDown('a', 'c1', [7])), undefined);
  assert.is(codeOf(() => l.checkCoolDown('b', 'c1', [5])), undefined);
  assert.is(codeOf(() => l.checkCoolDown('a', 'c2', [5])), undefined);
  advance(29_999);
  assert.is(codeOf(() => l.checkCoolDown('a', 'c1', [5])), 'COOL_DOWN');
  advance(1);
  assert.is(codeOf(() => l.checkCoolDown('a', 'c1', [5])), undefined, 'over at expiry + cool-down');
});

Cool('a released hold cools down from its release (RELEASE then HOLD is no way round); a booked one never; a live one is not cooling', () => {
  const { l, now, advance } = limits();
  l.held('a', 'live', 'c1', [1], now() + 60_000);
  assert.is(codeOf(() => l.checkCoolDown('a', 'c1', [1])), undefined, 'a live hold: the actor answers (the same hold, or SEAT_TAKEN)');
  l.held('a', 'declined', 'c1', [2], now() + 60_000);
  advance(5_000);
  l.released('a', 'declined');
  assert.is(codeOf(() => l.checkCoolDown('a', 'c1', [2])), 'COOL_DOWN');
  advance(30_000);
  assert.is(codeOf(() => l.checkCoolDown('a', 'c1', [2])), undefined);
  l.held('a', 'booked', 'c1', [3], now() + 1_000);
  l.forget('a', 'booked');
  advance(1_000);
  assert.is(codeOf(() => l.checkCoolDown('a', 'c1', [3])), undefined);
});

Cool('sweep forgets what no longer counts nor cools; memory stays bounded', () => {
  const { l, now, advance } = limits();
  for (let i = 0; i < 100; i++) l.held(`addr${i}`, `h${i}`, 'c1', [1], now() + 1_000);
  advance(1_000 + 30_000);
  l.sweep();
  assert.is(l.size, 0);
});

Cool.run();

const Pending = suite('AddressLimits: HOLDs still being answered');

Pending('one that fits with the pending ones counted is counted at once; one past the limit even if they are all refused is HOLD_LIMIT at once', () => {
  const { l, now } = limits();
  l.held('a', 'granted', 'c1', [1, 2], now() + 60_000);
  assert.is(l.admitHold('a', 'p1', 'c1', [3]), undefined, 'counted at once');
  assert.is(l.seatsHeld('a'), 3);
  assert.is(codeOf(() => l.admitHold('a', 'p2', 'c1', [4, 5, 6])), 'HOLD_LIMIT', '2 granted + 3 > 4 whatever p1 gets');
});

Pending('one that fits only if pending ones are refused waits for their answers: counted when one is refused, HOLD_LIMIT once they are granted', async () => {
  const { l } = limits();
  for (const id of ['p1', 'p2', 'p3', 'p4']) assert.is(l.admitHold('a', id, 'c1', [9]), undefined);
  const outcome = (p: Promise<void> | undefined) => p!.then(() => 'counted', (err: GuichetError) => err.code);
  const w1 = outcome(l.admitHold('a', 'w1', 'c1', [9]));
  const w2 = outcome(l.admitHold('a', 'w2', 'c1', [9]));
  const w3 = outcome(l.admitHold('a', 'w3', 'c1', [10]));
  let settled = '';
  void w1.then((o) => (settled += `w1:${o} `));
  await new Promise((r) => setTimeout(r, 5));
  assert.is(settled, '', 'waits while the answers are unknown');
  l.forget('a', 'p1'); // refused (SEAT_TAKEN): room for the first waiting one
  assert.is(await w1, 'counted');
  assert.is(l.seatsHeld('a'), 4, 'w1 counted in the place of p1: the limit is never passed');
  l.held('a', 'p2', 'c1', [9], Date.now() + 60_000); // granted
  l.held('a', 'p3', 'c1', [11], Date.now() + 60_000);
  l.held('a', 'p4', 'c1', [12], Date.now() + 60_000);
  l.held('a', 'w1', 'c1', [13], Date.now() + 60_000);
  assert.is(await w2, 'HOLD_LIMIT', 'four granted: it really passes the limit');
  assert.is(await w3, 'HOLD_LIMIT');
  assert.is(l.seatsHeld('a'), 4);
});

Pending('a new HOLD does not pass those waiting before it (first come, first counted)', async () => {
  const { l } = limits();
  for (const id of ['p1', 'p2', 'p3']) l.admitHold('a', id, 'c1', [1]);
  const order: string[] = [];
  const big = l.admitHold('a', 'big', 'c1', [2, 3])!.then(() => void order.push('big'));
  const small = l.admitHold('a', 'small', 'c1', [4]);
  assert.ok(small, 'it would fit alone, but waits behind the one that came first');
  void small!.then(() => void order.push('small'), () => void order.push('small refused'));
  l.forget('a', 'p1'); // room for the first: big is counted (p2, p3, big: 4 seats)
  await big;
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(order, ['big'], 'small still waits: p2 and p3 may both be granted');
  l.forget('a', 'p2');
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(order, ['big', 'small']);
  assert.is(l.seatsHeld('a'), 4);
});

Pending.run();

const Override = suite('AddressLimits: networks with limits of their own');

Override('an address inside a listed network gets its limits, the most specific network first; others the defaults', () => {
  const l = new AddressLimits({
    ...OPTIONS,
    overrides: [
      { cidr: '10.0.0.0/8', maxSeats: 100, maxConnections: 50 },
      { cidr: '10.1.0.0/16', maxSeats: 200 },
      { cidr: '2001:db8::/32', maxWatchers: 9 },
    ],
  });
  assert.is(l.maxSeatsOf('10.2.3.4'), 100);
  assert.is(l.maxConnectionsOf('10.2.3.4'), 50);
  assert.is(l.maxSeatsOf('10.1.3.4'), 200);
  assert.is(l.maxConnectionsOf('10.1.3.4'), 2, 'a limit the network does not give is the default');
  assert.is(l.maxSeatsOf('11.0.0.1'), 4);
  assert.is(l.maxWatchersOf('2001:db8:0:1::/64'), 9);
  assert.is(l.maxWatchersOf('2001:db9:0:1::/64'), 2);
  assert.is(codeOf(() => l.checkHold('10.1.0.1', 200)), undefined);
  assert.is(codeOf(() => l.checkHold('10.1.0.1', 201)), 'HOLD_LIMIT');
  for (let i = 0; i < 2; i++) assert.ok(l.admitConnection('11.0.0.1'));
  assert.not.ok(l.admitConnection('11.0.0.1'));
});

Override.run();
