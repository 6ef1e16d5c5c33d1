// How the driver's connections cut the socket's bytes into AMQP frames: amqplib's own reader, with
// the copies taken out. amqplib (2.x) keeps the bytes it has not parsed yet in one buffer (`rest`)
// and, for every socket read that does not complete the frame at its start, concatenates it with
// the new chunk: a 128 KiB body frame arriving in 64 KiB reads is copied two or three times on the
// way, and a message of several body frames is then concatenated once more from their payloads. On
// a 1 MiB message that is ≈ 4.5 MiB of fresh buffers, which V8 counts as external memory, whose
// growth is what starts its mark-compacts at these sizes (docs/bench-profiles.md 20.3). This reader
// leaves `rest` as amqplib has it while the next frame lies in it (amqplib parses and decodes it as
// before, and a one-frame body is a view of it); a frame that a read splits is held as the chunks
// came and copied once, into a buffer of its own; and the body frames of a message of several are
// copied straight into one body of the size its header frame announced, handed to amqplib's channel
// as one body frame, which it takes as the content without a concatenation. Decoding method and
// header frames, what a channel does with them and the errors stay amqplib's. A frame that lies
// whole in `rest` (nearly every one) is cut here straight from `rest` and, given amqplib's decoder
// (amqplibFrameDecoder), decoded without going through amqplib's recvFrame: its parseFrame read
// the header again through Buffer's checked readers and made a frame object and a view of the
// rest per method and header frame (two of a small message's three frames), after this reader had
// read it byte by byte across `rest` and the chunks. ≈ 3k fewer instructions per 256 B message
// (docs/bench-profiles.md §26.2).

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** amqplib's Connection, as far as the reader needs it (internals, checked before use). */
interface AmqpConnection {
  recvFrame(): unknown;
  rest: Buffer;
  /** The negotiated frame_max (0xffffffff for none). */
  readonly frameMax: number;
  maxFrameSize: number;
  recvSinceLastCheck: boolean;
  readonly stream: { read(): Buffer | null };
}

const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_END = 206;
/** type (1), channel (2), size (4); the frame-end octet follows the payload. */
const HEADER_BYTES = 7;
const EMPTY = Buffer.alloc(0);

/** A frame as amqplib's `decodeFrame` reads it (parseFrame's result, less what it does not read). */
export interface RawFrame {
  readonly type: number;
  readonly channel: number;
  readonly payload: Buffer;
}

/** amqplib's `decodeFrame` (lib/frame.js): a frame's method, header or body as its channels take them. */
export type FrameDecoder = (frame: RawFrame) => unknown;

/**
 * amqplib's own frame decoding (lib/frame.js `decodeFrame`, lib/defs.js `decode`), from the amqplib
 * this package resolves (the one its connections come from); undefined when that amqplib lacks
 * them (the reader then decodes through recvFrame). A header frame's body size is read here as two
 * 32-bit halves: amqplib reads it as a BigInt and converts it (≈ 330 instructions per message, a
 * runtime call each way); the rest of the header and every other frame are decoded by amqplib.
 */
export function amqplibFrameDecoder(): FrameDecoder | undefined {
  try {
    const require = createRequire(import.meta.url);
    const lib = join(dirname(require.resolve('amqplib')), 'lib');
    const { decodeFrame } = require(join(lib, 'frame.js')) as { decodeFrame?: unknown };
    const { decode } = require(join(lib, 'defs.js')) as { decode?: unknown };
    if (typeof decodeFrame !== 'function' || typeof decode !== 'function') return undefined;
    const whole = decodeFrame as FrameDecoder;
    const fields = decode as (id: number, payload: Buffer) => unknown;
    return (frame) =>
      frame.type === FRAME_HEADER && frame.payload.length >= 12 ? decodeHeader(frame, fields) : whole(frame);
  } catch {
    return undefined;
  }
}

/** amqplib's decodeFrame of a header frame (class id, weight, body size, properties), the size read without a BigInt. */
function decodeHeader(frame: RawFrame, decode: (id: number, payload: Buffer) => unknown): unknown {
  const payload = frame.payload;
  const id = (payload[0]! << 8) | payload[1]!;
  // Signed, as amqplib's Number(readBigInt64BE(4)): the same number below 2^53, as every body is.
  const high = (payload[4]! << 24) | (payload[5]! << 16) | (payload[6]! << 8) | payload[7]!;
  const low = ((payload[8]! << 24) | (payload[9]! << 16) | (payload[10]! << 8) | payload[11]!) >>> 0;
  return {
    id,
    channel: frame.channel,
    size: high * 0x1_0000_0000 + low,
    fields: decode(id, payload.subarray(12)),
  };
}

/** A body whose frames are still coming: the buffer is made at the second frame. */
interface PendingBody {
  readonly size: number;
  body: Buffer | undefined;
  filled: number;
}

/**
 * Replaces `connection.recvFrame` with the reader below. Another amqplib, whose connection lacks
 * these internals, is left as it is; returns whether the reader is installed. `decodeFrame`:
 * amqplib's (amqplibFrameDecoder), to decode whole frames without the connection's recvFrame.
 */
export function readFramesWhole(connection: unknown, decodeFrame?: FrameDecoder): boolean {
  const c = connection as Partial<AmqpConnection> | undefined;
  if (c === undefined || c === null || typeof c.recvFrame !== 'function') return false;
  if (!Buffer.isBuffer(c.rest) || typeof c.maxFrameSize !== 'number' || typeof c.frameMax !== 'number')
    return false;
  if (typeof c.stream?.read !== 'function') return false;
  const read = c as AmqpConnection & { [READER]: FrameReader };
  read[READER] = new FrameReader(read, decodeFrame);
  read.recvFrame = recvFrameByReader;
  return true;
}

/** The reader readFramesWhole gave a connection. */
const READER = Symbol('switchyard.frameReader');

/**
 * A reading connection's recvFrame (amqplib calls it as the connection's method): one function for
 * every connection, not an arrow per connection. An arrow's optimized code, with the reader's hot
 * path inlined into it, went with the last connection that used it at a mark-compact, and was
 * compiled again for the next connection (each run of the CLI's bridge; docs/bench-profiles.md).
 */
function recvFrameByReader(this: AmqpConnection & { [READER]: FrameReader }): unknown {
  return this[READER].next();
}

export class FrameReader {
  readonly #connection: AmqpConnection;
  /** amqplib's own recvFrame: it parses and decodes the frame at the start of `connection.rest`. */
  readonly #decode: () => unknown;
  /** amqplib's decodeFrame, when given: whole frames are decoded by it, not through #decode. */
  readonly #decodeFrame: FrameDecoder | undefined;
  /**
   * Chunks read after `connection.rest` while the frame at its start is incomplete (`connection.rest`
   * first, then these); empty whenever a frame lies in `connection.rest` alone.
   */
  readonly #chunks: Buffer[] = [];
  #chunkBytes = 0;
  /** Per channel, the body its last header frame announced, while more than one frame makes it. */
  readonly #pending = new Map<number, PendingBody>();

  constructor(connection: AmqpConnection, decodeFrame?: FrameDecoder) {
    this.#connection = connection;
    this.#decodeFrame = decodeFrame;
    const original = connection.recvFrame;
    this.#decode = () => original.call(connection);
  }

  /** The next frame as amqplib's decodeFrame shapes it, or false until more bytes come. */
  next(): unknown {
    const connection = this.#connection;
    for (;;) {
      if (this.#chunks.length === 0) {
        const frame = this.#whole(connection.rest);
        if (frame !== undefined) return frame;
      }
      const available = connection.rest.length + this.#chunkBytes;
      if (available < HEADER_BYTES) {
        if (!this.#read()) return false;
        continue;
      }
      const size =
        ((this.#byte(3) << 24) | (this.#byte(4) << 16) | (this.#byte(5) << 8) | this.#byte(6)) >>> 0;
      const max = connection.maxFrameSize;
      if (max > 0 && size > max) throw new Error(`Frame size ${size} exceeds maxFrameSize ${max}`);
      const total = HEADER_BYTES + size + 1;
      if (available < total) {
        if (!this.#read()) return false;
        continue;
      }
      if (this.#byte(total - 1) !== FRAME_END) throw new Error('Invalid frame');
      const type = this.#byte(0);
      const channel = (this.#byte(1) << 8) | this.#byte(2);
      if (type === FRAME_BODY) {
        const pending = this.#pending.get(channel);
        if (pending !== undefined && size < pending.size) {
          const body = this.#fill(pending, size, channel);
          this.#consume(total, undefined);
          if (body === undefined) continue;
          return { channel, content: body };
        }
        // A body of one frame: its payload, a view of what was read when no read split it.
        if (pending !== undefined) this.#pending.delete(channel);
        return { channel, content: this.#payload(total, size) };
      }
      // Any other frame on a channel ends what its body was (amqplib's channel reports the error).
      if (this.#pending.size > 0) this.#pending.delete(channel);
      let frame: unknown;
      if (this.#chunks.length === 0) frame = this.#decode();
      else {
        // Split across reads: copied once into a buffer of its own, which amqplib then decodes.
        const bytes = Buffer.allocUnsafe(total);
        this.#consume(total, bytes);
        const rest = connection.rest;
        connection.rest = bytes;
        try {
          frame = this.#decode();
        } finally {
          connection.rest = rest;
        }
      }
      if (type === FRAME_HEADER) this.#announced(channel, frame);
      return frame;
    }
  }

  /**
   * The frame at the start of `rest` when it lies there whole and is not part of a body being
   * gathered, read straight from `rest`; undefined for the general path in next() (a frame not
   * whole yet, over maxFrameSize, or a body frame of a gathered body).
   */
  #whole(rest: Buffer): unknown {
    const length = rest.length;
    if (length < HEADER_BYTES) return undefined;
    const size = ((rest[3]! << 24) | (rest[4]! << 16) | (rest[5]! << 8) | rest[6]!) >>> 0;
    const total = HEADER_BYTES + size + 1;
    const max = this.#connection.maxFrameSize;
    if (length < total || (max > 0 && size > max)) return undefined;
    if (rest[total - 1] !== FRAME_END) throw new Error('Invalid frame');
    const type = rest[0]!;
    const channel = (rest[1]! << 8) | rest[2]!;
    const pending = this.#pending;
    if (type === FRAME_BODY) {
      if (pending.size > 0 && pending.has(channel)) return undefined;
      this.#connection.rest = rest.subarray(total);
      return { channel, content: rest.subarray(HEADER_BYTES, HEADER_BYTES + size) };
    }
    // Any other frame on a channel ends what its body was (amqplib's channel reports the error).
    if (pending.size > 0) pending.delete(channel);
    let frame: unknown;
    const decodeFrame = this.#decodeFrame;
    if (decodeFrame === undefined) frame = this.#decode();
    else {
      // As amqplib's recvFrame: past the frame first, then decoded (a decoding error leaves it read).
      this.#connection.rest = rest.subarray(total);
      frame = decodeFrame({ type, channel, payload: rest.subarray(HEADER_BYTES, HEADER_BYTES + size) });
    }
    if (type === FRAME_HEADER) this.#announced(channel, frame);
    return frame;
  }

  /**
   * A header frame came: a body of more than one frame's worth (a frame's payload is frame_max
   * less 8 octets) is gathered here, in one buffer of its size. A body that fits one frame is
   * passed on as it comes.
   */
  #announced(channel: number, frame: unknown): void {
    const announced = (frame as { size?: unknown }).size;
    if (typeof announced === 'number' && announced > this.#connection.frameMax - 8)
      this.#pending.set(channel, { size: announced, body: undefined, filled: 0 });
  }

  /** One more chunk from the socket; false when none is waiting. */
  #read(): boolean {
    const connection = this.#connection;
    const incoming = connection.stream.read();
    if (incoming === null) return false;
    connection.recvSinceLastCheck = true;
    if (connection.rest.length === 0 && this.#chunks.length === 0) connection.rest = incoming;
    else if (incoming.length > 0) {
      this.#chunks.push(incoming);
      this.#chunkBytes += incoming.length;
    }
    return true;
  }

  /** The unread byte at `at` (of `connection.rest`, then the chunks). */
  #byte(at: number): number {
    const rest = this.#connection.rest;
    if (at < rest.length) return rest[at]!;
    let k = at - rest.length;
    let i = 0;
    while (k >= this.#chunks[i]!.length) k -= this.#chunks[i++]!.length;
    return this.#chunks[i]![k]!;
  }

  /**
   * The next frame's payload (`size` bytes), read past its `total`: a view when `connection.rest`
   * holds the frame, else a copy. The view is taken straight from `connection.rest`, not from a view
   * of the whole frame: a Buffer view is ≈ 90 B of JS heap, and this runs once per message.
   */
  #payload(total: number, size: number): Buffer {
    const connection = this.#connection;
    if (this.#chunks.length === 0) {
      const rest = connection.rest;
      connection.rest = rest.subarray(total);
      return rest.subarray(HEADER_BYTES, HEADER_BYTES + size);
    }
    // Split across reads: the payload alone is copied, once.
    const bytes = Buffer.allocUnsafe(size);
    this.#copy(bytes, 0, HEADER_BYTES, size);
    this.#consume(total, undefined);
    return bytes;
  }

  /**
   * Copies this body frame's payload (`size` bytes after the header) into the pending body; returns
   * the body once it is whole.
   */
  #fill(pending: PendingBody, size: number, channel: number): Buffer | undefined {
    if (pending.filled + size > pending.size) {
      this.#pending.delete(channel);
      throw new Error(`Too much content sent! Expected ${pending.size} bytes`);
    }
    pending.body ??= Buffer.allocUnsafe(pending.size);
    this.#copy(pending.body, pending.filled, HEADER_BYTES, size);
    pending.filled += size;
    if (pending.filled < pending.size) return undefined;
    this.#pending.delete(channel);
    return pending.body;
  }

  /** Copies `n` unread bytes from `from` on into `target` at `at`, without reading past them. */
  #copy(target: Buffer, at: number, from: number, n: number): void {
    const rest = this.#connection.rest;
    if (from < rest.length) {
      const copied = rest.copy(target, at, from, Math.min(rest.length, from + n));
      at += copied;
      n -= copied;
      from = 0;
    } else from -= rest.length;
    for (let i = 0; n > 0; i++) {
      const chunk = this.#chunks[i]!;
      if (from >= chunk.length) {
        from -= chunk.length;
        continue;
      }
      const copied = chunk.copy(target, at, from, Math.min(chunk.length, from + n));
      at += copied;
      n -= copied;
      from = 0;
    }
  }

  /**
   * Reads past `n` bytes, copying them into `into` when given; what is left of the last chunk they
   * reach becomes `connection.rest`.
   */
  #consume(n: number, into: Buffer | undefined): void {
    if (into !== undefined) this.#copy(into, 0, 0, n);
    const connection = this.#connection;
    const rest = connection.rest;
    if (n <= rest.length) {
      connection.rest = rest.subarray(n);
      if (this.#chunks.length === 0) return;
      if (connection.rest.length > 0) return;
      n = 0;
    } else n -= rest.length;
    const chunks = this.#chunks;
    let i = 0;
    while (i < chunks.length && n >= chunks[i]!.length) n -= chunks[i++]!.length;
    if (i === chunks.length) {
      connection.rest = EMPTY;
      chunks.length = 0;
      this.#chunkBytes = 0;
      return;
    }
    // The chunk where the frame ends: its tail, and any later chunks, are what comes next.
    connection.rest = chunks[i]!.subarray(n);
    chunks.splice(0, i + 1);
    this.#chunkBytes = 0;
    for (const chunk of chunks) this.#chunkBytes += chunk.length;
  }
}
