import { loadOpenTelemetry } from './otel.js';

/**
 * The `@opentelemetry/api` instance Switchyard uses (shared with an SDK loaded after it), or
 * undefined when it is not installed. Typed loosely so that core's public types never require the
 * optional peer: `openTelemetryApi<typeof import('@opentelemetry/api')>()`.
 */
export function openTelemetryApi<T = unknown>(): T | undefined {
  return loadOpenTelemetry() as T | undefined;
}
