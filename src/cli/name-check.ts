/**
 * What is wrong with a name, in words, so the client can say it as soon as the name is typed
 * (the server's rule, src/actors/names.ts: 1-64 letters of any script, with spaces, hyphens
 * and apostrophes between words). Before, a bad first name was refused only after the last
 * name, with one message for every fault.
 */
import { cleanName, NAME_MAX_LENGTH } from '../actors/names.js';

/** Why `raw` is not a name, or undefined when it is one. */
export function nameProblem(raw: string): string | undefined {
  if (cleanName(raw) !== undefined) return undefined;
  const name = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
  const length = [...name].length;
  if (length === 0) return 'is empty';
  if (length > NAME_MAX_LENGTH) return `is ${length} characters long: at most ${NAME_MAX_LENGTH}`;
  if (/\p{N}/u.test(name)) return 'has digits in it: a name is letters';
  const odd = [...new Set([...name].filter((ch) => !/[\p{L}\p{M} '’-]/u.test(ch)))];
  if (odd.length > 0) return `has ${odd.map((ch) => `"${ch}"`).join(', ')} in it: only letters, spaces, hyphens and apostrophes`;
  return 'must start and end with a letter';
}
