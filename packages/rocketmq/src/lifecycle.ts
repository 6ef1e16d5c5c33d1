// Client startup and shutdown, made safe. `startup()` has no timeout of its own (it waits forever
// for the Settings reply on the Telemetry stream), and `shutdown()` rejects, skipping the rest of
// its teardown, when NotifyClientTermination fails, so both are wrapped here.

import { EventEmitter } from 'node:events';
import { TimeoutError } from '@switchyard/core/driver';
import { DRIVER, mapError } from './errors.js';

export interface Startable {
  startup(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The client's telemetry sessions reopen their stream 1 s after any error, forever, and its
 * shutdown removes every stream listener, so (a) a shutdown whose NotifyClientTermination failed
 * leaves a reconnect loop running and (b) a server that cancels a stream after shutdown raises an
 * unhandled 'error' that kills the process (sheet §0.9). The guard wraps the client's stream
 * factory (a runtime method of its base class) to track its streams and, once shut down, to hand
 * out inert streams instead of reconnecting.
 */
interface Guard {
  readonly streams: Set<EventEmitter>;
  closed: boolean;
}
const guards = new WeakMap<object, Guard>();

interface StreamFactory {
  createTelemetryStream?: (endpoints: unknown) => EventEmitter;
  topicRouteCache?: Map<string, unknown>;
}

class InertStream extends EventEmitter {
  write(): boolean {
    return true;
  }
  end(): void {}
}

function guard(client: Startable): void {
  const internals = client as unknown as StreamFactory;
  const create = internals.createTelemetryStream;
  if (typeof create !== 'function' || guards.has(client)) return;
  const state: Guard = { streams: new Set(), closed: false };
  guards.set(client, state);
  internals.createTelemetryStream = (endpoints: unknown) => {
    if (state.closed) return new InertStream();
    const stream = create.call(client, endpoints);
    state.streams.add(stream);
    return stream;
  };
}

/** Starts a client within `timeoutMs`; on failure or timeout shuts it down and throws mapped. */
export async function startWithin(client: Startable, timeoutMs: number, what: string): Promise<void> {
  guard(client);
  let timer: NodeJS.Timeout | undefined;
  const startup = client.startup();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TimeoutError(
            `rocketmq ${what} did not start within ${timeoutMs} ms (no route or settings reply from the server)`,
            { driver: DRIVER, details: { timeoutMs } },
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([startup, timeout]);
  } catch (error) {
    // A late startup result must not surface as an unhandled rejection.
    startup.catch(() => {});
    await shutdownQuietly(client);
    throw mapError(error, what);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Shuts a client down, bounded, and never rejects. When NotifyClientTermination fails (server
 * gone) the client's teardown stops there: it is finished by a second shutdown with the route
 * cache emptied (so nothing is left to notify), which releases the streams and closes channels.
 */
export async function shutdownQuietly(client: Startable, timeoutMs = 5_000): Promise<void> {
  const state = guards.get(client);
  if (state !== undefined) state.closed = true;
  let timer: NodeJS.Timeout | undefined;
  const bounded = (work: Promise<unknown>) =>
    Promise.race([
      work,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, 'timeout');
      }),
    ]).finally(() => clearTimeout(timer));
  const failed = await bounded(
    client.shutdown().then(
      () => false,
      () => true,
    ),
  );
  if (failed !== false) {
    (client as unknown as StreamFactory).topicRouteCache?.clear();
    await bounded(client.shutdown().catch(() => undefined));
  }
  // Streams lost their listeners in shutdown: a late server-side cancel must not crash us.
  for (const stream of state?.streams ?? [])
    if (stream.listenerCount('error') === 0) stream.on('error', () => {});
}
