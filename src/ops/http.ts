/**
 * The operator's HTTP listener (`--http host:port`): `/metrics` in Prometheus text format,
 * `/healthz` (the process lives: 200 as long as it can answer at all) and `/readyz` (200, or
 * 503 with the reason; Kubernetes probes read only the status). Nothing else is served, and
 * nothing here touches the clients' TCP port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export interface OpsListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** `host:port`, `[v6]:port` or `:port` (then loopback), as `--http` takes it. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`--http takes host:port (such as 127.0.0.1:9464 or 0.0.0.0:9464), not ${JSON.stringify(value)}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export async function startOpsListener(options: { host: string; port: number; metrics: Metrics; readiness: Readiness }): Promise<OpsListener> {
  const { metrics, readiness } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n');
    switch (path) {
      case '/metrics':
        return send(res, 200, metrics.contentType, await metrics.text());
      case '/healthz':
        return send(res, 200, 'text/plain', 'ok\n');
      case '/readyz': {
        const { ready, reason } = await readiness.check();
        return send(res, ready ? 200 : 503, 'text/plain', ready ? 'ready\n' : `not ready: ${reason}\n`);
      }
      default:
        return send(res, 404, 'text/plain', 'not found: /metrics, /healthz and /readyz are served here\n');
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => send(res, 500, 'text/plain', `error: ${err.message}\n`));
  });
  // A probe or scraper that keeps its connection open must not hold a stop.
  server.keepAliveTimeout = 5_000;
  server.listen({ host: options.host, port: options.port });
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw new Error(`cannot listen for --http on ${options.host}:${options.port}: ${(err as Error).message}`);
    }),
  ]);
  const address = server.address();
  return {
    host: options.host,
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
