/**
 * TLS for the gateway (`--tls-cert`, `--tls-key`: PEM files, read again on SIGHUP). The port
 * speaks TLS only; a peer that speaks plain text to it gets one plain line saying so
 * (`ERR TLS_REQUIRED`) rather than silence: a TLS client's first byte is always 0x16 (a
 * handshake record), so anything else, or nothing within a moment, is a plain client.
 */
import { readFileSync } from 'node:fs';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import type { Logger } from './log.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** The first byte of a TLS record that carries a handshake (ClientHello). */
export const TLS_HANDSHAKE_BYTE = 0x16;

/**
 * Whether a connection's first bytes are a TLS handshake record: 0x16, then a record version
 * 3.0–3.4 (every TLS client, 1.3 included, writes 3.1 or 3.3 there). Three bytes, not one: a
 * plain peer whose first byte happens to be 0x16 (1 in 256 of random input) is not taken
 * for a TLS client.
 */
export function looksLikeTlsHandshake(data: Buffer): boolean {
  return data.length >= 3 && data[0] === TLS_HANDSHAKE_BYTE && data[1] === 0x03 && data[2]! <= 0x04;
}
/** A TLS client sends its ClientHello at once; a peer silent this long speaks plain text. */
const FIRST_BYTE_WAIT_MS = 3_000;
/** A handshake not done within this long is dropped (its descriptor is not held for ever). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export const TLS_REQUIRED_LINE = 'ERR TLS_REQUIRED this port speaks TLS: connect with --tls (and --tls-ca <file> for a private CA)';

/** Reads the PEM files; throws naming the file that cannot be used. */
export function loadSecureContext(files: TlsFiles): SecureContext {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const cert = read(files.certFile, 'certificate (--tls-cert)');
  const key = read(files.keyFile, 'key (--tls-key)');
  try {
    return createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`the TLS certificate ${files.certFile} and key ${files.keyFile} cannot be used together: ${(err as Error).message}`);
  }
}

export class TlsTerminator {
  private context: SecureContext;

  constructor(
    private readonly files: TlsFiles,
    private readonly log: Logger,
  ) {
    this.context = loadSecureContext(files);
  }

  /** Reads the files again (SIGHUP): new connections use them; on an error the old ones stay. */
  reload(): boolean {
    try {
      this.context = loadSecureContext(this.files);
      this.log.info(`TLS certificate reloaded from ${this.files.certFile}`);
      return true;
    } catch (err) {
      this.log.error(`TLS certificate not reloaded, the previous one stays: ${(err as Error).message}`);
      return false;
    }
  }

  /**
   * Waits for the peer's first byte: a handshake gets a TLS socket (`secure` once it is
   * done); plain text gets TLS_REQUIRED in plain text and a close. `failed` is called once
   * for every connection that does not become secure.
   */
  wrap(raw: Socket, secure: (socket: TLSSocket) => void, failed: (why: string) => void): void {
    raw.on('error', () => undefined);
    const plain = (why: string) => {
      raw.end(`${TLS_REQUIRED_LINE}\n`, () => raw.destroy());
      setTimeout(() => raw.destroy(), 1_000).unref();
      failed(why);
    };
    const silence = setTimeout(() => {
      raw.off('data', first);
      plain('sent nothing (a plain client waiting for HELLO?)');
    }, FIRST_BYTE_WAIT_MS);
    const first = (chunk: Buffer) => {
      clearTimeout(silence);
      raw.pause();
      if (chunk[0] !== TLS_HANDSHAKE_BYTE) return plain('spoke plain text to the TLS port');
      raw.unshift(chunk); // the TLS socket reads what was buffered as if it had just arrived
      const socket = new TLSSocket(raw, { isServer: true, secureContext: this.context });
      let done = false;
      const fail = (why: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        failed(why);
      };
      const timer = setTimeout(() => fail('TLS handshake not done in time'), HANDSHAKE_TIMEOUT_MS);
      timer.unref();
      socket.once('secure', () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        secure(socket);
      });
      socket.on('error', (err) => fail(`TLS handshake failed: ${err.message}`));
      socket.once('close', () => fail('closed during the TLS handshake'));
    };
    raw.once('data', first);
  }
}
