import { LanguageCode, VERSION_4_9_8 } from './codes.js';
import { ByteReader } from './reader.js';

/** One Remoting frame, decoded. extFields values are always strings, whatever the peer sent (sheet §0.1). */
export interface RemotingCommand {
  code: number;
  language: string;
  version: number;
  opaque: number;
  flag: number;
  remark?: string;
  extFields: Record<string, string>;
  body?: Buffer;
  serializeType: 'JSON' | 'ROCKETMQ';
}

export const FLAG_RESPONSE = 1;
export const FLAG_ONEWAY = 2;

/** Netty's default frameMaxLength: a bigger frame means the stream is out of step or hostile. */
export const MAX_FRAME_LENGTH = 16 * 1024 * 1024;

/** A frame that cannot be decoded; the connection it came from cannot be trusted to stay in step. */
export class RemotingFrameError extends Error {
  override name = 'RemotingFrameError';
}

export const isResponse = (cmd: RemotingCommand): boolean => (cmd.flag & FLAG_RESPONSE) !== 0;
export const isOneway = (cmd: RemotingCommand): boolean => (cmd.flag & FLAG_ONEWAY) !== 0;

/** Encodes the whole frame, including the 4-byte length prefix. */
export function encodeCommand(cmd: RemotingCommand): Buffer {
  const [head, body] = encodeCommandParts(cmd);
  return body === undefined ? head : Buffer.concat([head, body]);
}

/**
 * The frame as its length prefix + header, and the body as given: a writer can send both without
 * copying a large body into one buffer first.
 */
export function encodeCommandParts(cmd: RemotingCommand): [Buffer, Buffer | undefined] {
  const bodyLength = cmd.body?.length ?? 0;
  return [encodeHead(cmd, bodyLength), bodyLength > 0 ? cmd.body : undefined];
}

/**
 * The length prefix and header of a frame whose body, `bodyLength` bytes, the writer sends after
 * it (`cmd.body` is not read): a body in several pieces goes out without being joined.
 */
export function encodeHead(cmd: RemotingCommand, bodyLength: number): Buffer {
  const header = cmd.serializeType === 'ROCKETMQ' ? encodeBinaryHeader(cmd) : encodeJsonHeader(cmd);
  if (header.length > 0xffffff)
    throw new RemotingFrameError(`header of ${header.length} bytes exceeds 24 bits`);
  const head = Buffer.alloc(8 + header.length);
  head.writeInt32BE(4 + header.length + bodyLength, 0);
  head.writeInt32BE(((cmd.serializeType === 'ROCKETMQ' ? 1 : 0) << 24) | header.length, 4);
  header.copy(head, 8);
  return head;
}

// Java writes fastjson's alphabetical keys and drops nulls; matching it keeps frames byte-identical to the sheet's.
function encodeJsonHeader(cmd: RemotingCommand): Buffer {
  const json: Record<string, unknown> = { code: cmd.code };
  if (Object.keys(cmd.extFields).length > 0) json.extFields = cmd.extFields;
  json.flag = cmd.flag;
  json.language = cmd.language;
  json.opaque = cmd.opaque;
  if (cmd.remark !== undefined) json.remark = cmd.remark;
  json.serializeTypeCurrentRPC = 'JSON';
  json.version = cmd.version;
  return Buffer.from(JSON.stringify(json), 'utf8');
}

function encodeBinaryHeader(cmd: RemotingCommand): Buffer {
  const remark = cmd.remark === undefined ? undefined : Buffer.from(cmd.remark, 'utf8');
  const pairs = Object.entries(cmd.extFields).map(
    ([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const,
  );
  const extLength = pairs.reduce((n, [k, v]) => n + 2 + k.length + 4 + v.length, 0);
  const out = Buffer.alloc(2 + 1 + 2 + 4 + 4 + 4 + (remark?.length ?? 0) + 4 + extLength);
  let at = out.writeInt16BE(cmd.code, 0);
  const language = LanguageCode.indexOf(cmd.language as (typeof LanguageCode)[number]);
  at = out.writeInt8(language < 0 ? LanguageCode.indexOf('OTHER') : language, at);
  at = out.writeInt16BE(cmd.version, at);
  at = out.writeInt32BE(cmd.opaque, at);
  at = out.writeInt32BE(cmd.flag, at);
  at = out.writeInt32BE(remark?.length ?? 0, at);
  if (remark) at += remark.copy(out, at);
  at = out.writeInt32BE(extLength, at);
  for (const [k, v] of pairs) {
    at = out.writeInt16BE(k.length, at);
    at += k.copy(out, at);
    at = out.writeInt32BE(v.length, at);
    at += v.copy(out, at);
  }
  return out;
}

/**
 * Splits a byte stream into commands; keeps a partial frame until the rest arrives. The chunks of
 * a partial frame are only listed, and joined once when the frame is whole: joining on every chunk
 * would copy a 1 MiB frame, read 64 KiB at a time, 16 times over (8 MiB of copying).
 */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #length = 0;
  readonly #maxFrameLength: number;

  constructor(maxFrameLength = MAX_FRAME_LENGTH) {
    this.#maxFrameLength = maxFrameLength;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.#length;
  }

  push(chunk: Buffer): RemotingCommand[] {
    const out: RemotingCommand[] = [];
    if (chunk.length === 0) return out;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    while (this.#length >= 4) {
      let first = this.#chunks[0]!;
      if (first.length < 4) first = this.#join();
      const length = first.readInt32BE(0);
      checkFrameLength(length, this.#maxFrameLength);
      const total = 4 + length;
      if (this.#length < total) break;
      if (first.length < total) first = this.#join();
      out.push(decodeFrame(first.subarray(4, total)));
      if (first.length === total) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(total);
      this.#length -= total;
    }
    return out;
  }

  /** Joins the held chunks into one buffer (the only copy a frame split across reads costs). */
  #join(): Buffer {
    const joined = Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [joined];
    return joined;
  }
}

/**
 * Splits a byte stream into commands when each chunk is only valid during the call: a socket read
 * into one buffer reused for every read (net's `onread` option), so no buffer is allocated per
 * read. Each frame is copied once, into a buffer of exactly its length allocated as soon as its
 * length prefix is in; FrameDecoder's reads are buffers of their own, so it keeps them and joins a
 * frame's reads once instead. Either way a frame's bytes are copied once in the process; what this
 * saves is the read buffers themselves (≈ 1 byte of fresh memory per byte received: at 64 KiB and
 * 1 MiB messages a third to a half of what a receive allocates, all of it memory the garbage
 * collector counts toward its next full collection). With readTarget, most of a large frame is
 * read straight into its buffer and not copied at all.
 */
export class CopyingFrameDecoder {
  /** The frame being filled (without its length prefix), once its length is known. */
  #frame: Buffer | undefined;
  #filled = 0;
  /** A length prefix split across reads. */
  readonly #prefix = Buffer.alloc(4);
  #prefixFilled = 0;
  readonly #maxFrameLength: number;

  constructor(maxFrameLength = MAX_FRAME_LENGTH) {
    this.#maxFrameLength = maxFrameLength;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.#frame === undefined ? this.#prefixFilled : 4 + this.#filled;
  }

  /**
   * Where the next socket read should land (net's `onread` with a buffer function): straight into
   * the frame being filled when the rest of it is at least `scratch.length` bytes (no copy of those
   * bytes in this process at all; never past the frame's end), else into `scratch`, for push().
   */
  readTarget(scratch: Buffer): Buffer {
    const frame = this.#frame;
    return frame !== undefined && frame.length - this.#filled >= scratch.length
      ? frame.subarray(this.#filled)
      : scratch;
  }

  /** `n` bytes were read into the buffer readTarget returned when it was not `scratch`. */
  readInPlace(n: number): RemotingCommand[] {
    const frame = this.#frame;
    if (frame === undefined || this.#filled + n > frame.length)
      throw new RemotingFrameError('a read in place landed outside the frame being filled');
    this.#filled += n;
    if (this.#filled < frame.length) return [];
    this.#frame = undefined;
    return [decodeFrame(frame)];
  }

  /** Decodes what `chunk` completes, copying what it must keep: `chunk` may be overwritten after the call. */
  push(chunk: Buffer): RemotingCommand[] {
    const out: RemotingCommand[] = [];
    const end = chunk.length;
    let at = 0;
    while (at < end) {
      let frame = this.#frame;
      if (frame === undefined) {
        let length: number;
        if (this.#prefixFilled === 0 && end - at >= 4) {
          length = chunk.readInt32BE(at);
          at += 4;
        } else {
          const n = Math.min(4 - this.#prefixFilled, end - at);
          chunk.copy(this.#prefix, this.#prefixFilled, at, at + n);
          this.#prefixFilled += n;
          at += n;
          if (this.#prefixFilled < 4) break;
          this.#prefixFilled = 0;
          length = this.#prefix.readInt32BE(0);
        }
        checkFrameLength(length, this.#maxFrameLength);
        // Its own memory (never the shared pool): decodeFrame keeps a large body as a view of it.
        frame = Buffer.allocUnsafeSlow(length);
        this.#frame = frame;
        this.#filled = 0;
      }
      const n = Math.min(end - at, frame.length - this.#filled);
      chunk.copy(frame, this.#filled, at, at + n);
      this.#filled += n;
      at += n;
      if (this.#filled < frame.length) break;
      this.#frame = undefined;
      out.push(decodeFrame(frame));
    }
    return out;
  }
}

function checkFrameLength(length: number, max: number): void {
  if (length < 4 || length > max) {
    throw new RemotingFrameError(
      `corrupt Remoting frame: length ${length} is outside 4..${max}; ` +
        'the peer is not speaking the RocketMQ 4.x Remoting protocol on this port, or the stream is out of step',
    );
  }
}

/** Decodes one frame without its length prefix. */
export function decodeFrame(frame: Buffer): RemotingCommand {
  const mark = frame.readInt32BE(0);
  const type = (mark >>> 24) & 0xff;
  const headerLength = mark & 0xffffff;
  if (4 + headerLength > frame.length) {
    throw new RemotingFrameError(
      `corrupt Remoting frame: header length ${headerLength} exceeds the frame's ${frame.length - 4} bytes`,
    );
  }
  const header = frame.subarray(4, 4 + headerLength);
  const rest = frame.subarray(4 + headerLength);
  // A body that is most of the memory beneath it (a large frame) is kept where it is; a small one
  // is copied, so it does not keep a whole socket read, and the frames beside it, alive.
  const body =
    rest.length === 0 ? undefined : rest.length * 2 >= rest.buffer.byteLength ? rest : Buffer.from(rest);
  let cmd: RemotingCommand;
  if (type === 0) cmd = decodeJsonHeader(header);
  else if (type === 1) cmd = decodeBinaryHeader(header);
  else
    throw new RemotingFrameError(
      `corrupt Remoting frame: unknown header serialize type ${type} (0 JSON, 1 ROCKETMQ)`,
    );
  if (body) cmd.body = body;
  return cmd;
}

function decodeJsonHeader(header: Buffer): RemotingCommand {
  let json: unknown;
  try {
    json = JSON.parse(header.toString('utf8'));
  } catch (cause) {
    throw new RemotingFrameError('corrupt Remoting frame: the JSON header does not parse', { cause });
  }
  if (typeof json !== 'object' || json === null || typeof (json as { code?: unknown }).code !== 'number') {
    throw new RemotingFrameError('corrupt Remoting frame: the JSON header has no numeric "code"');
  }
  const h = json as Record<string, unknown>;
  const extFields: Record<string, string> = {};
  if (typeof h.extFields === 'object' && h.extFields !== null) {
    // ali-ons sends numbers and booleans; Java's server stringifies them, and so do we.
    for (const [k, v] of Object.entries(h.extFields))
      if (v !== null && v !== undefined) extFields[k] = String(v);
  }
  const cmd: RemotingCommand = {
    code: h.code as number,
    language: typeof h.language === 'string' ? h.language : 'JAVA',
    version: typeof h.version === 'number' ? h.version : 0,
    opaque: typeof h.opaque === 'number' ? h.opaque : 0,
    flag: typeof h.flag === 'number' ? h.flag : 0,
    extFields,
    serializeType: 'JSON',
  };
  if (typeof h.remark === 'string') cmd.remark = h.remark;
  return cmd;
}

function decodeBinaryHeader(header: Buffer): RemotingCommand {
  try {
    const r = new ByteReader(header);
    const code = r.int16();
    const language = LanguageCode[r.int8()] ?? 'OTHER';
    const version = r.int16();
    const opaque = r.int32();
    const flag = r.int32();
    const remarkLength = r.int32();
    const remark = remarkLength > 0 ? r.utf8(remarkLength) : undefined;
    const end = r.int32() + r.at;
    if (end > header.length) throw new RangeError('extFields overrun the header');
    const extFields: Record<string, string> = {};
    while (r.at < end) {
      const key = r.utf8(r.int16());
      // A "fast" header after an RPC hook repeats keys; the last occurrence wins, as in Java's HashMap.
      extFields[key] = r.utf8(r.int32());
    }
    const cmd: RemotingCommand = {
      code,
      language,
      version,
      opaque,
      flag,
      extFields,
      serializeType: 'ROCKETMQ',
    };
    if (remark !== undefined) cmd.remark = remark;
    return cmd;
  } catch (cause) {
    throw new RemotingFrameError(
      `corrupt Remoting frame: the ROCKETMQ binary header is malformed (${(cause as Error).message})`,
      { cause },
    );
  }
}

let nextOpaque = 0;

/** A fresh int32 request id; wraps as Java's AtomicInteger does. */
export function nextRequestId(): number {
  nextOpaque = (nextOpaque + 1) | 0;
  return nextOpaque;
}

/** Builds a request in the form the sheet recommends for a TS client: JSON, JAVA, version 409, string values. */
export function request(
  code: number,
  extFields: Record<string, string | number | boolean | bigint | undefined> = {},
  body?: Buffer,
  opaque: number = nextRequestId(),
): RemotingCommand {
  const cmd: RemotingCommand = {
    code,
    language: 'JAVA',
    version: VERSION_4_9_8,
    opaque,
    flag: 0,
    extFields: stringFields(extFields),
    serializeType: 'JSON',
  };
  if (body) cmd.body = body;
  return cmd;
}

/** Builds the reply to `req`: same opaque and serialization, response flag set. */
export function response(
  req: RemotingCommand,
  code: number,
  extFields: Record<string, string | number | boolean | bigint | undefined> = {},
  body?: Buffer,
  remark?: string,
): RemotingCommand {
  const cmd: RemotingCommand = {
    code,
    language: 'JAVA',
    version: VERSION_4_9_8,
    opaque: req.opaque,
    flag: FLAG_RESPONSE,
    extFields: stringFields(extFields),
    serializeType: req.serializeType,
  };
  if (body) cmd.body = body;
  if (remark !== undefined) cmd.remark = remark;
  return cmd;
}

function stringFields(
  fields: Record<string, string | number | boolean | bigint | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = String(v);
  return out;
}
