import { describe, expect, it } from 'vitest';
import { loadOpenTelemetry } from './otel.js';
import { headerGetter, headerSetter, w3cPropagator } from './propagation.js';

const api = loadOpenTelemetry()!;
const propagator = w3cPropagator(api);
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

function remoteContext(flags = 1, state?: string) {
  return api.trace.setSpanContext(api.ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: flags,
    isRemote: true,
    ...(state === undefined ? {} : { traceState: api.createTraceState(state) }),
  });
}

describe('W3C propagation', () => {
  it('injects traceparent, tracestate and baggage', () => {
    const withBaggage = api.propagation.setBaggage(
      remoteContext(1, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'),
      api.propagation.createBaggage({ user: { value: 'a b,c;d' }, plain: { value: 'x' } }),
    );
    const carrier: Record<string, string> = {};
    propagator.inject(withBaggage, carrier, headerSetter);
    expect(carrier.traceparent).toBe(`00-${TRACE_ID}-${SPAN_ID}-01`);
    expect(carrier.tracestate).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(carrier.baggage).toBe('user=a%20b%2Cc%3Bd,plain=x');
  });

  it('injects nothing without a valid span context or baggage', () => {
    const carrier: Record<string, string> = {};
    propagator.inject(api.ROOT_CONTEXT, carrier, headerSetter);
    expect(carrier).toEqual({});
  });

  it('round-trips through extract, as a remote parent with its flags', () => {
    for (const flags of [0, 1]) {
      const carrier: Record<string, string> = {};
      propagator.inject(remoteContext(flags, 'k=v'), carrier, headerSetter);
      const extracted = propagator.extract(api.ROOT_CONTEXT, carrier, headerGetter);
      const spanContext = api.trace.getSpanContext(extracted);
      expect(spanContext).toMatchObject({
        traceId: TRACE_ID,
        spanId: SPAN_ID,
        traceFlags: flags,
        isRemote: true,
      });
      expect(spanContext?.traceState?.get('k')).toBe('v');
    }
  });

  it('extracts baggage with properties and skips malformed members', () => {
    const extracted = propagator.extract(
      api.ROOT_CONTEXT,
      { baggage: 'user=a%20b;prop=1, bad, =novalue, broken=%E0%A4%A, ok=2' },
      headerGetter,
    );
    const baggage = api.propagation.getBaggage(extracted);
    expect(baggage?.getEntry('user')?.value).toBe('a b');
    expect(baggage?.getEntry('user')?.metadata?.toString()).toBe('prop=1');
    expect(baggage?.getEntry('ok')?.value).toBe('2');
    expect(baggage?.getAllEntries()).toHaveLength(2);
  });

  it('rejects invalid traceparent headers', () => {
    for (const traceparent of [
      'garbage',
      `ff-${TRACE_ID}-${SPAN_ID}-01`,
      `00-${'0'.repeat(32)}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `00-${TRACE_ID}-${SPAN_ID}-01-extra`,
      `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`,
    ]) {
      const extracted = propagator.extract(api.ROOT_CONTEXT, { traceparent }, headerGetter);
      expect(api.trace.getSpanContext(extracted), traceparent).toBeUndefined();
    }
    // A future version may append fields.
    const future = propagator.extract(
      api.ROOT_CONTEXT,
      { traceparent: `01-${TRACE_ID}-${SPAN_ID}-01-more` },
      headerGetter,
    );
    expect(api.trace.getSpanContext(future)?.traceId).toBe(TRACE_ID);
  });
});
