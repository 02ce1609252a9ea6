/** The wire format: request lines parsed, arguments quoted, replies and pushes formatted and read back. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatError,
  formatOk,
  formatPush,
  parseReply,
  parseRequest,
  quoteArgument,
  splitArguments,
  TaggedError,
  MAX_LINE_BYTES,
  PROTOCOL_VERSION,
  type Request,
} from '../../src/gateway/protocol.js';
import { GuichetError } from '../../src/errors.js';
import { seededRandom as random } from '../support/random.js';

/** What parseRequest makes of `line`: the request, undefined, or the error it throws as plain data. */
function parsed(line: string): Request | undefined | { error: { code: string; tag: string | undefined; message: string } } {
  try {
    return parseRequest(line);
  } catch (err) {
    if (!(err instanceof TaggedError)) throw err;
    return { error: { code: err.code, tag: err.tag, message: err.message } };
  }
}

const request = (verb: string, args: string[] = [], tag?: string): Request => ({ tag, verb, args });
const refused = (code: string, tag: string | undefined, message: string) => ({ error: { code, tag, message } });

const BAD_TAG = 'a tag is # and 1-32 letters, digits or _.:-';
const UNCLOSED = 'unclosed double quote';


// ================================================================== constants

const Constants = suite('protocol constants');

Constants('version 2, lines of at most 4096 bytes', () => {
  assert.equal({ PROTOCOL_VERSION, MAX_LINE_BYTES }, { PROTOCOL_VERSION: 2, MAX_LINE_BYTES: 4096 });
});

Constants.run();

// ================================================================== parseRequest: verbs and arguments

const Parse = suite('parseRequest');

Parse('reads a verb and its arguments', () => {
  assert.equal(parsed('HOLD jazz-nocturne 12'), request('HOLD', ['jazz-nocturne', '12']));
});

Parse('reads a verb alone', () => {
  assert.equal(parsed('PING'), request('PING'));
});

Parse('upper-cases the verb and leaves the arguments as typed', () => {
  assert.equal(parsed('hOlD Jazz-Nocturne 12'), request('HOLD', ['Jazz-Nocturne', '12']));
  assert.equal(parsed('ident Ada Lovelace'), request('IDENT', ['Ada', 'Lovelace']));
});

Parse('ignores leading, trailing and repeated spaces', () => {
  assert.equal(parsed('   SEATS    jazz   '), request('SEATS', ['jazz']));
});

Parse('separates on tabs as on spaces', () => {
  assert.equal(parsed('HOLD\tjazz\t \t12\t'), request('HOLD', ['jazz', '12']));
});

Parse('a blank line is no request', () => {
  assert.equal(['', ' ', '   ', '\t', ' \t \t '].map(parsed), [undefined, undefined, undefined, undefined, undefined]);
});

Parse('keeps other characters inside a word: unicode, #, quotes in the middle', () => {
  assert.equal(parsed('IDENT Zoë 李 a#b it"s'), request('IDENT', ['Zoë', '李', 'a#b', 'it"s']));
});

Parse('accepts 128 arguments (a HOLD of 100 seats fits) and refuses 129', () => {
  const many = Array.from({ length: 128 }, (_, i) => `a${i}`);
  assert.equal(parsed(`BOOK ${many.join(' ')}`), request('BOOK', many));
  assert.equal(parsed(`BOOK ${many.join(' ')} one-more`), refused('BAD_ARGUMENTS', undefined, 'too many arguments (at most 128)'));
});

Parse('counts arguments after the tag, and echoes the tag when there are too many', () => {
  const many = Array.from({ length: 128 }, (_, i) => `a${i}`);
  assert.equal(parsed(`#t1 BOOK ${many.join(' ')}`), request('BOOK', many, '#t1'));
  assert.equal(parsed(`#t1 BOOK ${many.join(' ')} x`), refused('BAD_ARGUMENTS', '#t1', 'too many arguments (at most 128)'));
});

Parse.run();

// ================================================================== parseRequest: quoting

const Quoted = suite('parseRequest: quoted arguments');

Quoted('groups words with spaces inside double quotes', () => {
  assert.equal(parsed('IDENT "Jean Pierre" "de la Tour"'), request('IDENT', ['Jean Pierre', 'de la Tour']));
});

Quoted('keeps spaces and tabs inside quotes as they are', () => {
  assert.equal(parsed('IDENT "  a \t b  " c'), request('IDENT', ['  a \t b  ', 'c']));
});

Quoted('reads "" as an empty argument', () => {
  assert.equal(parsed('BOOK h1 "" Lovelace'), request('BOOK', ['h1', '', 'Lovelace']));
});

Quoted('reads \\" as a quote and \\\\ as a backslash', () => {
  assert.equal(parsed('IDENT "say \\"hi\\"" "back\\\\slash"'), request('IDENT', ['say "hi"', 'back\\slash']));
});

Quoted('keeps a backslash before any other character', () => {
  assert.equal(parsed('IDENT "a\\nb" "c\\d"'), request('IDENT', ['a\\nb', 'c\\d']));
});

Quoted('ends a quoted argument at its closing quote even without a space after it', () => {
  assert.equal(parsed('IDENT "Jean Pierre"Dupont'), request('IDENT', ['Jean Pierre', 'Dupont']));
});

Quoted('refuses an unclosed quote with BAD_ARGUMENTS', () => {
  assert.equal(parsed('IDENT "Jean Pierre'), refused('BAD_ARGUMENTS', undefined, UNCLOSED));
  assert.equal(parsed('IDENT "'), refused('BAD_ARGUMENTS', undefined, UNCLOSED));
});

Quoted('an escaped quote does not close the argument', () => {
  assert.equal(parsed('IDENT "Jean\\"'), refused('BAD_ARGUMENTS', undefined, UNCLOSED));
});

Quoted('an unclosed quote carries the tag read before it', () => {
  assert.equal(parsed('#t42 IDENT "Jean Pierre'), refused('BAD_ARGUMENTS', '#t42', UNCLOSED));
});

Quoted('the error of an unclosed quote is a GuichetError with the wire code', () => {
  let caught: unknown;
  try {
    parseRequest('#t IDENT "x');
  } catch (err) {
    caught = err;
  }
  assert.instance(caught, GuichetError);
  assert.instance(caught, TaggedError);
});

Quoted.run();

// ================================================================== parseRequest: tags

const Tags = suite('parseRequest: tags');

Tags('reads a #tag before the verb', () => {
  assert.equal(parsed('#abc PING'), request('PING', [], '#abc'));
  assert.equal(parsed('#abc hold jazz 3'), request('HOLD', ['jazz', '3'], '#abc'));
});

Tags('accepts letters, digits and _.:- up to 32 characters', () => {
  const tags = ['#1', '#a.b:c-d_e', '#' + 'x'.repeat(32), '#ABC123'];
  assert.equal(tags.map((tag) => parsed(`${tag} PING`)), tags.map((tag) => request('PING', [], tag)));
});

Tags('a tag alone is UNKNOWN_COMMAND carrying the tag', () => {
  assert.equal(parsed('#abc'), refused('UNKNOWN_COMMAND', '#abc', 'a tag must be followed by a command'));
  assert.equal(parsed('  #abc  \t'), refused('UNKNOWN_COMMAND', '#abc', 'a tag must be followed by a command'));
});

Tags('a malformed tag is BAD_ARGUMENTS without a tag to echo', () => {
  const bad = ['#', '#' + 'x'.repeat(33), '#a!b', '#é', '#a/b', '##'];
  assert.equal(
    bad.map((tag) => parsed(`${tag} PING`)),
    bad.map(() => refused('BAD_ARGUMENTS', undefined, BAD_TAG)),
  );
});

Tags('a malformed tag alone is BAD_ARGUMENTS too', () => {
  assert.equal(parsed('#a!b'), refused('BAD_ARGUMENTS', undefined, BAD_TAG));
});

Tags('an unclosed quote after a malformed tag does not echo that tag', () => {
  // The tag is echoed on the reply line: one with a space or 4000 characters would garble it.
  const bad = ['#a!b IDENT "x', `#${'x'.repeat(100)} IDENT "x`, '"#a b" IDENT "x'];
  assert.equal(bad.map(parsed), bad.map(() => refused('BAD_ARGUMENTS', undefined, UNCLOSED)));
});

Tags('only the first word can be a tag', () => {
  assert.equal(parsed('PING #abc'), request('PING', ['#abc']));
});

Tags.run();

// ================================================================== quoteArgument

const Quote = suite('quoteArgument');

Quote('leaves a plain word as it is', () => {
  assert.equal(['Ada', 'jazz-nocturne', '12', 'Zoë', '李', "O'Brien", '#tag'].map(quoteArgument), ['Ada', 'jazz-nocturne', '12', 'Zoë', '李', "O'Brien", '#tag']);
});

Quote('quotes an empty argument and one with spaces, quotes or backslashes', () => {
  assert.equal(
    ['', 'Jean Pierre', 'a\tb', 'say "hi"', 'back\\slash', '\\', '"'].map(quoteArgument),
    ['""', '"Jean Pierre"', '"a\tb"', '"say \\"hi\\""', '"back\\\\slash"', '"\\\\"', '"\\""'],
  );
});

const tricky = [
  '',
  ' ',
  '  ',
  'Jean Pierre',
  ' leading',
  'trailing ',
  '"',
  '""',
  '"quoted"',
  'a"b',
  '\\',
  '\\\\',
  'ends with \\',
  '\\"',
  '"\\',
  'a\\"b c',
  '\t',
  'tab\there',
  'Zoë Lévêque',
  '李 小龙',
  '😀 emoji',
  'Nguye\u0302\u0303n',
  '#not-a-tag',
  "O'Brien",
  'new\nline',
  'nbsp\u00a0here',
];

Quote('splitArguments gives back each tricky argument unchanged', () => {
  assert.equal(
    tricky.map((arg) => splitArguments(quoteArgument(arg))),
    tricky.map((arg) => [arg]),
  );
});

Quote('splitArguments gives back a whole line of tricky arguments in order', () => {
  assert.equal(splitArguments(tricky.map(quoteArgument).join(' ')), tricky);
});

Quote('parseRequest reads quoted arguments back after a verb and a tag', () => {
  assert.equal(parsed(`#t IDENT ${quoteArgument('Jean "JP" Pierre')} ${quoteArgument('de la \\ Tour')}`), request('IDENT', ['Jean "JP" Pierre', 'de la \\ Tour'], '#t'));
});

Quote('round-trips 200 generated strings, alone and as a line', () => {
  const alphabet = [' ', ' ', '\t', '"', '"', '\\', '\\', 'a', 'B', 'z', '0', '#', "'", '-', 'é', 'e\u0301', 'ß', '李', '😀', '\u00a0', '\u2028'];
  const next = random(20270101);
  const strings = Array.from({ length: 200 }, () => {
    const length = Math.floor(next() * 12);
    return Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]!).join('');
  });
  const mismatches = strings.filter((s) => {
    const back = splitArguments(quoteArgument(s));
    return back.length !== 1 || back[0] !== s;
  });
  assert.equal(mismatches, []);
  for (let i = 0; i < strings.length; i += 10) {
    const group = strings.slice(i, i + 10);
    assert.equal(splitArguments(group.map(quoteArgument).join(' ')), group, `strings ${i}-${i + 9}`);
  }
});

Quote.run();

// ================================================================== formatOk / formatError / formatPush

const Format = suite('formatOk / formatError / formatPush');

Format('OK with a JSON payload', () => {
  assert.equal(formatOk(undefined, { hold: 'h1', seat: 3 }), 'OK {"hold":"h1","seat":3}');
});

Format('OK with an empty object when no payload is given', () => {
  assert.equal(formatOk(undefined), 'OK {}');
});

Format('OK echoes the tag first', () => {
  assert.equal(formatOk('#t1', {}), '#t1 OK {}');
});

Format('OK keeps a payload with newlines on one line', () => {
  const line = formatOk(undefined, { title: 'two\nlines\r\n' });
  assert.equal({ line, lines: line.split('\n').length }, { line: 'OK {"title":"two\\nlines\\r\\n"}', lines: 1 });
});

Format('ERR with the code and the message', () => {
  assert.equal(formatError(undefined, 'NOT_FOUND', 'no booking with that reference and name'), 'ERR NOT_FOUND no booking with that reference and name');
});

Format('ERR echoes the tag first', () => {
  assert.equal(formatError('#t9', 'SEAT_TAKEN', 'seat 3 is taken'), '#t9 ERR SEAT_TAKEN seat 3 is taken');
});

Format('ERR flattens line breaks in the message into spaces', () => {
  assert.equal(formatError(undefined, 'INTERNAL', 'first\nsecond\r\nthird\rfourth\n\n'), 'ERR INTERNAL first second third fourth ');
});

Format('an empty tag is no tag', () => {
  assert.equal([formatOk('', {}), formatError('', 'INTERNAL', 'x')], ['OK {}', 'ERR INTERNAL x']);
});

Format('EVENT and HELLO pushes, never tagged', () => {
  assert.equal(formatPush('EVENT', { concert: 'jazz', seat: 3, state: 'h' }), 'EVENT {"concert":"jazz","seat":3,"state":"h"}');
  assert.equal(formatPush('HELLO', { version: 1, holdSeconds: 120, concerts: [] }), 'HELLO {"version":1,"holdSeconds":120,"concerts":[]}');
});

Format.run();

// ================================================================== parseReply

const Reply = suite('parseReply');

Reply('reads OK with its payload', () => {
  assert.equal(parseReply('OK {"hold":"h1","seat":3}'), { kind: 'ok', tag: undefined, payload: { hold: 'h1', seat: 3 } });
});

Reply('reads a tagged OK', () => {
  assert.equal(parseReply('#t1 OK {"a":[1,2]}'), { kind: 'ok', tag: '#t1', payload: { a: [1, 2] } });
});

Reply('reads OK without a payload as {}', () => {
  assert.equal(parseReply('OK'), { kind: 'ok', tag: undefined, payload: {} });
  assert.equal(parseReply('#t OK'), { kind: 'ok', tag: '#t', payload: {} });
});

Reply('reads ERR with its code and message', () => {
  assert.equal(parseReply('ERR NO_SUCH_SEAT seat 101 does not exist'), { kind: 'err', tag: undefined, code: 'NO_SUCH_SEAT', message: 'seat 101 does not exist' });
});

Reply('reads a tagged ERR', () => {
  assert.equal(parseReply('#x.1 ERR BAD_ARGUMENTS unclosed double quote'), { kind: 'err', tag: '#x.1', code: 'BAD_ARGUMENTS', message: 'unclosed double quote' });
});

Reply('reads ERR without a message', () => {
  assert.equal(parseReply('ERR INTERNAL'), { kind: 'err', tag: undefined, code: 'INTERNAL', message: '' });
});

Reply('reads EVENT and HELLO pushes', () => {
  assert.equal(parseReply('EVENT {"concert":"jazz","seat":3}'), { kind: 'event', payload: { concert: 'jazz', seat: 3 } });
  assert.equal(parseReply('HELLO {"version":1}'), { kind: 'hello', payload: { version: 1 } });
});

Reply('reads back what formatOk, formatError and formatPush write', () => {
  assert.equal(
    [
      parseReply(formatOk('#t', { title: 'Zoë "live"\n' })),
      parseReply(formatError(undefined, 'NOT_FOUND', 'line one\nline two')),
      parseReply(formatPush('EVENT', { seat: 1 })),
    ],
    [
      { kind: 'ok', tag: '#t', payload: { title: 'Zoë "live"\n' } },
      { kind: 'err', tag: undefined, code: 'NOT_FOUND', message: 'line one line two' },
      { kind: 'event', payload: { seat: 1 } },
    ],
  );
});

Reply('throws on a line the server does not send', () => {
  assert.throws(() => parseReply('WHAT now'), /unexpected line from server: WHAT now/);
  assert.throws(() => parseReply(''), /unexpected line from server/);
});

Reply('throws on an OK whose payload is not JSON', () => {
  assert.throws(() => parseReply('OK {not json'), SyntaxError);
});

Reply.run();
