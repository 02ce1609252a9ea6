/**
 * Scenario 6 — guessing references. A client tries well-formed references (valid check
 * digit) in a loop with LOOKUP: after a few failures it is slowed, then refused with
 * RATE_LIMITED — per connection, and per address when it opens new connections; and many
 * connections at once from one address get no more tries than one after the other. The
 * resulting guess rate is printed (docs/reliability.md, docs/operations.md).
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient } from '../../src/cli/client.js';
import { luhnCheckDigit } from '../../src/actors/reference.js';
import { startNats, type TestNats } from '../support/nats.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { AddressedClient, closeAll, report, settle, sortedCounts, tally, within } from '../support/faults.js';

/** The gateway's limits (src/gateway/rate-limit.ts), as a guesser meets them. */
const PER_CONNECTION = 5;
const PER_ADDRESS = 20;
const WINDOW_S = 60;
/** References with a valid check digit: 9 random digits, the first not 0. */
const REFERENCE_SPACE = 9e8;

const Guess = suite<{ nats: TestNats; gateways: GatewayProcess[] }>('faults: guessing references');

Guess.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.gateways = [];
});

Guess.after(async (ctx) => {
  await Promise.all((ctx.gateways ?? []).map((g) => g.stop()));
  await ctx.nats?.stop();
});

let counter = 100_000_000;
function guess(): string {
  const body = String(counter++);
  return body + String(luhnCheckDigit(body));
}

interface Attempt {
  code: string;
  ms: number;
}

async function tryReferences(c: GuichetClient, n: number): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  for (let i = 0; i < n; i++) {
    const r = await settle(c.request('LOOKUP', guess(), 'Doe'), 10_000);
    attempts.push({ code: r.ok ? 'OK' : r.code, ms: Math.round(r.ms) });
  }
  return attempts;
}

Guess('one connection, then new connections from the same address: slowed, then RATE_LIMITED; a real booking is still found elsewhere', (ctx) =>
  within(90_000, 'guessing', async () => {
    const g = await startGatewayProcess({ natsUrl: ctx.nats.url, gatewayId: 'gw-guess' });
    ctx.gateways.push(g);
    // A real booking, made before the guessing starts.
    const owner = await GuichetClient.connect({ port: g.port });
    const { hold } = await owner.request<{ hold: string }>('HOLD', 'jazz-nocturne', 7);
    const { reference } = await owner.request<{ reference: string }>('BOOK', hold, 'Jane', 'Doe');

    const started = performance.now();
    const first = await GuichetClient.connect({ port: g.port });
    const oneConnection = await tryReferences(first, 8);
    // The guesser reconnects, again and again, from the same address.
    const perConnection: Attempt[][] = [oneConnection];
    const conns = [first];
    for (let i = 0; i < 5; i++) {
      const c = await GuichetClient.connect({ port: g.port });
      conns.push(c);
      perConnection.push(await tryReferences(c, PER_CONNECTION + 1));
    }
    const seconds = (performance.now() - started) / 1000;
    const all = perConnection.flat();
    const notFound = all.filter((a) => a.code === 'NOT_FOUND').length;
    // The owner, from the guesser's address (behind the same NAT) and from another one.
    const ownerSameAddress = await settle(owner.request('LOOKUP', reference, 'Doe'), 5_000);
    const elsewhere = await AddressedClient.connect(g.port, '127.0.0.2');
    const ownerOtherAddress = await settle(elsewhere.request('LOOKUP', reference, 'Doe'), 5_000);
    // Another address has its own budget: its failures are not refused yet.
    const otherGuesser = await settle(elsewhere.request('LOOKUP', guess(), 'Doe'), 5_000);
    elsewhere.close();
    const retryAfter = await settle(conns.at(-1)!.request('LOOKUP', guess(), 'Doe'), 5_000);
    closeAll([...conns, owner]);

    const perMinute = notFound; // everything after these is refused until the window slides
    await report('guessing references', {
      'attempts, one connection': oneConnection.map((a) => `${a.code} ${a.ms}ms`).join(', '),
      'attempts per new connection (codes)': perConnection.slice(1).map((a) => a.map((x) => x.code.replace('NOT_FOUND', 'NF').replace('RATE_LIMITED', 'RL')).join(' ')),
      'attempts in all': all.length,
      'answers by code': sortedCounts(tally(all.map((a) => a.code))),
      'guesses answered (NOT_FOUND) before the address is refused': notFound,
      'time they took s': seconds.toFixed(1),
      'refusal says': retryAfter.ok ? 'OK?' : retryAfter.message,
      'a real booking looked up from the refused address (same NAT)': ownerSameAddress.ok ? 'OK' : ownerSameAddress.code,
      'the same from 127.0.0.2': ownerOtherAddress.ok ? 'OK' : ownerOtherAddress.code,
      'a wrong guess from 127.0.0.2': otherGuesser.ok ? 'OK' : otherGuesser.code,
      'resulting guess rate per address': `${perMinute} per ${WINDOW_S} s = ${perMinute * 60 * 24} per day`,
      'chance per guess of one given booking (name known)': `1 in ${REFERENCE_SPACE.toExponential(1)}`,
      'expected time to find one given booking, one address': `${((REFERENCE_SPACE / 2 / (perMinute * 60 * 24)) / 365).toFixed(0)} years`,
    });

    assert.equal(
      oneConnection.map((a) => a.code),
      [...Array<string>(PER_CONNECTION).fill('NOT_FOUND'), 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED'],
      'a connection is refused after 5 failures',
    );
    assert.ok(oneConnection[3]!.ms >= 400 && oneConnection[4]!.ms >= 900, 'the 4th and 5th tries are slowed');
    assert.ok(oneConnection[5]!.ms < 200, 'a refusal is immediate (no slot held)');
    assert.is(notFound, PER_ADDRESS, `the address gets ${PER_ADDRESS} failures in the window, over all its connections`);
    assert.ok(perConnection.at(-1)!.every((a) => a.code === 'RATE_LIMITED'), 'a new connection from a refused address is refused at once');
    assert.ok(ownerOtherAddress.ok, 'another address is not refused');
    assert.is(otherGuesser.ok ? 'OK' : otherGuesser.code, 'NOT_FOUND', 'another address has its own budget');
  }),
);

Guess('many connections from one address at once get no more tries than one after the other', (ctx) =>
  within(90_000, 'parallel guessing', async () => {
    const g = await startGatewayProcess({ natsUrl: ctx.nats.url, gatewayId: 'gw-guess-parallel' });
    ctx.gateways.push(g);
    // Spend half the address's budget (10 failures, no delay yet) over two connections.
    const warm = await Promise.all([GuichetClient.connect({ port: g.port }), GuichetClient.connect({ port: g.port })]);
    for (const c of warm) await tryReferences(c, PER_CONNECTION);
    // Then 100 fresh connections, one LOOKUP each, all at once.
    const parallel = 100;
    const conns = await Promise.all(Array.from({ length: parallel }, () => GuichetClient.connect({ port: g.port })));
    const started = performance.now();
    const results = await Promise.all(conns.map((c) => settle(c.request('LOOKUP', guess(), 'Doe'), 10_000)));
    const seconds = (performance.now() - started) / 1000;
    const codes = tally(results.map((r) => (r.ok ? 'OK' : r.code)));
    closeAll([...warm, ...conns]);
    const admitted = codes.NOT_FOUND ?? 0;

    await report('guessing references, many connections at once', {
      'failures before (two connections)': 2 * PER_CONNECTION,
      'connections at once, one LOOKUP each': parallel,
      answers: sortedCounts(codes),
      'guesses answered (budget left: 10)': admitted,
      'in s': seconds.toFixed(1),
      'guess rate this allows per address': `${2 * PER_CONNECTION + admitted} per ${WINDOW_S} s (limit ${PER_ADDRESS}); it grows with the connections opened (--max-connections, default 20,000)`,
    });

    assert.ok(admitted <= PER_ADDRESS - 2 * PER_CONNECTION, `at most ${PER_ADDRESS - 2 * PER_CONNECTION} of them are answered NOT_FOUND, the rest RATE_LIMITED (got ${admitted})`);
  }),
);

Guess.run();
