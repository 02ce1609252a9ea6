/** The parent's side of the load processes (bench/worker.ts), forked with an IPC channel. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ConnectResult, WorkerCommand } from '../worker.js';
import { DIST } from './proc.js';

export class LoadWorker {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;

  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`load process: ${m.error}`));
    });
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code) => {
        for (const w of this.waiting.values()) w.reject(new Error(`load process exited (${code})`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  static start(): LoadWorker {
    const proc = fork(join(DIST, 'bench', 'worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new LoadWorker(proc);
  }

  call<T>(command: WorkerCommand, timeoutMs = 120_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`load process did not answer ${command.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, command });
    });
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    await this.call({ op: 'close' }, 30_000).catch(() => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts `n` load processes. */
export function startWorkers(n: number): LoadWorker[] {
  return Array.from({ length: n }, () => LoadWorker.start());
}

/** Spreads `total` over the workers: the counts each one takes. */
export function split(total: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}

export async function connectAll(
  workers: LoadWorker[],
  options: { host: string; port: number; total: number; concurrency: number; timeoutMs?: number },
): Promise<ConnectResult> {
  const counts = split(options.total, workers.length);
  const results = await Promise.all(
    workers.map((w, i) =>
      w.call<ConnectResult>({
        op: 'connect',
        host: options.host,
        port: options.port,
        count: counts[i]!,
        concurrency: options.concurrency,
        timeoutMs: options.timeoutMs ?? 30_000,
      }),
    ),
  );
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    connected: results.reduce((s, r) => s + r.connected, 0),
    failed: results.reduce((s, r) => s + r.failed, 0),
    errors,
    connectMs: results.flatMap((r) => r.connectMs),
    elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
  };
}

export async function closeAll(workers: LoadWorker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.close()));
}
