import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { shutdownQuietly, startWithin } from './lifecycle.js';

class FakeClient {
  shutdowns = 0;
  topicRouteCache = new Map([['t', {}]]);
  readonly streams: EventEmitter[] = [];
  constructor(
    readonly startup: () => Promise<void>,
    readonly failFirstShutdown = false,
  ) {}
  createTelemetryStream(): EventEmitter {
    const stream = new EventEmitter();
    this.streams.push(stream);
    return stream;
  }
  async shutdown(): Promise<void> {
    this.shutdowns++;
    // Like the client: notify every route endpoint first, failing when the server is gone.
    if (this.failFirstShutdown && this.topicRouteCache.size > 0) throw new Error('14 UNAVAILABLE');
    for (const s of this.streams) s.removeAllListeners();
  }
}

describe('client lifecycle', () => {
  it('a startup that never finishes is a retryable TIMEOUT, and the client is shut down', async () => {
    const client = new FakeClient(() => new Promise(() => {}));
    const started = Date.now();
    await expect(startWithin(client, 150, 'producer for "t"')).rejects.toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
      message: expect.stringContaining('did not start within 150 ms'),
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(client.shutdowns).toBe(1);
  });

  it('a failed startup is mapped from its cause', async () => {
    const cause = Object.assign(new Error('No topic route info'), { code: 40402 });
    const client = new FakeClient(() =>
      Promise.reject(Object.assign(new Error('Startup failed'), { cause })),
    );
    await expect(startWithin(client, 1_000, 'consumer')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('finishes a teardown that stopped at NotifyClientTermination, and guards stream errors', async () => {
    const client = new FakeClient(async () => {}, true);
    await startWithin(client, 1_000, 'consumer');
    const stream = (client as unknown as { createTelemetryStream(): EventEmitter }).createTelemetryStream();
    await shutdownQuietly(client);
    expect(client.shutdowns).toBe(2);
    expect(client.topicRouteCache.size).toBe(0);
    // A late cancel from the server must not become an unhandled 'error'.
    expect(() => stream.emit('error', new Error('cancelled'))).not.toThrow();
    // After shutdown, renewals get inert streams that never error or end.
    const renewed = (client as unknown as { createTelemetryStream(): EventEmitter }).createTelemetryStream();
    expect(client.streams).toHaveLength(1);
    expect(typeof (renewed as unknown as { write(): boolean }).write).toBe('function');
  });
});
