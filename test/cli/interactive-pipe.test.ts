/**
 * The compiled interactive client driven through a pipe, as a script would drive it
 * (`printf '…' | guichet client 127.0.0.1 <port>`), against a real gateway and nats-server:
 * booking, cancelling, and every branch that asks again.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Guichet } from '../../src/guichet.js';
import { isWellFormedReference } from '../../src/actors/reference.js';
import { GuichetClient } from '../../src/cli/client.js';
import { client, eventually, startNats, startNode, type TestNats } from '../support/guichet.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** Generous for a loaded machine; a passing test waits far less. */
const WAIT_MS = 10_000;

/** The CLI as a child process: answers written to its stdin, its stdout read as it comes. */
class Cli {
  readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  private err = '';
  /** Where the next `until` starts looking. */
  private cursor = 0;
  private readonly exit: Promise<number | null>;
  private readonly listeners = new Set<() => void>();

  constructor(port: number, answers: string[] = [], more: { args?: string[]; env?: Record<string, string> } = {}) {
    this.child = spawn(process.execPath, [MAIN, 'client', '127.0.0.1', String(port), ...(more.args ?? [])], {
      env: { ...process.env, NO_COLOR: '1', ...more.env },
      stdio: 'pipe',
    });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.out += chunk;
      for (const l of this.listeners) l();
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.err += chunk;
    });
    this.child.stdin.on('error', () => undefined);
    this.exit = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
    running.add(this);
    if (answers.length > 0) this.send(...answers);
  }

  get transcript(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  send(...answers: string[]): void {
    this.child.stdin.write(answers.map((a) => `${a}\n`).join(''));
  }

  /** Ends the input, as the end of a pipe does. */
  end(): void {
    this.child.stdin.end();
  }

  /** Waits for `pattern` in the output after the last match; resolves with what it matched. */
  until(pattern: string | RegExp): Promise<RegExpExecArray> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.out.slice(this.cursor));
        if (!m) return false;
        this.cursor += m.index + m[0].length;
        done();
        resolve(m);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${re} within ${WAIT_MS} ms; output was:\n${this.out}\nstderr:\n${this.err}`));
      }, WAIT_MS);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = () => void check();
      this.listeners.add(listener);
      check();
    });
  }

  /** Resolves with the exit status once the process ends (within WAIT_MS). */
  async exited(): Promise<number | null> {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still running after ${WAIT_MS} ms; output was:\n${this.out}`)), WAIT_MS).unref(),
    );
    return Promise.race([this.exit, timeout]);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    running.delete(this);
  }
}

const running = new Set<Cli>();

/** One nats-server and gateway for the file; suites use distinct seats so they do not interfere. */
let shared: Promise<{ nats: TestNats; node: Guichet; port: number }> | undefined;
const extraNodes: Guichet[] = [];
function env() {
  shared ??= (async () => {
    const nats = await startNats();
    process.once('exit', () => void nats.kill('SIGKILL'));
    const node = await startNode(nats);
    return { nats, node, port: node.gateway.port };
  })();
  return shared;
}
async function stopAll() {
  for (const cli of running) cli.kill();
  if (!shared) return;
  const { nats, node } = await shared;
  for (const n of extraNodes.splice(0)) await n.close().catch(() => undefined);
  await node.close();
  await nats.stop();
  shared = undefined;
}

/** Runs `body` with a CLI connected to `port`; the CLI is always killed afterwards. */
async function withCli<T>(port: number, answers: string[], body: (cli: Cli) => Promise<T>): Promise<T> {
  const cli = new Cli(port, answers);
  try {
    return await body(cli);
  } finally {
    cli.kill();
  }
}

async function seatState(port: number, concert: string, seat: number): Promise<string> {
  const c = await GuichetClient.connect({ port });
  try {
    const { map } = await c.request<{ map: string }>('SEATS', concert);
    return map[seat - 1]!;
  } finally {
    c.close();
  }
}

/** Books a seat from another connection; resolves with its reference. */
async function bookElsewhere(port: number, seat: number, first: string, last: string): Promise<string> {
  const c = await GuichetClient.connect({ port });
  try {
    const { hold } = await c.request<{ hold: string }>('HOLD', 'c1', seat);
    const { reference } = await c.request<{ reference: string }>('BOOK', hold, first, last);
    return reference;
  } finally {
    c.close();
  }
}

const REFERENCE_LINE = /Booking reference:\s+(\d{10})/;
const MENU = '[b]ook [c]ancel [l]ist [i]dent [h]elp [q]uit: ';

// ================================================================== booking

const Book = suite('interactive pipe: booking');
Book.before(async () => void (await env()));

Book('a whole booking piped at once: concert, seat, yes, names, reference; then quit', async () => {
  const { port } = await env();
  await withCli(port, ['b', '1', '11', 'y', 'Jeanne', 'Le Gall', 'q'], async (cli) => {
    assert.is(await cli.exited(), 0, cli.transcript);
    const reference = REFERENCE_LINE.exec(cli.transcript)?.[1];
    assert.ok(reference && isWellFormedReference(reference), cli.transcript);
    assert.match(cli.transcript, 'Booked: seat 11 (B1), Concert One (c1)');
    assert.match(cli.transcript, 'Name:   Jeanne Le Gall');
    // Answers echoed after their questions: the output reads as a transcript.
    assert.match(cli.transcript, 'Hold seat 11 (B1)? [y/N]: y\n');
    assert.ok(cli.transcript.endsWith(`${MENU}q\nBye.\n`), cli.transcript);
    const c = await GuichetClient.connect({ port });
    const booking = await c.request('LOOKUP', reference!, 'le gall');
    c.close();
    assert.equal(booking, { reference, concert: 'c1', seats: [11], labels: ['B1'], seat: 11, firstName: 'Jeanne', lastName: 'Le Gall' });
  });
});

Book('the seat map is shown in rows A-J, each seat its place and a plain state character', async () => {
  const { port } = await env();
  await bookElsewhere(port, 20, 'Ada', 'Lovelace');
  await withCli(port, ['1', '-', 'q'], async (cli) => {
    assert.is(await cli.exited(), 0, cli.transcript);
    assert.match(cli.transcript, /Concert One \(c1\): \d+ free, \d+ held, \d+ booked \(of 100\)\nA {2}1[.hx] {2}2[.hx]/);
    // Seat 20 is row B's tenth.
    assert.match(cli.transcript, /\nB .* 10x {2,}11-20\nC {2}1/);
    assert.match(cli.transcript, '. free   h held   H yours   x booked');
    assert.not.match(cli.transcript, /\x1b\[/);
  });
});

Book('no at "Hold seat N? [y/N]" chooses again; that seat stays free', async () => {
  const { port } = await env();
  await withCli(port, ['b', '1', '12', 'n', '13', 'y', 'Jeanne', 'Dupont', 'q'], async (cli) => {
    assert.is(await cli.exited(), 0, cli.transcript);
    assert.match(cli.transcript, 'Hold seat 12 (B2)? [y/N]: n\nNot holding seat 12 (B2). Choose again.\nSeats (1-100');
    assert.match(cli.transcript, 'Booked: seat 13 (B3), Concert One (c1)');
  });
  assert.is(await seatState(port, 'c1', 12), '.');
  assert.is(await seatState(port, 'c1', 13), 'x');
});

Book('a seat taken meanwhile: said so, shown taken, chosen again', async () => {
  const { port } = await env();
  await withCli(port, ['b', '1', '14'], async (cli) => {
    await cli.until('Hold seat 14 (B4)? [y/N]: ');
    const other = await client((await env()).node);
    await other.request('HOLD', 'c1', 14);
    cli.send('y');
    await cli.until('Seat 14 (B4) was taken meanwhile; choose again.\n');
    // Seat 14 is row B's fourth.
    const map = await cli.until(/\nB(?: +\d+[.hHx]){3} +4([.hx])/);
    assert.is(map[1], 'h');
    await cli.until('Seats (1-100 or A1-J10, several, or best 4; m for the map, - to go back): ');
    cli.send('14');
    await cli.until('Seat 14 (B4) is held by someone else right now; choose a free seat (marked .).');
    cli.send('15', 'y', 'Jeanne', 'Dupont', 'q');
    await cli.until('Booked: seat 15 (B5), Concert One (c1)');
    assert.is(await cli.exited(), 0, cli.transcript);
    other.close();
  });
});

Book('an invalid first name is refused as typed, saying why, while the seat stays held', async () => {
  const { port } = await env();
  await withCli(port, ['b', '1', '16', 'y', 'J3anne'], async (cli) => {
    await cli.until(/First name \(seat 16 \(B6\) held, \d:\d\d left\): J3anne\nThat first name has digits in it: a name is letters\. Type it again \(or - to give seat 16 \(B6\) back\)\.\nFirst name \(seat 16 \(B6\) held, \d:\d\d left\): /);
    assert.is(await seatState(port, 'c1', 16), 'h');
    cli.send('Jeanne', 'Dupont', 'q');
    await cli.until('Name:   Jeanne Dupont');
    assert.is(await cli.exited(), 0, cli.transcript);
  });
  assert.is(await seatState(port, 'c1', 16), 'x');
});

Book('IDENT once: the names are offered and Enter takes them', async () => {
  const { port } = await env();
  await withCli(port, ['i', 'Jeanne', 'Dupont', 'b', '1', '17', 'y', '', '', 'q'], async (cli) => {
    assert.is(await cli.exited(), 0, cli.transcript);
    assert.match(cli.transcript, 'Hello Jeanne Dupont: bookings will offer these names');
    assert.match(cli.transcript, /First name \(seat 17 \(B7\) held, \d:\d\d left\) \[Jeanne\]: \n/);
    assert.match(cli.transcript, 'Booked: seat 17 (B7), Concert One (c1)');
    assert.match(cli.transcript, 'Name:   Jeanne Dupont');
  });
});

Book('- at a name question gives the seat back and asks for a seat again', async () => {
  const { port } = await env();
  await withCli(port, ['b', '1', '18', 'y'], async (cli) => {
    await cli.until('First name');
    assert.is(await seatState(port, 'c1', 18), 'h');
    cli.send('-');
    await cli.until('Seat 18 (B8) given back. Choose again.');
    await cli.until('Seats (1-100');
    await eventually(() => seatState(port, 'c1', 18), (s) => s === '.');
    cli.send('-', 'q');
    assert.is(await cli.exited(), 0, cli.transcript);
  });
});

Book('a hold that runs out before the names are given: said so, and a seat is chosen again', async () => {
  const { nats } = await env();
  const quick = await startNode(nats, { holdSeconds: 1 });
  extraNodes.push(quick);
  const port = quick.gateway.port;
  await withCli(port, ['b', '2', '3', 'y'], async (cli) => {
    await cli.until(/Seat 3 \(A3\) of Concert Two \(c2\) is held for you: 0:0\d left/);
    await cli.until('First name');
    await eventually(() => seatState(port, 'c2', 3), (s) => s === '.', 3_000);
    // Said at the first name, not after both.
    cli.send('Jeanne');
    await cli.until(/left\): Jeanne\nYour hold on seat 3 \(A3\) ran out; choose again\./);
    await cli.until(/ 3\.[\s\S]*Seats \(1-10 or A1-A10, several, or best 4; m for the map, - to go back\): $/);
    cli.send('-', 'q');
    assert.is(await cli.exited(), 0, cli.transcript);
  });
});

Book('best 3: the server chooses three adjacent seats, held, named and booked together', async () => {
  const { port } = await env();
  await withCli(port, ['b', '1', 'best 3', 'y', 'Jeanne', 'Le Gall', 'q'], async (cli) => {
    assert.is(await cli.exited(), 0, cli.transcript);
    assert.match(cli.transcript, 'Hold the best 3 seats side by side? [y/N]: y\n');
    const held = /Seats (\d+)-(\d+) \(([A-J])(\d+)-([A-J])(\d+)\) of Concert One \(c1\) are held for you/.exec(cli.transcript);
    assert.ok(held, cli.transcript);
    const [, first, last, row, from, row2, to] = held;
    assert.is(Number(last) - Number(first), 2, 'three seats');
    assert.is(row, row2, 'in one row');
    assert.is(Number(to) - Number(from), 2);
    assert.match(cli.transcript, `Booked: seats ${first}-${last} (${row}${from}-${row}${to}), Concert One (c1)`);
    const reference = REFERENCE_LINE.exec(cli.transcript)?.[1];
    const c = await GuichetClient.connect({ port });
    const booking = await c.request<{ seats: number[]; labels: string[] }>('LOOKUP', reference!, 'le gall');
    c.close();
    const seats = [Number(first), Number(first) + 1, Number(last)];
    assert.equal(booking.seats, seats);
    for (const seat of seats) assert.is(await seatState(port, 'c1', seat), 'x');
  });
});

Book.run();

// ================================================================== cancelling

const Cancel = suite('interactive pipe: cancelling');
Cancel.before(async () => void (await env()));

Cancel('a mistyped reference is caught by its check digit; a wrong last name is asked again; yes cancels', async () => {
  const { port } = await env();
  const reference = await bookElsewhere(port, 21, 'Jeanne', 'Dupont');
  const typo = reference.slice(0, 9) + String((Number(reference[9]) + 1) % 10);
  await withCli(port, ['c', typo, reference, 'Martin', 'dupont', 'y', 'q'], async (cli) => {
    assert.is(await cli.exited(), 0, cli.transcript);
    const t = cli.transcript;
    assert.match(t, `${typo} is not a booking reference: its check digit does not match. A typo?\nBooking reference (10 digits, - to go back): ${reference}\n`);
    assert.match(t, `No booking ${reference} under the last name "Martin". Try the last name again, or - to retype the reference.\nLast name on the booking`);
    assert.match(t, `Booking ${reference}: seat 21 (C1) of Concert One (c1), for Jeanne Dupont.\nCancel it? [y/N]: y\n`);
    assert.match(t, `Cancelled booking ${reference}: seat 21 (C1) of Concert One (c1) is free again.`);
  });
  assert.is(await seatState(port, 'c1', 21), '.');
});

Cancel('no at "Cancel it? [y/N]" keeps the booking', async () => {
  const { port } = await env();
  const reference = await bookElsewhere(port, 22, 'Jeanne', 'Dupont');
  await withCli(port, ['c', reference, 'Dupont', 'n', 'q'], async (cli) => {
    assert.is(await cli.exited(), 0, cli.transcript);
    assert.match(cli.transcript, `Kept: booking ${reference} is unchanged.`);
  });
  assert.is(await seatState(port, 'c1', 22), 'x');
});

Cancel('rate limited: said so, and the last name is not asked again', async () => {
  const { nats } = await env();
  // A gateway whose connections are refused after two failed look-ups.
  const strict = await startNode(nats, { gateway: { connectionRateLimit: { maxFailures: 2, slowAfter: 10, windowMs: 60_000, delayStepMs: 0, maxDelayMs: 0 } } });
  extraNodes.push(strict);
  const port = strict.gateway.port;
  const reference = await bookElsewhere(port, 23, 'Jeanne', 'Dupont');
  await withCli(port, ['c', reference, 'Wrong', 'Wronger', 'Wrongest', 'Dupont', 'q'], async (cli) => {
    assert.is(await cli.exited(), 0, cli.transcript);
    // Refused at the third try: the fourth answer, "Dupont", reaches the menu, as the client stopped asking.
    assert.match(cli.transcript, /Too many failed look-ups; try again in \d+ s\. Not asking again for now\.\n/);
    assert.match(cli.transcript, `Not asking again for now.\n${MENU}Dupont\nUnknown choice "Dupont"`);
  });
  assert.is(await seatState(port, 'c1', 23), 'x');
});

Cancel.run();

// ================================================================== keep-alive

const Alive = suite('interactive pipe: keep-alive PING');
Alive.before(async () => void (await env()));

/** A gateway of its own whose idle timeout is 1 s (the default is 300 s). */
async function impatientGateway(): Promise<number> {
  const { nats } = await env();
  const node = await startNode(nats, { idleTimeoutMs: 1_000 });
  extraNodes.push(node);
  return node.gateway.port;
}

Alive('PINGs every 0.2 s (GUICHET_KEEPALIVE) keep a client at the menu connected for 3 idle timeouts', async () => {
  const port = await impatientGateway();
  const cli = new Cli(port, [], { env: { GUICHET_KEEPALIVE: '0.2' } });
  try {
    await cli.until(MENU);
    await new Promise((r) => setTimeout(r, 3_000));
    assert.not.match(cli.transcript, /lost/, cli.transcript);
    cli.send('l', 'q');
    await cli.until('Concerts:\n 1. c1');
    assert.is(await cli.exited(), 0, cli.transcript);
    assert.not.match(cli.transcript, /lost/);
  } finally {
    cli.kill();
  }
});

Alive('without them (--keepalive 0) the same gateway closes the idle client, which says so', async () => {
  const port = await impatientGateway();
  const cli = new Cli(port, [], { args: ['--keepalive', '0'] });
  try {
    await cli.until(MENU);
    await cli.until(/Connection to 127\.0\.0\.1:\d+ lost: no command for 1 s; closing \(IDLE_TIMEOUT\)\.\nReconnect\? \[Y\/n\]: /);
  } finally {
    cli.kill();
  }
});

Alive('a --keepalive that is not a number of seconds is refused before connecting', async () => {
  const { port } = await env();
  const cli = new Cli(port, [], { args: ['--keepalive', 'often'] });
  try {
    assert.is(await cli.exited(), 2, cli.transcript);
    assert.match(cli.stderr, 'error: --keepalive must be a number of seconds from 0 (never) to 86400, not "often"');
  } finally {
    cli.kill();
  }
});

Alive.run();

// ================================================================== leaving and losing the connection

const Leave = suite('interactive pipe: leaving, and a lost connection');
Leave.before(async () => void (await env()));

Leave('Ctrl-C (SIGINT) while holding gives the seat back and leaves', async () => {
  const { port } = await env();
  await withCli(port, ['b', '1', '24', 'y'], async (cli) => {
    await cli.until('First name');
    assert.is(await seatState(port, 'c1', 24), 'h');
    cli.child.kill('SIGINT');
    assert.is(await cli.exited(), 130, cli.transcript);
    assert.match(cli.transcript, 'Interrupted: seat 24 (C4) given back. Bye.');
  });
  assert.is(await seatState(port, 'c1', 24), '.');
});

Leave('input that ends mid-booking gives the seat back and exits 1', async () => {
  const { port } = await env();
  await withCli(port, ['b', '1', '25', 'y', 'Jeanne'], async (cli) => {
    await cli.until('Last name');
    cli.end();
    assert.is(await cli.exited(), 1, cli.transcript);
    assert.match(cli.transcript, 'Input ended in the middle of a question (last). Seat 25 (C5) is given back.');
  });
  await eventually(() => seatState(port, 'c1', 25), (s) => s === '.');
});

Leave('a lost connection is said, and answering y connects again', async () => {
  const { nats } = await env();
  let node = await startNode(nats);
  extraNodes.push(node);
  const port = node.gateway.port;
  await withCli(port, [], async (cli) => {
    await cli.until(MENU);
    await node.close();
    await cli.until(/Connection to 127\.0\.0\.1:\d+ lost: the server is stopping; reconnect in a moment \(SHUTTING_DOWN\)\.\nReconnect\? \[Y\/n\]: /);
    node = await startNode(nats, { port });
    extraNodes.push(node);
    cli.send('y');
    await cli.until(`Connected again to 127.0.0.1:${port}.\n${MENU}`);
    cli.send('l', 'q');
    await cli.until('Concerts:\n 1. c1');
    assert.is(await cli.exited(), 0, cli.transcript);
  });
});

Leave('declining to reconnect leaves with status 1', async () => {
  const { nats } = await env();
  const node = await startNode(nats);
  extraNodes.push(node);
  await withCli(node.gateway.port, [], async (cli) => {
    await cli.until(MENU);
    await node.close();
    await cli.until('Reconnect? [Y/n]: ');
    cli.send('n');
    assert.is(await cli.exited(), 1, cli.transcript);
    assert.ok(cli.transcript.endsWith('Reconnect? [Y/n]: n\nBye.\n'), cli.transcript);
  });
});

Leave.after(stopAll);
Leave.run();
