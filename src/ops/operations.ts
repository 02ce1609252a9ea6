/**
 * An operable node: its metrics, its readiness and the HTTP listener that serves them, wired
 * to a node as it starts. `guichet server --http` and the tests use it the same way:
 *
 *   const ops = await startOperations({ listen });
 *   const node = await startGuichet({ ...options, ...ops.hooks(options) });
 *   ops.attach(node);  …  ops.stopping(); await node.close(); await ops.close();
 */
import { MeasuredBatching } from '../actors/batching.js';
import type { Guichet, GuichetOptions } from '../guichet.js';
import { startOpsListener, type OpsListener } from './http.js';
import { Metrics } from './metrics.js';
import { Readiness } from './readiness.js';

export interface Operations {
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly listener: OpsListener;
  /** What to add to the node's options: start hooks, the timed batch policy, the command observer. */
  hooks(options: Pick<GuichetOptions, 'onReplayProgress' | 'gateway'>): Partial<GuichetOptions>;
  attach(node: Guichet): void;
  /** The node stops: `/readyz` answers 503 from now on. */
  stopping(): void;
  close(): Promise<void>;
}

export async function startOperations(options: { host: string; port: number; pingTimeoutMs?: number }): Promise<Operations> {
  const metrics = new Metrics();
  const readiness = new Readiness(options.pingTimeoutMs);
  // Listening before the node starts: /healthz answers, and /readyz says why not yet, during a long replay.
  const listener = await startOpsListener({ host: options.host, port: options.port, metrics, readiness });
  return {
    metrics,
    readiness,
    listener,
    hooks: ({ onReplayProgress, gateway }) => ({
      onStartPhase: readiness.started,
      onReplayProgress: (seq, untilSeq) => {
        readiness.replaying(seq, untilSeq);
        onReplayProgress?.(seq, untilSeq);
      },
      batching: metrics.batching(new MeasuredBatching()),
      gateway: { ...gateway, observer: metrics },
    }),
    attach: (node) => {
      metrics.bind(node);
      readiness.ready(node);
    },
    stopping: () => readiness.stop(),
    close: async () => {
      metrics.unbind();
      await listener.close();
    },
  };
}
