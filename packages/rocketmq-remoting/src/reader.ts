/**
 * A forward cursor over big-endian fields of `buf` between `start` and `end` (a record inside a
 * larger buffer is read in place, with no subarray of its own); a read past `end` throws
 * RangeError, which decoders wrap.
 */
export class ByteReader {
  at: number;
  readonly end: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.at = start;
    this.end = end;
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
  /**
   * A signed 64-bit field as a Number, from its two 32-bit halves: the same value (one rounding of
   * the exact sum, as Number(BigInt) rounds) without allocating a BigInt per field.
   */
  int64(): number {
    const at = this.#advance(8);
    return this.buf.readInt32BE(at) * 4_294_967_296 + this.buf.readUInt32BE(at + 4);
  }
  /** Skips `n` bytes and returns where they start. */
  skip(n: number): number {
    return this.#advance(n);
  }
  bytes(n: number): Buffer {
    const at = this.#advance(n);
    return this.buf.subarray(at, this.at);
  }
  utf8(n: number): string {
    const at = this.#advance(n);
    return this.buf.toString('utf8', at, this.at);
  }

  #advance(n: number): number {
    const at = this.at;
    if (n < 0 || at + n > this.end) throw new RangeError(`${n} bytes at ${at} overrun the buffer`);
    this.at = at + n;
    return at;
  }
}
