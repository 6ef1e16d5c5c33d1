import { isUtf8 as nativeIsUtf8 } from 'node:buffer';
import { hasControlBytes } from './control-bytes.js';
import { InvalidArgumentError } from './errors.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a producer may send: text, bytes, or any JSON value (its content type is recorded). */
export type Body = string | Uint8Array | JsonValue | object;

export const TEXT = 'text/plain; charset=utf-8';
export const BINARY = 'application/octet-stream';
export const JSON_TYPE = 'application/json';

const encoder = new TextEncoder();
const lenientDecoder = new TextDecoder('utf-8');

/**
 * Turns a user body into bytes plus the content type that says how to read it back. `text` is the
 * string the bytes were encoded from, when there was one and it was well-formed (no lone
 * surrogate, which the encoding replaces): then it is exactly the bytes' UTF-8 decoding, and a
 * driver that sends text uses it instead of decoding the bytes again.
 */
export function encodeBody(
  body: Body,
  contentType?: string,
): { bytes: Uint8Array; contentType: string; text: string | undefined } {
  const prepared = prepareBody(body, contentType);
  return {
    bytes: prepared.bytes ?? encoder.encode(prepared.text),
    contentType: prepared.contentType,
    text: prepared.text,
  };
}

/** A body measured, with its bytes encoded now or (`bytes` undefined) left to `text`'s first reader. */
export type PreparedBody =
  | { bytes: Uint8Array; size: number; contentType: string; text: string | undefined }
  | { bytes: undefined; size: number; contentType: string; text: string };

/**
 * encodeBody without encoding a well-formed string of LAZY_TEXT_CHARS or more: its UTF-8 length
 * is measured (a native count, ~10× cheaper than the encoding, which copies the body) and `bytes`
 * is left undefined, to be made from `text` only by a driver that reads them. Text drivers (CMQ, Pulsar over HTTP) send `text`
 * and never do; copying a 1 MiB body cost ~1.3-4 ms of CPU per send (docs/bench-profiles.md).
 */
export function prepareBody(body: Body, contentType?: string): PreparedBody {
  if (typeof body === 'string') {
    const type = contentType ?? TEXT;
    const wellFormed = body.isWellFormed();
    if (wellFormed && body.length >= LAZY_TEXT_CHARS)
      return { bytes: undefined, size: utf8Length(body), contentType: type, text: body };
    // A short text's bytes are a slice of Node's shared 8 KiB pool (Buffer.from): TextEncoder.encode
    // makes an ArrayBuffer of its own per message, which costs ≈ 2× the encode and is one more
    // backing store for the GC to track and sweep for as long as the send waits. Drivers read the
    // bytes through byteOffset/byteLength, never their `.buffer` alone. A plain Uint8Array view of
    // them, not the Buffer: a body read back (memory driver) is a Uint8Array, as it always was.
    const bytes = pooledUtf8(body);
    return { bytes, size: pooledSize, contentType: type, text: wellFormed ? body : undefined };
  }
  if (body instanceof Uint8Array)
    return { bytes: body, size: body.byteLength, contentType: contentType ?? BINARY, text: undefined };
  if (body === undefined)
    throw new InvalidArgumentError('message body is missing; pass a string, bytes or a JSON value');
  if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer) {
    throw new InvalidArgumentError(
      'message body must be a Uint8Array/Buffer, not another typed array or ArrayBuffer; wrap it with new Uint8Array(...)',
    );
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (cause) {
    throw new InvalidArgumentError(`message body is not JSON-serialisable: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (json === undefined)
    throw new InvalidArgumentError('message body is not JSON-serialisable (a function or symbol?)');
  // JSON.stringify escapes lone surrogates (ES2019), so its output is always well-formed.
  if (json.length < LAZY_TEXT_CHARS) {
    const bytes = pooledUtf8(json);
    return { bytes, size: pooledSize, contentType: contentType ?? JSON_TYPE, text: json };
  }
  return { bytes: undefined, size: utf8Length(json), contentType: contentType ?? JSON_TYPE, text: json };
}

/**
 * Texts this long (UTF-16 units) leave their bytes to be encoded on first read. Below it the copy
 * costs less than the object with a lazy getter does: V8 defines an object literal's accessor at
 * run time, ~1.5 µs per object, about what encoding 1 KiB costs.
 */
export const LAZY_TEXT_CHARS = 4096;

/** A lazy body's text and, once read, its bytes: non-enumerable, so spreads and equality skip them. */
const LAZY_TEXT = Symbol('lazy body text');
const LAZY_BYTES = Symbol('lazy body bytes');

interface LazyBodyHolder {
  readonly [LAZY_TEXT]: string;
  [LAZY_BYTES]?: Uint8Array;
}

/**
 * The one getter of every lazy body, reading the text from its object. A getter closure per object
 * kept every long text alive through scavenges after its object was dropped, until a major GC:
 * the accessor pair V8 makes for each defineProperty lives in old space and held the young
 * closure, its context and so the text (the objects share one map either way). 4,000 deliveries of
 * 64 KiB made and dropped: 254 MB promoted with a closure per object, 3.4 MB with this getter; CMQ
 * receive at 64 KiB, the driver alone: 56 → 3 KB copied and 60 → 5 KB promoted per message
 * (docs/bench-profiles.md 19.6).
 */
function lazyBody(this: LazyBodyHolder): Uint8Array {
  const known = this[LAZY_BYTES];
  if (known !== undefined) return known;
  const bytes = encoder.encode(this[LAZY_TEXT]);
  if (Object.isExtensible(this)) Object.defineProperty(this, LAZY_BYTES, { value: bytes });
  return bytes;
}

/**
 * `fields` with `body` made an own enumerable getter that encodes `text` on first read (and keeps
 * the bytes): a spread copy reads it then, so copies still carry the body.
 */
export function withLazyBody<T extends object>(fields: T, text: string): T & { readonly body: Uint8Array } {
  Object.defineProperty(fields, LAZY_TEXT, { value: text, writable: true, configurable: true });
  return Object.defineProperty(fields, 'body', {
    enumerable: true,
    configurable: true,
    get: lazyBody,
  }) as T & { readonly body: Uint8Array };
}

/** Node's native validator (simdutf): ~10 µs per MiB where a strict TextDecoder took 4-5 ms. */
export function isUtf8(bytes: Uint8Array): boolean {
  return nativeIsUtf8(bytes);
}

export function decodeText(bytes: Uint8Array): string {
  return lenientDecoder.decode(bytes);
}

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** True when the text has an ASCII control character (U+0000-U+001F), which no name may contain. */
export function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

/**
 * The content type a message that carries none reads as: text when the body is UTF-8 without
 * control characters other than tab and line breaks, bytes otherwise (binary payloads nearly
 * always hold a control byte, even when they happen to be valid UTF-8). Drivers that keep the
 * content type in a property of their own write it only when it differs from this, so a plain
 * consumer sees no extra property on a text or binary message.
 */
export function impliedContentType(body: Uint8Array): string {
  // One pass for the control bytes (control-bytes.ts), then simdutf's validation.
  return !hasControlBytes(body) && isUtf8(body) ? TEXT : BINARY;
}

/**
 * UTF-8 bytes of a short text written into a shared 8 KiB pool (as Buffer.from pools them), as a
 * plain Uint8Array view. Written in place, not through Buffer.from: that made a Buffer per message
 * only to take its offsets, one more object per send (docs/bench-profiles.md §19.1). A pool lives
 * while any body in it does, as Node's own. The view's length is left in pooledSize.
 */
function pooledUtf8(text: string): Uint8Array {
  // At most 3 bytes per UTF-16 unit: a text that may not fit half a pool goes through Buffer.from,
  // which pools it by its exact length (or gives it bytes of its own).
  const most = text.length * 3;
  if (most > POOL_BYTES >>> 1) {
    const pooled = Buffer.from(text, 'utf8');
    pooledSize = pooled.byteLength;
    return new Uint8Array(pooled.buffer, pooled.byteOffset, pooledSize);
  }
  if (POOL_BYTES - poolOffset < most) {
    pool = Buffer.allocUnsafeSlow(POOL_BYTES);
    poolBuffer = pool.buffer;
    poolOffset = 0;
  }
  const start = poolOffset;
  const size = pool.write(text, start);
  pooledSize = size;
  // 8-byte aligned, as Node's pool: a typed-array view over the bytes stays possible.
  poolOffset = (start + size + 7) & ~7;
  return new Uint8Array(poolBuffer, start, size);
}

const POOL_BYTES = 8 * 1024;
let pool = Buffer.allocUnsafeSlow(POOL_BYTES);
/**
 * The pool's ArrayBuffer, read once per pool: `pool.buffer` is a C++ getter (the typed array's
 * buffer is materialised in the runtime on every read) that the optimising compiler cannot inline,
 * ≈ 600 instructions per short text sent (callgrind, docs/bench-profiles.md §26.3).
 */
let poolBuffer: ArrayBuffer = pool.buffer;
let poolOffset = 0;
/**
 * The byte length of the view pooledUtf8 returned last, for its caller: a typed array's
 * `byteLength` is a getter call on this path (≈ 150 instructions, not an inlined load; §26.3).
 */
let pooledSize = 0;
