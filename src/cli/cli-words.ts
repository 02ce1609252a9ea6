/**
 * The server speaks protocol ("CONCERTS lists them"): right for a `nc` session, not for a
 * person at the command line, who is told the command to type.
 */
export function cliWords(message: string): string {
  return message.replace(/; CONCERTS lists them$/, ' (see `guichet concerts`)');
}
