/**
 * The throughput ceiling: raw JetStream appends with an expected last subject sequence and a
 * msg id (what every event append carries), one chain per subject like one actor per concert
 * (each append waits for the previous one's ack), all chains in parallel from one Node
 * process. Appends to its own stream with the TICKETS settings, so the log stays clean.
 *
 * With `--batch N` (N > 1) each append is one atomic batch of N events (what a group commit
 * sends), and the figures count events: appends/s is events/s, the latency is per batch.
 *
 *   node dist/bench/ceiling-append.js --nats nats://127.0.0.1:4222 --subjects 100 --duration 3000 [--follow] [--batch 50]
 * Prints one JSON line: appends/s in the measured window and the per-append latency.
 */
import { connectNats } from '../src/nats-connection.js';
import { DeliverPolicy, jetstream, jetstreamManager, StorageType, JetStreamApiError, JetStreamApiCodes } from '@nats-io/jetstream';
import { ulid } from 'ulid';
import { encodeEvent } from '../src/events/envelope.js';
import { publishAtomicBatch } from '../src/events/publish.js';
import { ReplyInbox } from '../src/events/reply-inbox.js';
import { summarize } from './lib/stats.js';
import { nowMs } from './lib/net.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const url = flag('--nats', 'nats://127.0.0.1:4222');
const subjects = Number(flag('--subjects', '100'));
const durationMs = Number(flag('--duration', '3000'));
const warmupMs = Number(flag('--warmup', '500'));
/** Also follow the stream live with an ordered consumer, as every gateway does. */
const follow = args.includes('--follow');
/** Events per append: 1 is a plain publish, more an atomic batch. */
const batch = Math.max(1, Math.min(1_000, Number(flag('--batch', '1'))));
const STREAM = 'BENCH_CEILING';

const nc = await connectNats(url, {});
const jsm = await jetstreamManager(nc);
try {
  const info = await jsm.streams.info(STREAM);
  if (!info.config.allow_atomic) await jsm.streams.update(STREAM, { ...info.config, allow_atomic: true });
} catch (err) {
  if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
  await jsm.streams.add({
    name: STREAM,
    subjects: ['bench.ceiling.*'],
    storage: StorageType.File,
    num_replicas: 1,
    deny_delete: true,
    deny_purge: true,
    duplicate_window: 2 * 60 * 1_000_000_000,
    allow_direct: true,
    allow_atomic: true,
  });
}
const js = jetstream(nc);

// A payload of the size of a real SeatBooked event.
const payload = (concert: string) =>
  encodeEvent({
    id: ulid(),
    v: 1,
    concert,
    at: new Date().toISOString(),
    source: 'gw-bench',
    type: 'SeatBooked',
    data: { seat: 123, hold: ulid(), reference: '1234567897', firstName: 'Bench', lastName: 'Client' },
  });

let followed = 0;
let following: { close(): Promise<void | Error> } | undefined;
if (follow) {
  const last = (await jsm.streams.info(STREAM)).state.last_seq;
  const consumer = await js.consumers.get(STREAM, {
    filter_subjects: 'bench.ceiling.*',
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: last + 1,
  });
  const messages = await consumer.consume({ max_messages: 1_000 });
  following = messages;
  void (async () => {
    for await (const msg of messages) {
      followed += msg.data.length > 0 ? 1 : 0;
      void msg.seq;
    }
  })();
}

const started = nowMs();
const windowStart = started + warmupMs;
const endAt = windowStart + durationMs;
let counted = 0;
const latency: number[] = [];
const run = Date.now().toString(36);
const inbox = new ReplyInbox(nc);

await Promise.all(
  Array.from({ length: subjects }, async (_, i) => {
    const subject = `bench.ceiling.${run}-${i}`;
    let last = 0;
    while (nowMs() < endAt) {
      const t = nowMs();
      if (batch === 1) {
        const ack = await js.publish(subject, payload(`c${i}`), { msgID: ulid(), expect: { lastSubjectSequence: last }, timeout: 5_000 });
        last = ack.seq;
      } else {
        const messages = Array.from({ length: batch }, () => ({ id: ulid(), payload: payload(`c${i}`) }));
        last = await publishAtomicBatch(inbox, subject, messages, last, 5_000);
      }
      const done = nowMs();
      if (done >= windowStart && done <= endAt) {
        counted += batch;
        latency.push(done - t);
      }
    }
  }),
);
await following?.close();
await nc.drain();
process.stdout.write(
  `${JSON.stringify({ subjects, batch, follow, followed, durationMs, appends: counted, appendsPerSec: counted / (durationMs / 1000), latency: summarize(latency) })}\n`,
);
