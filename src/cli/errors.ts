/**
 * How the command line reports an error: its words on stderr, its JSON on stdout for
 * `--json` (`{"error": {"code": …, "message": …}}`), and its exit status (2 a usage error,
 * 1 anything refused or failed; README "Exit status").
 */
import { CommanderError } from 'commander';
import { ServerError } from './client.js';
import { UnreachableError, UsageError } from './oneshot.js';
import { cliWords } from './cli-words.js';

export function errorCode(err: Error): string {
  if (err instanceof ServerError) return err.code;
  if (err instanceof UsageError || err instanceof CommanderError) return 'USAGE';
  if (err instanceof UnreachableError) return 'UNREACHABLE';
  return 'FAILED';
}

/** The message without commander's `error: ` prefix. */
function messageOf(err: Error): string {
  return err.message.replace(/^error: /, '');
}

export function errorJson(err: Error): string {
  return JSON.stringify({ error: { code: errorCode(err), message: err instanceof ServerError ? cliWords(err.message) : messageOf(err) } });
}

export function errorText(err: Error): string {
  return err instanceof ServerError ? `${cliWords(messageOf(err))} (${err.code})` : messageOf(err);
}

export function exitStatusOf(err: Error): number {
  return err instanceof UsageError || err instanceof CommanderError ? 2 : 1;
}
