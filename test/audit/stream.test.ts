/**
 * `guichet audit` against a real nats-server: a generated log with known figures, a log
 * crafted to break each rule (written straight to the stream), holes in a stream that allows
 * deletes, --until and --concert, and the command's output and exit code.
 */
import { suite } from '../support/suite.js';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NatsConnection } from '@nats-io/transport-node';
import { StorageType } from '@nats-io/jetstream';
import { encodeEvent, type EventEnvelope } from '../../src/events/envelope.js';
import { EventStore } from '../../src/events/store.js';
import { ALL_EVENTS, STREAM_NAME, subjectFor } from '../../src/events/subjects.js';
import { auditStream } from '../../src/audit/run.js';
import type { ViolationCode } from '../../src/audit/auditor.js';
import { generateLog, publishEvents, type GeneratedLog } from '../../bench/generate-log.js';
import { startNats, type Role, type TestNats } from '../support/nats.js';
import { REF, T0, booked, cancelled, held, released } from './support.js';

const MAIN = join(process.cwd(), 'dist/src/cli/main.js');
const exec = promisify(execFile);

/** Runs `guichet audit …`; its exit code, stdout and stderr (a non-zero exit does not throw). */
async function guichetAudit(nats: TestNats, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [MAIN, 'audit', '--nats', nats.url, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Ctx {
  nats: TestNats;
  nc: NatsConnection;
  store: EventStore;
  dir: string;
}

async function open(ctx: Ctx, role: Role = 'gateway'): Promise<void> {
  ctx.nats = await startNats();
  ctx.nc = await ctx.nats.connectAs(role);
  ctx.store = await EventStore.open(ctx.nc);
  ctx.dir = await mkdtemp(join(tmpdir(), 'guichet-audit-'));
}

async function close(ctx: Ctx): Promise<void> {
  await ctx.nc.close();
  await ctx.nats.stop();
  await rm(ctx.dir, { recursive: true, force: true });
}

// ================================================================== a generated log

const Generated = suite<Ctx & { log: GeneratedLog; catalogFile: string }>('audit of a generated log with known figures');

Generated.before(async (ctx) => {
  await open(ctx);
  await ctx.store.ensureStream();
  const generator = generateLog({ events: 3_000, concerts: 4, capacity: 40, seed: 7 });
  const events: EventEnvelope[] = [];
  for (;;) {
    const step = generator.next();
    if (step.done) {
      ctx.log = step.value;
      break;
    }
    events.push(step.value);
  }
  await publishEvents(ctx.store, events[Symbol.iterator]());
  ctx.catalogFile = join(ctx.dir, 'catalog.json');
  await writeFile(ctx.catalogFile, JSON.stringify(ctx.log.catalog));
});
Generated.after(close);

Generated('finds every figure the generator kept, and no violation', async (ctx) => {
  const capacities = new Map(ctx.log.catalog.map((c) => [c.id, c.capacity]));
  const { report, stream } = await auditStream(ctx.store, { capacities, now: () => ctx.log.end });
  assert.equal(report.violations, []);
  assert.is(report.messages, 3_000);
  assert.is(stream.lastSeq, 3_000);
  for (const c of report.concerts) {
    const want = ctx.log.expected.get(c.concert)!;
    const { holds, bookings, cancellations, releases, lapsed, occupancy, map } = c;
    assert.equal({ holds, bookings, cancellations, releases, lapsed, occupancy, map }, want, c.concert);
  }
  const total = report.concerts.reduce((sum, c) => sum + c.holds + c.bookings + c.cancellations + c.releases.declined + c.releases.expired + c.releases.disconnected, 0);
  assert.is(total, 3_000, 'every event is counted once');
});

Generated('the command prints the same figures as JSON and exits 0', async (ctx) => {
  const until = new Date(ctx.log.end).toISOString();
  const { code, stdout } = await guichetAudit(ctx.nats, '--json', '--concerts', ctx.catalogFile, '--until', until);
  assert.is(code, 0);
  const doc = JSON.parse(stdout) as { ok: boolean; concerts: Array<{ concert: string; map: string; bookings: number }>; asOf: { clock: string } };
  assert.is(doc.ok, true);
  assert.is(doc.asOf.clock, until);
  for (const c of doc.concerts) {
    assert.is(c.map, ctx.log.expected.get(c.concert)!.map, c.concert);
    assert.is(c.bookings, ctx.log.expected.get(c.concert)!.bookings, c.concert);
  }
});

Generated('the human report has each concert, its figures and seat map, and says the invariants hold', async (ctx) => {
  const { code, stdout } = await guichetAudit(ctx.nats, '--concerts', ctx.catalogFile, '--concert', 'bench-002');
  assert.is(code, 0);
  const want = ctx.log.expected.get('bench-002')!;
  assert.match(stdout, /^bench-002 — 40 seats; /m);
  assert.match(stdout, new RegExp(`holds ${want.holds} · bookings ${want.bookings} · cancellations ${want.cancellations}`));
  assert.match(stdout, / 1[.hx]  2[.hx]/, 'the seat grid');
  assert.not.match(stdout, /bench-001/);
  assert.match(stdout, /Invariants: all hold\./);
});

Generated('--until a sequence shows the log as it was then', async (ctx) => {
  const half = await auditStream(ctx.store, { until: { kind: 'seq', seq: 1_500 } });
  assert.is(half.report.lastSeq, 1_500);
  assert.is(half.report.messages, 1_500);
  const holds = half.report.concerts.reduce((sum, c) => sum + c.holds, 0);
  const full = await auditStream(ctx.store, {});
  assert.ok(holds < full.report.concerts.reduce((sum, c) => sum + c.holds, 0));
});

Generated.run();

// ================================================================== a log crafted to break each rule

interface Broken {
  /** What the audit must say about this concert: [sequence, code]. */
  expect: Array<[number, ViolationCode]>;
}

const Crafted = suite<Ctx & { cases: Map<string, Broken>; catalogFile: string }>('audit of a log crafted to break each rule');

Crafted.before(async (ctx) => {
  await open(ctx);
  await ctx.store.ensureStream();
  ctx.cases = new Map();
  const put = async (event: EventEnvelope, subject = subjectFor(event.concert), msgId: string | undefined = event.id) =>
    ctx.store.appendRaw(subject, encodeEvent(event), msgId);
  const raw = async (concert: string, text: string) => ctx.store.appendRaw(subjectFor(concert), new TextEncoder().encode(text));
  const expect = (concert: string, ...pairs: Array<[number, ViolationCode]>) => ctx.cases.set(concert, { expect: pairs });

  // A concert that keeps every rule.
  await put(held('fine', 0, 1, 'F1'));
  await put(booked('fine', 10, 1, 'F1', REF[5]));
  await put(cancelled('fine', 20, 1, REF[5]));
  expect('fine');

  await put(held('double', 0, 1, 'D1'));
  await put(booked('double', 10, 1, 'D1', REF[0]));
  expect('double', [await put(booked('double', 20, 1, 'D1', REF[1])), 'DOUBLE_BOOKING']);

  expect('nohold', [await put(booked('nohold', 0, 1, 'N1', REF[2])), 'BOOKING_WITHOUT_LIVE_HOLD']);

  await put(held('expired', 0, 1, 'E1', 60));
  expect('expired', [await put(booked('expired', 61, 1, 'E1', REF[3])), 'BOOKING_WITHOUT_LIVE_HOLD']);

  await put(held('released', 0, 1, 'R1'));
  await put(released('released', 5, 1, 'R1', 'declined'));
  expect('released', [await put(booked('released', 10, 1, 'R1', REF[4])), 'BOOKING_WITHOUT_LIVE_HOLD']);

  expect('cancel', [await put(cancelled('cancel', 0, 3, '1000000065')), 'CANCEL_WITHOUT_BOOKING']);

  // The reference REF[0] was booked on 'double' already.
  await put(held('dupref', 0, 1, 'X1'));
  expect('dupref', [await put(booked('dupref', 10, 1, 'X1', REF[0])), 'DUPLICATE_REFERENCE']);

  await put(held('taken', 0, 1, 'T1'));
  expect('taken', [await put(held('taken', 10, 1, 'T2')), 'SEAT_NOT_FREE']);

  expect('norelease', [await put(released('norelease', 0, 1, 'Z1', 'disconnected')), 'RELEASE_WITHOUT_HOLD']);

  await put(held('early', 0, 1, 'Y1'));
  expect('early', [await put(released('early', 30, 1, 'Y1', 'expired')), 'EARLY_EXPIRY']);

  expect('toobig', [await put(held('toobig', 0, 11, 'B1')), 'NO_SUCH_SEAT']);

  const first = held('dupid', 0, 1, 'I1');
  await put(first);
  // Without a Nats-Msg-Id header ('' sets none), or JetStream itself would drop the duplicate.
  expect('dupid', [await put({ ...held('dupid', 10, 2, 'I2'), id: first.id }, undefined, ''), 'DUPLICATE_ID']);

  expect('msgid', [await put(held('msgid', 0, 1, 'M1'), undefined, 'some-other-id'), 'MSG_ID_MISMATCH']);

  expect(
    'garbage',
    [await raw('garbage', '{"id": "unfinished'), 'INVALID_EVENT'],
    [await raw('garbage', JSON.stringify({ ...held('garbage', 0, 1, 'G1'), v: 2 })), 'INVALID_EVENT'],
    [await raw('garbage', JSON.stringify({ ...held('garbage', 0, 1, 'G2'), type: 'SeatPainted' })), 'INVALID_EVENT'],
  );

  // An event of concert 'elsewhere' on the subject of 'astray'.
  expect('elsewhere', [await put(held('elsewhere', 0, 1, 'W1'), subjectFor('astray')), 'WRONG_SUBJECT']);

  ctx.catalogFile = join(ctx.dir, 'catalog.json');
  await writeFile(ctx.catalogFile, JSON.stringify([{ id: 'toobig', title: 'Too big', capacity: 10 }]));
});
Crafted.after(close);

Crafted('names every offending event, and only those', async (ctx) => {
  const { report } = await auditStream(ctx.store, { capacities: new Map([['toobig', 10]]), now: () => T0 });
  const found = new Map<string, Array<[number, string]>>();
  for (const v of report.violations) {
    const list = found.get(v.concert) ?? [];
    list.push([v.seq, v.code]);
    found.set(v.concert, list);
  }
  for (const [concert, { expect }] of ctx.cases) assert.equal(found.get(concert) ?? [], expect, concert);
  const expectedCount = [...ctx.cases.values()].reduce((sum, c) => sum + c.expect.length, 0);
  assert.is(report.violationCount, expectedCount);
  assert.is(report.ok, false);
  assert.is(report.invalid, 4, 'three that do not decode, one on the wrong subject');
});

Crafted('the command exits 1 and lists each offence: sequence, type, concert, what is wrong', async (ctx) => {
  const { code, stdout } = await guichetAudit(ctx.nats, '--concerts', ctx.catalogFile);
  assert.is(code, 1);
  const count = [...ctx.cases.values()].reduce((sum, c) => sum + c.expect.length, 0);
  assert.match(stdout, new RegExp(`Invariants: ${count} violations`));
  const [[doubleSeq]] = ctx.cases.get('double')!.expect as [[number, string]];
  assert.match(stdout, new RegExp(`seq ${doubleSeq}  SeatBooked  double  DOUBLE_BOOKING: seat 1 was booked at sequence \\d+ \\(reference ${REF[0]}\\)`));
  assert.match(stdout, /SeatHeld  garbage  INVALID_EVENT: not a valid event: v must be 1/);
  assert.match(stdout, /SeatPainted  garbage  INVALID_EVENT: not a valid event: unknown event type "SeatPainted"/);
  assert.match(stdout, /SeatHeld  elsewhere  WRONG_SUBJECT: an event of concert elsewhere published on tickets\.events\.astray/);
});

Crafted('--json lists the violations with their codes', async (ctx) => {
  const { code, stdout } = await guichetAudit(ctx.nats, '--json', '--concerts', ctx.catalogFile);
  assert.is(code, 1);
  const doc = JSON.parse(stdout) as { ok: boolean; violations: Array<{ seq: number; type: string; concert: string; code: string; message: string }> };
  assert.is(doc.ok, false);
  const [[seq]] = ctx.cases.get('taken')!.expect as [[number, string]];
  const v = doc.violations.find((x) => x.seq === seq)!;
  assert.equal({ type: v.type, concert: v.concert, code: v.code }, { type: 'SeatHeld', concert: 'taken', code: 'SEAT_NOT_FREE' });
  assert.match(v.message, /seat 1 is held by hold T1/);
});

Crafted('--concert audits one concert alone', async (ctx) => {
  const fine = await guichetAudit(ctx.nats, '--concert', 'fine', '--json');
  assert.is(fine.code, 0);
  const doc = JSON.parse(fine.stdout) as { concerts: Array<{ concert: string; bookings: number; cancellations: number; map: string }> };
  assert.equal(
    doc.concerts.map((c) => [c.concert, c.bookings, c.cancellations, c.map]),
    [['fine', 1, 1, '.']],
  );
  const double = await guichetAudit(ctx.nats, '--concert', 'double');
  assert.is(double.code, 1);
  assert.match(double.stdout, /DOUBLE_BOOKING/);
  assert.not.match(double.stdout, /INVALID_EVENT/);
});

Crafted('wrong arguments are usage errors (exit 2); an unreachable NATS is an error (exit 1)', async (ctx) => {
  const until = await guichetAudit(ctx.nats, '--until', 'yesterday');
  assert.is(until.code, 2);
  assert.match(until.stderr, /--until: "yesterday" is not a stream sequence/);
  const concert = await guichetAudit(ctx.nats, '--concert', 'no such');
  assert.is(concert.code, 2);
  const { code, stderr } = await exec(process.execPath, [MAIN, 'audit', '--nats', 'nats://127.0.0.1:1']).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => err,
  );
  assert.is(code, 1);
  assert.match(stderr, /cannot reach NATS at nats:\/\/127\.0\.0\.1:1/);
});

Crafted.run();

// ================================================================== holes in the stream

const Holes = suite<Ctx>('audit of a stream with messages deleted');

Holes.before(async (ctx) => {
  await open(ctx, 'admin'); // deleting messages is an admin's act
  // A TICKETS stream made by someone else, without deny_delete: messages can go missing.
  await ctx.store.jsm.streams.add({ name: STREAM_NAME, subjects: [ALL_EVENTS], storage: StorageType.File });
});
Holes.after(close);

Holes('finds the missing sequences and the broken chain of expected sequences', async (ctx) => {
  const last = new Map<string, number>();
  const append = async (event: EventEnvelope) => {
    const subject = subjectFor(event.concert);
    const ack = await ctx.store.js.publish(subject, encodeEvent(event), { msgID: event.id, expect: { lastSubjectSequence: last.get(subject) ?? 0 } });
    last.set(subject, ack.seq);
    return ack.seq;
  };
  await append(held('h1', 0, 1, 'A'));
  const gone = await append(held('h1', 10, 2, 'B'));
  const after = await append(held('h1', 20, 3, 'C'));
  await append(held('h2', 30, 1, 'D'));
  const end = await append(held('h2', 40, 2, 'E'));
  await ctx.store.jsm.streams.deleteMessage(STREAM_NAME, gone);
  await ctx.store.jsm.streams.deleteMessage(STREAM_NAME, end);
  const { report } = await auditStream(ctx.store, { now: () => T0 });
  assert.equal(
    report.violations.map((v) => [v.seq, v.code]),
    [
      [after, 'SEQUENCE_GAP'],
      [after, 'CHAIN_BROKEN'],
      [end, 'SEQUENCE_GAP'],
    ],
  );
  assert.match(report.violations[1]!.message, new RegExp(`written after sequence ${gone} of tickets\\.events\\.h1, which the stream no longer has`));
});

Holes.run();
