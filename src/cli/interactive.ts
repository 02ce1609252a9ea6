/**
 * `guichet client [address] [port]` (and plain `guichet`): the interactive booking and
 * cancellation dialogue over the wire protocol, for a person at a terminal or a script on a
 * pipe. The dialogue itself is pure (interactive-dialogue.ts), and so is what it looks like
 * (interactive-format.ts); this file does the I/O: the connection, the questions, the live
 * seat map, Ctrl-C and a lost connection.
 */
import { GuichetClient, ServerError, type ClientTls, type SeatEvent } from './client.js';
import {
  answer,
  awaitsReply,
  endOfInput,
  holdOf,
  holdText,
  parseKeepalive,
  parsePort,
  parseYesNo,
  promptOf,
  reply,
  seatEvent,
  showsSeats,
  startDialogue,
  type Dialogue,
  type Prompt,
  type Reply,
  type Request,
  type Transition,
} from './interactive-dialogue.js';
import { formatOutput, formatPrompt, formatSay, formatSeatScreen, formatWelcome } from './interactive-format.js';
import { parseMapMove, type MapWindow, type Row } from './seat-map.js';
import { connectClient, describeEvent, UsageError } from './oneshot.js';
import { EOF, Prompter } from './prompt.js';
import { useColor } from './render.js';

export interface InteractiveOptions {
  host: string;
  /** As typed on the command line. */
  port: string | number;
  /** TLS to the gateway (--tls / --tls-ca). */
  tls?: ClientTls;
  /** Seconds between keep-alive PINGs, as typed (--keepalive / GUICHET_KEEPALIVE); 0: none; default 30. */
  keepalive?: string;
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
}

/** Runs the dialogue until the user quits or input ends; resolves with the exit status. */
export async function runInteractive(options: InteractiveOptions): Promise<number> {
  let port: number;
  let keepaliveMs: number;
  try {
    port = parsePort(String(options.port));
    keepaliveMs = parseKeepalive(options.keepalive);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const client = await connectClient(options.host, port, options.tls);
  return new InteractiveSession(client, { host: options.host, port, keepaliveMs, input, output, ...(options.tls ? { tls: options.tls } : {}) }).run();
}

/** The connection went away (closed by the server, reset, or the server is stopping). */
class ConnectionLost extends Error {
  override readonly name = 'ConnectionLost';
}

const EXIT_ON_SIGNAL: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
/** How long a RELEASE may take on the way out before the connection is simply closed (which releases too). */
const RELEASE_WAIT_MS = 1_000;
/** Live changes arriving in a burst are drawn once. */
const REDRAW_DELAY_MS = 40;

class InteractiveSession {
  private client!: GuichetClient;
  private dialogue: Dialogue;
  private readonly prompter: Prompter;
  private readonly color: boolean;
  private readonly where: string;
  /** Aborted when the connection goes: withdraws the question being asked. */
  private lost = new AbortController();
  /** Why the server closed, when it said (IDLE_TIMEOUT, SHUTTING_DOWN…). */
  private notice?: string;
  private leaving = false;
  private pending?: Request;
  /** Events that arrive while a request is in flight wait for its reply, then apply in order. */
  private heldBack: SeatEvent[] = [];
  /** Terminal only: the messages shown under the seat map, and the last live change. */
  private notes: string[] = [];
  private lastChange?: string;
  private redrawTimer?: NodeJS.Timeout;
  /** Terminal only: the rows of the seat map last shown, and where the user moved the window (n, p, row K). */
  private shown?: { window: MapWindow; rows: Row[] };
  private mapTop?: number;
  private readonly ticker?: NodeJS.Timeout;
  private readonly keepalive?: NodeJS.Timeout;
  private readonly onResize = () => {
    if (!this.leaving && showsSeats(this.dialogue)) this.scheduleRedraw();
  };
  private readonly onSignal = (signal: NodeJS.Signals) => void this.interrupt(signal);
  private readonly onOutputError = () => undefined;

  constructor(
    client: GuichetClient,
    private readonly options: { host: string; port: number; tls?: ClientTls; keepaliveMs: number; input: NodeJS.ReadStream; output: NodeJS.WriteStream },
  ) {
    const terminal = Boolean(options.input.isTTY && options.output.isTTY);
    this.prompter = new Prompter({ input: options.input, output: options.output, terminal });
    this.color = useColor(options.output);
    this.where = `${options.host}:${options.port}`;
    this.attach(client);
    this.dialogue = startDialogue(client.hello);
    // The person, not the connection, is idle while they read the menu or think: PINGs keep
    // the gateway's idle timeout (300 s by default) from closing it under them.
    if (options.keepaliveMs > 0) {
      this.keepalive = setInterval(() => {
        if (!this.leaving && !this.client.closed) this.client.request('PING').catch(() => undefined);
      }, options.keepaliveMs);
      this.keepalive.unref();
    }
    if (terminal) {
      // The hold's countdown in the name questions.
      this.ticker = setInterval(() => {
        if (holdOf(this.dialogue) && !awaitsReply(this.dialogue)) this.prompter.refresh();
      }, 1_000);
      this.ticker.unref();
    }
  }

  async run(): Promise<number> {
    this.prompter.onInterrupt(() => void this.interrupt('SIGINT'));
    for (const signal of Object.keys(EXIT_ON_SIGNAL) as NodeJS.Signals[]) process.on(signal, this.onSignal);
    // A terminal or a reader that goes away must not crash us on the way out.
    this.options.output.on('error', this.onOutputError);
    this.options.output.on('resize', this.onResize);
    this.prompter.print(formatWelcome(this.dialogue, this.where, this.client.hello.holdSeconds, this.prompter.size?.columns));
    try {
      for (;;) {
        try {
          return await this.loop();
        } catch (err) {
          if (!(err instanceof ConnectionLost)) throw err;
          if (!(await this.reconnect())) {
            this.prompter.close('Bye.');
            return 1;
          }
        }
      }
    } finally {
      this.shutdown();
    }
  }

  private async loop(): Promise<number> {
    for (;;) {
      if (this.dialogue.step.at === 'quit') {
        await this.quit();
        return 0;
      }
      let t: Transition;
      const request = this.pending;
      if (request) {
        this.pending = undefined;
        const r = await this.send(request);
        t = reply(this.dialogue, r, Date.now());
      } else {
        if (this.prompter.terminal && showsSeats(this.dialogue)) this.drawSeatScreen();
        const a = await this.ask(() => promptOf(this.dialogue, Date.now()));
        if (a === EOF) return this.inputEnded();
        if (this.moveMap(a)) continue;
        t = answer(this.dialogue, a);
      }
      this.apply(t);
    }
  }

  private apply(t: Transition): void {
    this.dialogue = t.dialogue;
    for (const n of t.notify ?? []) this.client.request(n.verb, ...n.args).catch(() => undefined);
    this.pending = t.send;
    if (!this.pending) {
      for (const e of this.heldBack.splice(0)) this.applyEvent(e);
    }
    if (!showsSeats(this.dialogue)) {
      this.shown = undefined;
      this.mapTop = undefined;
    }
    const o = { color: this.color, width: this.prompter.size?.columns };
    if (this.prompter.terminal && showsSeats(this.dialogue)) {
      // The seat screen shows the map itself; what was said goes under it.
      this.notes = t.out.flatMap((out) => (out.kind === 'say' ? [formatOutput(this.dialogue, out, o)] : []));
      return;
    }
    this.notes = [];
    for (const out of t.out) this.prompter.print(formatOutput(this.dialogue, out, o));
  }

  private ask(prompt: () => Prompt): Promise<string | typeof EOF> {
    const decorate = this.prompter.terminal;
    return this.prompter
      .ask(() => formatPrompt(prompt(), { color: this.color && decorate, decorate }), this.lost.signal)
      .catch((err: unknown) => {
        if (this.lost.signal.aborted) throw new ConnectionLost('connection lost');
        throw err;
      });
  }

  /** Sends a request; an ERR is a reply like any other, a closed connection is ConnectionLost. */
  private async send(request: Request): Promise<Reply> {
    try {
      return { ok: true, payload: await this.client.request(request.verb, ...request.args) };
    } catch (err) {
      if (err instanceof ServerError) return { ok: false, code: err.code, message: err.message };
      throw new ConnectionLost((err as Error).message);
    }
  }

  private attach(client: GuichetClient): void {
    this.client = client;
    this.lost = new AbortController();
    this.notice = undefined;
    this.heldBack = [];
    this.lastChange = undefined;
    client.on('event', (e: SeatEvent) => {
      if (this.client !== client) return;
      if (this.pending || awaitsReply(this.dialogue)) this.heldBack.push(e);
      else this.applyEvent(e);
    });
    client.on('notice', (err: ServerError) => {
      this.notice = `${err.message} (${err.code})`;
    });
    client.on('close', () => {
      if (this.client === client && !this.leaving) this.lost.abort(new ConnectionLost('connection lost'));
    });
  }

  private applyEvent(e: SeatEvent): void {
    const before = this.dialogue;
    this.dialogue = seatEvent(before, e);
    if (this.dialogue === before) return;
    this.lastChange = describeEvent(e);
    if (this.prompter.terminal) this.scheduleRedraw();
  }

  private scheduleRedraw(): void {
    if (this.redrawTimer) return;
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = undefined;
      if (!this.leaving && showsSeats(this.dialogue)) this.drawSeatScreen();
    }, REDRAW_DELAY_MS);
  }

  private drawSeatScreen(): void {
    const size = this.prompter.size;
    const prompt = formatPrompt(promptOf(this.dialogue, Date.now()), { color: false, decorate: true });
    const screen = formatSeatScreen(this.dialogue, {
      color: this.color,
      lastChange: this.lastChange,
      notes: this.notes,
      width: size?.columns,
      height: size?.rows,
      top: this.mapTop,
      promptLength: prompt.length,
    });
    this.shown = { window: screen.window, rows: screen.rows };
    this.mapTop = screen.window.top;
    this.prompter.redraw(screen.lines);
  }

  /** At the seat question on a terminal, `n`, `p` and `row K` move the window of a map that does not fit. */
  private moveMap(text: string): boolean {
    if (!this.prompter.terminal || this.dialogue.step.at !== 'seat' || !this.shown?.window.partial) return false;
    const top = parseMapMove(text, this.shown.window, this.shown.rows);
    if (top === undefined) return false;
    this.mapTop = top;
    this.notes = [];
    return true;
  }

  /** Says the connection is gone and offers to connect again; false when the user declines. */
  private async reconnect(): Promise<boolean> {
    const hold = holdOf(this.dialogue);
    this.pending = undefined;
    const why = this.notice ? `: ${this.notice}` : '';
    const released = hold ? ` Your hold on ${holdText(hold)} was released.` : '';
    this.prompter.print(formatSay(`Connection to ${this.where} lost${why}.${released}`, 'warn', { color: this.color }));
    for (;;) {
      const a = await this.prompter.ask(() => formatPrompt({ text: 'Reconnect? [Y/n]' }, { color: this.color && this.prompter.terminal, decorate: this.prompter.terminal }));
      if (a === EOF) return false;
      const yes = parseYesNo(a, true);
      if (yes === undefined) {
        this.prompter.print('Answer y (connect again) or n (leave).');
        continue;
      }
      if (!yes) return false;
      try {
        const client = await connectClient(this.options.host, this.options.port, this.options.tls);
        this.attach(client);
        this.dialogue = startDialogue(client.hello, this.dialogue.names);
        this.prompter.print(formatSay(`Connected again to ${this.where}.`, 'ok', { color: this.color }));
        return true;
      } catch (err) {
        // The error says "cannot connect to …" itself.
        this.prompter.print(formatSay(`${(err as Error).message}`, 'warn', { color: this.color }));
      }
    }
  }

  private async quit(): Promise<void> {
    this.leaving = true;
    await this.releaseHold();
    await Promise.race([this.client.request('QUIT').catch(() => undefined), sleep(RELEASE_WAIT_MS)]);
    this.prompter.close('Bye.');
  }

  private async inputEnded(): Promise<number> {
    this.leaving = true;
    const { code, message } = endOfInput(this.dialogue);
    await this.releaseHold();
    this.prompter.close(message ?? 'Bye.');
    return code;
  }

  /** Gives a held seat back at once (closing the connection would too, a moment later). */
  private async releaseHold(): Promise<void> {
    const hold = holdOf(this.dialogue);
    if (!hold || this.client.closed) return;
    await Promise.race([this.client.request('RELEASE', hold.id).catch(() => undefined), sleep(RELEASE_WAIT_MS)]);
  }

  /** Ctrl-C or a signal: give the seat back, close, leave. A second Ctrl-C leaves at once. */
  private async interrupt(signal: NodeJS.Signals): Promise<void> {
    const code = EXIT_ON_SIGNAL[signal] ?? 130;
    if (this.leaving) process.exit(code);
    this.leaving = true;
    const hold = holdOf(this.dialogue);
    await this.releaseHold();
    this.prompter.close(hold ? `Interrupted: ${holdText(hold)} given back. Bye.` : 'Interrupted. Bye.');
    this.shutdown();
    process.exit(code);
  }

  private shutdown(): void {
    if (this.ticker) clearInterval(this.ticker);
    clearInterval(this.keepalive);
    if (this.redrawTimer) clearTimeout(this.redrawTimer);
    for (const signal of Object.keys(EXIT_ON_SIGNAL) as NodeJS.Signals[]) process.off(signal, this.onSignal);
    this.options.output.off('resize', this.onResize);
    this.prompter.close();
    this.client.close();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
