/**
 * The JetStream KV bucket `guichet_limits` (stream `KV_guichet_limits`, subjects
 * `$KV.guichet_limits.>`, history 1, in memory): counters that gateways on one NATS share,
 * not the audit log. This module only stores them — open (creating the stream when missing),
 * read one key's last value, write it back with compare-and-set; what the values mean, and
 * what to do on a conflict or an outage, is up to its user (src/gateway/shared-failures.ts).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';

export const LIMITS_BUCKET = 'guichet_limits';
export const LIMITS_STREAM = `KV_${LIMITS_BUCKET}`;
const PREFIX = `$KV.${LIMITS_BUCKET}`;

/** A key's last value and its revision (0: none yet), the revision a compare-and-set expects. */
export interface LimitsEntry {
  value: string | undefined;
  revision: number;
}

export interface LimitsKvOptions {
  /** An entry not written again for this long is dropped by the server (its count is then zero). */
  maxAgeMs: number;
  replicas?: number;
  /** Each operation fails after this long (a frozen server answers nothing). */
  timeoutMs: number;
}

export class LimitsKv {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  /** Opens the bucket, creating its stream when missing (an existing one is left as it is). */
  static async open(nc: NatsConnection, options: LimitsKvOptions): Promise<LimitsKv> {
    const jsm = await jetstreamManager(nc, { timeout: options.timeoutMs });
    const exists = await jsm.streams.info(LIMITS_STREAM).then(
      () => true,
      (err: unknown) => {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return false;
        throw err;
      },
    );
    if (!exists) {
      await jsm.streams.add({
        name: LIMITS_STREAM,
        subjects: [`${PREFIX}.>`],
        storage: StorageType.Memory,
        num_replicas: options.replicas ?? 1,
        max_msgs_per_subject: 1,
        max_age: options.maxAgeMs * 1_000_000,
        discard: DiscardPolicy.New,
        allow_direct: true,
        allow_rollup_hdrs: true,
        deny_delete: true,
      });
    }
    return new LimitsKv(jetstream(nc, { timeout: options.timeoutMs }), jsm);
  }

  /** `key`: subject tokens of [A-Za-z0-9-_], separated by dots. */
  async read(key: string): Promise<LimitsEntry> {
    const msg = await this.jsm.direct.getMessage(LIMITS_STREAM, { last_by_subj: `${PREFIX}.${key}` }).catch((err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return null;
      throw err;
    });
    return msg ? { value: msg.string(), revision: msg.seq } : { value: undefined, revision: 0 };
  }

  /**
   * Writes `value` if the key is still at `revision` (publish with the expected last subject
   * sequence): true when written, false when another writer came first; other errors throw.
   */
  async compareAndSet(key: string, value: string, revision: number): Promise<boolean> {
    try {
      await this.js.publish(`${PREFIX}.${key}`, value, { expect: { lastSubjectSequence: revision } });
      return true;
    } catch (err) {
      const conflict =
        err instanceof JetStreamApiError &&
        (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
      if (conflict) return false;
      throw err;
    }
  }
}
