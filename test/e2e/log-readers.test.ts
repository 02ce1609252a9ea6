/**
 * `guichet tail` and `guichet audit` read NATS, not a gateway: a concert they do not know
 * (no events in the log, not in the catalog the gateway left) is refused with the ones they
 * know, exit 1; and tail says what it follows, and how to stop, before the first event.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Guichet } from '../../src/guichet.js';
import { track } from '../support/children.js';
import { eventually, startNats, startNode, type TestNats } from '../support/guichet.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const exec = promisify(execFile);

const Readers = suite<{ nats?: TestNats; node?: Guichet }>('tail and audit: which concert');

Readers.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.node = await startNode(ctx.nats);
});

Readers.after(async (ctx) => {
  await ctx.node?.close();
  await ctx.nats?.stop();
});

async function fails(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await exec(process.execPath, [MAIN, ...args]);
  } catch (err) {
    return err as { code: number; stderr: string };
  }
  throw new Error(`guichet ${args.join(' ')} succeeded`);
}

Readers('an unknown concert: exit 1, naming the ones in the catalog', async (ctx) => {
  for (const command of ['tail', 'audit']) {
    const r = await fails(command, '--nats', ctx.nats!.url, '--concert', 'nope');
    assert.is(r.code, 1, command);
    assert.match(r.stderr, /error: no concert "nope": it has no events in the log and is not in the catalog \(the catalog has c1, c2\)/, command);
  }
});

Readers('tail says what it follows and how to stop, before any event', async (ctx) => {
  const child = track(spawn(process.execPath, [MAIN, 'tail', '--nats', ctx.nats!.url, '--concert', 'c2'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  await eventually(() => err, (e) => e.includes('Ctrl-C'), 10_000);
  assert.is(err, 'Following the events of concert c2 from now; Ctrl-C to stop.\n');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  assert.is(await exited, 0);
});

Readers.run();
