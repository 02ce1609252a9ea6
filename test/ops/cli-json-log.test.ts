/**
 * `guichet server --log-format json --http 127.0.0.1:0`, as an operator runs it: every line
 * it writes on stderr parses as JSON with a level and a time, a command's line has its
 * connection, verb, result and duration, and the HTTP listener it names serves /metrics
 * (counting the commands sent) and /readyz.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { GuichetClient } from '../../src/cli/client.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { rejectsWith, startNats, type TestNats } from '../support/guichet.js';
import { sample, scrape } from '../support/scrape.js';

interface Ctx {
  nats: TestNats;
  gateway: GatewayProcess;
  lines: string[];
}

const JsonLog = suite<Ctx>('the JSON log and the HTTP listener of guichet server');

JsonLog.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.lines = [];
  ctx.gateway = await startGatewayProcess({
    natsUrl: ctx.nats.url,
    verbose: true,
    serverArgs: ['--log-format', 'json', '--http', '127.0.0.1:0'],
    onLog: (line) => ctx.lines.push(line),
  });
});
JsonLog.after(async (ctx) => {
  await ctx.gateway?.stop();
  await ctx.nats?.stop();
});

type Line = Record<string, unknown> & { level: string; time: string };

const parsed = (ctx: Ctx): Line[] => ctx.lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Line);

JsonLog('commands are logged as JSON fields, the HTTP listener counts them, and every line parses', async (ctx) => {
  const c = await GuichetClient.connect({ port: ctx.gateway.port });
  try {
    await c.request('PING');
    await c.request('PING');
    await c.request('HOLD', 'rock-garage', 5);
    await rejectsWith(c.request('SEATS', 'nowhere'), 'NO_SUCH_CONCERT');
  } finally {
    c.close();
  }
  const listening = parsed(ctx).map((l) => String(l['msg'] ?? '')).find((m) => m.startsWith('metrics and probes on http://'));
  assert.ok(listening, `the listener is named: ${ctx.lines.join('\n')}`);
  const base = /http:\/\/[^ ]+:\d+/.exec(listening!)![0];
  const metrics = await scrape(base);
  assert.is(sample(metrics, 'guichet_commands_total', { verb: 'PING', result: 'OK' }), 2);
  assert.is(sample(metrics, 'guichet_commands_total', { verb: 'HOLD', result: 'OK' }), 1);
  assert.is(sample(metrics, 'guichet_commands_total', { verb: 'SEATS', result: 'NO_SUCH_CONCERT' }), 1);
  assert.is((await fetch(`${base}/readyz`)).status, 200);

  await ctx.gateway.stop();
  assert.is(ctx.gateway.exit?.code, 0);
  const lines = parsed(ctx); // throws on a line that is not JSON
  assert.ok(lines.length >= 8, `lines: ${lines.length}`);
  for (const line of lines) {
    assert.ok(['info', 'warn', 'error'].includes(line.level), `a level: ${JSON.stringify(line)}`);
    assert.ok(!Number.isNaN(Date.parse(line.time)) && line.time.endsWith('Z'), `an ISO time: ${JSON.stringify(line)}`);
  }
  const commands = lines.filter((l) => 'verb' in l);
  assert.equal(
    commands.map((l) => [l['verb'], l['result']]),
    [['PING', 'OK'], ['PING', 'OK'], ['HOLD', 'OK'], ['SEATS', 'NO_SUCH_CONCERT']],
  );
  const connection = commands[0]!['connection'];
  assert.type(connection, 'string');
  for (const l of commands) {
    assert.is(l['connection'], connection);
    assert.type(l['durationMs'], 'number');
    assert.ok((l['durationMs'] as number) >= 0);
    assert.match(String(l['peer']), /^127\.0\.0\.1:\d+$/);
  }
  assert.match(String(commands[2]!['request']), /^#\d+ HOLD rock-garage 5$/); // the client tags its requests
  assert.match(String(commands[2]!['reply']), /^#\d+ OK \{"hold":/);
  // What is always said (where to connect, the stop) is JSON too.
  assert.ok(lines.some((l) => /listening on 127\.0\.0\.1:\d+ /.test(String(l['msg']))));
  assert.ok(lines.some((l) => l['msg'] === 'stopped'));
});

JsonLog.run();
