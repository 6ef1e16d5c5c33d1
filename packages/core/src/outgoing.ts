import {
  BINARY,
  hasControlCharacters,
  isUtf8,
  type PreparedBody,
  prepareBody,
  withLazyBody,
} from './body.js';
import { type Capabilities, requireCapability } from './capabilities.js';
import { InvalidArgumentError, MessageTooLargeError, UnsupportedError } from './errors.js';
import { newMessageId } from './ids.js';
import type { Outgoing, OutgoingMessage } from './message-types.js';
import { anchorShape } from './shape-anchor.js';

const MAX_ID = 256;
const MAX_HEADER_NAME = 256;

/**
 * Validates one message against the portable rules and the driver's capabilities, and encodes it.
 * Every check runs before anything is sent, so a bad message never leaves half a batch behind.
 * `now`: the send's time, read once for all its messages.
 */
export function prepareOutgoing(
  input: OutgoingMessage | string | Uint8Array,
  capabilities: Capabilities,
  driver: string,
  index?: number,
  now = Date.now(),
): Outgoing {
  // A bare body (the commonest send): no message object is made to wrap it.
  if (input instanceof Uint8Array) return bareBytes(input, BINARY, capabilities, driver, index, now);
  if (typeof input === 'string') return bareBody(input, undefined, capabilities, driver, index, now);
  const message: OutgoingMessage = input;
  if (typeof message !== 'object' || message === null || !('body' in message)) {
    throw new InvalidArgumentError(`${label(index)} must be a string, bytes, or an object with a body`);
  }
  // Every message of a batch passes here: the checks of absent fields cost nothing, and the label
  // for error messages ("message[3]") is only built when one of them fails.
  const { headers: rawHeaders, tags: rawTags, keys: rawKeys } = message;
  if (
    rawHeaders === undefined &&
    rawTags === undefined &&
    rawKeys === undefined &&
    message.key === undefined &&
    message.routingKey === undefined &&
    message.orderingKey === undefined &&
    message.delayMs === undefined &&
    message.id === undefined
  ) {
    const { body } = message;
    if (body instanceof Uint8Array)
      return bareBytes(body, message.contentType ?? BINARY, capabilities, driver, index, now);
    return bareBody(body, message.contentType, capabilities, driver, index, now);
  }
  return prepareFull(message, capabilities, driver, index, now);
}

/** The caller's bytes as they are: no PreparedBody object on the commonest path. */
function bareBytes(
  body: Uint8Array,
  contentType: string,
  capabilities: Capabilities,
  driver: string,
  index: number | undefined,
  now: number,
): Outgoing {
  // Read once: a typed array's byteLength is a getter call here, not an inlined load (≈ 150
  // instructions a read, callgrind; docs/bench-profiles.md §26.3).
  const size = body.byteLength;
  checkBody(body, size, true, capabilities, driver, index);
  return new PlainOutgoing(newMessageId(), body, size, undefined, contentType, now);
}

/** A message that sets nothing but its body (and content type), other than bytes. */
function bareBody(
  body: OutgoingMessage['body'],
  contentType: string | undefined,
  capabilities: Capabilities,
  driver: string,
  index: number | undefined,
  now: number,
): Outgoing {
  const prepared = prepareBody(body, contentType);
  // Bytes encoded from a string are UTF-8 by construction: only the caller's own bytes are checked.
  checkBody(prepared.bytes, prepared.size, prepared.bytes === body, capabilities, driver, index);
  const id = newMessageId();
  if (prepared.bytes === undefined) {
    // A long text: PlainOutgoing's shape with `body` a getter that encodes on first read (lazyText).
    const { text } = prepared;
    return withLazyBody(
      new PlainOutgoing(id, undefined as never, prepared.size, text, prepared.contentType, now),
      text,
    );
  }
  return new PlainOutgoing(id, prepared.bytes, prepared.size, prepared.text, prepared.contentType, now);
}

function label(index: number | undefined): string {
  return index === undefined ? 'message' : `message[${index}]`;
}

function checkedBody(
  message: OutgoingMessage,
  capabilities: Capabilities,
  driver: string,
  index: number | undefined,
): PreparedBody {
  const prepared = prepareBody(message.body, message.contentType);
  checkBody(prepared.bytes, prepared.size, prepared.bytes === message.body, capabilities, driver, index);
  return prepared;
}

/** The size limit, and UTF-8 where the driver carries text only (`callerBytes`: not encoded here). */
function checkBody(
  bytes: Uint8Array | undefined,
  size: number,
  callerBytes: boolean,
  capabilities: Capabilities,
  driver: string,
  index: number | undefined,
): void {
  if (size > capabilities.maxMessageBytes) {
    throw new MessageTooLargeError(
      `${label(index)} body is ${size} bytes; the ${driver} driver accepts at most ${capabilities.maxMessageBytes} bytes. Store large payloads elsewhere and send a reference`,
      { driver, details: { size, limit: capabilities.maxMessageBytes } },
    );
  }
  if (capabilities.binaryBodies === false && callerBytes && !isUtf8(bytes!)) {
    throw new InvalidArgumentError(
      `${label(index)} body is not UTF-8 text, and the ${driver} driver in this mode carries text only; send text (e.g. base64) or use a mode with binary bodies`,
      { driver, details: { feature: 'binaryBodies' } },
    );
  }
}

/**
 * The Outgoing of a message that sets nothing but its body (one shape for every such message),
 * made by `new` rather than as an object literal: V8 pretenures a literal's
 * allocation site once enough of its objects outlive a scavenge — as messages held by a broker do
 * early in a process, while the young generation is still small — and never goes back, so every
 * later message was born in the old generation for a mark-compact to free (the memory driver over
 * 1,000 destinations: 211 B per message reaching the old generation in one fresh process of two,
 * 19 with this; docs/bench-profiles.md §20.1). Objects made by `new` are never pretenured. Fields
 * in the literal's order: the same shape as before.
 */
class PlainOutgoing implements Outgoing {
  readonly id: string;
  readonly body: Uint8Array;
  readonly bodyBytes: number;
  readonly text: string | undefined;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>> = EMPTY;
  readonly key: string | undefined = undefined;
  readonly keys: readonly string[] | undefined = undefined;
  readonly tags: readonly string[] = NO_TAGS;
  readonly routingKey: string | undefined = undefined;
  readonly orderingKey: string | undefined = undefined;
  readonly delayMs: number | undefined = undefined;
  readonly publishedAt: number;

  constructor(
    id: string,
    body: Uint8Array,
    bodyBytes: number,
    text: string | undefined,
    contentType: string,
    publishedAt: number,
  ) {
    this.id = id;
    this.body = body;
    this.bodyBytes = bodyBytes;
    this.text = text;
    this.contentType = contentType;
    this.publishedAt = publishedAt;
  }
}

type OtherFields = Omit<Outgoing, 'body' | 'bodyBytes' | 'text' | 'contentType'>;

/**
 * The Outgoing of a long text (prepareBody left its bytes undefined): `body` is a getter of the
 * object's own that encodes on first read, so a spread copy still carries the bytes, and drivers
 * that send `text` (CMQ, Pulsar over HTTP) never pay for the copy.
 */
function lazyText(prepared: PreparedBody & { bytes: undefined }, o: OtherFields): Outgoing {
  const { text } = prepared;
  return withLazyBody(assembled(o, undefined, prepared.size, text, prepared.contentType), text);
}

/**
 * The Outgoing's fields written out one by one, in PlainOutgoing's order. Not `{ ...o, body, … }`: on
 * Node 20 a literal that adds properties after a spread takes V8's slow path, about 1 µs per
 * property added (4 µs per message here, 0.07 µs written out; docs/bench-profiles.md §17).
 */
function assembled(
  o: OtherFields,
  body: Uint8Array | undefined,
  bodyBytes: number,
  text: string | undefined,
  contentType: string,
): Outgoing {
  return {
    id: o.id,
    body: body as Uint8Array,
    bodyBytes,
    text,
    contentType,
    headers: o.headers,
    key: o.key,
    keys: o.keys,
    tags: o.tags,
    routingKey: o.routingKey,
    orderingKey: o.orderingKey,
    delayMs: o.delayMs,
    publishedAt: o.publishedAt,
  };
}

function prepareFull(
  message: OutgoingMessage,
  capabilities: Capabilities,
  driver: string,
  index: number | undefined,
  now: number,
): Outgoing {
  const at = label(index);
  const prepared = checkedBody(message, capabilities, driver, index);
  const headers = checkHeaders(message.headers, at);
  if (Object.keys(headers).length > 0) requireCapability(capabilities, 'headers', driver);
  const tags = checkTags(message.tags, at, capabilities, driver);
  if (message.routingKey !== undefined) {
    checkString(message.routingKey, `${at}.routingKey`, 255);
    requireCapability(capabilities, 'routingKeyFilter', driver, 'Routing keys');
  }
  if (message.orderingKey !== undefined) {
    checkString(message.orderingKey, `${at}.orderingKey`, 255);
    requireCapability(capabilities, 'orderingKeys', driver, 'Ordering keys');
  }
  if (message.key !== undefined) checkString(message.key, `${at}.key`, 1024);
  const keys = checkKeys(message.keys, message.key, at);
  const keyCount = keys?.length ?? (message.key === undefined ? 0 : 1);
  if (keyCount > capabilities.maxKeysPerMessage) {
    throw new UnsupportedError(
      capabilities.maxKeysPerMessage === 0
        ? `${at} has a key, and the ${driver} driver in this mode carries none (a mode with an envelope or headers does); leave key out rather than have it dropped`
        : `${at} has ${keyCount} keys; the ${driver} driver carries at most ${capabilities.maxKeysPerMessage} per message (send the first as key)`,
      { driver, details: { feature: 'maxKeysPerMessage', limit: capabilities.maxKeysPerMessage } },
    );
  }
  if (message.delayMs !== undefined) {
    if (!Number.isInteger(message.delayMs) || message.delayMs < 0) {
      throw new InvalidArgumentError(
        `${at}.delayMs must be a whole number of ms ≥ 0, got ${String(message.delayMs)}`,
      );
    }
    if (message.delayMs > 0) {
      requireCapability(capabilities, 'delayedSend', driver);
      if (message.delayMs > capabilities.maxDelayMs) {
        throw new InvalidArgumentError(
          `${at}.delayMs is ${message.delayMs}; the ${driver} driver delays at most ${capabilities.maxDelayMs} ms`,
          { driver, details: { limit: capabilities.maxDelayMs } },
        );
      }
    }
  }
  if (message.id !== undefined) checkString(message.id, `${at}.id`, MAX_ID);
  const fields: OtherFields = {
    id: message.id ?? newMessageId(),
    headers,
    key: keys?.[0] ?? message.key,
    keys,
    tags,
    routingKey: message.routingKey,
    orderingKey: message.orderingKey,
    delayMs: message.delayMs !== undefined && message.delayMs > 0 ? message.delayMs : undefined,
    publishedAt: now,
  };
  if (prepared.bytes === undefined) return lazyText(prepared, fields);
  return assembled(fields, prepared.bytes, prepared.size, prepared.text, prepared.contentType);
}

function checkString(value: unknown, what: string, max: number): void {
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidArgumentError(`${what} must be a non-empty string`);
  if (value.length > max)
    throw new InvalidArgumentError(`${what} must be at most ${max} characters, got ${value.length}`);
  if (!value.isWellFormed())
    throw new InvalidArgumentError(`${what} must be well-formed Unicode (a lone surrogate?)`);
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Names that reach Object.prototype when copied into a plain object: `__proto__` was dropped
 * silently and the send resolved, so the header was lost without a word.
 */
const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function checkHeaders(headers: unknown, at: string): Readonly<Record<string, string>> {
  if (headers === undefined) return EMPTY;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new InvalidArgumentError(`${at}.headers must be an object of string values`);
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.length === 0 || name.length > MAX_HEADER_NAME || hasControlCharacters(name)) {
      throw new InvalidArgumentError(
        `${at}.headers has an invalid name "${name.slice(0, 40)}": 1-${MAX_HEADER_NAME} characters, no control characters`,
      );
    }
    if (RESERVED_HEADER_NAMES.has(name)) {
      throw new InvalidArgumentError(
        `${at}.headers has the reserved name "${name}" (__proto__, constructor and prototype cannot be header names: a plain object cannot hold them safely); rename the header`,
      );
    }
    if (typeof value !== 'string') {
      throw new InvalidArgumentError(
        `${at}.headers["${name}"] must be a string, got ${typeof value}; convert it with String() or JSON.stringify()`,
      );
    }
    if (!value.isWellFormed())
      throw new InvalidArgumentError(`${at}.headers["${name}"] must be well-formed Unicode`);
    out[name] = value;
  }
  return out;
}

const MAX_KEYS = 32;

/** `keys`, checked and consistent with `key` (its first); undefined when not given or empty. */
function checkKeys(keys: unknown, key: string | undefined, at: string): readonly string[] | undefined {
  if (keys === undefined) return undefined;
  if (!Array.isArray(keys)) throw new InvalidArgumentError(`${at}.keys must be an array of strings`);
  if (keys.length === 0) return undefined;
  if (keys.length > MAX_KEYS)
    throw new InvalidArgumentError(`${at}.keys has ${keys.length} keys; at most ${MAX_KEYS} are allowed`);
  for (const [i, k] of keys.entries()) checkString(k, `${at}.keys[${i}]`, 1024);
  if (key !== undefined && key !== keys[0]) {
    throw new InvalidArgumentError(
      `${at}.key ("${key}") must be the first of ${at}.keys ("${String(keys[0])}"); give keys alone, or key equal to keys[0]`,
    );
  }
  return Object.freeze([...keys] as string[]);
}

const NO_TAGS: readonly string[] = Object.freeze([]);

function checkTags(tags: unknown, at: string, capabilities: Capabilities, driver: string): readonly string[] {
  if (tags === undefined) return NO_TAGS;
  if (!Array.isArray(tags)) throw new InvalidArgumentError(`${at}.tags must be an array of strings`);
  if (tags.length === 0) return NO_TAGS;
  requireCapability(capabilities, 'tagFilter', driver, 'Message tags');
  if (tags.length > capabilities.maxTagsPerMessage) {
    throw new InvalidArgumentError(
      `${at} has ${tags.length} tags; the ${driver} driver carries at most ${capabilities.maxTagsPerMessage} per message`,
      { driver, details: { limit: capabilities.maxTagsPerMessage } },
    );
  }
  for (const [i, tag] of tags.entries()) checkString(tag, `${at}.tags[${i}]`, 64);
  return [...tags] as string[];
}

// A producer between bursts holds no message: without one kept, a mark-compact collects the class's
// map and throws away every send path's optimized code (shape-anchor.ts). A timestamp, as real
// ones are (a double: a small integer here would be another field representation, another map).
/** The anchored PlainOutgoing (no user data), for anchors of classes that hold one. */
export const OUTGOING_ANCHOR: Outgoing = anchorShape(
  new PlainOutgoing('', new Uint8Array(0), 0, undefined, '', Date.now()),
);
