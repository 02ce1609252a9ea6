/**
 * The machine-readable contract in schemas/: the JSON Schemas agree with the reader
 * (validateEnvelope), the AsyncAPI document names the real stream and subjects, the examples
 * in the docs validate, and every event a real gateway writes validates too.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENT_TYPES, validateEnvelope } from '../../src/events/envelope.js';
import { EventStore } from '../../src/events/store.js';
import { ALL_EVENTS, STREAM_NAME, SUBJECT_PREFIX } from '../../src/events/subjects.js';
import { readLog, type StreamMessage } from '../../src/audit/reader.js';
import { auditStream } from '../../src/audit/run.js';
import type { Guichet } from '../../src/guichet.js';
import { client, eventually, startNats, startNode, type TestNats } from '../support/guichet.js';

const SCHEMAS = join(process.cwd(), 'schemas');
const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

function schemaValidator(): { ajv: Ajv; event: ValidateFunction; byType: Map<string, ValidateFunction> } {
  // The schemas check date-times with a pattern; `format` is there for tools that know it.
  const ajv = new Ajv({ allErrors: true, strict: true, formats: { 'date-time': true } });
  for (const file of readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json'))) ajv.addSchema(readJson(join(SCHEMAS, file)));
  const byType = new Map(EVENT_TYPES.map((t) => [t, ajv.getSchema(`${t}.schema.json`)!]));
  return { ajv, event: ajv.getSchema('event.schema.json')!, byType };
}

/** Schema errors of a value, as text ('' when it validates). */
function errorsOf(validate: ValidateFunction, value: unknown): string {
  return validate(value) ? '' : JSON.stringify(validate.errors?.map((e) => `${e.instancePath} ${e.message}`));
}

function readerAccepts(value: unknown): boolean {
  try {
    validateEnvelope(value);
    return true;
  } catch {
    return false;
  }
}

// ================================================================== the documents

const Docs = suite('schemas/ and the AsyncAPI document');

Docs('each event type has a schema that compiles strictly, with the same envelope fields', () => {
  const { byType, event } = schemaValidator();
  assert.ok(event);
  for (const type of EVENT_TYPES) {
    assert.ok(byType.get(type), type);
    const schema = readJson(join(SCHEMAS, `${type}.schema.json`));
    assert.is(schema.title, type);
    assert.equal(schema.required, ['id', 'type', 'v', 'concert', 'at', 'source', 'data'], type);
    assert.equal(schema.properties.type, { const: type });
    assert.equal(schema.properties.v, { const: 1, description: 'Version 1. A reader rejects a version it does not know.' });
  }
});

Docs('the examples in the schemas validate, and the reader accepts them', () => {
  const { event, byType } = schemaValidator();
  for (const type of EVENT_TYPES) {
    const [example] = readJson(join(SCHEMAS, `${type}.schema.json`)).examples;
    assert.is(errorsOf(byType.get(type)!, example), '', type);
    assert.is(errorsOf(event, example), '', type);
    assert.ok(readerAccepts(example), type);
  }
});

Docs('the schemas and the reader refuse the same broken events', () => {
  const { event } = schemaValidator();
  const [good] = readJson(join(SCHEMAS, 'SeatBooked.schema.json')).examples;
  const breaks: Record<string, (e: any) => void> = {
    'an unknown version': (e) => (e.v = 2),
    'no version': (e) => delete e.v,
    'an unknown type': (e) => (e.type = 'SeatPainted'),
    'no id': (e) => delete e.id,
    'a time without a zone': (e) => (e.at = '2027-02-12T19:31:07'),
    'a concert that is not a subject token': (e) => (e.concert = 'jazz.nocturne'),
    'seat 0': (e) => (e.data.seat = 0),
    'a seat that is not a whole number': (e) => (e.data.seat = 1.5),
    'a reference of nine digits': (e) => (e.data.reference = '123456789'),
    'no last name': (e) => delete e.data.lastName,
    'an empty source': (e) => (e.source = ''),
    'data that is not an object': (e) => (e.data = [1]),
  };
  for (const [what, change] of Object.entries(breaks)) {
    const broken = structuredClone(good);
    change(broken);
    assert.ok(!event(broken), `the schema accepts ${what}`);
    assert.ok(!readerAccepts(broken), `the reader accepts ${what}`);
  }
  const released = readJson(join(SCHEMAS, 'SeatReleased.schema.json')).examples[0];
  assert.ok(!event({ ...released, data: { ...released.data, reason: 'bored' } }));
  assert.ok(!readerAccepts({ ...released, data: { ...released.data, reason: 'bored' } }));
});

Docs('readers ignore fields they do not know: the schemas too', () => {
  const { event } = schemaValidator();
  const [good] = readJson(join(SCHEMAS, 'SeatHeld.schema.json')).examples;
  const later = { ...good, traceId: 'abc', data: { ...good.data, section: 'B' } };
  assert.is(errorsOf(event, later), '');
  assert.ok(readerAccepts(later));
});

Docs('the AsyncAPI document names the stream, the channel, and one message per event type', () => {
  const doc = readJson(join(SCHEMAS, 'asyncapi.json'));
  const { event } = schemaValidator();
  assert.is(doc.asyncapi, '3.0.0');
  const channel = doc.channels.concertEvents;
  assert.is(channel.address, `${SUBJECT_PREFIX}.{concert}`);
  assert.is(channel['x-jetstream'].stream, STREAM_NAME);
  assert.equal(channel['x-jetstream'].subjects, [ALL_EVENTS]);
  assert.equal(Object.keys(channel.messages).sort(), [...EVENT_TYPES].sort());
  for (const type of EVENT_TYPES) {
    const message = doc.components.messages[type];
    assert.is(channel.messages[type].$ref, `#/components/messages/${type}`);
    const file = message.payload.schema.$ref as string;
    assert.ok(existsSync(join(SCHEMAS, file)), file);
    assert.is(readJson(join(SCHEMAS, file)).title, type);
    for (const example of message.examples) {
      assert.is(errorsOf(event, example.payload), '', `${type} example`);
      assert.is(example.payload.type, type);
    }
  }
  for (const op of Object.values<any>(doc.operations)) {
    assert.is(op.channel.$ref, '#/channels/concertEvents');
    assert.is(op.messages.length, EVENT_TYPES.length);
  }
});

Docs('the JSON examples in docs/events.md validate against the schemas and the reader', () => {
  const { event } = schemaValidator();
  const text = readFileSync(join(process.cwd(), 'docs', 'events.md'), 'utf8');
  const blocks = [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!));
  const events = blocks.filter((b) => b && typeof b === 'object' && 'type' in b && 'v' in b);
  assert.ok(events.length >= EVENT_TYPES.length, 'an example of each event');
  assert.equal([...new Set(events.map((e) => e.type))].sort(), [...EVENT_TYPES].sort());
  for (const e of events) {
    assert.is(errorsOf(event, e), '', JSON.stringify(e));
    assert.ok(readerAccepts(e), JSON.stringify(e));
  }
});

Docs.run();

// ================================================================== what a real gateway writes

interface Ctx {
  nats: TestNats;
  node: Guichet;
  nc: NatsConnection;
  store: EventStore;
  messages: StreamMessage[];
}

const Written = suite<Ctx>('every event a gateway writes validates');

const HOLD_SECONDS = 2;

Written.before(async (ctx) => {
  ctx.nats = await startNats();
  ctx.node = await startNode(ctx.nats, { holdSeconds: HOLD_SECONDS });
  ctx.nc = await ctx.nats.connect();
  ctx.store = await EventStore.open(ctx.nc);
  const a = await client(ctx.node);
  const b = await client(ctx.node);
  try {
    // hold → book (names given) → cancel
    const h1 = await a.request<{ hold: string }>('HOLD', 'c2', 1);
    const booking = await a.request<{ reference: string }>('BOOK', h1.hold, 'Zoë', "O'Brien-Lévêque");
    await a.request('CANCEL', booking.reference, "o'brien-leveque");
    // hold → release (declined)
    const h2 = await a.request<{ hold: string }>('HOLD', 'c2', 2);
    await a.request('RELEASE', h2.hold);
    // hold → book with the names of IDENT
    await a.request('IDENT', 'Jean Pierre', 'Nguyễn');
    const h5 = await a.request<{ hold: string }>('HOLD', 'c1', 5);
    await a.request('BOOK', h5.hold);
    // hold → the connection closes (disconnected)
    await b.request('HOLD', 'c2', 4);
    b.close();
    // a group: three seats held, booked and cancelled together (one batch each)
    const g = await a.request<{ hold: string }>('HOLD', 'c1', 20, 21, 22);
    const group = await a.request<{ reference: string }>('BOOK', g.hold, 'Ada', 'Lovelace');
    await a.request('CANCEL', group.reference, 'lovelace');
    // hold → its time runs out (expired)
    await a.request('HOLD', 'c2', 3);
    const expected = 20;
    await eventually(() => ctx.store.position().then((p) => p.lastSeq), (n) => n >= expected, (HOLD_SECONDS + 5) * 1000);
    await new Promise((r) => setTimeout(r, 200)); // nothing more comes
  } finally {
    a.close();
    b.close();
  }
  ctx.messages = [];
  const reading = await readLog(ctx.store, { untilSeq: (await ctx.store.position()).lastSeq, onMessage: (m) => ctx.messages.push(m) });
  await reading.done;
});
Written.after(async (ctx) => {
  await ctx.node?.close();
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

Written('the gateway wrote each event type and each release reason', (ctx) => {
  const events = ctx.messages.map((m) => JSON.parse(new TextDecoder().decode(m.data as Uint8Array)));
  assert.equal([...new Set(events.map((e) => e.type))].sort(), [...EVENT_TYPES].sort());
  const reasons = events.filter((e) => e.type === 'SeatReleased').map((e) => e.data.reason);
  assert.equal([...reasons].sort(), ['declined', 'disconnected', 'expired']);
  assert.is(events.length, 20);
});

Written('each validates against its schema and against the union', (ctx) => {
  const { event, byType } = schemaValidator();
  for (const m of ctx.messages) {
    const e = JSON.parse(new TextDecoder().decode(m.data as Uint8Array));
    assert.is(errorsOf(byType.get(e.type)!, e), '', `seq ${m.seq} ${e.type}`);
    assert.is(errorsOf(event, e), '', `seq ${m.seq} ${e.type}`);
  }
});

Written('each has exactly the fields its schema lists, in the documented order', (ctx) => {
  for (const m of ctx.messages) {
    const e = JSON.parse(new TextDecoder().decode(m.data as Uint8Array));
    const schema = readJson(join(SCHEMAS, `${e.type}.schema.json`));
    assert.equal(Object.keys(e), Object.keys(schema.properties), `seq ${m.seq} envelope`);
    assert.equal(Object.keys(e.data).sort(), Object.keys(schema.properties.data.properties).sort(), `seq ${m.seq} ${e.type} data`);
  }
});

Written('each carries its id as Nats-Msg-Id, and the first of each batch the expected last subject sequence', (ctx) => {
  const last = new Map<string, number>();
  let previous: { seq: number; type: string; key: string } | undefined;
  let continued = 0;
  for (const m of ctx.messages) {
    const e = JSON.parse(new TextDecoder().decode(m.data as Uint8Array));
    const key = e.data.hold ?? e.data.reference;
    assert.is(m.msgId, e.id, `seq ${m.seq}`);
    assert.is(m.subject, `${SUBJECT_PREFIX}.${e.concert}`);
    if (m.expectedLastSubjectSeq === undefined) {
      // The rest of a batch: the very next message, of the same kind, same hold or reference.
      assert.equal({ seq: m.seq - 1, type: e.type, key }, previous, `seq ${m.seq}`);
      continued++;
    } else {
      assert.is(m.expectedLastSubjectSeq, last.get(m.subject) ?? 0, `seq ${m.seq}`);
    }
    last.set(m.subject, m.seq);
    previous = { seq: m.seq, type: e.type, key };
  }
  assert.is(continued, 6, 'the group: two more seats in each of its three batches');
});

Written('and the audit of the log finds every rule kept', async (ctx) => {
  const { report } = await auditStream(ctx.store, {});
  assert.equal(report.violations, []);
  const c2 = report.concerts.find((c) => c.concert === 'c2')!;
  assert.equal(
    { holds: c2.holds, bookings: c2.bookings, cancellations: c2.cancellations, releases: c2.releases },
    { holds: 4, bookings: 1, cancellations: 1, releases: { declined: 1, expired: 1, disconnected: 1 } },
  );
});

Written.run();
