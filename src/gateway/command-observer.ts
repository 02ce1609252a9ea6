/**
 * What a session tells about each command it answers (and the server about each connection
 * it refuses), besides the log: the metrics
 * (src/ops/metrics.ts) listen here. Positional arguments, not a record: this runs once per
 * command, and an object per call is garbage the metrics do not need.
 */
export interface CommandObserver {
  /** `verb` as the command table names it (or UNKNOWN), `result` OK or the ERR code, `ms` from the line's turn to its reply. */
  command(verb: string, result: string, ms: number): void;
  /** A connection refused before its session (TOO_MANY_CONNECTIONS, SHUTTING_DOWN). */
  refused?(code: string): void;
}
