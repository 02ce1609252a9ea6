/**
 * Generated protocol input for the fuzz scenario: random bytes, invalid UTF-8, overlong
 * lines, huge argument counts, near-valid commands, quoting and tag edge cases. Seeded, so
 * a failing run can be replayed (GUICHET_FUZZ_SEED). `expectedReplies` is the model the
 * gateway is held to: one reply per complete line that is not blank, one LINE_TOO_LONG per
 * overlong line, nothing for a blank line.
 */
import { luhnCheckDigit } from '../../src/actors/reference.js';
import { seededRandom } from './random.js';

/** mulberry32, seeded: a failing run can be replayed. */
export const rng = seededRandom;

export const MAX_LINE_BYTES = 4096;


export type Kind = 'random-bytes' | 'invalid-utf8' | 'overlong' | 'boundary' | 'many-args' | 'command' | 'quoting' | 'blank';

export interface Input {
  kind: Kind;
  /** The line's bytes, without its terminator. */
  bytes: Buffer;
  /** `\n` or `\r\n`. */
  terminator: Buffer;
}

const LF = Buffer.from('\n');
const CRLF = Buffer.from('\r\n');
const VERBS = ['CONCERTS', 'LIST', 'SEATS', 'WATCH', 'UNWATCH', 'IDENT', 'HOLD', 'BOOK', 'RELEASE', 'LOOKUP', 'CANCEL', 'PING', 'HELP', 'FLY', '', 'QUIT?'];
const INVALID_UTF8 = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80], // overlong NUL
  [0x80], // lone continuation byte
  [0xe2, 0x82], // truncated 3-byte sequence
  [0xed, 0xa0, 0x80], // UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf8, 0x88, 0x80, 0x80, 0x80], // 5-byte form
  [0xc3], // first half of é
];

export class FuzzGenerator {
  readonly random: () => number;

  constructor(
    seed: number,
    private readonly concerts: readonly string[],
  ) {
    this.random = rng(seed);
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A Luhn-valid reference: it reaches the booking lookup (and the rate limit). */
  reference(): string {
    const body = String(100_000_000 + this.int(900_000_000));
    return body + String(luhnCheckDigit(body));
  }

  argument(): string {
    switch (this.int(14)) {
      case 0:
        return this.pick(this.concerts);
      case 1:
        return String(this.int(120));
      case 2:
        return this.pick(['0', '-1', '1e3', '4294967296', '999999999', '0x10', '１２', '٣', 'NaN']);
      case 3:
        return this.reference();
      case 4:
        return String(this.int(10_000_000_000)).padStart(10, '0');
      case 5:
        return `"${this.pick(['Jean Pierre', 'Le Gall', "O'Brien", 'Zoë', '李 小龍', 'Ана-Мария', '', ' ', '\\"', 'x\\\\'])}"`;
      case 6:
        return this.pick(['Curie', 'HOPPER', 'van der Berg', 'Ñúñez', '🎫', "d'Artagnan", '-', "'", 'a'.repeat(65)]);
      case 7:
        return `"unclosed ${this.int(10)}`;
      case 8:
        return '01J' + 'ABCDEFGHJKMNPQRSTVWXYZ0123456789'.slice(this.int(20), 32).padEnd(23, '0');
      case 9:
        return this.pick(['\t', '\\', '"', '""', '#', '#x', '%s%n', '${x}', '<script>', '\u0000', '\u2028', '\uFEFF']);
      case 10:
        return 'x'.repeat(1 + this.int(300));
      case 11:
        return this.pick(['nope', 'c1', 'C1', '../../etc', '*', '>']);
      default:
        return String.fromCharCode(0x21 + this.int(0x5d)).repeat(1 + this.int(5));
    }
  }

  tag(): string {
    switch (this.int(6)) {
      case 0:
        return `#${this.int(100000)} `;
      case 1:
        return `#${'t'.repeat(33)} `; // too long a tag
      case 2:
        return '#bad/tag ';
      case 3:
        return '# ';
      default:
        return '';
    }
  }

  verb(): string {
    const v = this.pick(VERBS).replace('?', this.random() < 0.5 ? 'X' : '');
    // QUIT is never generated here ("QUITX", "QUIT" only in its own place): it ends a connection.
    const word = v === 'QUIT' ? 'QUITS' : v;
    return this.random() < 0.3 ? word.toLowerCase() : word;
  }

  command(): string {
    const args = Array.from({ length: this.int(5) }, () => this.argument());
    const sep = () => (this.random() < 0.1 ? '\t' : this.random() < 0.1 ? '  ' : ' ');
    return `${this.tag()}${[this.verb(), ...args].join(sep())}`;
  }

  next(): Input {
    const terminator = this.random() < 0.3 ? CRLF : LF;
    const r = this.random();
    if (r < 0.2) {
      // Random bytes, any value but a line feed.
      const bytes = Buffer.alloc(this.int(200));
      for (let i = 0; i < bytes.length; i++) {
        let b = this.int(256);
        if (b === 0x0a) b = 0x0b;
        bytes[i] = b;
      }
      return { kind: 'random-bytes', bytes, terminator };
    }
    if (r < 0.32) {
      const text = Buffer.from(this.command());
      const bad = Buffer.from(this.pick(INVALID_UTF8));
      const at = this.int(text.length + 1);
      return { kind: 'invalid-utf8', bytes: Buffer.concat([text.subarray(0, at), bad, text.subarray(at)]), terminator };
    }
    if (r < 0.335) {
      // Overlong: just over the limit, or far over it.
      const length = this.random() < 0.7 ? MAX_LINE_BYTES + 1 + this.int(200) : MAX_LINE_BYTES + this.int(60_000);
      return { kind: 'overlong', bytes: Buffer.from(`PING ${'y'.repeat(length)}`), terminator };
    }
    if (r < 0.34) {
      // Right at the limit: 4095, 4096 (accepted) and 4097 bytes (refused), \r\n or not.
      const length = MAX_LINE_BYTES - 1 + this.int(3);
      const head = Buffer.from('#edge SEATS ');
      return { kind: 'boundary', bytes: Buffer.concat([head, Buffer.alloc(length - head.length, 0x7a)]), terminator };
    }
    if (r < 0.38) {
      // Huge argument counts: far more words than any verb takes (within the line limit, or over it).
      const n = this.random() < 0.8 ? 17 + this.int(2_000) : 2_100 + this.int(5_000);
      return { kind: 'many-args', bytes: Buffer.from(`${this.tag()}${this.pick(['PING', 'LOOKUP', 'IDENT', 'HOLD'])}${' a'.repeat(n)}`), terminator };
    }
    if (r < 0.45) {
      const text = this.pick(['"', '""', '"#1" PING', '#1', '#', ' #1 PING', '#1  PING', 'PING "', 'IDENT "a" "b', 'IDENT "a\\" b"', '\\', '\t\tPING\t', '#1\tPING']);
      return { kind: 'quoting', bytes: Buffer.from(text), terminator };
    }
    if (r < 0.48) {
      return { kind: 'blank', bytes: Buffer.from(this.pick(['', ' ', '\t', ' \t ', '\r'])), terminator };
    }
    return { kind: 'command', bytes: Buffer.from(this.command()), terminator };
  }

  /** Cuts a byte stream into chunks of 1 to `max` bytes (splitting characters, `\r\n`, anything). */
  chunks(data: Buffer, max: number): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < data.length; ) {
      const n = 1 + this.int(max);
      out.push(data.subarray(i, i + n));
      i += n;
    }
    return out;
  }
}

/** Replies the gateway owes for one complete line: 0 (blank) or 1. */
export function expectedReplies(input: Input): number {
  let bytes = input.terminator.length === 2 ? Buffer.concat([input.bytes, Buffer.from('\r')]) : input.bytes;
  // One trailing \r belongs to the line break.
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
  if (bytes.length > MAX_LINE_BYTES) return 1;
  const text = new TextDecoder('utf-8').decode(bytes);
  return /^[ \t]*$/.test(text) ? 0 : 1;
}

export function encode(input: Input): Buffer {
  return Buffer.concat([input.bytes, input.terminator]);
}
