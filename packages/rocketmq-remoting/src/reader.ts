/** A forward cursor over big-endian fields; reads past the end throw RangeError, which decoders wrap. */
export class ByteReader {
  at: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
  ) {
    this.at = start;
  }

  int8(): number {
    return this.buf.readInt8(this.#advance(1));
  }
  int16(): number {
    return this.buf.readInt16BE(this.#advance(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.#advance(4));
  }
  int64(): number {
    return Number(this.buf.readBigInt64BE(this.#advance(8)));
  }
  bytes(n: number): Buffer {
    if (n < 0 || this.at + n > this.buf.length)
      throw new RangeError(`${n} bytes at ${this.at} overrun the buffer`);
    return this.buf.subarray(this.#advance(n), this.at);
  }
  utf8(n: number): string {
    return this.bytes(n).toString('utf8');
  }

  #advance(n: number): number {
    const at = this.at;
    this.at += n;
    return at;
  }
}
