/**
 * The cold-start ceiling: read the whole TICKETS stream through one ordered consumer (the
 * gateway's way), doing nothing else (`raw`), or also decoding each event (`decode`), or
 * also folding it with evolve per concert (`fold`) — the last two split the gateway's
 * start-up cost into its parts.
 *
 *   node dist/bench/replay-raw.js --nats nats://127.0.0.1:4222 [--mode raw|decode|fold] [--batch 1000]
 * Prints one JSON line.
 */
import { connectNats } from '../src/nats-connection.js';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { evolve, initialState, type ConcertState } from '../src/actors/concert.js';
import { decodeEvent } from '../src/events/envelope.js';
import { ALL_EVENTS, STREAM_NAME } from '../src/events/subjects.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const url = flag('--nats', 'nats://127.0.0.1:4222');
const mode = flag('--mode', 'raw');
const batch = Number(flag('--batch', '1000'));
const capacity = Number(flag('--capacity', '500'));

const t0 = performance.now();
const nc = await connectNats(url, {});
const jsm = await jetstreamManager(nc);
const until = (await jsm.streams.info(STREAM_NAME)).state.last_seq;
const js = jetstream(nc);
const consumer = await js.consumers.get(STREAM_NAME, { filter_subjects: ALL_EVENTS, deliver_policy: DeliverPolicy.All });
const messages = await consumer.consume({ max_messages: batch });
let events = 0;
let bytes = 0;
let invalid = 0;
const states = new Map<string, ConcertState>();
if (until > 0) {
  for await (const msg of messages) {
    events++;
    bytes += msg.data.length;
    if (mode !== 'raw') {
      try {
        const event = decodeEvent(msg.data);
        if (mode === 'fold') {
          const state = states.get(event.concert) ?? initialState(event.concert, capacity);
          states.set(event.concert, evolve(state, event));
        }
      } catch {
        invalid++;
      }
    }
    if (msg.seq >= until) break;
  }
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage();
await messages.close();
await nc.close();
process.stdout.write(
  `${JSON.stringify({ mode, events, untilSeq: until, bytes, invalid, concerts: states.size, ms: Math.round(ms), processMs: Math.round(performance.now()), cpuMs: Math.round((cpu.user + cpu.system) / 1000) })}\n`,
);
