/** The server's options: --max-seats, its environment variable and the deprecated --max-holds. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Command } from 'commander';
import { maxSeatsOf, serverOptions, type ServerConfig } from '../src/config.js';

/** The options commander makes of `args` with `env` as the environment. */
function parse(args: string[], env: Record<string, string> = {}): ServerConfig {
  const saved = { ...process.env };
  for (const key of ['GUICHET_MAX_SEATS', 'GUICHET_MAX_HOLDS']) delete process.env[key];
  Object.assign(process.env, env);
  try {
    const cmd = new Command().exitOverride();
    for (const option of serverOptions()) cmd.addOption(option);
    cmd.parse(args, { from: 'user' });
    return cmd.opts<ServerConfig>();
  } finally {
    process.env = saved;
  }
}

const MaxSeats = suite('config: seats one connection may hold');

MaxSeats('8 by default', () => {
  assert.is(maxSeatsOf(parse([])), 8);
});

MaxSeats('--max-seats, or GUICHET_MAX_SEATS; the flag wins', () => {
  assert.is(maxSeatsOf(parse(['--max-seats', '3'])), 3);
  assert.is(maxSeatsOf(parse([], { GUICHET_MAX_SEATS: '5' })), 5);
  assert.is(maxSeatsOf(parse(['--max-seats', '2'], { GUICHET_MAX_SEATS: '5' })), 2);
});

MaxSeats('--max-holds (GUICHET_MAX_HOLDS) still works, as an alias that --max-seats overrides', () => {
  assert.is(maxSeatsOf(parse(['--max-holds', '4'])), 4);
  assert.is(maxSeatsOf(parse([], { GUICHET_MAX_HOLDS: '6' })), 6);
  assert.is(maxSeatsOf(parse(['--max-holds', '4', '--max-seats', '7'])), 7);
});

MaxSeats('a bad number is refused with its name', () => {
  assert.throws(() => parse(['--max-seats', '0']), /--max-seats must be from 1 to 100/);
  assert.throws(() => parse(['--max-seats', 'many']), /--max-seats must be a whole number/);
});

MaxSeats.run();
