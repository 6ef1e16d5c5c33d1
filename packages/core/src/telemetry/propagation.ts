import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import type { OtelApi } from './otel.js';

/** Header names of the W3C Trace Context and Baggage specifications. */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';
export const BAGGAGE = 'baggage';

const TRACEPARENT_FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const MAX_BAGGAGE_BYTES = 8_192;
const MAX_BAGGAGE_ENTRIES = 180;

export type Headers = Readonly<Record<string, string>>;

export const headerSetter: TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

export const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key] ?? carrier[key.toLowerCase()],
};

/**
 * W3C Trace Context (`traceparent`, `tracestate`) and W3C Baggage (`baggage`), built in so trace
 * context travels without the user registering a propagator.
 */
export function w3cPropagator(api: OtelApi): TextMapPropagator<unknown> {
  return {
    fields: () => [TRACEPARENT, TRACESTATE, BAGGAGE],

    inject(context: Context, carrier: unknown, setter: TextMapSetter<unknown>): void {
      const spanContext = api.trace.getSpanContext(context);
      if (spanContext !== undefined && api.isSpanContextValid(spanContext)) {
        const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
        setter.set(carrier, TRACEPARENT, `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`);
        const state = spanContext.traceState?.serialize();
        if (state) setter.set(carrier, TRACESTATE, state);
      }
      const baggage = api.propagation.getBaggage(context);
      if (baggage !== undefined) {
        const value = serializeBaggage(baggage.getAllEntries());
        if (value.length > 0) setter.set(carrier, BAGGAGE, value);
      }
    },

    extract(context: Context, carrier: unknown, getter: TextMapGetter<unknown>): Context {
      let out = context;
      const parent = single(getter.get(carrier, TRACEPARENT));
      const match = parent === undefined ? null : TRACEPARENT_FORMAT.exec(parent.trim());
      if (match !== null) {
        const [, version, traceId, spanId, flags, rest] = match as unknown as [
          string,
          string,
          string,
          string,
          string,
          string | undefined,
        ];
        // Version ff is invalid; version 00 has nothing after the flags.
        const validVersion = version !== 'ff' && (version !== '00' || rest === undefined);
        const spanContext = {
          traceId,
          spanId,
          traceFlags: Number.parseInt(flags, 16) & 0x01,
          isRemote: true,
          traceState: undefined as ReturnType<OtelApi['createTraceState']> | undefined,
        };
        if (validVersion && api.isSpanContextValid(spanContext)) {
          const state = single(getter.get(carrier, TRACESTATE));
          if (state) spanContext.traceState = api.createTraceState(state);
          out = api.trace.setSpanContext(out, spanContext);
        }
      }
      const baggage = single(getter.get(carrier, BAGGAGE));
      if (baggage) {
        const entries = parseBaggage(api, baggage);
        if (Object.keys(entries).length > 0)
          out = api.propagation.setBaggage(out, api.propagation.createBaggage(entries));
      }
      return out;
    },
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function serializeBaggage(
  entries: Array<[string, { value: string; metadata?: { toString(): string } }]>,
): string {
  const parts: string[] = [];
  let bytes = 0;
  for (const [key, entry] of entries) {
    if (parts.length >= MAX_BAGGAGE_ENTRIES) break;
    const metadata = entry.metadata?.toString();
    const part = `${encodeURIComponent(key)}=${encodeURIComponent(entry.value)}${metadata ? `;${metadata}` : ''}`;
    if (bytes + part.length + 1 > MAX_BAGGAGE_BYTES) continue;
    bytes += part.length + 1;
    parts.push(part);
  }
  return parts.join(',');
}

function parseBaggage(
  api: OtelApi,
  header: string,
): Record<string, { value: string; metadata?: ReturnType<OtelApi['baggageEntryMetadataFromString']> }> {
  const out: Record<
    string,
    { value: string; metadata?: ReturnType<OtelApi['baggageEntryMetadataFromString']> }
  > = {};
  if (header.length > MAX_BAGGAGE_BYTES) return out;
  let count = 0;
  for (const member of header.split(',')) {
    if (count >= MAX_BAGGAGE_ENTRIES) break;
    const semicolon = member.indexOf(';');
    const pair = semicolon === -1 ? member : member.slice(0, semicolon);
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    try {
      const key = decodeURIComponent(pair.slice(0, equals).trim());
      const value = decodeURIComponent(pair.slice(equals + 1).trim());
      if (key.length === 0) continue;
      const properties = semicolon === -1 ? '' : member.slice(semicolon + 1).trim();
      out[key] =
        properties.length > 0
          ? { value, metadata: api.baggageEntryMetadataFromString(properties) }
          : { value };
      count++;
    } catch {
      // A malformed percent-encoding drops that member only.
    }
  }
  return out;
}
