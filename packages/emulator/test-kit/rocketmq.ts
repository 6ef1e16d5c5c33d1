// Shared by the RocketMQ tests: an emulator server with fast test timings, client options for
// the real `rocketmq-client-nodejs`, a silent logger, and teardown in the order the client needs
// (clients first, then the server once their shutdowns reached it; sheet §0.9).

import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { RocketMqEngine, type RocketMqEngineOptions } from '../src/rocketmq/engine.js';
import { messagingServiceDefinition } from '../src/rocketmq/proto.js';
import {
  type RocketMqServer,
  type RocketMqServerOptions,
  startRocketMqServer,
} from '../src/rocketmq/server.js';
import { within } from './within.js';

export const AK = 'AK1';
export const SK = 'SK1secret';

export const quietLogger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
};

export type TestServerOptions = Partial<RocketMqServerOptions> & {
  readonly engineOptions?: RocketMqEngineOptions;
};

export async function startTestServer(options: TestServerOptions = {}): Promise<RocketMqServer> {
  const { engineOptions, ...rest } = options;
  return startRocketMqServer({
    engine: new RocketMqEngine(engineOptions),
    credentials: [{ secretId: AK, secretKey: SK }],
    // Short polls and invisibility keep the suites fast; defaults are the proxy's.
    longPolling: { minMs: 200, maxMs: 2000 },
    minInvisibleMs: 1000,
    pushLongPollingMs: 1000,
    transactionCheckMs: 0,
    ...rest,
  });
}

export function clientOptions(server: RocketMqServer, extra: Record<string, unknown> = {}) {
  return {
    endpoints: server.endpoint,
    namespace: '',
    sessionCredentials: { accessKey: AK, accessSecret: SK },
    logger: quietLogger,
    requestTimeout: 3000,
    ...extra,
  };
}

/**
 * Waits until every client's shutdown has reached `server` (no Telemetry stream open), or `ms`
 * passed: a client whose startup never completed (a hung Telemetry fault) may leave its stream
 * open, and stopping the server then ends it gracefully.
 */
export async function shutdownsArrived(
  server: { telemetryClosed(): Promise<void> },
  ms = 10_000,
): Promise<void> {
  await within(server.telemetryClosed(), ms, 'client shutdowns').catch(() => undefined);
}

/** Shut clients down (errors ignored), wait for their shutdowns to reach the server, close it. */
export async function teardown(
  server: RocketMqServer | undefined,
  clients: { shutdown(): Promise<unknown> }[],
): Promise<void> {
  await Promise.all(clients.map((c) => c.shutdown().catch(() => undefined)));
  clients.length = 0;
  if (server) await shutdownsArrived(server);
  await server?.close();
}

/** Poll `fn` until it returns a truthy value or `ms` passes. */
export async function eventually<T>(fn: () => T | Promise<T>, ms = 10_000, step = 25): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(step);
  }
}

/** A bare gRPC client over the same schema, for calls the real client cannot make on demand. */
export function rawClient(endpoint: string, extraMetadata: Record<string, string> = {}) {
  const Client = grpc.makeGenericClientConstructor(messagingServiceDefinition(), 'MessagingService');
  const client = new Client(endpoint, grpc.credentials.createInsecure()) as unknown as Record<
    string,
    (...args: unknown[]) => unknown
  > & { close(): void };
  const metadata = () => {
    const md = new grpc.Metadata();
    md.set('x-mq-client-id', 'raw-client');
    for (const [k, v] of Object.entries(extraMetadata)) md.set(k, v);
    return md;
  };
  return {
    unary(method: string, request: unknown, timeoutMs = 3000): Promise<Record<string, unknown>> {
      return new Promise((resolve, reject) => {
        client[method]!(
          request,
          metadata(),
          { deadline: Date.now() + timeoutMs },
          (error: Error | null, reply: unknown) =>
            error ? reject(error) : resolve(reply as Record<string, unknown>),
        );
      });
    },
    stream(method: string, request: unknown, timeoutMs = 30_000): Promise<Record<string, unknown>[]> {
      return new Promise((resolve, reject) => {
        const call = client[method]!(request, metadata(), {
          deadline: Date.now() + timeoutMs,
        }) as NodeJS.EventEmitter;
        const items: Record<string, unknown>[] = [];
        call.on('data', (item: Record<string, unknown>) => items.push(item));
        call.on('error', reject);
        call.on('end', () => resolve(items));
      });
    },
    /** Open Telemetry, write `commands`, collect what the server writes until it ends the stream. */
    telemetry(
      commands: unknown[],
      timeoutMs = 3000,
      onItem?: (item: Record<string, unknown>) => void,
    ): Promise<{ items: Record<string, unknown>[]; ended: boolean }> {
      return new Promise((resolve) => {
        const call = client.Telemetry!(metadata(), {
          deadline: Date.now() + timeoutMs,
        }) as NodeJS.EventEmitter & {
          write(c: unknown): void;
          end(): void;
        };
        const items: Record<string, unknown>[] = [];
        call.on('data', (item: Record<string, unknown>) => {
          items.push(item);
          onItem?.(item);
        });
        call.on('error', () => resolve({ items, ended: false }));
        call.on('end', () => resolve({ items, ended: true }));
        for (const c of commands) call.write(c);
      });
    },
    close: () => client.close(),
  };
}
