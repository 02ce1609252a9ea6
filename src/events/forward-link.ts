/**
 * Gateway to gateway request/reply over core NATS: a gateway that does not own a concert sends
 * that concert's commands to its owner on `guichet.forward.<owner's gateway id>` and waits for
 * the reply. One subject per gateway, not per concert, so a command goes to exactly the gateway
 * the sender believes owns it, never to two at once. Only the NATS `gateway` role may publish or
 * subscribe there (nats-roles.conf), and replies go back on the sender's inbox, which only a
 * gateway that received the request may answer (`allow_responses`).
 *
 * This module moves bytes; what they say is src/actors/forwarding.ts's.
 */
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { TurnBatches } from '../turn-batches.js';

export const FORWARD_PREFIX = 'guichet.forward';

/** A gateway id is one subject token: letters, digits, `-` and `_`, at most 64. */
const GATEWAY_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidGatewayId(id: string): boolean {
  return GATEWAY_ID.test(id);
}

export function forwardSubject(gatewayId: string): string {
  if (!isValidGatewayId(gatewayId)) throw new Error(`invalid gateway id: ${JSON.stringify(gatewayId)}`);
  return `${FORWARD_PREFIX}.${gatewayId}`;
}

/** Nobody listens on the gateway's subject: it is gone, so nothing it was sent was run there. */
export class NoSuchGateway extends Error {
  override readonly name = 'NoSuchGateway';
}

/** No reply in time: the request may or may not have been run. */
export class ForwardTimeout extends Error {
  override readonly name = 'ForwardTimeout';
}

/** This gateway's NATS connection dropped while the request waited: its answer will not come (it may have been run). */
export class ForwardLost extends Error {
  override readonly name = 'ForwardLost';
}

/** One request waiting for its answer. */
interface Waiting {
  payload: Uint8Array;
  resolve(reply: Uint8Array): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
  settled: boolean;
  /** The batch it was sent in. */
  batch?: string;
}

const NEWLINE = 0x0a;

/**
 * Requests to one gateway are sent together: those made in one turn of the event loop travel
 * as one NATS message (one payload a line), and their answers come back as one message, a
 * line each in the same order. On a hot concert a gateway forwards tens of commands a turn, and
 * one message each way per command was most of what forwarding cost (the client's request
 * also builds an Error per request, even one answered). Payloads are single lines: JSON.
 */
export class ForwardLink {
  /** This gateway's inbox for answers: `<inbox>.<batch>` for each batch sent. */
  private inbox?: string;
  private batches = 0;
  /** Per gateway, the requests of this turn not yet sent. */
  private readonly outgoing = new TurnBatches<string, Waiting>((subject, queue) => this.send(subject, queue));
  /** Per batch sent, its requests still waiting (in order: the answer's lines match them). */
  private readonly sent = new Map<string, Waiting[]>();

  constructor(private readonly nc: NatsConnection) {
    void this.watchConnection();
  }

  /**
   * A dropped connection loses the answers on their way to this gateway's inbox (the
   * subscription comes back with the connection, the answers sent meanwhile do not): the
   * requests waiting are told at once, not at their deadline. Killing the NATS node a gateway
   * was connected to held its forwarded commands, and every client waiting on them, for the
   * whole 10 s of their deadline (the cluster fault test, about one run in two).
   */
  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type !== 'disconnect') continue;
      const lost = [...this.sent.values()].flat();
      this.sent.clear();
      for (const w of lost) settle(w, new ForwardLost('the connection to NATS dropped while the answer was on its way'));
    }
  }

  /**
   * Answers every request on this gateway's subject with `handle`'s bytes (one line). The
   * requests of one message are handled in their order; its answer goes once all of them are
   * answered. Returns the stop, which takes no more requests and resolves once those already
   * received are answered (their handlers end by the requests' deadlines).
   */
  serve(gatewayId: string, handle: (request: Uint8Array) => Promise<Uint8Array>): () => Promise<void> {
    const answering = new Set<Promise<void>>();
    const sub: Subscription = this.nc.subscribe(forwardSubject(gatewayId), {
      callback: (err, msg) => {
        if (err) return; // the subscription ended (permissions, close): requesters time out or find no responder
        const answered = Promise.all(lines(msg.data).map((request) => handle(request).catch(() => new Uint8Array(0)))).then(
          (replies) => {
            try {
              msg.respond(joinLines(replies));
            } catch {
              // the connection closed meanwhile: the requester times out (the command may have run)
            }
          },
        );
        answering.add(answered);
        void answered.finally(() => answering.delete(answered));
      },
    });
    return async () => {
      // Draining hands the callback what had arrived; the callback only starts each answer, so
      // wait for them too: a gateway that stopped before answering left its senders waiting
      // until their deadline (10 s) for commands it had decided and stored.
      await sub.drain();
      await Promise.allSettled([...answering]);
    };
  }

  /**
   * Sends `request` (one line) to the gateway and resolves with its reply; rejects with
   * NoSuchGateway (nobody listens there: it was not run) or ForwardTimeout (it may have been).
   */
  request(gatewayId: string, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (request.includes(NEWLINE)) return Promise.reject(new Error('a forwarded request is one line'));
    const subject = forwardSubject(gatewayId);
    return new Promise<Uint8Array>((resolve, reject) => {
      const waiting: Waiting = { payload: request, resolve, reject, settled: false };
      waiting.timer = setTimeout(() => {
        settle(waiting, new ForwardTimeout(`gateway ${gatewayId} did not answer within ${timeoutMs} ms`));
        // A batch none of whose requests waits any more is forgotten (its answer may never come).
        const batch = waiting.batch === undefined ? undefined : this.sent.get(waiting.batch);
        if (batch?.every((w) => w.settled)) this.sent.delete(waiting.batch!);
      }, Math.max(1, timeoutMs));
      this.outgoing.add(subject, waiting);
    });
  }

  /** Sends one gateway's requests of this turn as one message. */
  private send(subject: string, queue: Waiting[]): void {
    const waiting = queue.filter((w) => !w.settled);
    if (waiting.length === 0) return;
    try {
      const batch = String(++this.batches);
      const reply = `${this.answerInbox()}.${batch}`;
      this.sent.set(batch, waiting);
      for (const w of waiting) w.batch = batch;
      this.nc.publish(subject, joinLines(waiting.map((w) => w.payload)), { reply });
    } catch (err) {
      for (const w of waiting) settle(w, err as Error);
    }
  }

  private answerInbox(): string {
    if (this.inbox) return this.inbox;
    const inbox = createInbox();
    this.inbox = inbox;
    this.nc.subscribe(`${inbox}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const batch = msg.subject.slice(inbox.length + 1);
        const waiting = this.sent.get(batch);
        if (!waiting) return; // every request of it timed out already
        this.sent.delete(batch);
        // The server's "no responders" status: nobody subscribes to that gateway's subject.
        if (msg.data.length === 0 && msg.headers?.code === 503) {
          for (const w of waiting) settle(w, new NoSuchGateway(`the gateway is not listening (${msg.headers.description || 'no responders'})`));
          return;
        }
        const replies = lines(msg.data);
        waiting.forEach((w, i) => settle(w, replies[i] ?? new Error('the gateway answered fewer requests than it was sent')));
      },
    });
    return inbox;
  }
}

function settle(w: Waiting, outcome: Uint8Array | Error): void {
  if (w.settled) return;
  w.settled = true;
  clearTimeout(w.timer);
  if (outcome instanceof Error) w.reject(outcome);
  else w.resolve(outcome);
}

/** The lines of a message, without copying. */
function lines(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (let i = data.indexOf(NEWLINE); i >= 0; i = data.indexOf(NEWLINE, from)) {
    out.push(data.subarray(from, i));
    from = i + 1;
  }
  out.push(data.subarray(from));
  return out;
}

function joinLines(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, parts.length - 1));
  let at = 0;
  parts.forEach((p, i) => {
    if (i > 0) out[at++] = NEWLINE;
    out.set(p, at);
    at += p.length;
  });
  return out;
}
