/**
 * Opens the event store once JetStream can serve the `TICKETS` stream, waiting for it when it
 * is on its way: a gateway started together with its NATS cluster would otherwise fail on the
 * cluster's first seconds. Measured on a 3-node cluster coming up one node at a time: requests
 * time out until the meta group has a leader, then JetStream answers "temporarily unavailable"
 * (10008), then "no suitable peers for placement" (10005) for an R3 stream until the third
 * peer has joined.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { AuthorizationError, PermissionViolationError } from '@nats-io/transport-node';
import { EventStore, StreamSettingsError, UnsupportedServerError, type StreamOptions } from './store.js';
import { STREAM_NAME } from './subjects.js';
import { retryWhileWaiting } from '../retry.js';

export interface OpenOptions extends StreamOptions {
  /** How long to wait for JetStream to be able to serve the stream (ms). */
  waitMs: number;
  /** Told each time an attempt failed and another follows, with why and how long it has waited. */
  onWait?: (reason: string, waitedMs: number) => void;
}

export async function openEventStore(nc: NatsConnection, options: OpenOptions): Promise<EventStore> {
  const { waitMs, onWait, ...stream } = options;
  // Two steps, each retried: the store (its JetStream manager checks the API answers) is made
  // once, so that a retry does not leave a second one watching the connection.
  let store: EventStore | undefined;
  try {
    return await retryWhileWaiting(
      async () => {
        store ??= await EventStore.open(nc);
        await store.ensureStream(stream);
        return store;
      },
      {
        waitMs,
        onWait,
        isPermanent,
        giveUp: (err, waited) =>
          new Error(`JetStream could not serve the ${STREAM_NAME} stream after waiting ${(waited / 1000).toFixed(1)} s: ${(err as Error).message}`, { cause: err }),
      },
    );
  } catch (err) {
    throw explain(err);
  }
}

/** Errors that waiting does not mend: the operator must change something. */
function isPermanent(err: unknown): boolean {
  return (
    err instanceof StreamSettingsError ||
    err instanceof UnsupportedServerError ||
    isJetStreamNotEnabled(err) ||
    err instanceof AuthorizationError ||
    err instanceof PermissionViolationError
  );
}

function explain(err: unknown): Error {
  if (isJetStreamNotEnabled(err)) {
    return new Error('the NATS server has no JetStream: start nats-server with JetStream on (`-js`, or a `jetstream {}` block as in nats.conf)', { cause: err });
  }
  return err as Error;
}

/** The class is not among the package's public exports; its name is part of its contract. */
function isJetStreamNotEnabled(err: unknown): boolean {
  return err instanceof Error && err.name === 'JetStreamNotEnabled';
}
