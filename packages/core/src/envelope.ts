import { BINARY, decodeText, isUtf8, TEXT, utf8 } from './body.js';
import type { Delivery, Outgoing } from './message-types.js';

// Flavours whose wire carries only a text body (CMQ, Pulsar over HTTP) carry Switchyard's headers,
// key, tags and binary bodies inside this JSON envelope when the driver runs in envelope mode. The
// marker is a field name no ordinary payload uses, so raw messages from other producers are read
// as plain bodies rather than misparsed.

const MARKER = '_switchyard';
const VERSION = 1;

interface EnvelopeV1 {
  [MARKER]: typeof VERSION;
  id: string;
  ct: string;
  ts: number;
  h?: Record<string, string>;
  k?: string;
  t?: string[];
  rk?: string;
  ok?: string;
  /** UTF-8 body as text, or ... */
  b?: string;
  /** ... a binary body as base64. */
  b64?: string;
}

export function encodeEnvelope(message: Outgoing): string {
  const envelope: EnvelopeV1 = {
    [MARKER]: VERSION,
    id: message.id,
    ct: message.contentType,
    ts: message.publishedAt,
  };
  if (Object.keys(message.headers).length > 0) envelope.h = { ...message.headers };
  if (message.key !== undefined) envelope.k = message.key;
  if (message.tags.length > 0) envelope.t = [...message.tags];
  if (message.routingKey !== undefined) envelope.rk = message.routingKey;
  if (message.orderingKey !== undefined) envelope.ok = message.orderingKey;
  if (isUtf8(message.body)) envelope.b = decodeText(message.body);
  else envelope.b64 = Buffer.from(message.body).toString('base64');
  return JSON.stringify(envelope);
}

export type EnvelopeFields = Omit<Delivery, 'deliveryAttempt' | 'native' | 'handle'>;

/**
 * Reads an envelope back. Anything that is not a well-formed envelope is a raw body from a
 * producer that does not use Switchyard, and is returned as such (never an error: interop).
 */
export function decodeEnvelope(text: string, fallbackId: string): EnvelopeFields {
  const parsed = text.startsWith(`{"${MARKER}"`) ? tryParse(text) : undefined;
  if (parsed === undefined) {
    return {
      id: fallbackId,
      body: utf8(text),
      contentType: undefined,
      headers: {},
      key: undefined,
      tags: [],
      routingKey: undefined,
      orderingKey: undefined,
      publishedAt: undefined,
    };
  }
  const body =
    parsed.b64 !== undefined ? new Uint8Array(Buffer.from(parsed.b64, 'base64')) : utf8(parsed.b ?? '');
  return {
    id: parsed.id,
    body,
    contentType: parsed.ct ?? (parsed.b64 !== undefined ? BINARY : TEXT),
    headers: parsed.h ?? {},
    key: parsed.k,
    tags: parsed.t ?? [],
    routingKey: parsed.rk,
    orderingKey: parsed.ok,
    publishedAt: parsed.ts,
  };
}

function tryParse(text: string): EnvelopeV1 | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (!isEnvelope(value)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}

function isEnvelope(value: unknown): value is EnvelopeV1 {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const optionalString = (x: unknown) => x === undefined || typeof x === 'string';
  return (
    v[MARKER] === VERSION &&
    typeof v.id === 'string' &&
    optionalString(v.ct) &&
    (v.ts === undefined || typeof v.ts === 'number') &&
    optionalString(v.k) &&
    optionalString(v.rk) &&
    optionalString(v.ok) &&
    optionalString(v.b) &&
    optionalString(v.b64) &&
    (v.t === undefined || (Array.isArray(v.t) && v.t.every((t) => typeof t === 'string'))) &&
    (v.h === undefined ||
      (typeof v.h === 'object' && v.h !== null && Object.values(v.h).every((x) => typeof x === 'string')))
  );
}
