/**
 * Keeps `--max-connections` below the process's descriptor limit (RLIMIT_NOFILE). A process
 * at its limit cannot accept: libuv then takes the newcomer and closes it at once (its EMFILE
 * trick), so the client is cut off without `ERR TOO_MANY_CONNECTIONS`. Keeping a reserve of
 * descriptors for NATS, files and the refusals themselves means the gateway always has one
 * to accept, write that line, and close.
 *
 * Node cannot change its limits without a native addon, but it raises its soft limit to the
 * hard one by itself at start (tried: `ulimit -Sn 256` then node reads 20000/20000 in
 * /proc/self/limits); what is read here is therefore the hard limit, which only the operator
 * can raise (`ulimit -n` before starting, or `LimitNOFILE=` in a systemd unit).
 */
import { readFileSync } from 'node:fs';

export interface DescriptorLimit {
  soft: number;
  hard: number;
}

/** The "Max open files" line of /proc/self/limits; undefined where there is none (not Linux). */
export function readDescriptorLimit(text = readProcLimits()): DescriptorLimit | undefined {
  const line = text?.split('\n').find((l) => l.startsWith('Max open files'));
  const m = line && /^Max open files\s+(\S+)\s+(\S+)/.exec(line);
  if (!m) return undefined;
  const value = (v: string) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: value(m[1]!), hard: value(m[2]!) };
}

function readProcLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}

/** Connections allowed when `--max-connections` is not given (then lowered without a warning). */
export const DEFAULT_MAX_CONNECTIONS = 20_000;

/** Descriptors kept back from connections: 5 % of the limit, at least 64, at most 1,024. */
export function descriptorReserve(limit: number): number {
  return Math.min(1_024, Math.max(64, Math.ceil(limit * 0.05)));
}

/**
 * The connections the gateway may keep open: `requested`, or fewer when the descriptor
 * limit would not leave the reserve; with the reason, for the log. `given` says whether the
 * operator asked for `requested` (a flag or GUICHET_MAX_CONNECTIONS): lowering what they
 * asked for is a warning, lowering the default is only information, worded as such.
 */
export function connectionCeiling(
  requested: number,
  limit: DescriptorLimit | undefined,
  given = true,
): { max: number; lowered?: string } {
  if (!limit || !Number.isFinite(limit.soft)) return { max: requested };
  const ceiling = Math.max(1, limit.soft - descriptorReserve(limit.soft));
  if (requested <= ceiling) return { max: requested };
  const why =
    `this process may open ${limit.soft} descriptors (RLIMIT_NOFILE, soft ${limit.soft}, hard ${limit.hard}) ` +
    `and keeps ${limit.soft - ceiling} for NATS, files and refusals`;
  const more = `raise the hard limit before starting (ulimit -n ${requested + 1_024}, or LimitNOFILE= in a systemd unit)`;
  return {
    max: ceiling,
    lowered: given
      ? `--max-connections ${requested} lowered to ${ceiling}: ${why}. ` +
        `Node raises its soft limit to the hard one by itself and cannot go further: to allow more, ${more}`
      : `at most ${ceiling} connections at once (the default is ${requested}): ${why}. To allow more, ${more}`,
  };
}
