/** Length-prefixed frames (u32 big-endian length, then the body) for the raw TCP baseline. */

export function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

/** Reassembles frames from a byte stream. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (body: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    while (this.buf.length - pos >= 4) {
      const len = this.buf.readUInt32BE(pos);
      if (this.buf.length - pos - 4 < len) break;
      this.onFrame(this.buf.subarray(pos + 4, pos + 4 + len));
      pos += 4 + len;
    }
    this.buf = pos === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }
}
