/**
 * The compiled interactive client in a real pseudo-terminal (tmux): the seat grid redraws by
 * itself when another connection holds or books, what is being typed survives the redraw,
 * the user's own hold shows as H, and Ctrl-C gives the seat back. Skipped, saying why, when
 * tmux is missing.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import type { Guichet } from '../../src/guichet.js';
import { GuichetClient } from '../../src/cli/client.js';
import { eventually, startNats, startNode, type TestNats } from '../support/guichet.js';
import { TmuxSession, tmuxMissing } from '../support/pty.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const missing = tmuxMissing();

const Tty = suite<{ nats?: TestNats; node?: Guichet; port: number; tmux?: TmuxSession; other?: GuichetClient }>('interactive tty: live seat grid', { port: 0 });

if (missing) {
  console.warn(`\n  SKIPPED interactive tty tests: ${missing}. Install tmux to run them.\n`);
  Tty.skip('the seat grid redraws when another connection books', () => undefined);
} else {
  Tty.before(async (ctx) => {
    ctx.nats = await startNats();
    ctx.node = await startNode(ctx.nats);
    ctx.port = ctx.node.gateway.port;
    ctx.other = await GuichetClient.connect({ port: ctx.port });
  });

  Tty.after(async (ctx) => {
    ctx.tmux?.kill();
    ctx.other?.close();
    await ctx.node?.close();
    await ctx.nats?.stop();
  });

  Tty.after.each((ctx) => {
    ctx.tmux?.kill();
    ctx.tmux = undefined;
  });

  /** The SGR codes (colour, bold, reverse…) set just before `cell` on a screen captured with escapes. */
  function styleOf(screen: string, cell: string): Set<number> {
    const at = screen.indexOf(cell);
    const before = /((?:\x1b\[[0-9;]*m)+)$/.exec(screen.slice(0, Math.max(0, at)));
    return new Set((before?.[1] ?? '').match(/[0-9]+/g)?.map(Number) ?? []);
  }

  /** Starts the client in a 120×40 terminal and opens concert c1's seat screen. */
  async function openSeatScreen(ctx: { port: number; tmux?: TmuxSession }, env: Record<string, string> = {}): Promise<TmuxSession> {
    const tmux = TmuxSession.start([process.execPath, MAIN, 'client', '127.0.0.1', String(ctx.port)], { env: { TERM: 'xterm-256color', ...env } });
    ctx.tmux = tmux;
    await tmux.waitFor(/\[b\]ook \[c\]ancel/);
    tmux.sendKeys('b', 'Enter');
    await tmux.waitFor(/Concert \(1-2 or id/);
    tmux.sendKeys('1', 'Enter');
    await tmux.waitFor(/Seats \(1-100 or A1-J10, several, or best 4; m for the map, - to go back\) >$/m);
    return tmux;
  }

  Tty('the seat grid redraws when another connection books, keeping what is typed', async (ctx) => {
    const tmux = await openSeatScreen(ctx, { NO_COLOR: '1' });
    // Seats 31 and 32 are row D's first two.
    assert.match(tmux.capture(), /^D {2}1\. {2}2\./m);
    tmux.type('3');
    const { hold } = await ctx.other!.request<{ hold: string }>('HOLD', 'c1', 31);
    let screen = await tmux.waitFor(/^D {2}1h/m);
    assert.match(screen, /Concert One \(c1\): 99 free, 1 held, 0 booked \(of 100\)/);
    await ctx.other!.request('BOOK', hold, 'Ada', 'Lovelace');
    screen = await tmux.waitFor(/^D {2}1x/m);
    assert.match(screen, /Concert One \(c1\): 99 free, 0 held, 1 booked \(of 100\)/);
    assert.match(screen, /Live: \d\d:\d\d:\d\d seat 31 booked/);
    // Nothing was sent by the keyboard since the '3': the prompt still holds it.
    assert.match(screen, /Seats \(1-100 or A1-J10, several, or best 4; m for the map, - to go back\) > 3$/m);
    // Plain characters, no colour codes, with NO_COLOR.
    assert.not.match(tmux.capture({ escapes: true }), /\x1b\[3[0-9]m/);
  });

  Tty('colour on a terminal; the own hold shows as H; Ctrl-C gives the seat back', async (ctx) => {
    const { hold } = await ctx.other!.request<{ hold: string }>('HOLD', 'c1', 33);
    await ctx.other!.request('BOOK', hold, 'Ada', 'Lovelace');
    const tmux = await openSeatScreen(ctx);
    tmux.sendKeys('32', 'Enter');
    await tmux.waitFor(/Hold seat 32 \(D2\)\? \[y\/N\] >$/m);
    tmux.sendKeys('y', 'Enter');
    const screen = await tmux.waitFor(/^D {2}1[.x] {2}2H[\s\S]*First name \(seat 32 \(D2\) held, \d:\d\d left\) >$/m);
    assert.match(screen, /Seat 32 \(D2\) of Concert One \(c1\) is held for you: \d:\d\d left/);
    // Colour: free seats green, the own hold bold cyan (and highlighted as the chosen seat).
    const coloured = tmux.capture({ escapes: true });
    assert.ok(styleOf(coloured, ' 1.').has(32), coloured);
    assert.ok(styleOf(coloured, ' 3x').has(31), coloured);
    const own = styleOf(coloured, ' 2H');
    assert.ok(own.has(36) && own.has(7), coloured);
    const { map } = await ctx.other!.request<{ map: string }>('SEATS', 'c1');
    assert.is(map[31], 'h');
    tmux.sendKeys('C-c');
    await tmux.waitFor(/Interrupted: seat 32 \(D2\) given back\. Bye\./);
    await eventually(() => tmux.exitStatus(), (s) => s !== undefined);
    assert.is(tmux.exitStatus(), 130);
    await eventually(async () => (await ctx.other!.request<{ map: string }>('SEATS', 'c1')).map[31], (s) => s === '.');
  });

  Tty('a group is held, booked under one reference, then cancelled with every seat freed', async (ctx) => {
    const tmux = await openSeatScreen(ctx, { NO_COLOR: '1' });
    tmux.sendKeys('e6-E8', 'Enter');
    await tmux.waitFor(/Hold seats 46-48 \(E6-E8\)\? \[y\/N\] >$/m);
    tmux.sendKeys('y', 'Enter');
    const held = await tmux.waitFor(/First name \(seats 46-48 \(E6-E8\) held, \d:\d\d left\) >$/m);
    // Seats 46-48 are row E's sixth to eighth.
    assert.match(held, /^E(?: +\d+[.hx]){5} +6H {2}7H {2}8H/m);
    tmux.sendKeys('Jeanne', 'Enter');
    await tmux.waitFor(/Last name/);
    tmux.sendKeys('Le Gall', 'Enter');
    const booked = await tmux.waitFor(/Booking reference: +(\d{10})/);
    assert.match(booked, /Booked: seats 46-48 \(E6-E8\), Concert One \(c1\)/);
    const reference = /Booking reference: +(\d{10})/.exec(booked)![1]!;
    assert.equal((await ctx.other!.request<{ map: string }>('SEATS', 'c1')).map.slice(45, 48), 'xxx');
    tmux.sendKeys('c', 'Enter');
    await tmux.waitFor(/Booking reference \(10 digits/);
    tmux.sendKeys(reference, 'Enter');
    await tmux.waitFor(/Last name on the booking/);
    tmux.sendKeys('le gall', 'Enter');
    await tmux.waitFor(new RegExp(`Booking ${reference}: seats 46-48 \\(E6-E8\\) of Concert One \\(c1\\), for Jeanne Le Gall\\.`));
    tmux.sendKeys('y', 'Enter');
    await tmux.waitFor(new RegExp(`Cancelled booking ${reference}: seats 46-48 \\(E6-E8\\) of Concert One \\(c1\\) are all free again\\.`));
    assert.equal((await ctx.other!.request<{ map: string }>('SEATS', 'c1')).map.slice(45, 48), '...');
  });
}

Tty.run();
