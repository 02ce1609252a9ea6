/** `1 concert`, `3 concerts`: a count and its noun, singular for exactly one. */
export function plural(n: number, one: string, many = `${one}s`, format: (n: number) => string = String): string {
  return `${format(n)} ${n === 1 ? one : many}`;
}
