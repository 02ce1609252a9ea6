/**
 * The gateway's Prometheus metrics (prom-client), each in one place with its labels.
 *
 * What is counted as it happens (commands, appends, events) is kept in plain numbers
 * (tallies.ts): per command a map look-up or two, an increment and a bucket found, nothing
 * allocated; children are made once per verb and result and kept. Everything else (connections, watchers, seats, lag) is read from the live
 * node only when Prometheus scrapes. docs/operations.md, "Monitoring", says what each means
 * and what to alert on.
 */
import { Gauge, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import { FastCounter, FastHistogram } from './tallies.js';
import type { BatchPolicy } from '../actors/batching.js';
import { occupancy } from '../actors/concert.js';
import type { Guichet } from '../guichet.js';
import type { CommandObserver } from '../gateway/command-observer.js';
import { COMMANDS } from '../gateway/commands.js';
import { readLag, type Lag } from './lag.js';

/** Command latencies, from a cached read (~µs) to an append retried through a NATS failover (s). */
const COMMAND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Appends: a plain publish ~0.5 ms, a batch ~3 ms on a quiet machine; retries up to 3 × 2 s. */
const APPEND_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 6];
/** Events per append: 1 is a plain publish; a batch takes at most 1,000. */
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000];
/** The results of LOOKUP and CANCEL that refuse a look-up: what a guesser of references gets. */
const LOOKUP_REFUSALS = new Set(['NOT_FOUND', 'BAD_REFERENCE', 'RATE_LIMITED']);
/** How long a scrape waits for NATS to say where the stream ends (then the lag is left unsaid). */
const LAG_TIMEOUT_MS = 1_000;

type Child = { inc(): void };
type Timer = { observe(value: number): void };

interface VerbMetrics {
  duration: Timer;
  results: Map<string, Child>;
}

export class Metrics implements CommandObserver {
  readonly registry = new PromRegistry();
  private node?: Guichet;
  private readonly commands: FastCounter;
  private readonly commandSeconds: FastHistogram;
  private readonly lookupRefusals: FastCounter;
  private readonly refusedConnections: FastCounter;
  private readonly appendSeconds: FastHistogram;
  private readonly appendEvents: Timer;
  private readonly eventsApplied: Child;
  private readonly replaySeconds: Gauge;
  private readonly replayedEvents: Gauge;
  private readonly byVerb = new Map<string, VerbMetrics>();
  private readonly refusals = new Map<string, Child>();
  private readonly plainAppend: Timer;
  private readonly batchAppend: Timer;
  private lagRead?: Promise<Lag | undefined>;
  private unsubscribe?: () => void;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const self = this;
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const r = this.registry;
    this.commands = new FastCounter(r, 'guichet_commands_total', 'Commands answered, by verb and result (OK or the ERR code)', ['verb', 'result']);
    this.commandSeconds = new FastHistogram(r, 'guichet_command_duration_seconds', "Time from a command's turn on its connection to its reply, by verb", ['verb'], COMMAND_BUCKETS);
    this.lookupRefusals = new FastCounter(
      r,
      'guichet_lookup_refusals_total',
      'LOOKUP and CANCEL refused: NOT_FOUND (wrong reference or name), BAD_REFERENCE (check digit), RATE_LIMITED',
      ['verb', 'reason'],
    );
    this.refusedConnections = new FastCounter(r, 'guichet_connections_refused_total', 'Connections refused before their session, by ERR code', ['reason']);
    this.appendSeconds = new FastHistogram(r, 'guichet_append_duration_seconds', 'Time of a stored append to the TICKETS stream: plain (one event) or batch (an atomic batch)', ['kind'], APPEND_BUCKETS);
    this.appendEvents = new FastHistogram(r, 'guichet_append_events', 'Events per stored append (1: a plain publish; more: an atomic batch)', [], BATCH_SIZE_BUCKETS).child();
    this.eventsApplied = new FastCounter(r, 'guichet_events_applied_total', "Events applied to the concerts' states after the start-up replay, this gateway's and others'").child();
    this.replaySeconds = new Gauge({ name: 'guichet_startup_seconds', help: 'How long the start took, NATS connection and replay of the log included', registers });
    this.replayedEvents = new Gauge({ name: 'guichet_startup_replayed_events', help: 'Events the start-up replay read (after the snapshots it started from)', registers });
    this.plainAppend = this.appendSeconds.child('plain');
    this.batchAppend = this.appendSeconds.child('batch');
    // Every verb's OK, and every refusal, from zero: a rate over a series that appears late misses its start.
    for (const verb of Object.keys(COMMANDS)) this.verb(verb).results.set('OK', this.commands.child(verb, 'OK'));
    for (const verb of ['LOOKUP', 'CANCEL']) for (const reason of LOOKUP_REFUSALS) this.refusal(verb, reason);

    new Gauge({
      name: 'guichet_connections',
      help: 'Client connections open on this gateway',
      registers,
      collect() {
        if (self.node) this.set(self.node.gateway.connections);
      },
    });
    new Gauge({
      name: 'guichet_connections_max',
      help: 'Connections this gateway accepts (--max-connections, or less under the descriptor limit)',
      registers,
      collect() {
        if (self.node) this.set(self.node.gateway.maxConnections);
      },
    });
    new Gauge({
      name: 'guichet_watchers',
      help: 'Connections watching a concert (WATCH)',
      labelNames: ['concert'],
      registers,
      collect() {
        const node = self.node;
        if (node) for (const c of node.registry.catalog) this.set({ concert: c.id }, node.gateway.watchersOf(c.id));
      },
    });
    const seats = (name: string, help: string, count: (o: { held: number; booked: number; free: number }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['concert'],
        registers,
        collect() {
          const node = self.node;
          if (!node) return;
          const now = Date.now();
          for (const c of node.registry.catalog) {
            const state = node.registry.state(c.id);
            if (state) this.set({ concert: c.id }, count(occupancy(state, now)));
          }
        },
      });
    seats('guichet_held_seats', 'Seats held now by live holds (not yet booked, not expired), per concert', (o) => o.held);
    seats('guichet_booked_seats', 'Seats booked, per concert', (o) => o.booked);
    seats('guichet_free_seats', 'Seats free now (an expired hold counts as free), per concert', (o) => o.free);
    new Gauge({
      name: 'guichet_concert_owned',
      help: 'Per concert: 1 if this gateway decides it (owns its lease, or nobody does), 0 if it forwards its commands to the owner',
      labelNames: ['concert'],
      registers,
      collect() {
        const node = self.node;
        if (!node) return;
        for (const c of node.registry.catalog) this.set({ concert: c.id }, !node.ownership || node.ownership.decidesFor(c.id) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'guichet_available',
      help: '1 while this gateway can write (NATS connected, the log trusted); 0 while writes answer UNAVAILABLE',
      registers,
      collect() {
        if (self.node) this.set(self.node.registry.isAvailable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'guichet_stream_position',
      help: 'Last stream sequence the follower delivered to this gateway',
      registers,
      collect() {
        if (self.node) this.set(self.node.registry.followerPosition);
      },
    });
    const lagGauge = (name: string, help: string, value: (lag: Lag) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const lag = await self.lag();
          if (lag) this.set(value(lag));
        },
      });
    lagGauge('guichet_stream_last_sequence', 'Last sequence of the TICKETS stream, as NATS says it when scraped', (l) => l.lastSeq);
    lagGauge('guichet_stream_lag_events', 'Messages of the stream this gateway has not yet delivered to its concerts', (l) => l.events);
    lagGauge('guichet_stream_lag_seconds', 'Age of the oldest message of the stream this gateway has not yet delivered (0 when caught up)', (l) => l.seconds);
  }

  /** The node to read from when scraped; its start-up figures, and its events from now on. */
  bind(node: Guichet): void {
    this.node = node;
    this.replaySeconds.set(node.startup.ms / 1000);
    this.replayedEvents.set(node.startup.events);
    this.unsubscribe?.();
    this.unsubscribe = node.registry.onEvent(() => this.eventsApplied.inc());
  }

  unbind(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.node = undefined;
  }

  /** A command answered (session.ts): its verb, result and time. */
  command(verb: string, result: string, ms: number): void {
    const v = this.verb(verb);
    let counter = v.results.get(result);
    if (!counter) v.results.set(result, (counter = this.commands.child(verb, result)));
    counter.inc();
    v.duration.observe(ms / 1000);
    if ((verb === 'LOOKUP' || verb === 'CANCEL') && LOOKUP_REFUSALS.has(result)) this.refusal(verb, result).inc();
  }

  refused(code: string): void {
    this.refusedConnections.child(code).inc();
  }

  /** The actors' batch policy, timing every append it is told of (batching.ts calls `observe` once per stored append). */
  batching(inner: BatchPolicy): BatchPolicy {
    return {
      groupSize: (waiting, others) => inner.groupSize(waiting, others),
      observe: (events, ms, others) => {
        inner.observe(events, ms, others);
        (events <= 1 ? this.plainAppend : this.batchAppend).observe(ms / 1000);
        this.appendEvents.observe(events);
      },
    };
  }

  /** The text Prometheus scrapes. */
  text(): Promise<string> {
    this.lagRead = undefined;
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private verb(verb: string): VerbMetrics {
    let v = this.byVerb.get(verb);
    if (!v) this.byVerb.set(verb, (v = { duration: this.commandSeconds.child(verb), results: new Map() }));
    return v;
  }

  private refusal(verb: string, reason: string): Child {
    const key = `${verb} ${reason}`;
    let child = this.refusals.get(key);
    if (!child) this.refusals.set(key, (child = this.lookupRefusals.child(verb, reason)));
    return child;
  }

  /** One reading of the lag per scrape, shared by its three gauges (text() forgets it). */
  private lag(): Promise<Lag | undefined> {
    const node = this.node;
    if (!node) return Promise.resolve(undefined);
    this.lagRead ??= readLag(node.store, node.registry.followerPosition, LAG_TIMEOUT_MS);
    return this.lagRead;
  }
}
