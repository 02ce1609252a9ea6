/**
 * One audit of the stream: read it from the start through the auditor and build the report.
 * The CLI's `guichet audit`, the tests and the 1 M benchmark all start here.
 */
import type { EventStore } from '../events/store.js';
import { STREAM_NAME } from '../events/subjects.js';
import { Auditor, type AuditReport } from './auditor.js';
import type { LogPoint } from './point.js';
import { readLog } from './reader.js';

export interface AuditStreamOptions {
  /** Only this concert (its subject alone is read). */
  concert?: string;
  /** Stop at a stream sequence, or fold only the events decided up to a time. */
  until?: Extract<LogPoint, { kind: 'seq' | 'time' }>;
  /** Seat counts of the catalog's concerts. */
  capacities?: ReadonlyMap<string, number>;
  maxViolations?: number;
  /** The clock the seat maps are as of when `until` is not a time (default Date.now). */
  now?: () => number;
  /** Called now and then while reading: the sequence reached, the one the reading ends at, messages read. */
  onProgress?: (seq: number, untilSeq: number, read: number) => void;
}

export interface StreamState {
  name: string;
  firstSeq: number;
  lastSeq: number;
  messages: number;
}

export interface AuditResult {
  report: AuditReport;
  stream: StreamState;
  /** The sequence the reading was to end at (the stream's or the concert's last, or --until). */
  untilSeq: number;
  /** How long reading and checking took (ms). */
  ms: number;
}

const PROGRESS_EVERY = 4_096;

export async function auditStream(store: EventStore, options: AuditStreamOptions = {}): Promise<AuditResult> {
  const now = options.now ?? Date.now;
  const info = await store.jsm.streams.info(STREAM_NAME);
  const stream: StreamState = {
    name: STREAM_NAME,
    firstSeq: info.state.first_seq,
    lastSeq: info.state.last_seq,
    messages: info.state.messages,
  };
  const end = options.concert ? await store.lastSeqOf(options.concert) : stream.lastSeq;
  const until = options.until;
  const untilSeq = until?.kind === 'seq' ? Math.min(until.seq, end) : end;
  const auditor = new Auditor({
    contiguous: !options.concert,
    ...(until?.kind === 'time' ? { untilTime: until.time } : {}),
    ...(options.capacities ? { capacities: options.capacities } : {}),
    ...(options.maxViolations !== undefined ? { maxViolations: options.maxViolations } : {}),
  });
  if (options.concert) auditor.include(options.concert);
  const started = performance.now();
  if (untilSeq > 0 && (options.concert || stream.messages > 0)) {
    let count = 0;
    const reading = await readLog(store, {
      ...(options.concert ? { concert: options.concert } : {}),
      untilSeq,
      onMessage: (message) => {
        auditor.add(message);
        if (++count % PROGRESS_EVERY === 0) options.onProgress?.(message.seq, untilSeq, count);
      },
    });
    await reading.done;
    options.onProgress?.(auditor.lastSeq, untilSeq, count);
  }
  auditor.expectEnd(untilSeq);
  const clock = until?.kind === 'time' ? until.time : until?.kind === 'seq' ? (auditor.lastEventTime ?? now()) : now();
  const report = auditor.report(clock);
  return { report, stream, untilSeq, ms: Math.round(performance.now() - started) };
}
