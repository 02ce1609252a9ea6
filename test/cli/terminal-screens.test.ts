/**
 * The interactive client's screens in a real terminal (tmux) of a given size: the seat map
 * redrawn in place (nothing piles up in the scrollback), a window of rows when the hall does
 * not fit (100,000 seats in 80×24, moved with n, p and `row K`, a seat chosen by its label),
 * and the booking box within 60 columns. Skipped, saying why, when tmux is missing.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import type { Guichet } from '../../src/guichet.js';
import type { Concert } from '../../src/catalog.js';
import { GuichetClient } from '../../src/cli/client.js';
import { startNats, startNode, type TestNats } from '../support/guichet.js';
import { TmuxSession, tmuxMissing } from '../support/pty.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const missing = tmuxMissing();

const CATALOG: Concert[] = [
  { id: 'lyon', title: 'Orchestre de Lyon — Symphonie fantastique', venue: 'Auditorium de Lyon', date: '2027-03-06T20:00:00+01:00', capacity: 100 },
  { id: 'arena', title: 'Arena', venue: 'Stade', date: '2027-06-01T21:00:00+02:00', capacity: 100_000 },
  { id: 'hall', title: 'Big Hall', venue: 'Salle', date: '2027-05-01T20:00:00+02:00', capacity: 2_000 },
];

const Screens = suite<{ nats?: TestNats; node?: Guichet; port: number; tmux?: TmuxSession; other?: GuichetClient }>('terminal screens: in place, windowed, narrow', { port: 0 });

if (missing) {
  console.warn(`\n  SKIPPED terminal screen tests: ${missing}. Install tmux to run them.\n`);
  Screens.skip('the seat map redraws in place', () => undefined);
} else {
  Screens.before(async (ctx) => {
    ctx.nats = await startNats();
    ctx.node = await startNode(ctx.nats, { catalog: CATALOG, maxHolds: 50 });
    ctx.port = ctx.node.gateway.port;
    ctx.other = await GuichetClient.connect({ port: ctx.port });
  });

  Screens.after(async (ctx) => {
    ctx.tmux?.kill();
    ctx.other?.close();
    await ctx.node?.close();
    await ctx.nats?.stop();
  });

  Screens.after.each((ctx) => {
    ctx.tmux?.kill();
    ctx.tmux = undefined;
  });

  /** The client in a width × height terminal, at concert number `n`'s seat question. */
  async function openSeats(ctx: { port: number; tmux?: TmuxSession }, n: number, width: number, height: number): Promise<TmuxSession> {
    const tmux = TmuxSession.start([process.execPath, MAIN, 'client', '127.0.0.1', String(ctx.port)], { width, height, env: { TERM: 'xterm-256color', NO_COLOR: '1' } });
    ctx.tmux = tmux;
    await tmux.waitFor(/\[b\]ook \[c\]ancel/);
    tmux.sendKeys('b', 'Enter');
    await tmux.waitFor(/Concert \(1-3 or id/);
    tmux.sendKeys(String(n), 'Enter');
    await tmux.waitFor(/Seats \(1-\d+ or [\s\S]*?to go back\) >/);
    return tmux;
  }

  Screens('live changes redraw the map in place: no copy of it goes to the scrollback', async (ctx) => {
    const tmux = await openSeats(ctx, 1, 100, 40);
    const before = tmux.historySize();
    for (const seat of [11, 12, 13, 14, 15]) {
      await ctx.other!.request('HOLD', 'lyon', seat);
      await tmux.waitFor(new RegExp(`^B(?: +\\d+[.hx]){${seat - 11}} +${seat - 10}h`, 'm'));
    }
    const screen = tmux.capture();
    assert.match(screen, /^Orchestre de Lyon — Symphonie fantastique \(lyon\): 95 free, 5 held/m);
    // One map on the screen, and the scrollback did not grow by a map per change.
    assert.is(screen.match(/^A {2}1/gm)?.length, 1, screen);
    assert.ok(tmux.historySize() <= before, `history grew from ${before} to ${tmux.historySize()}`);
  });

  Screens('a hall of 100,000 seats in 80×24: a window of rows, moved with n, p and row K; a label chooses a seat', async (ctx) => {
    const tmux = await openSeats(ctx, 2, 80, 24);
    let screen = tmux.capture();
    const lines = screen.split('\n');
    assert.match(lines[0]!, /^Arena \(arena\): 100000 free, 0 held, 0 booked \(of 100000\)$/);
    assert.match(screen, /^Rows A-[A-Z]+ of 10000 \(A-NTP\): n next rows, p previous, row <name> to go there$/m);
    assert.match(screen, /^A +1\. {2}2\./m);
    assert.match(screen, /Seats \(1-100000 or A1-NTP10, several, or best 4; m for the map, - to go back\) >$/m);
    const shown = (s: string) => s.split('\n').filter((l) => /^[A-Z]+ +1[.hHx]/.test(l)).map((l) => l.split(' ')[0]);
    const first = shown(screen);
    assert.ok(first.length >= 5, screen);
    // A change in view is drawn in place.
    await ctx.other!.request('HOLD', 'arena', 5);
    await tmux.waitFor(/^A +1\.(?: +\d+\.){3} +5h/m);
    tmux.sendKeys('n', 'Enter');
    screen = await tmux.waitFor((s) => shown(s)[0] !== 'A');
    const next = shown(screen);
    assert.is(next.length, first.length);
    assert.is(CATALOG.length, 3);
    assert.ok(!next.some((r) => first.includes(r)), `${first} then ${next}`);
    tmux.sendKeys('p', 'Enter');
    await tmux.waitFor((s) => shown(s)[0] === 'A');
    tmux.sendKeys('row GJI', 'Enter');
    screen = await tmux.waitFor((s) => shown(s).includes('GJI'));
    assert.match(screen, /^GJI {2}1\. .* 50001-50010$/m);
    tmux.sendKeys('GJI5', 'Enter');
    screen = await tmux.waitFor(/Hold seat 50005 \(GJI5\)\? \[y\/N\] >$/m);
    assert.ok(shown(screen).includes('GJI'), screen);
    assert.ok(tmux.historySize() < 24, `history: ${tmux.historySize()} lines`);
  });

  Screens('2,000 seats in 80×24: named rows, each with its seat numbers, a window that fits', async (ctx) => {
    const tmux = await openSeats(ctx, 3, 80, 24);
    const screen = tmux.capture();
    const rows = screen.split('\n').filter((l) => /^[A-Z]+ +1[.hHx]/.test(l));
    assert.ok(rows.length >= 10 && rows.length < 24, screen);
    assert.match(rows[0]!, /^A {3}1\. {2}2\. .* 10\. +1-10$/);
    assert.match(screen, /^Rows A-[A-Z]+ of 200 \(A-GR\)/m);
    assert.ok(screen.split('\n').every((l) => l.length <= 80));
  });

  Screens('at 60 columns the booking box stays whole and within the width', async (ctx) => {
    const tmux = await openSeats(ctx, 1, 60, 30);
    tmux.sendKeys('43', 'Enter');
    await tmux.waitFor(/Hold seat 43 \(E3\)\? \[y\/N\] >$/m);
    tmux.sendKeys('y', 'Enter');
    await tmux.waitFor(/First name \(seat 43 \(E3\) held/);
    tmux.sendKeys('Jeanne', 'Enter');
    await tmux.waitFor(/Last name \(seat 43 \(E3\) held/);
    tmux.sendKeys('Dupont', 'Enter');
    const screen = await tmux.waitFor(/\[b\]ook \[c\]ancel.*>$/m);
    const box = screen.split('\n').filter((l) => /^[+|]/.test(l));
    assert.ok(box.length >= 6, screen);
    const width = box[0]!.length;
    assert.ok(width <= 60, screen);
    for (const line of box) {
      assert.is(line.length, width, `a box line of another width:\n${screen}`);
      assert.match(line, /^(\+-+\+|\|.*\|)$/);
    }
    assert.match(screen, /\|  Booked: seat 43 \(E3\), Orchestre de Lyon — Symphonie +\|\n\| {10}fantastique \(lyon\) +\|/);
    assert.match(screen, /\|  Booking reference:   \d{10} +\|/);
    // One question on the screen, not copies of it.
    assert.is(screen.match(/\[b\]ook \[c\]ancel/g)?.length, 1, screen);
  });
}

Screens.run();
