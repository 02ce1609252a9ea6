/**
 * One error type for the whole system. Its `code` is exactly the wire's `ERR CODE`, so an
 * error raised anywhere (a domain rule, the parser, an unreachable NATS) reaches the client
 * unchanged: `ERR <code> <message>`.
 */
export const ERROR_CODES = [
  'UNKNOWN_COMMAND',
  'BAD_ARGUMENTS',
  'LINE_TOO_LONG',
  'NO_SUCH_CONCERT',
  'NO_SUCH_SEAT',
  'SEAT_TAKEN',
  'NO_ADJACENT_SEATS',
  'HOLD_LIMIT',
  'COOL_DOWN',
  'NO_SUCH_HOLD',
  'HOLD_EXPIRED',
  'INVALID_NAME',
  'BAD_REFERENCE',
  'NOT_FOUND',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'TOO_MANY_CONNECTIONS',
  'WATCH_LIMIT',
  'IDLE_TIMEOUT',
  'SLOW_CONSUMER',
  'SHUTTING_DOWN',
  'TLS_REQUIRED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class GuichetError extends Error {
  override readonly name = 'GuichetError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    // Most of these are expected answers (SEAT_TAKEN to 9,900 people in a rush), not faults:
    // their stack trace is never read and cost ~9 µs each (5 % of the gateway's CPU in the
    // rush benchmark). Only INTERNAL, which is a fault, keeps one.
    const limit = Error.stackTraceLimit;
    if (code !== 'INTERNAL') Error.stackTraceLimit = 0;
    try {
      super(message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

export function isGuichetError(err: unknown): err is GuichetError {
  return err instanceof GuichetError;
}

/** Any thrown value as a GuichetError; what is not one already becomes `INTERNAL`. */
export function toGuichetError(err: unknown): GuichetError {
  if (isGuichetError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GuichetError('INTERNAL', message, { cause: err });
}
