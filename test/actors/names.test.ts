/** Which names a booking accepts, how they are stored, and how last names are compared. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanName, foldName, sameLastName, NAME_MAX_LENGTH } from '../../src/actors/names.js';

// ================================================================== cleanName

const Clean = suite('cleanName');

Clean('keeps a plain name as it is', () => {
  assert.equal(cleanName('Ada'), 'Ada');
});

Clean('accepts letters of any script, spaces, hyphens and apostrophes', () => {
  const names = ['Jean Pierre', "O'Brien", 'O’Brien', 'Zoë', 'Łukasz', '李', 'Дмитрий', 'Dupont-Lévêque', 'Nguyễn'];
  assert.equal(names.map(cleanName), names);
});

Clean('trims and collapses inner runs of spaces', () => {
  assert.equal(cleanName('  Jean \t  Pierre  '), 'Jean Pierre');
});

Clean('stores a decomposed accent composed (NFC)', () => {
  assert.equal(cleanName('Zoe\u0308'), 'Zo\u00eb');
});

Clean('refuses an empty or blank name', () => {
  assert.equal([cleanName(''), cleanName('   ')], [undefined, undefined]);
});

Clean('refuses digits', () => {
  assert.equal([cleanName('Ada2'), cleanName('1234')], [undefined, undefined]);
});

Clean('refuses other punctuation and symbols', () => {
  assert.equal(['Ada!', 'Ada.', 'Ada_L', 'a@b', '<b>', 'Ada "L"', '😀'].map(cleanName), Array(7).fill(undefined));
});

Clean('refuses a name starting with a hyphen or an apostrophe', () => {
  assert.equal([cleanName('-Ada'), cleanName("'Ada")], [undefined, undefined]);
});

Clean('refuses a name that does not start with a letter: an accent alone or first', () => {
  const bad = ['\u0301', '\u0301\u0301', '\u0301Ada', '  \u0301 ', '\u0308e'];
  assert.equal(bad.map(cleanName), bad.map(() => undefined));
});

Clean('accepts accents that follow a letter, composed or not', () => {
  assert.equal(['e\u0301', 'Ade\u0301le', 'n\u0308'].map(cleanName), ['\u00e9', 'Ad\u00e9le', 'n\u0308']);
});

Clean('accepts 64 characters and refuses 65', () => {
  assert.equal(NAME_MAX_LENGTH, 64);
  assert.equal(cleanName('a'.repeat(64)), 'a'.repeat(64));
  assert.equal(cleanName('a'.repeat(65)), undefined);
});

Clean('counts the length after trimming', () => {
  assert.equal(cleanName(`  ${'a'.repeat(64)}  `), 'a'.repeat(64));
});

Clean('counts characters, not UTF-16 units', () => {
  const name = '𠀀'.repeat(64); // a letter outside the BMP: two UTF-16 units each
  assert.equal(cleanName(name), name);
  assert.equal(cleanName('𠀀'.repeat(65)), undefined);
});

Clean.run();

// ================================================================== sameLastName

const Same = suite('sameLastName');

Same('matches the same name', () => {
  assert.equal(sameLastName('Lovelace', 'Lovelace'), true);
});

Same('ignores case', () => {
  assert.equal(sameLastName('Lovelace', 'LOVELACE'), true);
});

Same('ignores accents', () => {
  assert.equal(sameLastName('Lévêque', 'leveque'), true);
  assert.equal(sameLastName('Zoë', 'ZOE'), true);
});

Same('ignores extra spaces', () => {
  assert.equal(sameLastName('Lévêque', '  leveque '), true);
  assert.equal(sameLastName('de la Tour', 'de   la  tour'), true);
});

Same('combines all three: "  Dupont-Lévêque " ~ "dupont-leveque"', () => {
  assert.equal(sameLastName('  Dupont-Lévêque ', 'dupont-leveque'), true);
});

Same('treats a typographic apostrophe as a plain one', () => {
  assert.equal(sameLastName('O’Brien', "o'brien"), true);
});

Same('folds letters that carry their accent inside them: ł ø đ ħ ı ŀ', () => {
  const pairs: [string, string][] = [
    ['Łukasz', 'lukasz'],
    ['Øster', 'oster'],
    ['Đorđe', 'DORDE'],
    ['Ħal', 'hal'],
    ['Yıldız', 'yildiz'],
    ['Paŀlarès', 'pallares'],
  ];
  assert.equal(pairs.map(([a, b]) => sameLastName(a, b)), pairs.map(() => true));
});

Same('folds ß to ss and the ligatures æ œ þ to two letters', () => {
  const pairs: [string, string][] = [
    ['Straße', 'STRASSE'],
    ['STRAẞE', 'strasse'],
    ['Ærø', 'aero'],
    ['Œuvre', 'oeuvre'],
    ['Þórsson', 'thorsson'],
  ];
  assert.equal(pairs.map(([a, b]) => sameLastName(a, b)), pairs.map(() => true));
});

Same('folding still tells different names apart', () => {
  assert.equal(
    [sameLastName('Łukasz', 'Lucasz'), sameLastName('Straße', 'Strase'), sameLastName('Øster', 'Ester')],
    [false, false, false],
  );
});

Same('tells different names apart', () => {
  assert.equal(
    [sameLastName('Lovelace', 'Babbage'), sameLastName('Dupont', 'Dupond'), sameLastName('de la Tour', 'delatour'), sameLastName('Lovelace', '')],
    [false, false, false, false],
  );
});

Same.run();

// ================================================================== foldName

const Fold = suite('foldName');

Fold('lower-cases, strips accents, trims and collapses spaces', () => {
  assert.equal(foldName('  Dupont-LÉVÊQUE   de  la Tour '), 'dupont-leveque de la tour');
});

Fold('folds letters no decomposition strips', () => {
  assert.equal(
    ['Łukasz', 'Øster', 'Đorđe', 'Ħal', 'ı', 'ŀ', 'Straße', 'ẞ', 'Æsir', 'Œuvre', 'Þór'].map(foldName),
    ['lukasz', 'oster', 'dorde', 'hal', 'i', 'l', 'strasse', 'ss', 'aesir', 'oeuvre', 'thor'],
  );
});

Fold('makes a typographic apostrophe a plain one', () => {
  assert.equal(foldName('O’Brien'), "o'brien");
});

Fold.run();
