/** Where events live in NATS. These names are part of the contract with other services. */
export const STREAM_NAME = 'TICKETS';
export const SUBJECT_PREFIX = 'tickets.events';
/** Every event of every concert: the stream's one subject filter. */
export const ALL_EVENTS = `${SUBJECT_PREFIX}.*`;

/** A concert id is one NATS subject token: letters, digits, `-` and `_`, at most 64. */
const CONCERT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidConcertId(id: string): boolean {
  return CONCERT_ID.test(id);
}

export function subjectFor(concert: string): string {
  if (!isValidConcertId(concert)) throw new Error(`invalid concert id: ${JSON.stringify(concert)}`);
  return `${SUBJECT_PREFIX}.${concert}`;
}

/** The concert named by a subject, or undefined when the subject is not an event subject. */
export function concertOf(subject: string): string | undefined {
  const prefix = `${SUBJECT_PREFIX}.`;
  if (!subject.startsWith(prefix)) return undefined;
  const id = subject.slice(prefix.length);
  return isValidConcertId(id) ? id : undefined;
}
