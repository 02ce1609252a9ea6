/**
 * The embedded nats-server a crashed gateway left behind. `guichet server` killed with -9
 * (or its terminal closed) cannot stop its nats-server, which keeps the NATS port and the
 * store, and the next start failed with "port 4222 is already in use". So each start writes
 * down, under --data, which process it started (pid and kernel start time) and which gateway
 * owns it; the next start with the same --data stops that server if, and only if, it is
 * still that very process (same pid, same start time, a nats-server) and its gateway is gone.
 * A nats-server that is not ours, or a pid reused by another program, is never touched.
 *
 * Linux only (it reads /proc); elsewhere nothing is recorded and nothing is reclaimed.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** The record, in the store directory (`--data`). */
export const LEFTOVER_FILE = 'embedded-nats.json';

export interface ProcessId {
  pid: number;
  /** /proc/<pid>/stat field 22: clock ticks after boot; with the pid, one process for ever. */
  startTime: string;
}

export interface EmbeddedRecord {
  server: ProcessId & { port: number };
  gateway: ProcessId;
}

/** The process `pid` as it is now, or undefined when there is none (or no /proc). */
export function processId(pid: number): ProcessId | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count after its end.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = fields[19];
  return startTime === undefined ? undefined : { pid, startTime };
}

/** True when `id` is still the same process (not ended, pid not reused). */
export function isSameProcess(id: ProcessId): boolean {
  return processId(id.pid)?.startTime === id.startTime;
}

function isNatsServer(pid: number): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return basename(argv0) === 'nats-server';
  } catch {
    return false;
  }
}

/** Writes down the server this gateway (the current process) just started. */
export async function recordEmbedded(storeDir: string, serverPid: number | undefined, port: number): Promise<void> {
  const server = serverPid === undefined ? undefined : processId(serverPid);
  const gateway = processId(process.pid);
  if (!server || !gateway) return;
  const record: EmbeddedRecord = { server: { ...server, port }, gateway };
  await writeFile(join(storeDir, LEFTOVER_FILE), `${JSON.stringify(record)}\n`);
}

/** The server stopped cleanly: nothing left to reclaim. */
export async function forgetEmbedded(storeDir: string): Promise<void> {
  await rm(join(storeDir, LEFTOVER_FILE), { force: true });
}

export type Leftover =
  | { kind: 'none' }
  /** Recorded, but that process is gone (or the pid now belongs to something else): nothing to do. */
  | { kind: 'gone' }
  /** Its gateway still runs: another `guichet server` uses this --data. */
  | { kind: 'in-use'; record: EmbeddedRecord }
  /** Ours, and its gateway is gone: to stop. */
  | { kind: 'orphan'; record: EmbeddedRecord };

/** What the record under `storeDir` says about a server left running. */
export async function findLeftover(storeDir: string): Promise<Leftover> {
  let record: EmbeddedRecord;
  try {
    record = JSON.parse(await readFile(join(storeDir, LEFTOVER_FILE), 'utf8')) as EmbeddedRecord;
  } catch {
    return { kind: 'none' };
  }
  if (!isSameProcess(record.server) || !isNatsServer(record.server.pid)) return { kind: 'gone' };
  if (isSameProcess(record.gateway)) return { kind: 'in-use', record };
  return { kind: 'orphan', record };
}

/**
 * Before starting the embedded server: stops the one a crashed gateway left on this store,
 * or refuses when a live gateway still uses it. Resolves once the port and store are free.
 */
export async function reclaimLeftover(storeDir: string, log: (line: string) => void): Promise<void> {
  const found = await findLeftover(storeDir);
  if (found.kind === 'in-use') {
    throw new Error(
      `another guichet server (pid ${found.record.gateway.pid}) runs with this --data (${storeDir}), ` +
        `with its nats-server (pid ${found.record.server.pid}) on port ${found.record.server.port}: stop it first, ` +
        `or give this one another --data and --nats-port`,
    );
  }
  if (found.kind === 'orphan') {
    const { server, gateway } = found.record;
    log(`stopping the embedded nats-server (pid ${server.pid}, port ${server.port}) left running by a gateway that did not stop (pid ${gateway.pid})`);
    await stopProcess(server);
  }
  if (found.kind !== 'none') await forgetEmbedded(storeDir);
}

/** SIGTERM (nats-server then flushes its store), SIGKILL after 5 s; checks identity before each. */
async function stopProcess(id: ProcessId): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    if (!isSameProcess(id)) return;
    try {
      process.kill(id.pid, name);
    } catch {
      /* ended meanwhile */
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 10_000;
  let killed = false;
  while (isSameProcess(id)) {
    if (!killed && Date.now() > deadline - 5_000) {
      signal('SIGKILL');
      killed = true;
    }
    if (Date.now() > deadline) throw new Error(`the nats-server left running (pid ${id.pid}) does not stop`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
