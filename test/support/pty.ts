/**
 * A real pseudo-terminal for tests, through tmux: start a command in a detached session of a
 * given size, type into it (`send-keys`), read the screen (`capture-pane`). Each session runs
 * on its own tmux server (`-L`), so tests never touch a user's tmux, and `kill()` ends the
 * server and everything in it. The pane stays after its command exits, to read its last words.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why tmux cannot be used here, or undefined when it can. */
export function tmuxMissing(): string | undefined {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  if (r.error) return `tmux is not installed (${r.error.message})`;
  if (r.status !== 0) return `tmux -V failed: ${r.stderr}`;
  return undefined;
}

const live = new Set<TmuxSession>();
process.once('exit', () => {
  for (const s of live) s.kill();
});

export interface TmuxOptions {
  width?: number;
  height?: number;
  /** Extra environment for the command. */
  env?: Record<string, string>;
}

export class TmuxSession {
  private readonly socket = `guichet-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly name = 'main';
  private readonly statusFile = join(tmpdir(), `${this.socket}.status`);
  private killed = false;

  private constructor() {}

  /** Starts `argv` (no shell) in a fresh session of width × height. */
  static start(argv: string[], options: TmuxOptions = {}): TmuxSession {
    const s = new TmuxSession();
    const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // Through a shell that writes the exit status to a file: tmux 3.3 does not always report
    // a dead pane's status (#{pane_dead_status} comes back empty).
    const wrapped = ['sh', '-c', `"$@"; echo $? > '${s.statusFile}'`, 'sh', ...argv];
    s.tmux(
      'new-session', '-d', '-s', s.name, '-x', String(options.width ?? 120), '-y', String(options.height ?? 40), ...env,
      ...wrapped,
      ';', 'set-option', '-t', s.name, 'remain-on-exit', 'on',
    );
    live.add(s);
    return s;
  }

  /** Keys as tmux names them: text, `Enter`, `C-c`… */
  sendKeys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  /** Types text literally (no key names), without Enter. */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.name, '-l', text);
  }

  /** The visible screen as text; with `escapes`, with its colour codes. */
  capture(options: { escapes?: boolean } = {}): string {
    return this.tmux('capture-pane', '-p', '-t', this.name, ...(options.escapes ? ['-e'] : []));
  }

  /** Lines that scrolled off the top into the pane's history (a screen cleared with ESC[2J goes there too). */
  historySize(): number {
    return Number(this.tmux('display-message', '-p', '-t', this.name, '#{history_size}').trim());
  }

  /** True once the command has ended (even when a Ctrl-C ended the shell that records its status). */
  ended(): boolean {
    return this.tmux('display-message', '-p', '-t', this.name, '#{pane_dead}').trim() === '1';
  }

  /** The exit status of the command once it has ended, else undefined. */
  exitStatus(): number | undefined {
    // The shell writes `$?`: the status, or 128 + n when a signal ended the command.
    if (!existsSync(this.statusFile)) return undefined;
    const text = readFileSync(this.statusFile, 'utf8').trim();
    return text === '' ? undefined : Number(text);
  }

  /** Polls the screen until `test` passes; resolves with the screen, or rejects showing it. */
  async waitFor(test: RegExp | ((screen: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const ok = typeof test === 'function' ? test : (screen: string) => test.test(screen);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.capture();
      if (ok(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`the screen did not show ${String(test)} within ${timeoutMs} ms:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(): void {
    if (this.killed) return;
    this.killed = true;
    live.delete(this);
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
    rmSync(this.statusFile, { force: true });
  }

  private tmux(...args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr || r.error?.message}`);
    return r.stdout;
  }
}
