/**
 * What `/readyz` answers: ready once NATS has answered, the stream has been checked and every
 * concert replayed; afterwards, ready while NATS answers a ping (within `pingTimeoutMs`) and
 * the log is trusted; not ready while the gateway stops. A reason goes with every "not ready".
 *
 * The ping is asked for on each probe, not taken from the connection's status: the client
 * notices a frozen NATS only after its own pings go unanswered (~10 s), while a probe should
 * take the gateway out of a load balancer at once. Probes that come while a ping is
 * unanswered share it, so a frozen NATS does not pile them up.
 */
import type { Guichet, StartPhase } from '../guichet.js';

export interface ReadinessAnswer {
  ready: boolean;
  reason: string;
}

export class Readiness {
  private phase = 'connecting to NATS';
  private progress?: { seq: number; untilSeq: number };
  private node?: Guichet;
  private stopping = false;
  private ping?: Promise<void>;

  constructor(private readonly pingTimeoutMs = 1_000) {}

  /** The start's hooks (GuichetOptions.onStartPhase, onReplayProgress). */
  started = (phase: StartPhase): void => {
    this.phase = phase;
  };

  replaying = (seq: number, untilSeq: number): void => {
    this.progress = { seq, untilSeq };
  };

  /** The node is up: every concert replayed, the gateway listening. */
  ready(node: Guichet): void {
    this.node = node;
  }

  /** A stop has begun: no new clients should be sent here. */
  stop(): void {
    this.stopping = true;
  }

  async check(): Promise<ReadinessAnswer> {
    if (this.stopping) return { ready: false, reason: 'the gateway is stopping' };
    const node = this.node;
    if (!node) {
      const p = this.progress;
      const at = this.phase === 'replaying the log' && p ? ` (sequence ${p.seq} of ${p.untilSeq})` : '';
      return { ready: false, reason: `starting: ${this.phase}${at}` };
    }
    const halted = node.registry.haltReason;
    if (halted) return { ready: false, reason: `the event log cannot be trusted: ${halted}` };
    if (node.nc.isClosed()) return { ready: false, reason: 'the NATS connection is closed' };
    if (!node.registry.isAvailable) return { ready: false, reason: 'the NATS connection is lost (reconnecting)' };
    if (!(await this.pinged(node))) return { ready: false, reason: `NATS does not answer a ping within ${this.pingTimeoutMs} ms` };
    return { ready: true, reason: 'ready' };
  }

  private async pinged(node: Guichet): Promise<boolean> {
    this.ping ??= node.nc.flush().finally(() => (this.ping = undefined));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.pingTimeoutMs)));
    try {
      return await Promise.race([this.ping.then(() => true, () => false), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
