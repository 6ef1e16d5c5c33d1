// CloudEvents over any flavour, opt-in: `cloudEvents(broker)` turns an event into a message to
// send and a received message back into an event. Binary content mode (the default where the
// flavour has native headers) puts the attributes in headers under the flavour's binding prefix
// (cloudevents-mapping.ts), `datacontenttype` in the message's content type and the data in the
// body as-is; structured mode (the default elsewhere) sends the JSON event format as the body, which
// any CloudEvents SDK reads whatever carried it. See docs/cloudevents.md.

import type { Broker } from './broker.js';
import type { Capabilities } from './capabilities.js';
import {
  ATTRIBUTE_NAME,
  bindingFor,
  CONTEXT_ATTRIBUTES,
  KNOWN_PREFIXES,
  STRUCTURED_TYPE,
} from './cloudevents-mapping.js';
import { InvalidArgumentError, UnsupportedError } from './errors.js';
import type { Message } from './message.js';
import type { OutgoingMessage } from './message-types.js';

export type CloudEventsMode = 'binary' | 'structured';

/**
 * A CloudEvent (1.0): the context attributes, extensions as further string/number/boolean
 * attributes, and `data` (any JSON value, a string, or bytes). The shape of the JSON event format
 * and of the `cloudevents` SDK's CloudEvent, which can be passed as it is.
 */
export interface CloudEventLike {
  readonly specversion?: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly datacontenttype?: string | undefined;
  readonly dataschema?: string | undefined;
  readonly subject?: string | undefined;
  readonly time?: string | Date | undefined;
  readonly data?: unknown;
  readonly [extension: string]: unknown;
}

/** What fromMessage() returns: attributes as strings (extensions too, in binary mode), and data. */
export interface ReceivedCloudEvent {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly subject?: string;
  readonly time?: string;
  /** Parsed JSON for a JSON content type, text for text/*, bytes otherwise. */
  readonly data?: unknown;
  readonly [extension: string]: unknown;
}

export interface CloudEventsCodec {
  readonly mode: CloudEventsMode;
  /** The header prefix binary mode writes on this flavour. */
  readonly prefix: string;
  /** A message to send with producer.send(); add key, orderingKey, tags as usual. */
  toMessage(event: CloudEventLike): OutgoingMessage;
  /** The event a message carries (either mode, any known prefix); INVALID_ARGUMENT when it carries none. */
  fromMessage(message: Pick<Message, 'id' | 'body' | 'contentType' | 'headers'>): ReceivedCloudEvent;
}

const JSON_TYPE = /^application\/(?:[^;]*\+)?json\s*(?:;|$)/i;
const TEXT_TYPE = /^text\//i;
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A CloudEvents codec for `broker`'s flavour. `mode` defaults to binary where the flavour has
 * native headers, structured otherwise; binary on a flavour without them is UNSUPPORTED.
 */
export function cloudEvents(
  broker: Pick<Broker, 'driver' | 'capabilities'>,
  options: { mode?: CloudEventsMode } = {},
): CloudEventsCodec {
  return cloudEventsFor(broker.driver, broker.capabilities, options);
}

export function cloudEventsFor(
  driver: string,
  capabilities: Capabilities,
  options: { mode?: CloudEventsMode } = {},
): CloudEventsCodec {
  const mode = options.mode ?? (capabilities.headers === 'native' ? 'binary' : 'structured');
  if (mode !== 'binary' && mode !== 'structured')
    throw new InvalidArgumentError(`cloudEvents mode must be 'binary' or 'structured', got ${String(mode)}`);
  if (mode === 'binary' && capabilities.headers !== 'native') {
    throw new UnsupportedError(
      `CloudEvents binary mode needs native headers, which the ${driver} driver does not have (capability "headers" is ${capabilities.headers}); use mode 'structured'`,
      { driver, details: { feature: 'headers' } },
    );
  }
  const { prefix } = bindingFor(driver);
  return {
    mode,
    prefix,
    toMessage: (event) => (mode === 'binary' ? binary(event, prefix) : structured(event)),
    fromMessage: (message) => read(message, prefix),
  };
}

function checked(event: CloudEventLike): Record<string, unknown> {
  if (event === null || typeof event !== 'object')
    throw new InvalidArgumentError('a CloudEvent must be an object with id, source and type');
  const out: Record<string, unknown> = { specversion: '1.0' };
  for (const [name, value] of Object.entries(event)) {
    if (value === undefined || name === 'data' || name === 'data_base64') continue;
    if (!ATTRIBUTE_NAME.test(name))
      throw new InvalidArgumentError(
        `CloudEvent attribute "${name}" is not a valid name: lower-case letters and digits only, at most 20`,
      );
    if (name === 'time' && value instanceof Date) out.time = value.toISOString();
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out[name] = value;
    else throw new InvalidArgumentError(`CloudEvent attribute "${name}" must be a string, number or boolean`);
  }
  if (out.specversion !== '1.0')
    throw new InvalidArgumentError(`CloudEvent specversion must be "1.0", got "${String(out.specversion)}"`);
  for (const required of ['id', 'source', 'type'] as const) {
    if (typeof out[required] !== 'string' || out[required] === '')
      throw new InvalidArgumentError(`CloudEvent "${required}" is required: a non-empty string`);
  }
  return out;
}

/** The event's data as a body and the content type that says how to read it. */
function dataBody(event: CloudEventLike): { body: string | Uint8Array; contentType: string | undefined } {
  const { data, datacontenttype } = event;
  if (data === undefined) return { body: new Uint8Array(0), contentType: datacontenttype };
  if (data instanceof Uint8Array)
    return { body: data, contentType: datacontenttype ?? 'application/octet-stream' };
  if (typeof data === 'string' && !(datacontenttype !== undefined && JSON_TYPE.test(datacontenttype)))
    return { body: data, contentType: datacontenttype ?? 'text/plain; charset=utf-8' };
  return { body: JSON.stringify(data), contentType: datacontenttype ?? 'application/json' };
}

function binary(event: CloudEventLike, prefix: string): OutgoingMessage {
  const attributes = checked(event);
  const { body, contentType } = dataBody(event);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    // datacontenttype is the message's own content type (every binding maps it there).
    if (name !== 'datacontenttype') headers[prefix + name] = String(value);
  }
  return contentType === undefined ? { body, headers } : { body, headers, contentType };
}

function structured(event: CloudEventLike): OutgoingMessage {
  const json: Record<string, unknown> = checked(event);
  const { data } = event;
  if (data instanceof Uint8Array) json.data_base64 = Buffer.from(data).toString('base64');
  else if (data !== undefined) {
    json.data = data;
    json.datacontenttype ??= typeof data === 'string' ? 'text/plain' : 'application/json';
  }
  return { body: JSON.stringify(json), contentType: STRUCTURED_TYPE };
}

function read(
  message: Pick<Message, 'id' | 'body' | 'contentType' | 'headers'>,
  own: string,
): ReceivedCloudEvent {
  const contentType = message.contentType ?? '';
  if (/^application\/cloudevents\+json/i.test(contentType)) return readStructured(message);
  const headers = message.headers;
  const prefix = [own, ...KNOWN_PREFIXES].find((p) => typeof headers[`${p}specversion`] === 'string');
  if (prefix === undefined) {
    // A flavour without headers carries no content type either: a JSON object with a specversion
    // is a structured event (as MQTT 3.1.1's binding reads every message).
    if (looksStructured(message.body)) return readStructured(message);
    throw new InvalidArgumentError(
      `message ${message.id} carries no CloudEvent: no specversion header (${own || 'bare'} prefix or another binding's), its content type is not application/cloudevents+json and its body is no JSON event`,
    );
  }
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(prefix)) continue;
    const attribute = name.slice(prefix.length).toLowerCase();
    if (ATTRIBUTE_NAME.test(attribute)) event[attribute] = value;
  }
  if (message.contentType !== undefined && event.datacontenttype === undefined)
    event.datacontenttype = message.contentType;
  if (message.body.length > 0)
    event.data = decodeData(message.body, event.datacontenttype as string | undefined, message.id);
  return validated(event, message.id);
}

function looksStructured(body: Uint8Array): boolean {
  // '{' first (after blanks): cheap, and a binary body is never parsed on a guess.
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09))
    i++;
  if (body[i] !== 0x7b) return false;
  try {
    const parsed: unknown = JSON.parse(decoder.decode(body));
    return parsed !== null && typeof parsed === 'object' && 'specversion' in parsed;
  } catch {
    return false;
  }
}

function readStructured(message: Pick<Message, 'id' | 'body'>): ReceivedCloudEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(message.body));
  } catch (cause) {
    throw new InvalidArgumentError(
      `message ${message.id} says application/cloudevents+json but is not JSON`,
      {
        cause,
      },
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidArgumentError(`message ${message.id}: a structured CloudEvent must be a JSON object`);
  const event = { ...(parsed as Record<string, unknown>) };
  if (typeof event.data_base64 === 'string') {
    event.data = new Uint8Array(Buffer.from(event.data_base64, 'base64'));
    delete event.data_base64;
  }
  return validated(event, message.id);
}

function decodeData(body: Uint8Array, contentType: string | undefined, id: string): unknown {
  if (contentType !== undefined && JSON_TYPE.test(contentType)) {
    try {
      return JSON.parse(decoder.decode(body));
    } catch (cause) {
      throw new InvalidArgumentError(`message ${id}: CloudEvent data says ${contentType} but is not JSON`, {
        cause,
      });
    }
  }
  if (contentType !== undefined && TEXT_TYPE.test(contentType)) return decoder.decode(body);
  return body;
}

function validated(event: Record<string, unknown>, id: string): ReceivedCloudEvent {
  if (event.specversion !== '1.0')
    throw new InvalidArgumentError(
      `message ${id}: CloudEvent specversion "${String(event.specversion)}" is not supported (1.0 is)`,
    );
  for (const required of ['id', 'source', 'type'] as const) {
    if (typeof event[required] !== 'string' || event[required] === '')
      throw new InvalidArgumentError(`message ${id}: CloudEvent has no "${required}"`);
  }
  for (const name of CONTEXT_ATTRIBUTES) {
    if (event[name] !== undefined && typeof event[name] !== 'string')
      throw new InvalidArgumentError(`message ${id}: CloudEvent "${name}" must be a string`);
  }
  return event as unknown as ReceivedCloudEvent;
}
