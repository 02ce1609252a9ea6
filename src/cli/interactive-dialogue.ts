/**
 * The interactive client's dialogue as pure functions, with no I/O: where the conversation
 * is (`Step`), what an answer does (`answer`), what a server reply does (`reply`), what a
 * live seat event does (`seatEvent`), and which question comes next (`promptOf`). Each
 * returns the next dialogue, what to show, and at most one request to send and wait for.
 * `interactive.ts` runs it against a terminal or a pipe and a GuichetClient.
 *
 * The dialogue follows the user's use cases (../../../shared/spec/README.md):
 * book: concert → seats (live map: one or several, or "best N") → "Hold seats …? [y/N]" → hold
 * → first, last name → reference; cancel: reference (check digit) → last name → the booking
 * (every seat) → "Cancel it? [y/N]".
 */
import { isWellFormedReference } from '../actors/reference.js';
import { labelsOf, type Row } from '../layout.js';
import type { ConcertSummary, Hello, SeatEvent } from './client.js';
import { nameProblem } from './name-check.js';
import { cliWords } from './cli-words.js';
import { describeSeats, layoutOfMap, parseSeatChoice, type SeatChoice } from './seat-choice.js';

export interface Names {
  firstName: string;
  lastName: string;
}

/** A booking as the dialogue shows it: every seat, with its label. */
export interface Booking {
  reference: string;
  concert: string;
  seats: number[];
  labels: string[];
  firstName: string;
  lastName: string;
}

/** A concert's seat map as the server sends it: one character per seat (`.` `h` `H` `x`), and its rows. */
export interface Seats {
  concert: string;
  capacity: number;
  map: string;
  /** The hall's rows, when the server sends them (rows of 10 otherwise: a protocol-1 server). */
  rows?: Row[];
}

export interface Hold {
  id: string;
  concert: string;
  /** Ascending, with their labels. */
  seats: number[];
  labels: string[];
  /** ms since the epoch */
  expiresAt: number;
}

export type { SeatChoice };

export type Step =
  | { at: 'menu' }
  /** Waiting for CONCERTS; then shows the list and goes on. */
  | { at: 'listing'; then: 'menu' | 'concert' }
  | { at: 'concert' }
  /** Waiting for WATCH. */
  | { at: 'watching'; concert: string }
  | { at: 'seat'; seats: Seats }
  | { at: 'confirm'; seats: Seats; choice: SeatChoice }
  /** Waiting for HOLD. */
  | { at: 'holding'; seats: Seats; choice: SeatChoice }
  | { at: 'first'; seats: Seats; hold: Hold }
  | { at: 'last'; seats: Seats; hold: Hold; firstName: string }
  /** Waiting for BOOK. */
  | { at: 'booking'; seats: Seats; hold: Hold }
  | { at: 'reference' }
  | { at: 'cancel-last'; reference: string }
  /** Waiting for LOOKUP. */
  | { at: 'looking-up'; reference: string; lastName: string }
  | { at: 'cancel-confirm'; booking: Booking; lastName: string }
  /** Waiting for CANCEL. */
  | { at: 'cancelling'; booking: Booking }
  | { at: 'ident-first' }
  | { at: 'ident-last'; firstName: string }
  /** Waiting for IDENT. */
  | { at: 'identing' }
  | { at: 'quit' };

export interface Dialogue {
  concerts: ConcertSummary[];
  /** From IDENT: offered as the default answer to name questions. */
  names?: Names;
  /** The concert list was the last thing shown: booking need not show it again. */
  listed?: boolean;
  /** Seats one connection may hold at once (HELLO's maxSeats, or maxHolds from a protocol-1 server). */
  maxSeats?: number;
  step: Step;
}

export type Tone = 'info' | 'warn' | 'ok';

/** What to show; interactive-format.ts turns it into text. */
export type Output =
  | { kind: 'say'; tone: Tone; text: string }
  /** The concert list. */
  | { kind: 'concerts' }
  /** The seat map of the current step. */
  | { kind: 'seats' }
  /** The booking reference, prominently. */
  | { kind: 'booked'; booking: Booking }
  | { kind: 'help' };

export interface Request {
  verb: string;
  args: Array<string | number>;
}

export type Reply = { ok: true; payload: unknown } | { ok: false; code: string; message: string };

export interface Transition {
  dialogue: Dialogue;
  out: Output[];
  /** Send this and feed its reply to `reply`. */
  send?: Request;
  /** Send these without waiting for their replies (UNWATCH, RELEASE). */
  notify?: Request[];
}

export interface Prompt {
  text: string;
  /** The answer Enter gives, shown in brackets; for display only. */
  fallback?: string;
}

// ================================================================== starting and reading state

export function startDialogue(hello: Pick<Hello, 'concerts'> & Partial<Pick<Hello, 'maxSeats' | 'maxHolds'>>, names?: Names): Dialogue {
  const maxSeats = hello.maxSeats ?? hello.maxHolds;
  return { concerts: hello.concerts, names, listed: true, ...(maxSeats ? { maxSeats } : {}), step: { at: 'menu' } };
}

/** Seats in a sentence (`seat 11 (B1)`, `seats 12-14 (B2-B4)`), on the map of the current step. */
export function seatsText(seats: Seats, numbers: readonly number[], labels?: readonly string[]): string {
  return describeSeats(numbers, labels ?? labelsOf(layoutOfMap(seats), numbers));
}

/** The seats a step is about: those chosen or held, to highlight on the map. */
export function chosenSeats(d: Dialogue): number[] {
  const step = d.step;
  if ((step.at === 'confirm' || step.at === 'holding') && step.choice.kind === 'seats') return step.choice.seats;
  return 'hold' in step ? step.hold.seats : [];
}

/** A hold's seats in a sentence. */
export function holdText(hold: Hold): string {
  return describeSeats(hold.seats, hold.labels);
}

/** True while the dialogue waits for a server reply rather than for an answer. */
export function awaitsReply(d: Dialogue): boolean {
  return ['listing', 'watching', 'holding', 'booking', 'looking-up', 'cancelling', 'identing'].includes(d.step.at);
}

/** The steps that show the live seat map. */
export function showsSeats(d: Dialogue): boolean {
  return 'seats' in d.step;
}

export function seatsOf(d: Dialogue): Seats | undefined {
  return 'seats' in d.step ? d.step.seats : undefined;
}

/** The seat this dialogue holds, if any: to release when the user leaves. */
export function holdOf(d: Dialogue): Hold | undefined {
  return 'hold' in d.step ? d.step.hold : undefined;
}

export function concertTitle(d: Dialogue, id: string): string {
  const c = d.concerts.find((x) => x.id === id);
  return c ? `${c.title} (${id})` : id;
}

export function countSeats(map: string): { free: number; held: number; booked: number } {
  let free = 0;
  let held = 0;
  let booked = 0;
  for (const ch of map) {
    if (ch === '.') free++;
    else if (ch === 'x') booked++;
    else held++;
  }
  return { free, held, booked };
}

// ================================================================== answers

/** Trimmed and lower-cased, for matching keywords. */
const word = (text: string) => text.trim().toLowerCase();
const BACK = new Set(['-', 'back']);

export type MenuChoice = 'book' | 'cancel' | 'list' | 'ident' | 'help' | 'quit';

const MENU_WORDS: Record<string, MenuChoice> = {
  b: 'book',
  book: 'book',
  c: 'cancel',
  cancel: 'cancel',
  l: 'list',
  list: 'list',
  i: 'ident',
  ident: 'ident',
  h: 'help',
  help: 'help',
  '?': 'help',
  q: 'quit',
  quit: 'quit',
  exit: 'quit',
};

export function parseMenuChoice(text: string): MenuChoice | undefined {
  return MENU_WORDS[word(text)];
}

/** `y`/`yes` is yes; `n`/`no` is no; empty is `fallback`; anything else is undefined (ask again). */
export function parseYesNo(text: string, fallback: boolean): boolean | undefined {
  const w = word(text);
  if (w === '') return fallback;
  if (w === 'y' || w === 'yes') return true;
  if (w === 'n' || w === 'no') return false;
  return undefined;
}

/**
 * A concert by its number in the list (1-based), its id (any case), or the start of its id or
 * title when only one concert has it ("rock", "noct"); undefined otherwise.
 */
export function findConcert(concerts: readonly ConcertSummary[], text: string): ConcertSummary | undefined {
  const w = word(text);
  if (w === '') return undefined;
  if (/^\d+$/.test(w)) return concerts[Number(w) - 1];
  const exact = concerts.find((c) => c.id.toLowerCase() === w);
  if (exact) return exact;
  const starting = concerts.filter((c) => c.id.toLowerCase().startsWith(w) || c.title.toLowerCase().startsWith(w));
  return starting.length === 1 ? starting[0] : undefined;
}

export type SeatAnswer = { kind: 'back' } | { kind: 'map' } | { kind: 'choice'; choice: SeatChoice } | { kind: 'invalid'; message: string };

/**
 * The answer to the seat question: one seat or several (`12 13 14`, `A4-A7`, `b7`), or
 * `best 4`, checked against the map the user sees (a seat shown taken is refused at once).
 */
export function parseSeatAnswer(text: string, seats: Seats, maxSeats = DEFAULT_MAX_SEATS): SeatAnswer {
  const w = word(text);
  if (w === '' || BACK.has(w)) return { kind: 'back' };
  if (w === 'm' || w === 'map') return { kind: 'map' };
  return parseSeatChoice(text, seats, maxSeats);
}

/** What a protocol-2 server allows by default, when HELLO does not say. */
const DEFAULT_MAX_SEATS = 8;

export type ReferenceAnswer = { kind: 'back' } | { kind: 'reference'; reference: string } | { kind: 'invalid'; message: string };

/** A booking reference; spaces, dots and hyphens between digits are ignored; the check digit is verified. */
export function parseReferenceAnswer(text: string): ReferenceAnswer {
  const w = word(text);
  if (w === '' || BACK.has(w)) return { kind: 'back' };
  const reference = w.replace(/[\s.-]/g, '');
  if (!/^\d{10}$/.test(reference)) return { kind: 'invalid', message: 'A booking reference is 10 digits, as printed when you booked.' };
  if (!isWellFormedReference(reference)) {
    return { kind: 'invalid', message: `${reference} is not a booking reference: its check digit does not match. A typo?` };
  }
  return { kind: 'reference', reference };
}

export type NameAnswer = { kind: 'back' } | { kind: 'name'; name: string } | { kind: 'missing' };

/** A name as typed; empty takes `fallback`. The server checks the name itself. */
export function parseNameAnswer(text: string, fallback?: string): NameAnswer {
  const name = text.trim();
  if (BACK.has(name.toLowerCase())) return { kind: 'back' };
  if (name === '') return fallback ? { kind: 'name', name: fallback } : { kind: 'missing' };
  return { kind: 'name', name };
}

// ================================================================== transitions

const say = (text: string, tone: Tone = 'info'): Output => ({ kind: 'say', tone, text });
const go = (d: Dialogue, step: Step, out: Output[] = [], extra: Partial<Transition> = {}): Transition => ({
  dialogue: { ...d, listed: false, step },
  out,
  ...extra,
});
const unwatch = (concert: string): Request => ({ verb: 'UNWATCH', args: [concert] });

/** Questions where `q` leaves the client, as at the menu (not the names: "Q" could be one). */
const QUIT_HERE = new Set<Step['at']>(['concert', 'seat', 'confirm', 'reference', 'cancel-confirm']);

/** What an answer to the current question does (`now`: to see whether a hold has run out). */
export function answer(d: Dialogue, text: string, now: number = Date.now()): Transition {
  const step = d.step;
  if (QUIT_HERE.has(step.at) && (word(text) === 'q' || word(text) === 'quit')) return go(d, { at: 'quit' });
  switch (step.at) {
    case 'menu': {
      const choice = parseMenuChoice(text);
      if (choice === undefined) {
        if (word(text) === '') return go(d, step);
        const concert = findConcert(d.concerts, text);
        if (concert) return go(d, { at: 'watching', concert: concert.id }, [], { send: { verb: 'WATCH', args: [concert.id] } });
        return go(d, step, [say(`Unknown choice "${text.trim()}": type b, c, l, i, h or q (h for help).`, 'warn')]);
      }
      switch (choice) {
        case 'book':
          // HELLO's list (or l's) was just shown; else the list is fetched afresh and shown.
          if (d.listed) return go(d, { at: 'concert' });
          return go(d, { at: 'listing', then: 'concert' }, [], { send: { verb: 'CONCERTS', args: [] } });
        case 'list':
          return go(d, { at: 'listing', then: 'menu' }, [], { send: { verb: 'CONCERTS', args: [] } });
        case 'cancel':
          return go(d, { at: 'reference' });
        case 'ident':
          return go(d, { at: 'ident-first' });
        case 'help':
          return go(d, step, [{ kind: 'help' }]);
        case 'quit':
          return go(d, { at: 'quit' });
      }
      break;
    }
    case 'concert': {
      const w = word(text);
      if (w === '' || BACK.has(w)) return go(d, { at: 'menu' });
      const concert = findConcert(d.concerts, text);
      if (!concert) {
        return go(d, step, [say(`No concert "${text.trim()}": give its number (1-${d.concerts.length}) or its id, or - to go back.`, 'warn')]);
      }
      return go(d, { at: 'watching', concert: concert.id }, [], { send: { verb: 'WATCH', args: [concert.id] } });
    }
    case 'seat': {
      const a = parseSeatAnswer(text, step.seats, d.maxSeats);
      switch (a.kind) {
        case 'back':
          return go(d, { at: 'menu' }, [], { notify: [unwatch(step.seats.concert)] });
        case 'map':
          return go(d, step, [{ kind: 'seats' }]);
        case 'invalid':
          return go(d, step, [say(a.message, 'warn')]);
        case 'choice':
          return go(d, { at: 'confirm', seats: step.seats, choice: a.choice });
      }
      break;
    }
    case 'confirm': {
      const yes = parseYesNo(text, false);
      if (yes === undefined) return go(d, step, [say('Answer y (hold them) or n (choose again).', 'warn')]);
      if (!yes) return go(d, { at: 'seat', seats: step.seats }, [say(`Not holding ${choiceText(step.seats, step.choice)}. Choose again.`)]);
      const args = step.choice.kind === 'best' ? ['best', step.choice.count] : step.choice.seats;
      return go(d, { at: 'holding', seats: step.seats, choice: step.choice }, [], {
        send: { verb: 'HOLD', args: [step.seats.concert, ...args] },
      });
    }
    case 'first':
    case 'last': {
      const fallback = step.at === 'first' ? d.names?.firstName : d.names?.lastName;
      const a = parseNameAnswer(text, fallback);
      if (a.kind === 'back') {
        const map = markSeats(step.seats.map, step.hold.seats, 'H', '.');
        return go(d, { at: 'seat', seats: { ...step.seats, map } }, [say(`${capital(holdText(step.hold))} given back. Choose again.`), { kind: 'seats' }], {
          notify: [{ verb: 'RELEASE', args: [step.hold.id] }],
        });
      }
      const which = step.at === 'first' ? 'first' : 'last';
      if (step.hold.expiresAt <= now) {
        // Said now, not after both names are typed and BOOK is refused.
        const map = markSeats(step.seats.map, step.hold.seats, 'H', '.');
        return go(d, { at: 'seat', seats: { ...step.seats, map } }, [say(`Your hold on ${holdText(step.hold)} ran out; choose again.`, 'warn'), { kind: 'seats' }], {
          notify: [{ verb: 'RELEASE', args: [step.hold.id] }],
        });
      }
      if (a.kind === 'missing') return go(d, step, [say(`Your ${which} name, please (or - to give ${holdText(step.hold)} back).`, 'warn')]);
      const problem = nameProblem(a.name);
      if (problem) return go(d, step, [say(`That ${which} name ${problem}. Type it again (or - to give ${holdText(step.hold)} back).`, 'warn')]);
      if (step.at === 'first') return go(d, { at: 'last', seats: step.seats, hold: step.hold, firstName: a.name });
      return go(d, { at: 'booking', seats: step.seats, hold: step.hold }, [], {
        send: { verb: 'BOOK', args: [step.hold.id, step.firstName, a.name] },
      });
    }
    case 'reference': {
      const a = parseReferenceAnswer(text);
      if (a.kind === 'back') return go(d, { at: 'menu' });
      if (a.kind === 'invalid') return go(d, step, [say(a.message, 'warn')]);
      return go(d, { at: 'cancel-last', reference: a.reference });
    }
    case 'cancel-last': {
      const a = parseNameAnswer(text, d.names?.lastName);
      if (a.kind === 'back') return go(d, { at: 'reference' });
      if (a.kind === 'missing') return go(d, step, [say('The last name on the booking, please (or - to type the reference again).', 'warn')]);
      return go(d, { at: 'looking-up', reference: step.reference, lastName: a.name }, [], {
        send: { verb: 'LOOKUP', args: [step.reference, a.name] },
      });
    }
    case 'cancel-confirm': {
      const yes = parseYesNo(text, false);
      if (yes === undefined) return go(d, step, [say('Answer y (cancel the booking) or n (keep it).', 'warn')]);
      if (!yes) return go(d, { at: 'menu' }, [say(`Kept: booking ${step.booking.reference} is unchanged.`)]);
      return go(d, { at: 'cancelling', booking: step.booking }, [], {
        send: { verb: 'CANCEL', args: [step.booking.reference, step.lastName] },
      });
    }
    case 'ident-first': {
      const a = parseNameAnswer(text);
      if (a.kind !== 'name') return go(d, { at: 'menu' });
      const problem = nameProblem(a.name);
      if (problem) return go(d, step, [say(`That first name ${problem}. Type it again (or - to go back).`, 'warn')]);
      return go(d, { at: 'ident-last', firstName: a.name });
    }
    case 'ident-last': {
      const a = parseNameAnswer(text);
      if (a.kind === 'back') return go(d, { at: 'menu' });
      if (a.kind === 'missing') return go(d, step, [say('Your last name, please (or - to go back).', 'warn')]);
      const problem = nameProblem(a.name);
      if (problem) return go(d, step, [say(`That last name ${problem}. Type it again (or - to go back).`, 'warn')]);
      return go(d, { at: 'identing' }, [], { send: { verb: 'IDENT', args: [step.firstName, a.name] } });
    }
    default:
      break;
  }
  // Waiting for a reply, or quitting: an answer typed now changes nothing.
  return go(d, step);
}

/** What the reply to the request sent at the current step does. */
export function reply(d: Dialogue, r: Reply, now: number): Transition {
  const step = d.step;
  const failed = (r: Reply) => (r.ok ? '' : `${cliWords(r.message)} (${r.code})`);
  switch (step.at) {
    case 'listing': {
      if (!r.ok) return go(d, { at: 'menu' }, [say(`Could not list the concerts: ${failed(r)}`, 'warn')]);
      const concerts = (r.payload as { concerts: ConcertSummary[] }).concerts;
      return { dialogue: { ...d, concerts, listed: step.then === 'menu', step: { at: step.then } }, out: [{ kind: 'concerts' }] };
    }
    case 'watching': {
      if (!r.ok) return go(d, { at: 'concert' }, [say(`Cannot show that concert: ${failed(r)}`, 'warn')]);
      const p = r.payload as Seats;
      const seats: Seats = { concert: p.concert, capacity: p.capacity, map: p.map, ...(Array.isArray(p.rows) ? { rows: p.rows } : {}) };
      return go(d, { at: 'seat', seats }, [{ kind: 'seats' }]);
    }
    case 'holding': {
      if (r.ok) {
        const p = r.payload as { hold: string; concert: string; seat: number; seats?: number[]; labels?: string[]; expiresAt: string };
        const numbers = p.seats ?? [p.seat];
        const hold: Hold = {
          id: p.hold,
          concert: p.concert,
          seats: numbers,
          labels: p.labels ?? labelsOf(layoutOfMap(step.seats), numbers),
          expiresAt: Date.parse(p.expiresAt),
        };
        const seats = { ...step.seats, map: markSeats(step.seats.map, hold.seats, '.', 'H') };
        return go(d, { at: 'first', seats, hold }, [
          say(`${capital(holdText(hold))} of ${concertTitle(d, hold.concert)} ${hold.seats.length === 1 ? 'is' : 'are'} held for you: ${formatRemaining(hold.expiresAt - now)} left (until ${formatClock(hold.expiresAt)}).`, 'ok'),
        ]);
      }
      const what = choiceText(step.seats, step.choice);
      if (r.code === 'SEAT_TAKEN') {
        // The EVENT saying so may come after this reply: mark one seat now so it is not offered
        // again (of several, the server's message says which).
        const one = step.choice.kind === 'seats' && step.choice.seats.length === 1 ? step.choice.seats : [];
        const map = markSeats(step.seats.map, one, '.', 'h');
        const why = one.length === 1 ? 'was taken meanwhile' : `could not all be held: ${r.message}`;
        return go(d, { at: 'seat', seats: { ...step.seats, map } }, [say(`${capital(what)} ${why}; choose again.`, 'warn'), { kind: 'seats' }]);
      }
      if (r.code === 'NO_ADJACENT_SEATS') return go(d, { at: 'seat', seats: step.seats }, [say(`${r.message}: choose seats one by one, or fewer.`, 'warn')]);
      if (r.code === 'NO_SUCH_CONCERT') return go(d, { at: 'menu' }, [say(`That concert is gone: ${failed(r)}`, 'warn')]);
      return go(d, { at: 'seat', seats: step.seats }, [say(`${capital(what)} could not be held: ${failed(r)}`, 'warn')]);
    }
    case 'booking': {
      if (r.ok) {
        const booking = bookingOf(r.payload, step.seats);
        return go(d, { at: 'menu' }, [{ kind: 'booked', booking }], { notify: [unwatch(step.seats.concert)] });
      }
      if (r.code === 'INVALID_NAME') {
        return go(d, { at: 'first', seats: step.seats, hold: step.hold }, [
          say(`That name was refused: ${r.message}`, 'warn'),
          say(`${capital(holdText(step.hold))} ${step.hold.seats.length === 1 ? 'is' : 'are'} still held for you (${formatRemaining(step.hold.expiresAt - now)} left). Your names again, please.`),
        ]);
      }
      if (r.code === 'HOLD_EXPIRED' || r.code === 'NO_SUCH_HOLD') {
        const map = markSeats(step.seats.map, step.hold.seats, 'H', '.');
        return go(d, { at: 'seat', seats: { ...step.seats, map } }, [
          say(`Your hold on ${holdText(step.hold)} ran out before the booking; choose again.`, 'warn'),
          { kind: 'seats' },
        ]);
      }
      return go(d, { at: 'first', seats: step.seats, hold: step.hold }, [say(`The booking failed: ${failed(r)}. Try again.`, 'warn')]);
    }
    case 'looking-up': {
      if (r.ok) {
        const booking = bookingOf(r.payload);
        return go(d, { at: 'cancel-confirm', booking, lastName: step.lastName }, [
          say(`Booking ${booking.reference}: ${bookingText(booking)} of ${concertTitle(d, booking.concert)}, for ${booking.firstName} ${booking.lastName}.`),
        ]);
      }
      if (r.code === 'NOT_FOUND') {
        return go(d, { at: 'cancel-last', reference: step.reference }, [
          say(`No booking ${step.reference} under the last name "${step.lastName}". Try the last name again, or - to retype the reference.`, 'warn'),
        ]);
      }
      // The server's message says it ("too many failed look-ups; try again in 60 s"): not twice.
      if (r.code === 'RATE_LIMITED') return go(d, { at: 'menu' }, [say(`${sentence(r.message)}. Not asking again for now.`, 'warn')]);
      if (r.code === 'BAD_REFERENCE') return go(d, { at: 'reference' }, [say(r.message, 'warn')]);
      return go(d, { at: 'menu' }, [say(`The booking could not be looked up: ${failed(r)}`, 'warn')]);
    }
    case 'cancelling': {
      if (r.ok) {
        const p = r.payload as { reference: string; concert: string; seat?: number; seats?: number[] };
        const freed = p.seats || p.seat !== undefined ? bookingOf({ ...step.booking, ...p }) : step.booking;
        const verb = freed.seats.length === 1 ? 'is' : 'are all';
        return go(d, { at: 'menu' }, [say(`Cancelled booking ${p.reference}: ${bookingText(freed)} of ${concertTitle(d, p.concert)} ${verb} free again.`, 'ok')]);
      }
      if (r.code === 'NOT_FOUND') return go(d, { at: 'menu' }, [say(`Booking ${step.booking.reference} is no longer there (cancelled meanwhile?).`, 'warn')]);
      return go(d, { at: 'menu' }, [say(`The booking was not cancelled: ${failed(r)}`, 'warn')]);
    }
    case 'identing': {
      if (r.ok) {
        const names = r.payload as Names;
        return {
          dialogue: { ...d, names: { firstName: names.firstName, lastName: names.lastName }, step: { at: 'menu' } },
          out: [say(`Hello ${names.firstName} ${names.lastName}: bookings will offer these names (Enter accepts them).`, 'ok')],
        };
      }
      if (r.code === 'INVALID_NAME') return go(d, { at: 'ident-first' }, [say(`That name was refused: ${r.message}`, 'warn')]);
      return go(d, { at: 'menu' }, [say(`Your names could not be kept: ${failed(r)}`, 'warn')]);
    }
    default:
      return go(d, step);
  }
}

/** A live seat change: the map the user sees follows it. */
export function seatEvent(d: Dialogue, e: SeatEvent): Dialogue {
  const step = d.step;
  if (!('seats' in step) || step.seats.concert !== e.concert || e.seat < 1 || e.seat > step.seats.capacity) return d;
  return { ...d, step: { ...step, seats: { ...step.seats, map: setSeat(step.seats.map, e.seat, e.state) } } };
}

export function setSeat(map: string, seat: number, ch: string): string {
  return map.slice(0, seat - 1) + ch + map.slice(seat);
}

/** The map with each of `seats` shown as `from` changed to `to` (others left as they are). */
function markSeats(map: string, seats: readonly number[], from: string, to: string): string {
  let next = map;
  for (const seat of seats) if (next[seat - 1] === from) next = setSeat(next, seat, to);
  return next;
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** What the user chose, in a sentence: `seats 12-14 (B2-B4)` or `the best 4 seats side by side`. */
function choiceText(seats: Seats, choice: SeatChoice): string {
  return choice.kind === 'best' ? `the best ${choice.count} seats side by side` : seatsText(seats, choice.seats);
}

/**
 * A BOOK or LOOKUP reply as the dialogue keeps it: every seat with its label. A protocol-1
 * server sends only `seat`; its label is then that of rows of 10 (or of the map's rows).
 */
function bookingOf(payload: unknown, seats?: Seats): Booking {
  const p = payload as { reference: string; concert: string; seat?: number; seats?: number[]; labels?: string[]; firstName: string; lastName: string };
  const numbers = p.seats ?? (p.seat !== undefined ? [p.seat] : []);
  const labels = p.labels ?? labelsOf(layoutOfMap(seats ?? { capacity: Math.max(0, ...numbers), map: '' }), numbers);
  return { reference: p.reference, concert: p.concert, seats: numbers, labels, firstName: p.firstName, lastName: p.lastName };
}

/** A booking's seats in a sentence. */
export function bookingText(b: Booking): string {
  return describeSeats(b.seats, b.labels);
}

// ================================================================== questions

/** The question the current step asks. */
export function promptOf(d: Dialogue, now: number): Prompt {
  const step = d.step;
  switch (step.at) {
    case 'menu':
      return { text: '[b]ook [c]ancel [l]ist [i]dent [h]elp [q]uit' };
    case 'concert':
      return { text: `Concert (1-${d.concerts.length} or id, - to go back)` };
    case 'seat':
      return { text: `Seats (1-${step.seats.capacity} or ${labelRange(step.seats)}, several, or best 4; m for the map, - to go back)` };
    case 'confirm':
      return { text: `Hold ${choiceText(step.seats, step.choice)}? [y/N]` };
    case 'first':
      return { text: `First name (${remainingLabel(step.hold, now)})`, fallback: d.names?.firstName };
    case 'last':
      return { text: `Last name (${remainingLabel(step.hold, now)})`, fallback: d.names?.lastName };
    case 'reference':
      return { text: 'Booking reference (10 digits, - to go back)' };
    case 'cancel-last':
      return { text: 'Last name on the booking (- to retype the reference)', fallback: d.names?.lastName };
    case 'cancel-confirm':
      return { text: 'Cancel it? [y/N]' };
    case 'ident-first':
      return { text: 'Your first name (- to go back)' };
    case 'ident-last':
      return { text: 'Your last name' };
    default:
      return { text: '' };
  }
}

/** `A1-J10`: the labels a hall's seats run through. */
function labelRange(seats: Seats): string {
  const layout = layoutOfMap(seats);
  return `A1-${labelsOf(layout, [layout.capacity])[0]}`;
}

function remainingLabel(hold: Hold, now: number): string {
  const left = hold.expiresAt - now;
  return left > 0 ? `${holdText(hold)} held, ${formatRemaining(left)} left` : `the hold on ${holdText(hold)} has run out`;
}

/** What the user is left with when input ends (a pipe that ran out): exit status and a word. */
export function endOfInput(d: Dialogue): { code: number; message?: string } {
  if (d.step.at === 'menu' || d.step.at === 'quit') return { code: 0 };
  const hold = holdOf(d);
  const released = hold ? ` ${capital(holdText(hold))} ${hold.seats.length === 1 ? 'is' : 'are'} given back.` : '';
  return { code: 1, message: `Input ended in the middle of a question (${d.step.at}).${released}` };
}

// ================================================================== small formats

/** A message as the start of a sentence. */
const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** `m:ss`, never negative. */
export function formatRemaining(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Local wall-clock time `HH:MM:SS`. */
export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

/** The `[address] [port]` arguments (port as typed); throws a message for a bad port. */
/**
 * `--keepalive` (GUICHET_KEEPALIVE): seconds between PINGs, a fraction allowed; 0 sends
 * none. Undefined: every 30 s.
 */
export function parseKeepalive(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_KEEPALIVE_MS;
  const t = text.trim();
  if (!/^\d+(\.\d+)?$/.test(t) || Number(t) > 86_400) {
    throw new Error(`--keepalive must be a number of seconds from 0 (never) to 86400, not ${JSON.stringify(text)}`);
  }
  return Math.round(Number(t) * 1000);
}

/**
 * A PING this often keeps the connection from the gateway's idle timeout (300 s by default)
 * while someone reads the menu or thinks; it is the person, not the connection, who is idle.
 */
export const DEFAULT_KEEPALIVE_MS = 30_000;

export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text.trim()) || Number(text) < 1 || Number(text) > 65535) {
    throw new Error(`the port must be a number from 1 to 65535, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}
