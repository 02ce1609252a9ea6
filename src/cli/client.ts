/**
 * A client of the wire protocol: connects, waits for HELLO, sends tagged requests and
 * matches the replies, and hands EVENT pushes to a listener. Used by the CLI, the tests and
 * the benchmarks.
 */
import { connect, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { EventEmitter } from 'node:events';
import { parseReply, quoteArgument } from '../gateway/protocol.js';

export interface Hello {
  server: string;
  protocol: number;
  gateway: string;
  connection: string;
  holdSeconds: number;
  /** Seats this connection may hold at once, across its holds (protocol 2). */
  maxSeats?: number;
  /** Protocol 1's name for the same limit. */
  maxHolds: number;
  concerts: ConcertSummary[];
}

export interface ConcertSummary {
  id: string;
  title: string;
  venue: string;
  date: string;
  capacity: number;
  free: number;
  held: number;
  booked: number;
}

export interface SeatEvent {
  concert: string;
  seq: number;
  type: string;
  seat: number;
  /** The seat's label (`B7`); absent from a protocol-1 server. */
  label?: string;
  state: '.' | 'h' | 'H' | 'x';
  at: string;
  expiresAt?: string;
  reason?: string;
  free: number;
  held: number;
  booked: number;
}

/** An `ERR` reply. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  resolve: (payload: unknown) => void;
  reject: (err: Error) => void;
}

export interface ClientOptions {
  host?: string;
  port?: number;
  /** The local address to connect from (tests of per-address limits: 127.0.0.x). */
  localAddress?: string;
  /** Connect with TLS; `ca`: the PEM certificate(s) to trust instead of the system's CAs. */
  tls?: ClientTls;
  /** Fails the connect after this long (ms). */
  timeoutMs?: number;
  /** Fails a request that gets no reply for this long (ms); the gateway answers within 10 s. */
  requestTimeoutMs?: number;
}

export interface ClientTls {
  ca?: string | Buffer;
}

/**
 * A TLS error said in words a person can act on: a plain port answers the ClientHello with
 * HELLO in plain text, which TLS reads as a record of a wrong version.
 */
export function describeTlsError(where: string, err: Error & { code?: string }): string {
  const code = err.code ?? '';
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|UNKNOWN_PROTOCOL|RECORD_LAYER/.test(code) || /wrong version number/.test(err.message)) {
    return `${where} answered in plain text, not TLS: it is a plain port; connect without --tls`;
  }
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED/.test(code)) {
    return `the certificate of ${where} is not trusted (${code}): give the CA that signed it with --tls-ca <file>`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the certificate of ${where} is not for that name: ${err.message}`;
  if (code === 'CERT_HAS_EXPIRED') return `the certificate of ${where} has expired`;
  return `TLS with ${where} failed: ${err.message}`;
}

export class GuichetClient extends EventEmitter {
  private buffer = '';
  private nextTag = 1;
  private readonly pending = new Map<string, Pending>();
  private closedError?: Error;

  private constructor(
    private readonly socket: Socket,
    readonly hello: Hello,
    private readonly requestTimeoutMs: number,
  ) {
    super();
  }

  static connect(options: ClientOptions = {}): Promise<GuichetClient> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 12345;
    return new Promise((resolve, reject) => {
      const local = options.localAddress ? { localAddress: options.localAddress } : {};
      const socket: Socket = options.tls
        ? connectTls({
            host,
            port,
            ...local,
            ...(options.tls.ca ? { ca: options.tls.ca } : {}),
            // SNI carries names only, never an address.
            ...(isIP(host) ? {} : { servername: host }),
          })
        : connect({ host, port, ...local });
      socket.setNoDelay(true);
      socket.setEncoding('utf8');
      let early = '';
      const timer = setTimeout(() => fail(new Error(`no answer from ${host}:${port} within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const onData = (chunk: string) => {
        early += chunk;
        const nl = early.indexOf('\n');
        if (nl < 0) return;
        const first = early.slice(0, nl).replace(/\r$/, '');
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
        clearTimeout(timer);
        let reply;
        try {
          reply = parseReply(first);
        } catch (err) {
          return fail(err as Error);
        }
        if (reply.kind === 'err') return fail(new ServerError(reply.code, reply.message));
        if (reply.kind !== 'hello') return fail(new Error(`expected HELLO, got: ${first}`));
        const client = new GuichetClient(socket, reply.payload as Hello, options.requestTimeoutMs ?? 30_000);
        client.attach(early.slice(nl + 1));
        resolve(client);
      };
      const onError = (err: Error & { code?: string; library?: string }) => {
        const tlsError = options.tls && (err.library !== undefined || /SSL|TLS|CERT/.test(err.code ?? ''));
        fail(new Error(tlsError ? describeTlsError(`${host}:${port}`, err) : `cannot connect to ${host}:${port}: ${err.message}`));
      };
      const onClose = () => fail(new Error(`${host}:${port} closed the connection before saying HELLO`));
      socket.on('data', onData);
      socket.once('error', onError);
      socket.once('close', onClose);
    });
  }

  /** Sends `VERB args…` (quoted as needed) and resolves with the OK payload; rejects with ServerError. */
  request<T = Record<string, unknown>>(verb: string, ...args: Array<string | number>): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const tag = `#${this.nextTag++}`;
    const line = [tag, verb, ...args.map((a) => quoteArgument(String(a)))].join(' ');
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(tag);
        reject(new Error(`no reply to ${verb} within ${this.requestTimeoutMs / 1000} s`));
      }, this.requestTimeoutMs);
      timer.unref();
      const settle = <A>(f: (a: A) => void) => (a: A) => {
        clearTimeout(timer);
        f(a);
      };
      this.pending.set(tag, { resolve: settle(resolve as (p: unknown) => void), reject: settle(reject) });
      this.socket.write(`${line}\n`);
    });
  }

  /** Writes a raw line (tests of malformed input). */
  sendRaw(text: string): void {
    this.socket.write(text);
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  /** Resolves when the server closes the connection. */
  waitClosed(): Promise<void> {
    if (this.closedError) return Promise.resolve();
    return new Promise((resolve) => this.once('close', () => resolve()));
  }

  private attach(rest: string): void {
    this.socket.on('data', (chunk: string) => this.onData(chunk));
    this.socket.on('error', (err) => this.shutdown(err));
    this.socket.on('close', () => this.shutdown(new Error('connection closed')));
    if (rest) queueMicrotask(() => this.onData(rest));
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    this.emit('line', line);
    let reply;
    try {
      reply = parseReply(line);
    } catch {
      this.emit('unexpected', line);
      return;
    }
    if (reply.kind === 'event') {
      this.emit('event', reply.payload as SeatEvent);
      return;
    }
    if (reply.kind === 'hello') return;
    const waiter = reply.tag ? this.pending.get(reply.tag) : undefined;
    if (!waiter) {
      // Untagged ERR: said by the server on its own (shutdown, slow consumer, idle timeout).
      if (reply.kind === 'err') this.emit('notice', new ServerError(reply.code, reply.message));
      return;
    }
    this.pending.delete(reply.tag!);
    if (reply.kind === 'ok') waiter.resolve(reply.payload);
    else waiter.reject(new ServerError(reply.code, reply.message));
  }

  private shutdown(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
    this.emit('close');
  }
}
