/**
 * `guichet server --address-limits <file>` (or GUICHET_ADDRESS_LIMITS): a wrong file stops the
 * server before it starts anything, saying which entry is wrong; a good one is read and its
 * networks' limits served (the limits themselves: shared-address.test.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GuichetClient } from '../../src/cli/client.js';
import { startNats, type TestNats } from '../support/guichet.js';
import { freePort } from '../support/net.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const File = suite<{ dir: string; nats?: TestNats }>('--address-limits file');

File.before(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'guichet-address-limits-'));
});
File.after(async (ctx) => {
  await ctx.nats?.stop();
  await rm(ctx.dir, { recursive: true, force: true });
});

/** Runs `guichet server …` until it exits (or says it listens, then SIGTERM); its exit code and stderr. */
function server(args: string[], env: Record<string, string> = {}, untilListening = false): Promise<{ code: number | null; stderr: string; port?: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'server', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let port: number | undefined;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on [^ ]+:(\d+)/.exec(stderr);
      if (untilListening && m && port === undefined) {
        port = Number(m[1]);
        resolve({ code: null, stderr, port });
        setTimeout(() => child.kill('SIGTERM'), 2_000);
      }
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

File('a wrong file: exit 1 before anything starts, naming the file and the entry (flag or environment)', async (ctx) => {
  const bad = join(ctx.dir, 'bad.json');
  await writeFile(bad, JSON.stringify([{ cidr: '10.0.0.0/8', maxSeats: 512 }, { cidr: '10.0.0.1/8', maxSeats: 5 }]));
  // No NATS listens on port 1: had the file not stopped it, the server would wait for NATS.
  const flag = await server(['--address-limits', bad, '--nats', 'nats://127.0.0.1:1', '--nats-wait', '0', '--data', ctx.dir]);
  assert.is(flag.code, 1, flag.stderr);
  assert.match(flag.stderr, `--address-limits ${bad}: entry 2: 10.0.0.1/8 has bits set past its /8 (did you mean 10.0.0.0/8?)`);
  const env = await server(['--nats', 'nats://127.0.0.1:1', '--nats-wait', '0', '--data', ctx.dir], { GUICHET_ADDRESS_LIMITS: join(ctx.dir, 'none.json') });
  assert.is(env.code, 1, env.stderr);
  assert.match(env.stderr, /--address-limits .*none\.json: cannot read it \(ENOENT\)/);
});

File('a good file is served: an address of its network holds past the default limit', async (ctx) => {
  ctx.nats = await startNats();
  const good = join(ctx.dir, 'good.json');
  await writeFile(good, JSON.stringify([{ cidr: '127.0.0.64/26', maxSeats: 3 }]));
  const port = await freePort();
  const run = server(['--nats', ctx.nats.url, '--port', String(port), '--data', ctx.dir, '--snapshot-seconds', '0', '--max-seats-per-address', '1', '--quiet'], { GUICHET_ADDRESS_LIMITS: good }, true);
  const started = await run;
  assert.ok(started.port, started.stderr);
  const inside = await GuichetClient.connect({ port, localAddress: '127.0.0.70' });
  const outside = await GuichetClient.connect({ port, localAddress: '127.0.0.30' });
  try {
    await inside.request('HOLD', 'rock-garage', 1, 2, 3);
    await outside.request('HOLD', 'rock-garage', 10);
    const refused = await outside.request('HOLD', 'rock-garage', 11).then(() => 'OK', (err: Error) => err.message);
    assert.match(refused, /at most 1 seats/);
  } finally {
    inside.close();
    outside.close();
  }
});

File.run();
