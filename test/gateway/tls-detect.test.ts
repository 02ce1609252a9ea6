/** A TLS ClientHello seen on a plain port: its record header, not any first byte 0x16. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { looksLikeTlsHandshake } from '../../src/gateway/tls.js';

const Detect = suite('TLS handshake detection');

Detect('the first bytes of a real ClientHello (Node, TLS 1.2 and 1.3) are a handshake record', async () => {
  for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
    const first = await new Promise<Buffer>((resolve) => {
      const server = createServer((s) => {
        s.once('data', (d: Buffer) => {
          resolve(d);
          s.destroy();
          server.close();
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const port = (server.address() as { port: number }).port;
        connectTls({ port, host: '127.0.0.1', maxVersion }).on('error', () => undefined);
      });
    });
    assert.ok(looksLikeTlsHandshake(first), `${maxVersion}: ${first.subarray(0, 3).toString('hex')}`);
  }
});

Detect('plain input is not, even when it starts with 0x16', () => {
  assert.not.ok(looksLikeTlsHandshake(Buffer.from('PING\n')));
  assert.not.ok(looksLikeTlsHandshake(Buffer.from([0x16])));
  assert.not.ok(looksLikeTlsHandshake(Buffer.from([0x16, 0x41, 0x0a])));
  assert.not.ok(looksLikeTlsHandshake(Buffer.from([0x16, 0x03, 0x09])));
  assert.ok(looksLikeTlsHandshake(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])));
});

Detect.run();
