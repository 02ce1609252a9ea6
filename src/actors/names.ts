/**
 * People's names as the booking rules see them: what is accepted, and how a last name typed
 * at cancellation time is compared with the one on the booking.
 */

/**
 * Words of letters (any script, with their combining marks) joined by spaces, hyphens or
 * apostrophes: a mark always follows a letter, and a name starts and ends with a letter.
 */
const NAME = /^\p{L}[\p{L}\p{M}]*(?:[ '’-]+\p{L}[\p{L}\p{M}]*)*$/u;
export const NAME_MAX_LENGTH = 64;

/** The name as it will be stored (trimmed, inner runs of spaces made one), or undefined if invalid. */
export function cleanName(raw: string): string | undefined {
  const name = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
  if (name.length === 0 || [...name].length > NAME_MAX_LENGTH) return undefined;
  if (!NAME.test(name)) return undefined;
  return name;
}

/** Compared without regard to case, accents or extra spaces: "  Dupont-Lévêque " ~ "dupont-leveque". */
export function sameLastName(a: string, b: string): boolean {
  return foldName(a) === foldName(b);
}

/** Letters that carry their accent inside them (no decomposition strips it), and ß. */
const FOLD_EXTRA: Record<string, string> = { ł: 'l', ø: 'o', đ: 'd', ħ: 'h', ı: 'i', ŀ: 'l', ß: 'ss', æ: 'ae', œ: 'oe', þ: 'th' };

export function foldName(name: string): string {
  return name
    // NFKD also splits compatibility forms (the ligature ﬁ, ǆ) into plain letters.
    .normalize('NFKD')
    // ŀ decomposes to l and a middle dot, which is punctuation, not a mark.
    .replace(/[\p{M}\u00b7]/gu, '')
    .replace(/’/g, "'")
    .toLocaleLowerCase('und')
    .replace(/[łøđħıŀßæœþ]/g, (c) => FOLD_EXTRA[c] ?? c)
    .trim()
    .replace(/\s+/gu, ' ');
}
