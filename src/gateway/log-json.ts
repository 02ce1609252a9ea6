/**
 * `--log-format json`: the interaction log as one JSON object a line, for log collectors
 * (pino). Every line has `level` (info, warn, error), `time` (ISO 8601) and `msg`; a command's
 * line has `connection`, `peer`, `verb`, `result` (OK or the ERR code), `durationMs`,
 * `request` and `reply` (clipped as in the text log) instead of `msg`.
 *
 * Written to stderr, as the text log is, through pino's asynchronous destination: a line is
 * written at once when no write is in flight, and the lines that come meanwhile are written
 * together after it (one write for many under load, no line kept waiting when it is quiet);
 * pino writes what is left synchronously when the process exits (process.exit included).
 */
import { pino, type Logger as Pino } from 'pino';
import type { CommandRecord, Logger } from './log.js';

export function createJsonLogger(options: { quiet?: boolean; destination?: NodeJS.WritableStream } = {}): Logger & { flush(): void } {
  const destination = options.destination ?? pino.destination({ fd: 2, sync: false });
  const out: Pino = pino(
    {
      level: options.quiet ? 'warn' : 'info',
      base: undefined, // no pid or hostname on every line: the collector knows them
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return {
    info: (m) => out.info(m),
    warn: (m) => out.warn(m),
    error: (m) => out.error(m),
    command: options.quiet ? undefined : (record: CommandRecord) => out.info(record),
    flush: () => out.flush(),
  };
}

/** A line said whatever the level (the server's "listening on", its stop), in the same shape. */
export function jsonLine(message: string, level: 'info' | 'error' = 'info'): string {
  return JSON.stringify({ level, time: new Date().toISOString(), msg: message });
}
