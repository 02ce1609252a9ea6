/**
 * `guichet watch`: on a terminal (tmux) the heading and the map follow every change, redrawn
 * in place; through a pipe each change is a line; and when the server goes away the watch
 * says so and exits non-zero (it used to exit 0, stale).
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Guichet } from '../../src/guichet.js';
import { GuichetClient } from '../../src/cli/client.js';
import { track } from '../support/children.js';
import { eventually, startNats, startNode, type TestNats } from '../support/guichet.js';
import { TmuxSession, tmuxMissing } from '../support/pty.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const missing = tmuxMissing();

const Watch = suite<{ nats?: TestNats; node?: Guichet; port: number; tmux?: TmuxSession; other?: GuichetClient }>('guichet watch', { port: 0 });

Watch.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.node = await startNode(ctx.nats, { maxHolds: 20 });
  ctx.port = ctx.node.gateway.port;
  ctx.other = await GuichetClient.connect({ port: ctx.port });
});

Watch.after(async (ctx) => {
  ctx.tmux?.kill();
  ctx.other?.close();
  await ctx.node?.close();
  await ctx.nats?.stop();
});

if (missing) {
  console.warn(`\n  SKIPPED watch terminal test: ${missing}. Install tmux to run it.\n`);
  Watch.skip('on a terminal the heading and the map follow each change, in place', () => undefined);
} else {
  Watch('on a terminal the heading and the map follow each change, in place', async (ctx) => {
    const tmux = TmuxSession.start([process.execPath, MAIN, 'watch', 'c1', '--port', String(ctx.port)], { width: 80, height: 24, env: { TERM: 'xterm-256color', NO_COLOR: '1' } });
    ctx.tmux = tmux;
    try {
      await tmux.waitFor(/^Concert One \(c1\): 100 free, 0 held, 0 booked \(of 100\)$/m);
      const before = tmux.historySize();
      const { hold } = await ctx.other!.request<{ hold: string }>('HOLD', 'c1', 31);
      let screen = await tmux.waitFor(/^Concert One \(c1\): 99 free, 1 held, 0 booked \(of 100\)$/m);
      assert.match(screen, /^D {2}1h/m);
      await ctx.other!.request('BOOK', hold, 'Ada', 'Lovelace');
      screen = await tmux.waitFor(/^Concert One \(c1\): 99 free, 0 held, 1 booked \(of 100\)$/m);
      assert.match(screen, /^D {2}1x/m);
      assert.match(screen, /^Live: \d\d:\d\d:\d\d seat 31 booked/m);
      assert.match(screen, /^Watching; Ctrl-C to stop\.$/m);
      assert.is(screen.match(/^A {2}1/gm)?.length, 1, screen);
      assert.ok(tmux.historySize() <= before, `history grew from ${before} to ${tmux.historySize()}`);
      // Ctrl-C stops it, quietly (the terminal's SIGINT also ends the recording shell: no status to read).
      tmux.sendKeys('C-c');
      await eventually(() => tmux.ended(), (dead) => dead);
      assert.not.match(tmux.capture(), /error/);
    } finally {
      tmux.kill();
    }
  });
}

Watch('through a pipe each change is a line; a lost connection says so and exits 1', async (ctx) => {
  const child = track(spawn(process.execPath, [MAIN, 'watch', 'c2', '--port', String(ctx.port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } }));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await eventually(() => out, (o) => o.includes('Watching; Ctrl-C to stop.'));
  assert.match(out, /^c2: 10 of 10 free\nA {2}1\./);
  await ctx.other!.request('HOLD', 'c2', 3);
  await eventually(() => out, (o) => /seat 3 held — 9 free, 1 held, 0 booked/.test(o));
  await ctx.node!.close();
  ctx.node = undefined;
  assert.is(await exited, 1, `${out}\n${err}`);
  assert.match(err, /error: the connection to 127\.0\.0\.1:\d+ was lost \(did the server stop\?\)/);
});

Watch.run();
