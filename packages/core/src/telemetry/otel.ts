// The OpenTelemetry API is an optional peer dependency: loaded once, lazily, the first time a
// broker with telemetry not switched off connects. When it is not installed, telemetry is off and
// costs nothing (producers and consumers then hold no telemetry object at all).

import { createRequire } from 'node:module';

export type OtelApi = typeof import('@opentelemetry/api');

const require = createRequire(import.meta.url);
let loaded: { api: OtelApi | undefined } | undefined;

/**
 * The `@opentelemetry/api` module Switchyard uses, or undefined when it is not installed. Loaded
 * lazily through require(): the API keeps its registered providers and context manager on
 * globalThis, so they are shared with an application that imports it as ESM.
 */
export function loadOpenTelemetry(): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = { api: requireApi() };
    } catch {
      loaded = { api: undefined };
    }
  }
  return loaded.api;
}

function requireApi(): OtelApi {
  return require('@opentelemetry/api') as OtelApi;
}

/** True when an SDK (or any real provider) is registered as the global tracer provider. */
export function hasGlobalTracerProvider(api: OtelApi): boolean {
  const provider = api.trace.getTracerProvider() as { getDelegate?: () => unknown };
  if (typeof provider.getDelegate !== 'function') return true;
  // A fresh proxy's delegate is the API's no-op provider singleton.
  return provider.getDelegate() !== new api.ProxyTracerProvider().getDelegate();
}

/** True when a real meter provider is registered globally. */
export function hasGlobalMeterProvider(api: OtelApi): boolean {
  const meter = api.metrics.getMeterProvider().getMeter('@switchyard/core');
  return !(meter instanceof (api.createNoopMeter().constructor as new () => unknown));
}
