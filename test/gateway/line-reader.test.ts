/** Cutting a TCP byte stream into lines: chunk boundaries, `\r\n`, the 4096-byte limit, UTF-8. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LineReader } from '../../src/gateway/line-reader.js';
import { MAX_LINE_BYTES } from '../../src/gateway/protocol.js';

/** A reader whose sink records what it is told, in order: a line's text, or TOO_LONG. */
function reader(maxBytes = MAX_LINE_BYTES) {
  const seen: string[] = [];
  const r = new LineReader({ line: (text) => seen.push(text), tooLong: () => seen.push('TOO_LONG') }, maxBytes);
  return {
    reader: r,
    seen,
    /** Feeds each chunk in turn (strings are UTF-8 encoded) and returns everything seen so far. */
    feed(...chunks: (string | Buffer)[]): string[] {
      for (const chunk of chunks) r.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      return seen;
    },
  };
}

/** The bytes buffered for the line being read (a private field, read to check memory stays bounded). */
const buffered = (r: LineReader): number => (r as any).size as number;

/** `bytes` cut into pieces of `size` bytes. */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

// ================================================================== lines and chunks

const Lines = suite('LineReader: lines and chunks');

Lines('reads one line', () => {
  assert.equal(reader().feed('PING\n'), ['PING']);
});

Lines('reads several lines from one chunk', () => {
  assert.equal(reader().feed('PING\nSEATS jazz\nQUIT\n'), ['PING', 'SEATS jazz', 'QUIT']);
});

Lines('joins a line split across chunks', () => {
  assert.equal(reader().feed('HO', 'LD ja', 'zz 3', '\n'), ['HOLD jazz 3']);
});

Lines('reads a line fed one byte at a time', () => {
  assert.equal(reader().feed(...pieces(Buffer.from('HOLD jazz 3\nPING\n'), 1)), ['HOLD jazz 3', 'PING']);
});

Lines('keeps an unfinished line until its newline comes', () => {
  const r = reader();
  assert.equal(r.feed('PING\nSEA'), ['PING']);
  assert.equal(r.feed('TS jazz\n'), ['PING', 'SEATS jazz']);
});

Lines('reads an empty line as an empty string', () => {
  assert.equal(reader().feed('\n\nPING\n'), ['', '', 'PING']);
});

Lines('accepts \\r\\n and strips the \\r', () => {
  assert.equal(reader().feed('PING\r\nQUIT\r\n'), ['PING', 'QUIT']);
});

Lines('accepts \\r\\n split between two chunks', () => {
  assert.equal(reader().feed('PING\r', '\nQUIT\r', '\n'), ['PING', 'QUIT']);
});

Lines('strips only one \\r at the end, and keeps one in the middle', () => {
  assert.equal(reader().feed('a\rb\n', 'c\r\r\n'), ['a\rb', 'c\r']);
});

Lines.run();

// ================================================================== the length limit

const Limit = suite('LineReader: the 4096-byte limit');

const exactly = 'x'.repeat(MAX_LINE_BYTES);
const oneOver = 'x'.repeat(MAX_LINE_BYTES + 1);

Limit('accepts a line of exactly 4096 bytes', () => {
  assert.equal(reader().feed(`${exactly}\n`), [exactly]);
});

Limit('accepts a line of exactly 4096 bytes followed by \\r\\n', () => {
  assert.equal(reader().feed(`${exactly}\r\n`), [exactly]);
});

Limit('accepts 4096 bytes and \\r\\n arriving in pieces', () => {
  assert.equal(reader().feed(exactly.slice(0, 1000), exactly.slice(1000), '\r', '\n'), [exactly]);
  assert.equal(reader().feed(...pieces(Buffer.from(`${exactly}\r\n`), 7)), [exactly]);
});

Limit('counts bytes, not characters: 2048 two-byte letters fit, 2049 do not', () => {
  const fits = 'é'.repeat(2048);
  assert.equal(reader().feed(`${fits}\n`, `${fits}é\n`), [fits, 'TOO_LONG']);
});

Limit('refuses a line of 4097 bytes once, then reads the next line', () => {
  assert.equal(reader().feed(`${oneOver}\nPING\n`), ['TOO_LONG', 'PING']);
});

Limit('refuses 4097 bytes and \\r\\n once', () => {
  assert.equal(reader().feed(`${oneOver}\r\nPING\r\n`), ['TOO_LONG', 'PING']);
});

Limit('refuses a line of 4097 bytes arriving in pieces once, then reads the next line', () => {
  assert.equal(reader().feed(oneOver.slice(0, 4000), oneOver.slice(4000), '\n', 'PING\n'), ['TOO_LONG', 'PING']);
  assert.equal(reader().feed(...pieces(Buffer.from(`${oneOver}\nPING\n`), 13)), ['TOO_LONG', 'PING']);
});

Limit('refuses 4096 bytes followed by a \\r that is not the end of the line', () => {
  assert.equal(reader().feed(`${exactly}\rx\nPING\n`), ['TOO_LONG', 'PING']);
  assert.equal(reader().feed(exactly, '\r', 'x', '\n', 'PING\n'), ['TOO_LONG', 'PING']);
});

Limit('reports a long line as soon as it passes the limit, before its newline', () => {
  const r = reader();
  assert.equal(r.feed(exactly, 'xx'), ['TOO_LONG']);
  assert.equal(r.feed('still the same line\nPING\n'), ['TOO_LONG', 'PING']);
});

Limit('reports a huge line without a newline once, fed in many chunks, and memory stays bounded', () => {
  const r = reader();
  const chunk = Buffer.alloc(1000, 0x61);
  let largest = 0;
  for (let i = 0; i < 10_000; i++) {
    r.reader.push(chunk);
    largest = Math.max(largest, buffered(r.reader));
  }
  assert.equal({ seen: r.seen, largest: largest <= MAX_LINE_BYTES + 1, now: buffered(r.reader) }, { seen: ['TOO_LONG'], largest: true, now: 0 });
  assert.equal(r.feed('\nPING\n'), ['TOO_LONG', 'PING']);
});

Limit('reports a huge line in one chunk once', () => {
  assert.equal(reader().feed(Buffer.alloc(1_000_000, 0x61), '\nPING\n'), ['TOO_LONG', 'PING']);
});

Limit('buffers nothing after a line ends', () => {
  const r = reader();
  r.feed('HOLD jazz 3\n');
  assert.equal(buffered(r.reader), 0);
});

Limit('follows the limit it is given', () => {
  assert.equal(reader(4).feed('abcd\nabcde\nab\r\n'), ['abcd', 'TOO_LONG', 'ab']);
});

Limit.run();

// ================================================================== UTF-8

const Utf8 = suite('LineReader: UTF-8');

Utf8('decodes letters of any script', () => {
  assert.equal(reader().feed('IDENT Zoë 李 Дмитрий 😀\n'), ['IDENT Zoë 李 Дмитрий 😀']);
});

Utf8('decodes a multi-byte character split across chunks', () => {
  const bytes = Buffer.from('é李😀\n', 'utf8'); // 2 + 3 + 4 bytes
  for (const at of [1, 2, 3, 4, 5, 6, 7, 8]) {
    assert.equal(reader().feed(bytes.subarray(0, at), bytes.subarray(at)), ['é李😀'], `cut at byte ${at}`);
  }
  assert.equal(reader().feed(...pieces(bytes, 1)), ['é李😀']);
});

Utf8('decodes the next line cleanly after a cut character', () => {
  const bytes = Buffer.from('😀\n😀\n', 'utf8');
  assert.equal(reader().feed(bytes.subarray(0, 2), bytes.subarray(2, 7), bytes.subarray(7)), ['😀', '😀']);
});

Utf8('turns invalid UTF-8 into U+FFFD without throwing', () => {
  const bad = Buffer.from([0x41, 0xff, 0x42, 0x0a, 0xc3, 0x0a, 0xe6, 0x9d, 0x0a, 0x43, 0x0a]);
  assert.equal(reader().feed(bad), ['A\uFFFDB', '\uFFFD', '\uFFFD', 'C']);
});

Utf8('a character cut by the end of its line does not spill into the next', () => {
  // The first two bytes of 李, then a newline: the next line must not inherit them.
  assert.equal(reader().feed(Buffer.from([0xe6, 0x9d, 0x0a]), 'PING\n'), ['\uFFFD', 'PING']);
});

Utf8.run();
