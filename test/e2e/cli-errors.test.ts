/**
 * How the command line fails, against a real gateway: one exit-status rule (2 a usage error,
 * 1 a refusal or an unreachable server), `--json` errors as JSON on stdout, short usage
 * errors, CLI words rather than protocol ones, `help <command>`, hints that say what to do.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Guichet } from '../../src/guichet.js';
import { connectHint } from '../../src/cli/server.js';
import { startNats, startNode, type TestNats } from '../support/guichet.js';
import { freePort } from '../support/net.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const exec = promisify(execFile);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function guichet(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [MAIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const Errors = suite<{ nats?: TestNats; node?: Guichet; port: string }>('the command line when things go wrong', { port: '' });

Errors.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.node = await startNode(ctx.nats);
  ctx.port = String(ctx.node.gateway.port);
});

Errors.after(async (ctx) => {
  await ctx.node?.close();
  await ctx.nats?.stop();
});

Errors('a refusal exits 1 and says it in CLI words; with --json, as JSON on stdout', async (ctx) => {
  const plain = await guichet('seats', 'nope', '--port', ctx.port);
  assert.is(plain.code, 1);
  assert.is(plain.stderr, 'error: no concert "nope" (see `guichet concerts`) (NO_SUCH_CONCERT)\n');
  const json = await guichet('seats', 'nope', '--json', '--port', ctx.port);
  assert.is(json.code, 1);
  assert.equal(JSON.parse(json.stdout), { error: { code: 'NO_SUCH_CONCERT', message: 'no concert "nope" (see `guichet concerts`)' } });
  const seat = await guichet('book', 'c1', 'front', '--first', 'Ada', '--last', 'Lovelace', '--json', '--port', ctx.port);
  assert.is(seat.code, 1);
  assert.equal(JSON.parse(seat.stdout).error, { code: 'BAD_ARGUMENTS', message: '"front" is not a seat: give its number (42) or its label (B7)' });
});

Errors('a usage error exits 2 with the error and a pointer to --help, not the whole help', async (ctx) => {
  const flag = await guichet('seats', 'c1', '--bogus', '--port', ctx.port);
  assert.is(flag.code, 2);
  assert.is(flag.stderr, "error: unknown option '--bogus'\n(add --help for usage)\n");
  const json = await guichet('seats', '--json');
  assert.is(json.code, 2);
  assert.equal(JSON.parse(json.stdout), { error: { code: 'USAGE', message: "missing required argument 'concert'" } });
  const reference = await guichet('cancel', '1234567890', '--last', 'X', '--json');
  assert.is(reference.code, 2);
  assert.is(JSON.parse(reference.stdout).error.code, 'USAGE');
  const typo = await guichet('conerts');
  assert.is(typo.code, 2);
  assert.match(typo.stderr, /^error: unknown command 'conerts'/);
});

Errors('help <command> shows that command\'s help', async () => {
  const help = await guichet('help', 'seats');
  assert.is(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: guichet seats \[options\] <concert>/);
});

Errors('no server there: exit 1, "is the server running?"; --json says UNREACHABLE', async () => {
  const port = String(await freePort());
  const plain = await guichet('concerts', '--port', port);
  assert.is(plain.code, 1);
  assert.match(plain.stderr, /cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED .*\. Is the server running\? Start it with `npm start`/);
  const json = await guichet('concerts', '--json', '--port', port);
  assert.is(JSON.parse(json.stdout).error.code, 'UNREACHABLE');
});

Errors('the client takes address:port, or --host and --port', async (ctx) => {
  for (const args of [[`127.0.0.1:${ctx.port}`], ['--host', '127.0.0.1', '--port', ctx.port]]) {
    const child = spawn(process.execPath, [MAIN, 'client', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stdin.end('q\n');
    const code = await new Promise((r) => child.once('exit', r));
    assert.is(code, 0, out);
    assert.match(out, new RegExp(`guichet: connected to 127\\.0\\.0\\.1:${ctx.port}\\.`));
  }
});

Errors('a gateway port in use: one line that says what to do', async (ctx) => {
  const r = await guichet('server', '--port', ctx.port, '--nats', ctx.nats!.url, '--nats-wait', '5');
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`error: port ${ctx.port} on 127\\.0\\.0\\.1 is already in use \\(another guichet server\\?\\): stop it, or give this one another --port\\n$`));
});

Errors('the built command is executable itself (npx and npm link run it directly, not through node)', () => {
  const r = spawnSync(MAIN, ['--version'], { encoding: 'utf8' });
  assert.is(r.error, undefined, String(r.error));
  assert.is(r.stdout.trim(), '0.1.0');
});

Errors('the connect hint is a command that works here', () => {
  assert.is(connectHint('127.0.0.1', 12345, false), 'npx guichet client');
  assert.is(connectHint('127.0.0.1', 12345, true), 'guichet client');
  assert.is(connectHint('0.0.0.0', 4000, false), 'npx guichet client 0.0.0.0 4000');
});

Errors.run();
