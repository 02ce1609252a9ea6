/**
 * One TCP connection: reads lines, runs them one at a time in arrival order, writes the
 * replies, and cleans up after itself (its holds are released when it closes).
 */
import type { Socket } from 'node:net';
import { newId } from '../ids.js';
import { GuichetError, toGuichetError } from '../errors.js';
import { WatchedConcerts, type WatcherIndex } from './watchers.js';
import { LineReader } from './line-reader.js';
import { MAX_LINE_BYTES, TaggedError, formatError, formatOk, parseRequest } from './protocol.js';
import { ALIASES, lookupCommand, type CommandEnv, type HeldSeats, type SessionView } from './commands.js';
import { clip, type Logger } from './log.js';
import type { CommandObserver } from './command-observer.js';
import { addressKey } from './address.js';
import { looksLikeTlsHandshake } from './tls.js';

export interface SessionOptions {
  env: CommandEnv;
  log: Logger;
  /** Close a connection that sends no complete line and watches nothing for this long (ms; 0: never). */
  idleTimeoutMs: number;
  /** Bytes waiting to be written past which a watcher is dropped as too slow. */
  maxBufferedBytes: number;
  /** Requests read but not answered past which reading pauses. */
  maxQueuedRequests: number;
  onClose(session: Session): void;
  /** The gateway's index of watchers, which this session's `watching` keeps up to date. */
  watchers: WatcherIndex<Session>;
  /** Told of every command answered (the metrics; absent: nothing is measured). */
  observer?: CommandObserver;
}

export class Session implements SessionView {
  readonly id = newId();
  readonly address: string;
  readonly addressKey: string;
  firstName?: string;
  lastName?: string;
  readonly holds = new Map<string, HeldSeats>();
  readonly booked = new Map<string, string>();
  readonly watching: WatchedConcerts<Session>;
  closing = false;
  /** Dropped as a slow consumer: no more writes. */
  private dropped = false;
  private readonly queue: string[] = [];
  private running = false;
  private closed = false;
  private readonly reader: LineReader;
  /** Resolves when the queue is empty: shutdown waits for it. */
  private idleWaiters: Array<() => void> = [];
  private cleanUpDone?: Promise<void>;
  private idleTimer?: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    private readonly options: SessionOptions,
  ) {
    this.address = socket.remoteAddress ?? 'unknown';
    this.addressKey = addressKey(socket.remoteAddress);
    const limits = options.env.addressLimits;
    this.watching = new WatchedConcerts(options.watchers, this, {
      take: () => limits.startWatching(this.addressKey),
      give: () => limits.stopWatching(this.addressKey),
    });
    this.reader = new LineReader(
      {
        line: (text) => this.enqueue(text),
        tooLong: () => this.write(formatError(undefined, 'LINE_TOO_LONG', `lines are at most ${MAX_LINE_BYTES} bytes; it was discarded`)),
      },
      MAX_LINE_BYTES,
    );
    socket.setNoDelay(true);
    const encrypted = (socket as Socket & { encrypted?: boolean }).encrypted === true;
    let first = !encrypted;
    socket.on('data', (data: Buffer) => {
      if (first) {
        first = false;
        // A TLS client on a plain port: it read HELLO as a broken TLS record and says so itself.
        if (looksLikeTlsHandshake(data)) {
          this.log('a TLS handshake on this plain port: closed');
          socket.destroy();
          return;
        }
      }
      this.reader.push(data);
    });
    socket.on('drain', () => this.resumeIfReady());
    socket.on('error', () => undefined); // 'close' follows; a reset peer is not our error
    socket.on('close', () => void this.cleanUp());
    if (options.idleTimeoutMs > 0) {
      // Complete lines, not bytes (the socket's own timeout counts any byte, read or written):
      // a peer that sends a byte now and then without a newline is idle all the same.
      this.idleTimer = setTimeout(() => this.onIdle(), options.idleTimeoutMs);
      this.idleTimer.unref();
    }
  }

  private onIdle(): void {
    if (this.closed) return;
    if (this.watching.size > 0 || this.running) {
      // A watcher listens quietly; that is not idle (their number is bounded per address).
      this.idleTimer?.refresh();
      return;
    }
    this.write(formatError(undefined, 'IDLE_TIMEOUT', `no command for ${Math.round(this.options.idleTimeoutMs / 1000)} s; closing`));
    this.log('idle timeout');
    this.end();
  }

  get label(): string {
    return `conn ${this.id} ${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  /** Writes a line; false when the peer is too slow to take more. */
  write(line: string): boolean {
    if (this.closed || this.dropped || this.socket.destroyed) return false;
    this.socket.write(`${line}\n`);
    return this.socket.writableLength <= this.options.maxBufferedBytes;
  }

  /** Writes an EVENT push, dropping a watcher that lets its buffer grow past the limit. */
  push(line: string): void {
    if (this.closed || this.dropped) return;
    if (this.socket.writableLength > this.options.maxBufferedBytes) {
      // Stop here: nothing more is queued for it. The ERR goes after what it has not read yet,
      // and a peer that does not read that either within the grace period is cut off.
      this.dropped = true;
      this.watching.clear();
      // A warning, as a refused connection is: the gateway cut a client's live updates.
      this.options.log.warn(`${this.label} dropped as a slow consumer: ${this.socket.writableLength} bytes unread`);
      this.socket.end(`${formatError(undefined, 'SLOW_CONSUMER', 'you read too slowly to follow the events; reconnect and WATCH again')}\n`);
      setTimeout(() => this.socket.destroy(), 5_000).unref();
      return;
    }
    this.socket.write(`${line}\n`);
  }

  /** Stops reading, answers what was read, then closes: a graceful shutdown. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.socket.pause();
    this.queue.length = 0;
    if (this.running) {
      await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), new Promise((r) => setTimeout(r, timeoutMs))]);
    }
    this.write(formatError(undefined, 'SHUTTING_DOWN', 'the server is stopping; reconnect in a moment'));
    this.end();
    await this.cleanUp();
  }

  private end(): void {
    this.socket.end();
    // A peer that never reads could keep the socket half-open: destroy it after a grace period.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  private enqueue(line: string): void {
    this.idleTimer?.refresh();
    if (this.closing) return;
    this.queue.push(line);
    if (this.queue.length >= this.options.maxQueuedRequests) this.socket.pause();
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.closed) {
      // Replies are backpressured too: a peer that sends without reading waits for its
      // replies to drain before the next line is answered (reading is paused meanwhile).
      if (this.socket.writableLength > this.options.maxBufferedBytes) {
        this.socket.pause();
        await this.writableDrained();
        continue;
      }
      const line = this.queue.shift()!;
      await this.handle(line);
      if (this.closing) {
        this.queue.length = 0;
        this.end();
        break;
      }
      this.resumeIfReady();
    }
    this.running = false;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Resolves when the socket's write buffer has drained, or when the connection closes. */
  private writableDrained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  private resumeIfReady(): void {
    if (this.closed || this.closing) return;
    if (this.queue.length < this.options.maxQueuedRequests && this.socket.writableLength <= this.options.maxBufferedBytes) {
      this.socket.resume();
    }
  }

  private async handle(line: string): Promise<void> {
    let tag: string | undefined;
    const started = performance.now();
    let verb = 'UNKNOWN';
    try {
      const request = parseRequest(line);
      if (!request) return; // blank line: nothing to answer
      tag = request.tag;
      const command = lookupCommand(request.verb);
      if (!command) throw new GuichetError('UNKNOWN_COMMAND', `unknown command ${clip(request.verb, 32)}; HELP lists them`);
      // The table's name, never the client's word: the metrics' labels stay a fixed few.
      verb = ALIASES[request.verb] ?? request.verb;
      const [min, max] = command.args;
      if (request.args.length < min || request.args.length > max) {
        throw new GuichetError('BAD_ARGUMENTS', `usage: ${command.usage}`);
      }
      const payload = await command.run(this, request.args, this.options.env);
      const reply = formatOk(tag, payload);
      this.write(reply);
      this.answered(line, verb, 'OK', reply, started);
    } catch (err) {
      const e = toGuichetError(err);
      if (err instanceof TaggedError) tag = err.tag;
      if (e.code === 'INTERNAL') this.options.log.error(`${this.label} ${clip(line)}: ${e.stack ?? e.message}`);
      const reply = formatError(tag, e.code, e.code === 'INTERNAL' ? 'internal error; it has been logged' : e.message);
      this.write(reply);
      this.answered(line, verb, e.code, reply, started);
    }
  }

  /** A command answered: told to the observer (metrics), and logged as fields or as a text line. */
  private answered(line: string, verb: string, result: string, reply: string, started: number): void {
    const ms = performance.now() - started;
    this.options.observer?.command(verb, result, ms);
    const { log } = this.options;
    // Quiet: the line is not made at all (two clips and three templates a command).
    if (log.quiet) return;
    if (log.command) {
      log.command({ connection: this.id, peer: `${this.socket.remoteAddress}:${this.socket.remotePort}`, verb, result, durationMs: ms, request: clip(line), reply: clip(reply, 120) });
    } else {
      this.log(`${clip(line)} -> ${clip(reply, 120)}`);
    }
  }

  private log(message: string): void {
    this.options.log.info(`${this.label} ${message}`);
  }

  /** Once: unwatch, release live holds (reason `disconnected`), tell the server. */
  private cleanUp(): Promise<void> {
    this.cleanUpDone ??= (async () => {
      this.closed = true;
      clearTimeout(this.idleTimer);
      this.watching.clear();
      this.options.onClose(this);
      const now = this.options.env.now();
      const live = [...this.holds].filter(([, h]) => h.expiresAt > now);
      this.holds.clear();
      for (const [hold] of live) this.options.env.addressLimits.released(this.addressKey, hold);
      await Promise.all(
        live.map(async ([hold, h]) => {
          try {
            await this.options.env.registry.execute(h.concert, { type: 'Release', hold, holder: this.id, reason: 'disconnected' });
            this.log(`released ${describeSeats(h.seats)} of ${h.concert} (disconnected)`);
          } catch (err) {
            // Booked or expired meanwhile, or the store is away: the hold then runs out by itself.
            this.log(`release of ${describeSeats(h.seats)} of ${h.concert} not written: ${toGuichetError(err).message}`);
          }
        }),
      );
      this.log('closed');
    })();
    return this.cleanUpDone;
  }
}

function describeSeats(seats: readonly number[]): string {
  return seats.length === 1 ? `seat ${seats[0]}` : seats.length === 0 ? 'the seats' : `seats ${seats.join(' ')}`;
}
