import { openTelemetryApi } from '@switchyard/core';

type Api = typeof import('@opentelemetry/api');

/**
 * The active trace context (W3C traceparent/tracestate/baggage through the registered
 * propagator) as headers to store with the row, so the relay's send continues the transaction's
 * trace rather than starting one in a background loop.
 */
export function traceHeaders(): Record<string, string> | undefined {
  const api = openTelemetryApi<Api>();
  if (api === undefined) return undefined;
  const carrier: Record<string, string> = {};
  api.propagation.inject(api.context.active(), carrier);
  return Object.keys(carrier).length === 0 ? undefined : carrier;
}

/** Runs `send` inside the context stored with the row: its send span is the transaction's child. */
export function withStoredContext<T>(headers: Readonly<Record<string, string>>, send: () => T): T {
  if (headers.traceparent === undefined) return send();
  const api = openTelemetryApi<Api>();
  if (api === undefined) return send();
  return api.context.with(api.propagation.extract(api.ROOT_CONTEXT, headers), send);
}
