/**
 * Questions and answers over node:readline, for a person at a terminal or for a script at the
 * other end of a pipe.
 *
 * - Lines are queued as they arrive, so answers piped ahead of their questions wait their
 *   turn instead of being lost.
 * - On a terminal (`terminal: true`) readline edits the line; `print` writes above the
 *   question and `refresh` redraws it (keeping what was typed), so the caller may redraw
 *   the screen while someone types.
 * - Otherwise the question is written plainly and the answer echoed after it, so the output
 *   reads as a transcript; no cursor movement, no colour.
 * - `ask` ends with EOF when input ends (Ctrl-D, end of the pipe); an AbortSignal withdraws
 *   the question (the next line then goes to the next question).
 */
import { createInterface, clearScreenDown, cursorTo, moveCursor, type Interface } from 'node:readline';
import { drawInPlace } from './screen.js';

export const EOF: unique symbol = Symbol('end of input');

export interface PrompterOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Line editing, redraws: both ends are terminals. */
  terminal: boolean;
}

interface Waiter {
  question: () => string;
  resolve: (answer: string | typeof EOF) => void;
  /** Removes the abort listener: one signal serves many questions, and each must leave none behind. */
  settle: () => void;
}

export class Prompter {
  readonly terminal: boolean;
  private readonly rl: Interface;
  private readonly output: NodeJS.WritableStream;
  private readonly lines: string[] = [];
  private waiter?: Waiter;
  private ended = false;
  private closed = false;
  /** A plain (non-terminal) question was written and its line is not finished yet. */
  private openLine = false;
  private interruptHandlers: Array<() => void> = [];

  constructor(options: PrompterOptions) {
    this.terminal = options.terminal;
    this.output = options.output;
    this.rl = createInterface({
      input: options.input,
      output: options.terminal ? options.output : undefined,
      terminal: options.terminal,
      crlfDelay: Infinity,
      historySize: options.terminal ? 50 : 0,
    });
    this.rl.on('line', (line) => this.onLine(line));
    this.rl.on('close', () => this.onEnd());
    // A terminal's Ctrl-C reaches readline, not the process.
    this.rl.on('SIGINT', () => this.interrupted());
  }

  /** Called on Ctrl-C at a terminal. (The caller handles the process's own SIGINT for pipes.) */
  onInterrupt(handler: () => void): void {
    this.interruptHandlers.push(handler);
  }

  /** Asks `question` (re-evaluated on every refresh) and resolves with the answer, or EOF. */
  ask(question: () => string, signal?: AbortSignal): Promise<string | typeof EOF> {
    if (this.waiter) throw new Error('one question at a time');
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const queued = this.lines.shift();
    if (queued !== undefined) {
      // Typed (or piped) ahead: show question and answer together, as if just answered.
      this.endOpenLine();
      this.output.write(`${question()}${queued}\n`);
      return Promise.resolve(queued);
    }
    if (this.ended) {
      if (!this.terminal) this.output.write(`${question()}\n`);
      return Promise.resolve(EOF);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (this.waiter !== waiter) return;
        this.waiter = undefined;
        this.abandonLine();
        reject(signal!.reason as Error);
      };
      const waiter: Waiter = {
        question,
        resolve: (answer) => {
          waiter.settle();
          resolve(answer);
        },
        settle: () => signal?.removeEventListener('abort', onAbort),
      };
      this.waiter = waiter;
      this.showQuestion(question);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Writes text (lines) above the current question, which is then asked again. */
  print(text: string): void {
    if (this.closed) return;
    if (this.terminal && this.waiter) {
      this.eraseQuestion();
      this.output.write(`${text}\n`);
      this.askAgain();
      return;
    }
    this.endOpenLine();
    this.output.write(`${text}\n`);
  }

  /**
   * Terminal only: draws `lines` over the screen from its top (in place: no copy goes to the
   * scrollback), and asks the current question again below them.
   */
  redraw(lines: readonly string[]): void {
    if (!this.terminal || this.closed) return;
    this.output.write(drawInPlace(lines));
    this.askAgain();
  }

  /** The terminal's size, when the output is one. */
  get size(): { columns: number; rows: number } | undefined {
    const out = this.output as NodeJS.WriteStream;
    return this.terminal && out.columns && out.rows ? { columns: out.columns, rows: out.rows } : undefined;
  }

  /**
   * Erases the question and what is typed after it, on every row it takes: a question wider
   * than the terminal wraps, and erasing only the cursor's row left copies of its first part.
   */
  private eraseQuestion(): void {
    const { rows } = this.rl.getCursorPos();
    if (rows > 0) moveCursor(this.output, 0, -rows);
    cursorTo(this.output, 0);
    clearScreenDown(this.output);
  }

  /** Writes the question anew where the cursor is (the start of a line), keeping what was typed. */
  private askAgain(): void {
    if (!this.waiter) return;
    // readline would first move up over the rows of the question it last drew: that one is gone.
    (this.rl as unknown as { prevRows: number }).prevRows = 0;
    this.rl.setPrompt(this.waiter.question());
    this.rl.prompt(true);
  }

  /** Terminal only: redraws the current question (its text may have changed), keeping what was typed. */
  refresh(): void {
    if (!this.terminal || this.closed || !this.waiter) return;
    this.rl.setPrompt(this.waiter.question());
    this.rl.prompt(true);
  }

  /** Stops asking; `farewell` replaces the question on screen. */
  close(farewell?: string): void {
    if (this.closed) return;
    if (this.terminal && this.waiter) this.eraseQuestion();
    else this.endOpenLine();
    if (farewell !== undefined) this.output.write(`${farewell}\n`);
    // A question still open stays unanswered: whoever closes is leaving.
    this.waiter?.settle();
    this.waiter = undefined;
    this.closed = true;
    this.rl.close();
  }

  private showQuestion(question: () => string): void {
    if (this.terminal) {
      this.rl.setPrompt(question());
      this.rl.prompt();
    } else {
      this.output.write(question());
      this.openLine = true;
    }
  }

  /** A plain question answered: echo the answer so the transcript reads right. */
  private finishQuestion(answer: string): void {
    if (!this.terminal) {
      this.output.write(`${answer}\n`);
      this.openLine = false;
    }
  }

  /** A withdrawn question: on a terminal, forget what was typed and erase the line; else end it. */
  private abandonLine(): void {
    if (!this.terminal) return this.endOpenLine();
    this.rl.write(null, { ctrl: true, name: 'e' });
    this.rl.write(null, { ctrl: true, name: 'u' });
    this.eraseQuestion();
  }

  private endOpenLine(): void {
    if (this.openLine) {
      this.output.write('\n');
      this.openLine = false;
    }
  }

  private onLine(line: string): void {
    const waiter = this.waiter;
    if (!waiter) {
      this.lines.push(line);
      return;
    }
    this.waiter = undefined;
    this.finishQuestion(line);
    waiter.resolve(line);
  }

  private onEnd(): void {
    this.ended = true;
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    // Ctrl-D leaves the cursor after the question.
    if (this.terminal && !this.closed) this.output.write('\n');
    this.endOpenLine();
    waiter.resolve(EOF);
  }

  private interrupted(): void {
    if (this.interruptHandlers.length === 0) process.kill(process.pid, 'SIGINT');
    for (const handler of this.interruptHandlers) handler();
  }
}
