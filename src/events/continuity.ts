/**
 * The log never goes backwards unnoticed. A gateway leaves, in the catalog record, how far it
 * saw the `TICKETS` stream go and which stream it was (its creation time and first sequence);
 * the next one compares that with the stream it finds. A stream that ends before, or that was
 * made again (deleted and re-created: even one refilled past the old end), means events were
 * lost: starting on it would sell seats already sold.
 */
import type { StreamInfo } from '@nats-io/jetstream';
import { STREAM_NAME } from './subjects.js';

export interface LogMark {
  /** The highest stream sequence the gateway saw. */
  lastSeq: number;
  firstSeq: number;
  /** The stream's creation time, as JetStream reports it. */
  created: string;
}

export function markOf(info: StreamInfo, seenSeq = 0): LogMark {
  return { lastSeq: Math.max(info.state.last_seq, seenSeq), firstSeq: info.state.first_seq, created: info.created };
}

/** Why the stream is not the log the mark describes, or undefined when it is (or grew). */
export function continuityProblem(mark: LogMark, info: StreamInfo): string | undefined {
  // A stream made again loses nothing when the gateways had seen no event in the old one.
  if (mark.created !== info.created && mark.lastSeq > 0) {
    return (
      `the ${STREAM_NAME} stream was created at ${info.created}, but the log the gateways saw (through sequence ${mark.lastSeq}) ` +
      `is a stream created at ${mark.created}: it was deleted and made again, now ending at sequence ${info.state.last_seq}`
    );
  }
  if (info.state.last_seq < mark.lastSeq) {
    return `the ${STREAM_NAME} stream ends at sequence ${info.state.last_seq}, but the gateways saw it reach sequence ${mark.lastSeq}: events were lost`;
  }
  if (info.state.first_seq > Math.max(1, mark.firstSeq) && info.state.messages > 0) {
    return `the ${STREAM_NAME} stream now starts at sequence ${info.state.first_seq}, but started at ${Math.max(1, mark.firstSeq)}: its first events were removed`;
  }
  return undefined;
}

/** The start-up refusal: both figures and the ways out. */
export class LogWentBackwards extends Error {
  override readonly name = 'LogWentBackwards';

  constructor(problem: string) {
    super(
      `refusing to start: ${problem}. Starting on it would sell seats already sold. Restore the stream from a backup ` +
        '(docs/operations.md, "Backing up and restoring the stream"), or, if this log is the one you mean to use (an older backup restored on purpose, a new system), ' +
        'start once with --accept-log-reset (GUICHET_ACCEPT_LOG_RESET=1)',
    );
  }
}
