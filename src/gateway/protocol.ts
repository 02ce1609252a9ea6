/**
 * The wire format: one UTF-8 line per message. Requests are `[#tag ]VERB args…` with
 * double-quoted arguments for spaces; replies are `[#tag ]OK {json}` or
 * `[#tag ]ERR CODE message`; pushes are `EVENT {json}`. docs/protocol.md is the reference.
 */
import type { ErrorCode } from '../errors.js';
import { GuichetError } from '../errors.js';

/** 2: several seats per HOLD, `best <n>`, rows and labels (a protocol-1 client still works). */
export const PROTOCOL_VERSION = 2;
/** Longest accepted line, in bytes, without its line break. */
export const MAX_LINE_BYTES = 4096;
/**
 * The most arguments a request may have: a HOLD of up to 100 seats (the largest --max-seats)
 * with its concert, and room for quoting mistakes to be reported as such.
 */
export const MAX_ARGS = 128;
const TAG = /^#[A-Za-z0-9_.:-]{1,32}$/;

export interface Request {
  tag?: string;
  /** Upper-cased verb. */
  verb: string;
  args: string[];
}

/** Splits a request line. Throws GuichetError BAD_ARGUMENTS (carrying the tag when one was read). */
export function parseRequest(line: string): Request | undefined {
  const words = splitArguments(line);
  if (words.length === 0) return undefined;
  let tag: string | undefined;
  // A tag is the first word as written: `"#x" PING` is a quoted argument, not a tag.
  if (line.trimStart().startsWith('#')) {
    tag = words.shift()!;
    if (!TAG.test(tag)) throw new TaggedError(undefined, 'BAD_ARGUMENTS', 'a tag is # and 1-32 letters, digits or _.:-');
    if (words.length === 0) throw new TaggedError(tag, 'UNKNOWN_COMMAND', 'a tag must be followed by a command');
  }
  if (words.length > MAX_ARGS + 1) throw new TaggedError(tag, 'BAD_ARGUMENTS', `too many arguments (at most ${MAX_ARGS})`);
  const verb = words.shift()!.toUpperCase();
  return { tag, verb, args: words };
}

/** An error raised while parsing, with the tag to echo if one was read. */
export class TaggedError extends GuichetError {
  constructor(
    readonly tag: string | undefined,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/**
 * Splits on spaces (and tabs); `"…"` groups words, with `\"` and `\\` inside. Throws
 * BAD_ARGUMENTS for an unclosed quote, carrying the request's tag when it has a valid one.
 */
export function splitArguments(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '"') {
      let word = '';
      i++;
      let closed = false;
      while (i < n) {
        const d = line[i]!;
        if (d === '\\' && i + 1 < n && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          word += line[i + 1];
          i += 2;
        } else if (d === '"') {
          closed = true;
          i++;
          break;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) {
        // Echo the tag only when it is one: unquoted, first, and well formed.
        const first = words[0];
        const tag = first && line.trimStart().startsWith('#') && TAG.test(first) ? first : undefined;
        throw new TaggedError(tag, 'BAD_ARGUMENTS', 'unclosed double quote');
      }
      words.push(word);
    } else {
      let j = i;
      while (j < n && line[j] !== ' ' && line[j] !== '\t') j++;
      words.push(line.slice(i, j));
      i = j;
    }
  }
  return words;
}

/** Quotes an argument when it needs it, so that splitArguments gives it back unchanged. */
export function quoteArgument(arg: string): string {
  if (arg !== '' && !/[\s"\\]/.test(arg)) return arg;
  return `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function formatOk(tag: string | undefined, payload: unknown = {}): string {
  return `${tag ? `${tag} ` : ''}OK ${JSON.stringify(payload)}`;
}

export function formatError(tag: string | undefined, code: ErrorCode, message: string): string {
  // A message is one line whatever it was given.
  return `${tag ? `${tag} ` : ''}ERR ${code} ${message.replace(/[\r\n]+/g, ' ')}`;
}

export function formatPush(kind: 'EVENT' | 'HELLO', payload: unknown): string {
  return `${kind} ${JSON.stringify(payload)}`;
}

/** A line received by a client, parsed. */
export type Reply =
  | { kind: 'ok'; tag?: string; payload: unknown }
  | { kind: 'err'; tag?: string; code: string; message: string }
  | { kind: 'event'; payload: unknown }
  | { kind: 'hello'; payload: unknown };

export function parseReply(line: string): Reply {
  let rest = line;
  let tag: string | undefined;
  if (rest.startsWith('#')) {
    const space = rest.indexOf(' ');
    tag = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? '' : rest.slice(space + 1);
  }
  const space = rest.indexOf(' ');
  const head = space < 0 ? rest : rest.slice(0, space);
  const body = space < 0 ? '' : rest.slice(space + 1);
  switch (head) {
    case 'OK':
      return { kind: 'ok', tag, payload: body ? JSON.parse(body) : {} };
    case 'ERR': {
      const sp = body.indexOf(' ');
      return { kind: 'err', tag, code: sp < 0 ? body : body.slice(0, sp), message: sp < 0 ? '' : body.slice(sp + 1) };
    }
    case 'EVENT':
      return { kind: 'event', payload: JSON.parse(body) };
    case 'HELLO':
      return { kind: 'hello', payload: JSON.parse(body) };
    default:
      throw new Error(`unexpected line from server: ${line.slice(0, 200)}`);
  }
}
