/**
 * Red team "one host fills every slot": a gateway whose descriptor limit is lower than its
 * --max-connections (started through `sh -c 'ulimit -n 256; exec node …'`). It lowers its
 * ceiling and says so; a burst of connections from several addresses past it gets
 * `ERR TOO_MANY_CONNECTIONS` — every one of them, none closed without a word. The warning is
 * for a --max-connections the operator gave (flag or GUICHET_MAX_CONNECTIONS); the default,
 * lowered on an ordinary machine, is said as information.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { connect as connectTcp, type Socket } from 'node:net';
import { startNats, type TestNats } from '../support/nats.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';

const Fd = suite<{ nats: TestNats; gateway: GatewayProcess }>('descriptor limit');

Fd.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.gateway = await startGatewayProcess({ natsUrl: ctx.nats.url, ulimitFiles: 256, maxConnections: 20_000, snapshotSeconds: 0 });
});
Fd.after(async (ctx) => {
  await ctx.gateway?.stop();
  await ctx.nats?.stop();
});

/** Connects from `localAddress` and resolves with the first line the gateway says, or how it closed without one. */
function firstLine(port: number, localAddress: string, sockets: Socket[]): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectTcp({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(text.slice(0, nl));
    });
    socket.on('error', (err) => resolve(`error ${err.message}`));
    socket.on('close', () => resolve(`closed without a line${text ? ` (${text})` : ''}`));
  });
}

Fd('with ulimit -n 256 the ceiling is lowered to 192 (said in the log); 300 connections from 3 addresses: 192 HELLO, 108 ERR TOO_MANY_CONNECTIONS, none cut off', async ({ gateway }) => {
  assert.match(gateway.stderr, /WARN --max-connections 20000 lowered to 192: this process may open 256 descriptors/);
  assert.match(gateway.stderr, /ulimit -n 21024/);
  const sockets: Socket[] = [];
  try {
    const lines = await Promise.all(
      Array.from({ length: 300 }, (_, i) => firstLine(gateway.port, `127.0.0.${2 + (i % 3)}`, sockets)),
    );
    const kinds = new Map<string, number>();
    for (const line of lines) {
      const kind = line.startsWith('HELLO ') ? 'HELLO' : line.startsWith('ERR TOO_MANY_CONNECTIONS ') ? 'TOO_MANY' : line;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    assert.equal(Object.fromEntries(kinds), { HELLO: 192, TOO_MANY: 108 });
    assert.ok(lines.some((l) => /ERR TOO_MANY_CONNECTIONS the server has 192 connections; try again shortly/.test(l)));
    // The gateway still works, and a place given back is taken by the next.
    for (const s of sockets.splice(0, 10)) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const again = await firstLine(gateway.port, '127.0.0.5', sockets);
    assert.match(again, /^HELLO /);
  } finally {
    for (const s of sockets) s.destroy();
  }
  assert.equal(gateway.errors, [], 'no descriptor error in the log');
});

Fd.run();

const Said = suite<{ nats: TestNats }>('descriptor limit: warned only when asked for');

Said.before(async (ctx) => {
  ctx.nats = await startNats();
});
Said.after(async (ctx) => {
  await ctx.nats?.stop();
});

/** What a gateway started with `ulimit -n 256` says about its ceiling (not --quiet, so INFO lines too). */
async function ceilingLines(nats: TestNats, env: Record<string, string> = {}): Promise<string[]> {
  const gateway = await startGatewayProcess({ natsUrl: nats.url, ulimitFiles: 256, snapshotSeconds: 0, verbose: true, env });
  try {
    return gateway.stderr.split('\n').filter((l) => /connections/.test(l) && /descriptors/.test(l));
  } finally {
    await gateway.stop();
  }
}

Said('the default --max-connections, lowered: one INFO line, no WARN', async ({ nats }) => {
  const lines = await ceilingLines(nats);
  assert.is(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /^\S+Z at most 192 connections at once \(the default is 20000\): this process may open 256 descriptors/);
  assert.match(lines[0]!, /ulimit -n 21024/);
});

Said('GUICHET_MAX_CONNECTIONS given (even the default value): lowered with a WARN', async ({ nats }) => {
  const lines = await ceilingLines(nats, { GUICHET_MAX_CONNECTIONS: '20000' });
  assert.is(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /^\S+Z WARN --max-connections 20000 lowered to 192: this process may open 256 descriptors/);
});

Said.run();
