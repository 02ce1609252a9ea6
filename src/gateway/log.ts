/**
 * The interaction log, one line per connection, command and result, like the sibling C
 * server's: `2026-11-26T15:04:05.123Z conn 01JD…7Q 127.0.0.1:50522 HOLD jazz 42 -> OK`.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /**
   * One command and its answer, as fields (the JSON log, log-json.ts). A logger without it
   * is given the text line through `info`, so the text log costs what it did.
   */
  command?(record: CommandRecord): void;
  /** Info lines and command records are dropped (`--quiet`): a caller need not make them. */
  readonly quiet?: boolean;
}

/** A command a session answered, for a logger that keeps fields apart. */
export interface CommandRecord {
  connection: string;
  /** The peer, `address:port`. */
  peer: string;
  /** The verb as the command table names it (aliases resolved), or UNKNOWN. */
  verb: string;
  /** `OK`, or the `ERR` code. */
  result: string;
  durationMs: number;
  /** The line and the reply, clipped as in the text log. */
  request: string;
  reply: string;
}

export function createLogger(options: { quiet?: boolean; stream?: NodeJS.WritableStream } = {}): Logger {
  const out = options.stream ?? process.stderr;
  const write = (level: string, message: string) => out.write(`${new Date().toISOString()} ${level}${message}\n`);
  return {
    info: options.quiet ? () => undefined : (m) => write('', m),
    warn: (m) => write('WARN ', m),
    error: (m) => write('ERROR ', m),
    quiet: options.quiet === true,
  };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, quiet: true };

/** A line as it may be logged: bounded, on one line. */
export function clip(text: string, max = 160): string {
  const flat = text.replace(/[\r\n\t]/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
