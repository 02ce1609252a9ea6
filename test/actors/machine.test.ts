/**
 * The concert actor (`concertMachine`) driven with in-memory ports: an array log that checks
 * the expected sequence and stores a batch all or none, whose appends the test completes one
 * by one (so commands can pile up behind one in flight), and xstate's simulated clock (hold
 * expiry, deadlines). Given / when / then: screening, group commit, conflict → catch up →
 * decide again, a refused batch, deadlines, expiry.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock, createActor, type Actor } from 'xstate';
import { concertMachine, type ConcertPorts, type Outcome } from '../../src/actors/machine.js';
import { groupAll, oneAtATime, MeasuredBatching, type BatchPolicy } from '../../src/actors/batching.js';
import { initialState, type ConcertCommand, type ConcertState } from '../../src/actors/concert.js';
import type { EventEnvelope, StoredEvent } from '../../src/events/envelope.js';
import { AppendConflict, PublishRefused } from '../../src/events/store.js';
import { GuichetError } from '../../src/errors.js';
import { layoutOf } from '../../src/layout.js';

const T0 = Date.parse('2027-01-01T00:00:00Z');
const HOLD_MS = 60_000;
const CONCERT = 'hot';

/** One pending append: the test stores it (or fails it) when it chooses. */
interface Append {
  events: readonly EventEnvelope[];
  expectedLastSeq: number;
  settle(): void;
  fail(err: Error): void;
}

/**
 * The log: one array of stored events with stream sequences (other concerts' events take
 * sequences too, so a concert's sequences are not 1, 2, 3…), an append that is refused whole
 * when the concert moved past the expected sequence, and the appends waiting to be settled.
 */
class MemoryLog {
  readonly stored: StoredEvent[] = [];
  readonly waiting: Append[] = [];
  /** Every append asked for, settled or not (to see how the actor grouped its commands). */
  readonly asked: { events: number; expectedLastSeq: number }[] = [];
  reads = 0;

  lastSeqOf(concert: string): number {
    for (let i = this.stored.length - 1; i >= 0; i--) if (this.stored[i]!.concert === concert) return this.stored[i]!.seq;
    return 0;
  }

  private get lastSeq(): number {
    return this.stored.at(-1)?.seq ?? 0;
  }

  append(events: readonly EventEnvelope[], expectedLastSeq: number): Promise<number> {
    this.asked.push({ events: events.length, expectedLastSeq });
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({
        events,
        expectedLastSeq,
        settle: () => {
          const concert = events[0]!.concert;
          const last = this.lastSeqOf(concert);
          if (last !== expectedLastSeq) return reject(new AppendConflict(`moved past ${expectedLastSeq}`, last));
          for (const e of events) this.stored.push({ ...e, seq: this.lastSeq + 1 });
          resolve(this.lastSeq);
        },
        fail: reject,
      });
    });
  }

  /** Another gateway (or another concert) writes, straight to the log. */
  write(event: Omit<EventEnvelope, 'id' | 'v' | 'at' | 'source'> & { concert: string }): StoredEvent {
    const stored = { id: `other-${this.stored.length}`, v: 1, at: new Date(T0).toISOString(), source: 'gw-other', ...event, seq: this.lastSeq + 1 } as StoredEvent;
    this.stored.push(stored);
    return stored;
  }

  readAfter(concert: string, afterSeq: number, untilSeq?: number): Promise<StoredEvent[]> {
    this.reads++;
    return Promise.resolve(this.stored.filter((e) => e.concert === concert && e.seq > afterSeq && (untilSeq === undefined || e.seq <= untilSeq)));
  }

  /** Settles the oldest waiting append. */
  settleNext(): Append {
    const next = this.waiting.shift();
    if (!next) throw new Error('no append is waiting');
    next.settle();
    return next;
  }
}

interface Harness {
  log: MemoryLog;
  clock: SimulatedClock;
  actor: Actor<typeof concertMachine>;
  applied: StoredEvent[];
  /** The state the actor was in after each of its microsteps (xstate's inspection). */
  steps: string[];
  /** Sends a command; its answer lands in the returned record once the actor gives it. */
  send(command: ConcertCommand, deadlineMs?: number): Answer;
}

interface Answer {
  outcome?: Outcome;
  error?: GuichetError;
  readonly answered: boolean;
}

function start(options: { capacity?: number; batching?: BatchPolicy; state?: ConcertState; lastSeq?: number; decidesExpiry?: () => boolean } = {}): Harness {
  const log = new MemoryLog();
  const clock = new SimulatedClock();
  clock.set(T0);
  const applied: StoredEvent[] = [];
  let ids = 0;
  const ports: ConcertPorts = {
    append: (events, expected) => log.append(events, expected),
    readAfter: (concert, afterSeq, untilSeq) => log.readAfter(concert, afterSeq, untilSeq),
    applied: (event) => applied.push(event),
    now: () => clock.now(),
    newId: () => `e${++ids}`,
    source: 'gw-test',
    ...(options.decidesExpiry ? { decidesExpiry: options.decidesExpiry } : {}),
  };
  const state = options.state ?? initialState(CONCERT, options.capacity ?? 20);
  const steps: string[] = [];
  const actor = createActor(concertMachine, {
    input: { state, rules: { holdMs: HOLD_MS, maxSeats: 4 }, ports, batching: options.batching ?? groupAll() },
    clock,
    inspect: (e) => {
      if (e.type === '@xstate.microstep') steps.push('value' in e.snapshot ? String(e.snapshot.value) : e.snapshot.status);
    },
  });
  actor.start();
  actor.send({ type: 'loaded', state, lastSeq: options.lastSeq ?? 0 });
  return {
    log,
    clock,
    actor,
    applied,
    steps,
    send(command, deadlineMs = 10_000) {
      const answer: Answer = {
        get answered() {
          return this.outcome !== undefined || this.error !== undefined;
        },
      };
      actor.send({
        type: 'command',
        request: {
          command,
          deadline: clock.now() + deadlineMs,
          resolve: (o) => (answer.outcome = o),
          reject: (e) => (answer.error = e),
        },
      });
      return answer;
    },
  };
}

/** Lets promise callbacks (the append's, the catch-up's) run. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

const hold = (seat: number, holder = `conn${seat}`, holdId = `h${seat}`): ConcertCommand => ({ type: 'Hold', seat, hold: holdId, holder });
const book = (seat: number, holder = `conn${seat}`, holdId = `h${seat}`): ConcertCommand => ({
  type: 'Book',
  hold: holdId,
  holder,
  firstName: 'Ada',
  lastName: 'Lovelace',
  reference: `ref${seat}`,
});
const seatOf = (state: ConcertState, seat: number) => state.seats[seat - 1]!;

// ================================================================== one command at a time

const Single = suite('concertMachine: one command');

Single('a lone HOLD is one plain append of one event; answered once it is stored, with its stored event and the state after it', async () => {
  const h = start();
  const a = h.send(hold(3));
  assert.equal(h.log.asked, [{ events: 1, expectedLastSeq: 0 }]);
  assert.not.ok(a.answered, 'not before the append is stored');
  h.log.settleNext();
  await settle();
  assert.is(a.outcome!.events.length, 1);
  assert.is(a.outcome!.events[0]!.seq, 1);
  assert.is(a.outcome!.events[0]!.type, 'SeatHeld');
  assert.equal(seatOf(a.outcome!.state, 3), { kind: 'held', hold: 'h3', holder: 'conn3', expiresAt: T0 + HOLD_MS });
  assert.equal(h.applied.map((e) => e.seq), [1]);
});

Single('a command the state refuses is answered at once, even while an append is in flight (screening)', async () => {
  const h = start();
  const first = h.send(hold(3, 'alice'));
  h.log.settleNext();
  await settle();
  assert.ok(first.outcome);
  const other = h.send(hold(4, 'bob'));
  // bob's hold is in flight; carol asks for alice's seat: refused now, not after bob's append.
  const taken = h.send(hold(3, 'carol', 'hc'));
  assert.is(taken.error?.code, 'SEAT_TAKEN');
  assert.not.ok(other.answered);
  assert.is(h.log.asked.length, 2, 'the refusal wrote nothing');
  h.log.settleNext();
  await settle();
  assert.ok(other.outcome);
});

Single('an idle actor answers a command its state refuses without leaving ready', async () => {
  const h = start();
  h.send(hold(3, 'alice'));
  h.log.settleNext();
  await settle();
  h.steps.length = 0;
  const taken = h.send(hold(3, 'carol', 'hc'));
  assert.is(taken.error?.code, 'SEAT_TAKEN');
  // In a rush, thousands of HOLDs come one by one to an actor whose seats are all held.
  assert.not.ok(h.steps.includes('appending'), `went through ${h.steps.join(' → ')}`);
  assert.is(h.actor.getSnapshot().value, 'ready');
  const free = h.send(hold(4, 'dave', 'hd'));
  assert.ok(h.steps.includes('appending'), 'an accepted one is decided on the way to appending');
  h.log.settleNext();
  await settle();
  assert.ok(free.outcome);
});

Single('a retried HOLD of a seat the holder has already: nothing written, the same hold answered', async () => {
  const h = start();
  h.send(hold(5));
  h.log.settleNext();
  await settle();
  const again = h.send(hold(5));
  await settle();
  assert.equal(again.outcome!.events, []);
  assert.is(seatOf(again.outcome!.state, 5).kind, 'held');
  assert.is(h.log.asked.length, 1);
});

Single.run();

// ================================================================== group commit

const Group = suite('concertMachine: group commit');

Group('commands that waited behind an append are decided in order and committed as ONE batch with the concert\'s expected sequence', async () => {
  const h = start();
  h.log.write({ concert: 'elsewhere', type: 'SeatHeld', data: { seat: 1, hold: 'x', holder: 'y', expiresAt: new Date(T0 + HOLD_MS).toISOString() } });
  const first = h.send(hold(1));
  const rest = [2, 3, 4, 5, 6].map((seat) => h.send(hold(seat)));
  assert.equal(h.log.asked, [{ events: 1, expectedLastSeq: 0 }], 'one append in flight');
  h.log.settleNext();
  await settle();
  assert.ok(first.outcome);
  assert.equal(h.log.asked[1], { events: 5, expectedLastSeq: 2 }, 'the five waiting commands in one batch, expected: the first HOLD\'s sequence');
  assert.not.ok(rest.some((a) => a.answered), 'none answered before the batch is stored');
  h.log.settleNext();
  await settle();
  // Each answered with its own event (consecutive sequences, in the order they came).
  assert.equal(rest.map((a) => a.outcome!.events.map((e) => [e.seq, e.data.seat])), [[[3, 2]], [[4, 3]], [[5, 4]], [[6, 5]], [[7, 6]]]);
  // Each with the state after the batch.
  for (const a of rest) assert.equal([2, 3, 4, 5, 6].map((seat) => seatOf(a.outcome!.state, seat).kind), ['held', 'held', 'held', 'held', 'held']);
  assert.equal(h.applied.map((e) => e.seq), [2, 3, 4, 5, 6, 7]);
});

Group('several commands in one message (a turn\'s worth, as the registry sends them) are screened and queued one by one, in order', async () => {
  const h = start();
  const first = h.send(hold(1));
  h.log.settleNext();
  await settle();
  assert.ok(first.outcome);
  h.send(hold(2)); // one append in flight: the message below waits behind it
  const answers: Answer[] = [];
  const request = (command: ConcertCommand) => {
    const answer: Answer = {
      get answered() {
        return this.outcome !== undefined || this.error !== undefined;
      },
    };
    answers.push(answer);
    return { command, deadline: h.clock.now() + 10_000, resolve: (o: Outcome) => (answer.outcome = o), reject: (e: GuichetError) => (answer.error = e) };
  };
  h.actor.send({ type: 'commands', requests: [request(hold(3)), request(hold(1, 'mallory', 'hm')), request(hold(4)), request(hold(3, 'eve', 'he'))] });
  // Seat 1 is held in the stored state: refused at once; the others wait for the append.
  assert.is(answers[1]!.error?.code, 'SEAT_TAKEN');
  assert.not.ok(answers[0]!.answered || answers[2]!.answered || answers[3]!.answered);
  h.log.settleNext();
  await settle();
  assert.equal(h.log.asked.at(-1), { events: 2, expectedLastSeq: 2 }, 'seats 3 and 4 in one batch, in the order they came');
  h.log.settleNext();
  await settle();
  assert.equal(answers[0]!.outcome?.events.map((e) => e.data.seat), [3]);
  assert.equal(answers[2]!.outcome?.events.map((e) => e.data.seat), [4]);
  assert.is(answers[3]!.error?.code, 'SEAT_TAKEN', 'the second HOLD of seat 3 came after the first');
});

Group('each decision sees the ones before it in the group: the second HOLD of one seat is refused by the first, at once', async () => {
  const h = start();
  h.send(hold(1));
  // All accepted on arrival (seat 7 is free in the stored state)…
  const alice = h.send(hold(7, 'alice', 'ha'));
  const bob = h.send(hold(7, 'bob', 'hb'));
  const carol = h.send(hold(8, 'carol', 'hc'));
  assert.not.ok(bob.answered);
  h.log.settleNext();
  await settle();
  // …but in the group, bob's comes after alice's, which takes his seat: he is told now, and
  // takes no place in the batch.
  assert.equal(h.log.asked[1], { events: 2, expectedLastSeq: 1 });
  assert.is(bob.error?.code, 'SEAT_TAKEN');
  assert.not.ok(alice.answered || carol.answered, 'the accepted ones wait for their batch');
  h.log.settleNext();
  await settle();
  assert.ok(alice.outcome && carol.outcome);
  assert.equal(h.log.stored.filter((e) => e.data.seat === 7).map((e) => e.type === 'SeatHeld' && e.data.holder), ['alice']);
});

Group('a HOLD of a seat the batch in flight takes is refused as it arrives, not when the batch is stored', async () => {
  const h = start({ capacity: 4 });
  h.send(hold(1)); // in flight
  const early = h.send(hold(1, 'bob', 'hb'));
  assert.is(early.error?.code, 'SEAT_TAKEN', 'seat 1 is being held');
  const best = h.send({ type: 'Hold', hold: 'hbest', holder: 'eve', best: 4, layout: layoutOf(4, [4]) });
  assert.is(best.error?.code, 'NO_ADJACENT_SEATS', 'the one row has no 4 free seats once seat 1 is held');
  const free = h.send(hold(2, 'carol', 'hc'));
  assert.not.ok(free.answered, 'a free seat waits for its turn');
  h.log.settleNext();
  await settle();
  h.log.settleNext();
  await settle();
  assert.ok(free.outcome);
  assert.equal(h.log.stored.map((e) => `${e.type} ${e.data.seat}`), ['SeatHeld 1', 'SeatHeld 2']);
});

Group('a contended batch refuses the HOLDs of its seats left waiting for the next batch, at once', async () => {
  // Two commands a batch: the mailbox keeps what the batch does not take.
  const h = start({ batching: groupAll(2) });
  h.send(hold(1));
  const alice = h.send(hold(5, 'alice', 'ha'));
  const bob = h.send(hold(5, 'bob', 'hb')); // refused by alice's hold in the batch
  const carol = h.send(hold(6, 'carol', 'hc'));
  const dave = h.send(hold(5, 'dave', 'hd')); // left in the mailbox: the batch is alice and carol
  const erin = h.send(hold(7, 'erin', 'he'));
  h.log.settleNext();
  await settle();
  assert.equal(h.log.asked[1], { events: 2, expectedLastSeq: 1 });
  assert.is(bob.error?.code, 'SEAT_TAKEN');
  assert.is(dave.error?.code, 'SEAT_TAKEN', 'not kept waiting for a batch that takes his seat');
  assert.not.ok(alice.answered || carol.answered || erin.answered);
  h.log.settleNext();
  await settle();
  h.log.settleNext();
  await settle();
  assert.ok(alice.outcome && carol.outcome && erin.outcome);
});

Group('a BOOK in the group of its own (stored) hold: the booking is written in the batch', async () => {
  const h = start();
  h.send(hold(2));
  h.log.settleNext();
  await settle();
  h.send(hold(1));
  const held = h.send(hold(3));
  const booked = h.send(book(2));
  h.log.settleNext();
  await settle();
  assert.equal(h.log.asked[2], { events: 2, expectedLastSeq: 2 });
  h.log.settleNext();
  await settle();
  assert.ok(held.outcome);
  assert.equal(booked.outcome!.events.map((e) => e.type), ['SeatBooked']);
  assert.is(seatOf(booked.outcome!.state, 2).kind, 'booked');
});

Group('a refusal or a no-op before any event of the group is answered at once', async () => {
  const h = start();
  h.send(hold(1));
  h.log.settleNext();
  await settle();
  h.send(hold(2));
  const again = h.send(hold(1)); // a retry: nothing to write
  const noHold = h.send(book(9)); // accepted? no: no such hold → refused on arrival
  assert.is(noHold.error?.code, 'NO_SUCH_HOLD');
  const next = h.send(hold(3));
  h.log.settleNext();
  await settle();
  // Decided first in the next group, against the stored state: answered without waiting.
  assert.equal(again.outcome?.events, []);
  assert.not.ok(next.answered);
  assert.equal(h.log.asked.at(-1), { events: 1, expectedLastSeq: 2 });
});

Group('a command the stored state refuses is answered at once, even behind an accepted one of its group', async () => {
  const h = start();
  h.send(hold(1));
  // While seat 1's hold is in flight, three HOLDs arrive; all pass screening (seat 1 is free).
  const late = h.send(hold(1, 'bob', 'hb'));
  const other = h.send(hold(3, 'carol', 'hc'));
  const later = h.send(hold(1, 'dave', 'hd'));
  h.log.settleNext(); // seat 1 held; bob, carol and dave are decided as one group
  await settle();
  assert.is(late.error?.code, 'SEAT_TAKEN');
  // Dave comes after carol's accepted HOLD, but the stored state refuses him by itself: he
  // does not wait for carol's batch (in a rush, thousands such would wait group after group).
  assert.is(later.error?.code, 'SEAT_TAKEN');
  assert.not.ok(other.answered);
  h.log.settleNext();
  await settle();
  assert.ok(other.outcome);
});

Group('the policy decides: one at a time commits each command alone', async () => {
  const h = start({ batching: oneAtATime });
  h.send(hold(1));
  const rest = [2, 3, 4].map((seat) => h.send(hold(seat)));
  for (let i = 0; i < 4; i++) {
    h.log.settleNext();
    await settle();
  }
  assert.equal(h.log.asked.map((a) => a.events), [1, 1, 1, 1]);
  assert.ok(rest.every((a) => a.outcome));
});

Group('no batch carries more than 1,000 events: the rest go in the next', async () => {
  const h = start({ capacity: 1_500, batching: groupAll(5_000) });
  h.send(hold(1, 'c0'));
  const rest = Array.from({ length: 1_200 }, (_, i) => h.send(hold(i + 2, `c${i + 2}`)));
  h.log.settleNext();
  await settle();
  h.log.settleNext();
  await settle();
  h.log.settleNext();
  await settle();
  assert.equal(h.log.asked.map((a) => a.events), [1, 1_000, 200]);
  assert.ok(rest.every((a) => a.outcome));
});

Group.run();

// ================================================================== conflicts and failures

const Conflict = suite('concertMachine: conflict, catch up, decide again');

Conflict('another gateway wrote first: the batch is refused whole, the actor catches up and decides every command again', async () => {
  const h = start();
  h.send(hold(1));
  const waiting = [2, 3, 4].map((seat) => h.send(hold(seat)));
  h.log.settleNext();
  await settle();
  assert.equal(h.log.asked[1], { events: 3, expectedLastSeq: 1 });
  // Meanwhile another gateway holds seat 3.
  h.log.write({ concert: CONCERT, type: 'SeatHeld', data: { seat: 3, hold: 'hx', holder: 'elsewhere', expiresAt: new Date(T0 + HOLD_MS).toISOString() } });
  h.log.settleNext(); // refused: the concert is at 2, not 1
  await settle();
  assert.is(h.log.reads, 1, 'caught up from the log');
  assert.equal(h.log.asked[2], { events: 2, expectedLastSeq: 2 }, 'seats 2 and 4 again, after the other gateway\'s event');
  // Seat 3, decided again, is taken in the stored state itself: answered now, not after the batch.
  assert.is(waiting[1]!.error?.code, 'SEAT_TAKEN');
  assert.not.ok(waiting[0]!.answered || waiting[2]!.answered);
  h.log.settleNext();
  await settle();
  assert.ok(waiting[0]!.outcome && waiting[2]!.outcome);
  // Nothing half-stored, nothing twice: seats 1, 3 (other), 2, 4.
  assert.equal(h.log.stored.map((e) => e.data.seat), [1, 3, 2, 4]);
  assert.equal(h.applied.map((e) => e.seq), [1, 2, 3, 4]);
});

Conflict('a batch that conflicted refuses nothing by its seats while it is caught up and decided again', async () => {
  const h = start();
  h.send(hold(1));
  const alice = h.send(hold(5, 'alice', 'ha'));
  h.log.settleNext();
  await settle();
  assert.is(h.send(hold(5, 'bob', 'hb')).error?.code, 'SEAT_TAKEN', 'alice\'s hold is in flight');
  // Another gateway writes (another seat); alice's batch will conflict, and its catch-up waits.
  h.log.write({ concert: CONCERT, type: 'SeatHeld', data: { seat: 9, hold: 'hx', holder: 'elsewhere', expiresAt: new Date(T0 + HOLD_MS).toISOString() } });
  let release!: () => void;
  const readAfter = h.log.readAfter.bind(h.log);
  h.log.readAfter = (concert, afterSeq, untilSeq) => new Promise((r) => (release = () => r(readAfter(concert, afterSeq, untilSeq))));
  h.log.settleNext();
  await settle();
  const carol = h.send(hold(5, 'carol', 'hc'));
  assert.not.ok(carol.answered, 'alice\'s batch was refused: her seat is not taken until it is decided again');
  release();
  await settle();
  // Decided again: alice first, then carol, whom alice's hold refuses.
  assert.is(carol.error?.code, 'SEAT_TAKEN');
  h.log.settleNext();
  await settle();
  assert.ok(alice.outcome);
});

Conflict('a batch refused for another reason stores nothing: each of its commands is answered UNAVAILABLE, and the actor goes on', async () => {
  const h = start();
  h.send(hold(1));
  const waiting = [2, 3].map((seat) => h.send(hold(seat)));
  h.log.settleNext();
  await settle();
  h.log.waiting.shift()!.fail(new PublishRefused('batch refused: atomic publish batch is incomplete', 10176));
  await settle();
  assert.equal(waiting.map((a) => a.error?.code), ['UNAVAILABLE', 'UNAVAILABLE']);
  assert.is(h.log.stored.length, 1);
  const after = h.send(hold(2));
  h.log.settleNext();
  await settle();
  assert.ok(after.outcome, 'the seat was never taken');
});

Conflict('a conflict on a lone append: caught up, decided again, stored', async () => {
  const h = start();
  const a = h.send(hold(1));
  h.log.write({ concert: CONCERT, type: 'SeatHeld', data: { seat: 9, hold: 'hx', holder: 'elsewhere', expiresAt: new Date(T0 + HOLD_MS).toISOString() } });
  h.log.settleNext();
  await settle();
  assert.equal(h.log.asked.at(-1), { events: 1, expectedLastSeq: 1 });
  h.log.settleNext();
  await settle();
  assert.is(a.outcome!.events[0]!.seq, 2);
  assert.is(seatOf(a.outcome!.state, 9).kind, 'held', 'the state includes what it caught up on');
});

Conflict('an append stored although its answer was a conflict (a lost acknowledgement, then a retry): answered from the log, never decided again', async () => {
  const h = start();
  const answer = h.send(hold(4, 'alice', 'h4'));
  await settle();
  // The append reaches the log, but its acknowledgement is lost; the hold then runs out and
  // another gateway writes its release; the retry of the append meets that write (a conflict).
  const append = h.log.waiting.shift()!;
  for (const e of append.events) h.log.stored.push({ ...e, seq: h.log.stored.length + 1 });
  h.log.write({ concert: CONCERT, type: 'SeatReleased', data: { seat: 4, hold: 'h4', reason: 'expired' } });
  append.fail(new AppendConflict('moved past 0', 2));
  await settle();
  assert.ok(answer.outcome, `answered OK, not ${answer.error?.code}`);
  assert.equal(answer.outcome!.events.map((e) => [e.type, e.seq]), [['SeatHeld', 1]], 'with the event stored the first time');
  assert.is(h.log.asked.length, 1, 'not appended again');
  assert.is(h.log.stored.filter((e) => e.type === 'SeatHeld').length, 1, 'the hold is in the log once');
});

Conflict('an append whose events came back from the stream before its acknowledgement failed: answered OK', async () => {
  const h = start();
  const answer = h.send(hold(5, 'bob', 'h5'));
  await settle();
  const append = h.log.waiting.shift()!;
  for (const e of append.events) {
    const stored = { ...e, seq: h.log.stored.length + 1 };
    h.log.stored.push(stored);
    h.actor.send({ type: 'stream.event', event: stored });
  }
  append.fail(new Error('timed out (3 attempts)'));
  await settle();
  assert.ok(answer.outcome, `answered OK, not ${answer.error?.code}`);
  assert.is(h.log.asked.length, 1);
});

Conflict.run();

// ================================================================== time

const Time = suite('concertMachine: deadlines and expiry');

Time('a command still waiting when its deadline passes is answered UNAVAILABLE and writes nothing; the others are committed', async () => {
  const h = start();
  h.send(hold(1));
  const impatient = h.send(hold(2), 1_000);
  const patient = h.send(hold(3), 10_000);
  h.clock.increment(2_000);
  h.log.settleNext();
  await settle();
  assert.is(impatient.error?.code, 'UNAVAILABLE');
  assert.equal(h.log.asked.at(-1), { events: 1, expectedLastSeq: 1 });
  h.log.settleNext();
  await settle();
  assert.ok(patient.outcome);
  assert.not.ok(h.log.stored.some((e) => e.data.seat === 2));
});

Time('a hold that runs out is released by the actor (reason expired) on time', async () => {
  const h = start();
  h.send(hold(4));
  h.log.settleNext();
  await settle();
  h.clock.increment(HOLD_MS - 1);
  await settle();
  assert.is(h.log.asked.length, 1, 'not before it runs out');
  h.clock.increment(1);
  await settle();
  assert.is(h.log.asked.length, 2);
  h.log.settleNext();
  await settle();
  const last = h.log.stored.at(-1)!;
  assert.equal([last.type, last.data.seat, last.type === 'SeatReleased' && last.data.reason], ['SeatReleased', 4, 'expired']);
  assert.is(seatOf(h.actor.getSnapshot().context.state, 4).kind, 'free');
});

Time('holds that run out while commands keep the actor busy are released in the next group, before its commands', async () => {
  const h = start();
  for (const seat of [1, 2, 3]) {
    h.send(hold(seat));
    h.log.settleNext();
    await settle();
  }
  h.clock.increment(1_000);
  h.send(hold(10)); // in flight while the three run out: the actor never rests in `ready`
  await settle();
  h.clock.increment(HOLD_MS - 1_000);
  h.send(hold(11));
  await settle();
  h.log.settleNext();
  await settle();
  assert.equal(h.log.asked.at(-1), { events: 4, expectedLastSeq: 4 }, 'three releases and the waiting hold, in one batch');
  h.log.settleNext();
  await settle();
  const last = h.log.stored.slice(-4).map((e) => [e.type, e.data.seat, e.type === 'SeatReleased' ? e.data.reason : e.type === 'SeatHeld' ? e.data.hold : '']);
  assert.equal(last, [
    ['SeatReleased', 1, 'expired'],
    ['SeatReleased', 2, 'expired'],
    ['SeatReleased', 3, 'expired'],
    ['SeatHeld', 11, 'h11'],
  ]);
});

Time('an actor that does not decide its concert (another gateway owns it) writes no expiry release, until it does', async () => {
  let owner = false;
  const h = start({ decidesExpiry: () => owner });
  h.send(hold(4));
  h.log.settleNext();
  await settle();
  h.clock.increment(HOLD_MS + 5_000);
  await settle();
  assert.is(h.log.asked.length, 1, 'nothing written while another gateway owns the concert');
  assert.is(seatOf(h.actor.getSnapshot().context.state, 4).kind, 'held');
  owner = true;
  h.clock.increment(1_000); // looked at again every second
  await settle();
  assert.is(h.log.asked.length, 2);
  h.log.settleNext();
  await settle();
  assert.equal([h.log.stored.at(-1)!.type, h.log.stored.at(-1)!.data.seat], ['SeatReleased', 4]);
});

Time('the hold that would run out first is booked: the timer waits for the next one', async () => {
  const h = start();
  h.send(hold(1));
  h.log.settleNext();
  await settle();
  h.clock.increment(10_000);
  h.send(hold(2));
  h.log.settleNext();
  await settle();
  h.send(book(1));
  h.log.settleNext();
  await settle();
  h.clock.increment(HOLD_MS - 10_000);
  await settle();
  assert.is(h.log.asked.length, 3, 'nothing to release when the booked hold would have run out');
  h.clock.increment(10_000);
  await settle();
  assert.is(h.log.asked.length, 4);
  h.log.settleNext();
  await settle();
  const last = h.log.stored.at(-1)!;
  assert.equal([last.type, last.data.seat], ['SeatReleased', 2]);
});

Time('an expired hold counts as free before its release is written: another may hold the seat', async () => {
  const h = start({ batching: oneAtATime });
  h.send(hold(4, 'alice', 'ha'));
  h.log.settleNext();
  await settle();
  h.clock.increment(HOLD_MS);
  // The release is on its way; bob's HOLD comes before it is stored.
  const bob = h.send(hold(4, 'bob', 'hb'));
  h.log.settleNext(); // the release
  await settle();
  h.log.settleNext(); // bob's hold
  await settle();
  assert.ok(bob.outcome, bob.error?.message);
  assert.is(seatOf(bob.outcome!.state, 4).kind, 'held');
});

Time.run();

// ================================================================== the measured policy

const Policy = suite('MeasuredBatching');

Policy('groups only when committing the waiting commands one by one would take longer than one batch', () => {
  const p = new MeasuredBatching(1_000, { plainMs: 0.5, batchMs: 3 });
  assert.is(p.groupSize(1), 1);
  assert.is(p.groupSize(6), 1, '6 × 0.5 ms is not more than 3 ms');
  assert.is(p.groupSize(7), 7);
  assert.is(p.groupSize(5_000), 1_000);
});

Policy('follows the costs it measures: slower batches need longer queues', () => {
  const p = new MeasuredBatching(1_000, { plainMs: 0.5, batchMs: 3 });
  for (let i = 0; i < 200; i++) p.observe(20, 15);
  for (let i = 0; i < 200; i++) p.observe(1, 0.5);
  assert.is(p.batchMs, 15);
  assert.is(p.groupSize(30), 1);
  assert.is(p.groupSize(31), 31);
});

Policy('goes by a low percentile: appends slowed by a busy event loop do not make plain publishes look as dear as batches', () => {
  const p = new MeasuredBatching(1_000, { plainMs: 0.5, batchMs: 3 });
  // Plain appends of 0.6 ms, a third of them seen late (the loop was answering a batch).
  for (let i = 0; i < 64; i++) p.observe(1, i % 3 === 0 ? 8 : 0.6);
  for (let i = 0; i < 64; i++) p.observe(10, i % 3 === 0 ? 30 : 12);
  assert.is(p.plainMs, 0.6);
  assert.is(p.batchMs, 12);
  assert.is(p.groupSize(10), 1, '10 × 0.6 ms < 12 ms');
  assert.is(p.groupSize(21), 21);
});

Policy('appends sent into a crowd of others do not count: they queued behind them, and would make small groups go as batches', () => {
  const p = new MeasuredBatching(1_000, { plainMs: 0.5, batchMs: 3 });
  // 100 concerts committing at once: every append waited ~20 ms in the stream's queue.
  for (let i = 0; i < 64; i++) p.observe(1, 20, 40);
  for (let i = 0; i < 64; i++) p.observe(3, 25, 40);
  assert.is(p.plainMs, 0.5);
  assert.is(p.batchMs, 3);
  assert.is(p.groupSize(4), 1, 'four waiting commands go one by one, not as a batch of four');
  // One other append in flight is not a crowd: measured.
  for (let i = 0; i < 64; i++) p.observe(1, 0.8, 1);
  assert.is(p.plainMs, 0.8);
});

Policy('while other concerts\' appends are in flight, a group of fewer than 10 goes as plain publishes, which the stream takes side by side', () => {
  const p = new MeasuredBatching(1_000, { plainMs: 0.5, batchMs: 3 });
  assert.is(p.groupSize(7), 7, 'alone: 7 × 0.5 ms > 3 ms, a batch');
  assert.is(p.groupSize(7, 1), 7, 'one other append is no crowd');
  assert.is(p.groupSize(7, 30), 1);
  assert.is(p.groupSize(9, 30), 1);
  assert.is(p.groupSize(10, 30), 10);
  assert.is(p.groupSize(5_000, 30), 1_000);
});

Policy('a batch measured dear is tried again after 500 plain appends, so that a cheaper one is noticed', () => {
  const p = new MeasuredBatching(1_000, { plainMs: 0.5, batchMs: 3 });
  p.observe(5, 40);
  for (let i = 0; i < 499; i++) p.observe(1, 0.5);
  assert.is(p.groupSize(10), 1);
  p.observe(1, 0.5);
  assert.is(p.groupSize(10), 10, 'the probe');
  p.observe(10, 2);
  assert.is(p.groupSize(10), 10, 'a cheap batch now: 2 ms against 10 × 0.5');
});

Policy.run();
