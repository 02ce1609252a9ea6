/**
 * Cuts a byte stream into lines of at most `maxBytes` bytes (without the `\n` or `\r\n`).
 * A longer line is reported once, as soon as it passes the limit, and its bytes are dropped
 * up to the next line break: memory per connection stays bounded whatever a peer sends.
 */
export interface LineSink {
  line(text: string): void;
  tooLong(): void;
}

export class LineReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private discarding = false;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly sink: LineSink,
    private readonly maxBytes: number,
  ) {}

  push(data: Buffer): void {
    let start = 0;
    while (start < data.length) {
      const nl = data.indexOf(0x0a, start);
      const end = nl < 0 ? data.length : nl;
      if (this.discarding) {
        if (nl >= 0) this.discarding = false;
      } else if (nl < 0) {
        // One byte of slack: a `\r` at the limit may be the first half of `\r\n`.
        if (this.size + (end - start) > this.maxBytes + 1) {
          this.reset();
          this.sink.tooLong();
          this.discarding = true;
        } else {
          this.chunks.push(Buffer.from(data.subarray(start, end)));
          this.size += end - start;
        }
      } else {
        const piece = data.subarray(start, end);
        let bytes = this.chunks.length === 0 ? piece : Buffer.concat([...this.chunks, piece]);
        this.reset();
        if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
        if (bytes.length > this.maxBytes) this.sink.tooLong();
        else this.sink.line(this.decoder.decode(bytes));
      }
      start = end + 1;
    }
  }

  private reset(): void {
    this.chunks = [];
    this.size = 0;
  }
}
