/**
 * Requests whose replies all come back to one subscription of this connection: what the
 * appends to the log use instead of the client's `request` (which `js.publish` calls).
 *
 * Why not the client's: nats.js 3.4 builds an Error, stack trace and all, for every request it
 * answers (`RequestOne.resolver` ends with `cancel()`, which rejects the already-resolved
 * promise with a new `RequestError`), whatever `noAsyncTraces` says, and races each answer
 * against a timer promise. With two appends per booking that was 4 % of a busy gateway's CPU
 * (bench throughput --profile). Here a request is a map entry and a timer.
 *
 * The subscription comes back with the connection after a reconnect, as every subscription
 * does; answers on their way when it dropped are lost, and their requests time out (the
 * store does not wait for that: it retries on the new connection, see EventStore).
 */
import { TimeoutError, createInbox, type MsgHdrs, type Msg, type NatsConnection } from '@nats-io/transport-node';

/** Nobody answers on that subject (the server's "no responders" status): the stream is not there. */
export class NoResponders extends Error {
  override readonly name = 'NoResponders';
}

interface Waiting {
  subject: string;
  resolve(msg: Msg): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class ReplyInbox {
  private prefix?: string;
  private sent = 0;
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly nc: NatsConnection) {}

  /** Publishes without waiting for anything (the messages of a batch before its commit). */
  publish(subject: string, payload: Uint8Array, headers?: MsgHdrs): void {
    this.nc.publish(subject, payload, headers ? { headers } : undefined);
  }

  /**
   * Publishes with a reply subject and resolves with the reply; rejects with TimeoutError
   * after `timeoutMs` (it may or may not have been done), NoResponders, or the publish's error.
   */
  request(subject: string, payload: Uint8Array, headers: MsgHdrs | undefined, timeoutMs: number): Promise<Msg> {
    return new Promise<Msg>((resolve, reject) => {
      const token = (++this.sent).toString(36);
      const timer = setTimeout(() => {
        if (this.waiting.delete(token)) reject(new TimeoutError());
      }, Math.max(1, timeoutMs));
      this.waiting.set(token, { subject, resolve, reject, timer });
      try {
        const reply = `${this.inbox()}.${token}`;
        this.nc.publish(subject, payload, headers ? { reply, headers } : { reply });
      } catch (err) {
        this.settle(token, err as Error);
      }
    });
  }

  /** Requests waiting for their reply now. */
  get pending(): number {
    return this.waiting.size;
  }

  private settle(token: string, outcome: Msg | Error): void {
    const w = this.waiting.get(token);
    if (!w) return; // timed out already: its late reply is dropped
    this.waiting.delete(token);
    clearTimeout(w.timer);
    if (outcome instanceof Error) w.reject(outcome);
    else w.resolve(outcome);
  }

  private inbox(): string {
    if (this.prefix) return this.prefix;
    const prefix = createInbox();
    this.prefix = prefix;
    this.nc.subscribe(`${prefix}.*`, {
      callback: (err, msg) => {
        if (err) return; // the subscription ended (the connection closed): requests time out
        const token = msg.subject.slice(prefix.length + 1);
        if (msg.data.length === 0 && msg.headers?.code === 503) {
          const subject = this.waiting.get(token)?.subject ?? 'its subject';
          this.settle(token, new NoResponders(`no responders on ${subject}: is the stream there?`));
          return;
        }
        this.settle(token, msg);
      },
    });
    return prefix;
  }
}
