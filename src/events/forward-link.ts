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
import { RequestError, TimeoutError, type NatsConnection, type Subscription } from '@nats-io/transport-node';

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

export class ForwardLink {
  constructor(private readonly nc: NatsConnection) {}

  /**
   * Answers every request on this gateway's subject with `handle`'s bytes, one request at a
   * time in arrival order as far as the handler is synchronous (it may answer out of order once
   * it awaits). Returns the stop, which takes no more requests and resolves once those already
   * received are answered (their handlers end by the requests' deadlines).
   */
  serve(gatewayId: string, handle: (request: Uint8Array) => Promise<Uint8Array>): () => Promise<void> {
    const answering = new Set<Promise<void>>();
    const sub: Subscription = this.nc.subscribe(forwardSubject(gatewayId), {
      callback: (err, msg) => {
        if (err) return; // the subscription ended (permissions, close): requesters time out or find no responder
        const answered = handle(msg.data).then(
          (reply) => {
            try {
              msg.respond(reply);
            } catch {
              // the connection closed meanwhile: the requester times out (the command may have run)
            }
          },
          () => undefined, // the handler answers its own errors; a throw here is a bug, and the requester times out
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

  /** Sends `request` to the gateway and resolves with its reply; rejects with NoSuchGateway or ForwardTimeout. */
  async request(gatewayId: string, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    try {
      const msg = await this.nc.request(forwardSubject(gatewayId), request, { timeout: Math.max(1, timeoutMs) });
      return msg.data;
    } catch (err) {
      if (err instanceof RequestError && err.isNoResponders()) throw new NoSuchGateway(`gateway ${gatewayId} is not listening`, { cause: err });
      if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError)) {
        throw new ForwardTimeout(`gateway ${gatewayId} did not answer within ${timeoutMs} ms`, { cause: err });
      }
      throw err;
    }
  }
}
