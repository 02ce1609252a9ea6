/**
 * The server speaks protocol ("CONCERTS lists them", "as in HOLD <concert> 42"): right for a
 * `nc` session, not for a person at the command line, who is told the command to type.
 */
export function cliWords(message: string): string {
  return message
    .replace(/; CONCERTS lists them$/, ' (see `guichet concerts`)')
    .replace(/, as in HOLD <concert> 42$/, ' (see `guichet seats <concert>`)');
}
