/**
 * The least a second gateway can do on a hot concert: follow the `TICKETS` stream live with an
 * ordered consumer, as every gateway does, and decode each event (`decodeEvent`), the least a
 * read model needs, and nothing more: no fold, no actor, no clients. Bench `hot` runs one gateway
 * beside it to measure what reading the log alone costs a machine whose cores are all busy (a
 * ceiling for two gateways sharing those cores), and prints the events it read at its end.
 *
 *   node dist/bench/bare-reader.js --nats <url>
 */
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connectNats } from '../src/nats-connection.js';
import { decodeEvent } from '../src/events/envelope.js';
import { ALL_EVENTS, STREAM_NAME } from '../src/events/subjects.js';

const args = process.argv.slice(2);
const i = args.indexOf('--nats');
const url = i >= 0 ? args[i + 1]! : 'nats://127.0.0.1:4222';

const nc = await connectNats(url, {});
const js = jetstream(nc);
const consumer = await js.consumers.get(STREAM_NAME, { filter_subjects: ALL_EVENTS, deliver_policy: DeliverPolicy.New });
// The same pull settings as the gateway's follower (src/events/store.ts).
const messages = await consumer.consume({ max_messages: 1_000, expires: 1_000 });
let read = 0;
process.once('SIGTERM', () => {
  process.stderr.write(`bare reader: ${read} events read\n`);
  void messages.close().then(() => nc.close()).then(() => process.exit(0));
});
process.stderr.write('bare reader following the log: listening on 127.0.0.1:0\n');
for await (const msg of messages) {
  decodeEvent(msg.data);
  read++;
}
