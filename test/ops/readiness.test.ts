/**
 * /healthz and /readyz as Kubernetes probes read them: not ready while the node starts, ready
 * once it has replayed; 503 while NATS is frozen (SIGSTOP) and 200 again after SIGCONT; 503
 * once the log cannot be trusted and while the gateway stops. /healthz answers 200 throughout.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import type { Guichet } from '../../src/guichet.js';
import { startOperations, type Operations } from '../../src/ops/operations.js';
import { parseListen } from '../../src/ops/http.js';
import { eventually, startNats, startNode, type TestNats } from '../support/guichet.js';

interface Ctx {
  nats: TestNats;
  ops: Operations;
  node?: Guichet;
  base: string;
}

const Probes = suite<Ctx>('health and readiness probes');

Probes.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.ops = await startOperations({ host: '127.0.0.1', port: 0, pingTimeoutMs: 500 });
  ctx.base = `http://127.0.0.1:${ctx.ops.listener.port}`;
});
Probes.after(async (ctx) => {
  ctx.nats?.resume();
  await ctx.node?.close();
  await ctx.ops?.close();
  await ctx.nats?.stop();
});

async function get(ctx: Ctx, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${ctx.base}${path}`);
  return { status: res.status, body: await res.text() };
}

Probes('before the node has started: alive, not ready, and says why', async (ctx) => {
  assert.equal(await get(ctx, '/healthz'), { status: 200, body: 'ok\n' });
  const ready = await get(ctx, '/readyz');
  assert.is(ready.status, 503);
  assert.is(ready.body, 'not ready: starting: connecting to NATS\n');
  assert.is((await get(ctx, '/nothing')).status, 404);
});

Probes('the start says each phase; once replayed, ready', async (ctx) => {
  const phases: Array<Promise<{ reason: string }>> = [];
  const hooks = ctx.ops.hooks({});
  ctx.node = await startNode(ctx.nats, {
    ...hooks,
    // The answer as of the moment the phase begins (check() decides before its first await when not started).
    onStartPhase: (phase) => {
      hooks.onStartPhase!(phase);
      phases.push(ctx.ops.readiness.check());
    },
  });
  assert.equal((await Promise.all(phases)).map((a) => a.reason), ['starting: checking the stream', 'starting: replaying the log']);
  assert.is((await get(ctx, '/readyz')).status, 503, 'not ready until attached');
  ctx.ops.attach(ctx.node);
  assert.equal(await get(ctx, '/readyz'), { status: 200, body: 'ready\n' });
});

Probes('NATS frozen (SIGSTOP): 503 with the reason, alive all the same; SIGCONT: 200 again', async (ctx) => {
  ctx.nats.pause();
  try {
    const frozen = await eventually(() => get(ctx, '/readyz'), (r) => r.status === 503, 5_000);
    assert.match(frozen.body, /^not ready: (NATS does not answer a ping within 500 ms|the NATS connection is lost)/);
    assert.is((await get(ctx, '/healthz')).status, 200);
  } finally {
    ctx.nats.resume();
  }
  const back = await eventually(() => get(ctx, '/readyz'), (r) => r.status === 200, 20_000);
  assert.is(back.body, 'ready\n');
});

Probes('a log that cannot be trusted (the stream guard halted the node): 503 naming the problem', async (ctx) => {
  ctx.node!.registry.halt('the TICKETS stream is gone (deleted)');
  assert.equal(await get(ctx, '/readyz'), { status: 503, body: 'not ready: the event log cannot be trusted: the TICKETS stream is gone (deleted)\n' });
});

Probes('stopping: 503, so that no new client is sent here', async (ctx) => {
  ctx.ops.stopping();
  assert.equal(await get(ctx, '/readyz'), { status: 503, body: 'not ready: the gateway is stopping\n' });
  assert.is((await get(ctx, '/healthz')).status, 200);
});

Probes('--http takes host:port, [v6]:port or :port', () => {
  assert.equal(parseListen('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
  assert.equal(parseListen('[::1]:9464'), { host: '::1', port: 9464 });
  assert.equal(parseListen(':9464'), { host: '127.0.0.1', port: 9464 });
  assert.throws(() => parseListen('9464'), /host:port/);
  assert.throws(() => parseListen('localhost:99999'), /host:port/);
});

Probes.run();
