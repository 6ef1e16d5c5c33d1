// The signed HTTP client against the emulator: signatures verify, the pool bounds connections,
// long polls outlive the request timeout, only idempotent requests are re-sent after a reset.

import { CredentialProvider } from '@switchyard/core/driver';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emulatorConfig, startTestEmulator } from '../test-kit/emulator.js';
import { parseConfig } from './config.js';
import { CmqHttpClient, flatten } from './http-client.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
  emulator.engines.cmq.createQueue('http-q');
});
afterAll(() => emulator.stop());
afterEach(() => emulator.faults.clear());

function client(extra: Record<string, unknown> = {}): CmqHttpClient {
  const { driver: _driver, ...input } = emulatorConfig(emulator, extra);
  const c = parseConfig(input, {});
  return new CmqHttpClient({
    ...c,
    endpoint: c.endpoint,
    credentials: new CredentialProvider(c.credentials, { driver: 'cmq' }),
  });
}

describe('CmqHttpClient', () => {
  it('flattens arrays 1-based', () => {
    expect(flatten({ a: 1, b: ['x', 'y'], c: undefined })).toEqual([
      ['a', '1'],
      ['b.1', 'x'],
      ['b.2', 'y'],
    ]);
  });

  it.each(['HmacSHA256', 'HmacSHA1'] as const)(
    '%s requests verify on both paths',
    async (signatureMethod) => {
      for (const path of ['/', '/v2/index.php'] as const) {
        const http = client({ signatureMethod, path });
        const reply = await http.call('SendMessage', {
          queueName: 'http-q',
          msgBody: `${signatureMethod} ${path} &=+ ü`,
        });
        expect(reply.code).toBe(0);
        await http.close();
      }
    },
  );

  it('keeps at most maxConnections keep-alive connections for many concurrent requests', async () => {
    const http = client({ maxConnections: 4 });
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, http.pool.stats.connected)), 1);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        http.call('SendMessage', { queueName: 'http-q', msgBody: `c${i}` }),
      ),
    );
    clearInterval(watch);
    peak = Math.max(peak, http.pool.stats.connected);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
    await http.close();
  });

  it('sends never queue behind long polls, even with every connection holding one', async () => {
    const http = client({ maxConnections: 1 });
    emulator.engines.cmq.createQueue('http-idle');
    let pollDone = false;
    const poll = http
      .call(
        'BatchReceiveMessage',
        { queueName: 'http-idle', numOfMsg: 1, pollingWaitSeconds: 5 },
        { holdMs: 5_000, accept: [7000] },
      )
      .finally(() => (pollDone = true));
    // With one pool for both, this send waited on the single connection until the poll returned.
    await http.call('SendMessage', { queueName: 'http-q', msgBody: 'beside a long poll' });
    expect(pollDone).toBe(false);
    await poll;
    await http.close();
  });

  it('a long poll may outlast requestTimeoutMs; a hung request times out as retryable TIMEOUT', async () => {
    const http = client({ requestTimeoutMs: 300 });
    emulator.engines.cmq.createQueue('http-empty');
    const started = Date.now();
    const reply = await http.call(
      'BatchReceiveMessage',
      { queueName: 'http-empty', numOfMsg: 1, pollingWaitSeconds: 1 },
      { holdMs: 1_000, accept: [7000] },
    );
    expect(reply.code).toBe(7000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    emulator.faults.setRule({ protocol: 'cmq', action: 'SendMessage', hangRate: 1 });
    await expect(http.call('SendMessage', { queueName: 'http-q', msgBody: 'x' })).rejects.toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
    });
    await http.destroy();
  });

  it('re-sends an idempotent request once after a reset, never a send', async () => {
    const http = client();
    emulator.faults.setRule({ protocol: 'cmq', action: '*', resetRate: 1 });
    let before = http.requests;
    await expect(
      http.call('DeleteMessage', { queueName: 'http-q', receiptHandle: '1' }, { idempotent: true }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(http.requests - before).toBe(2);
    before = http.requests;
    await expect(http.call('SendMessage', { queueName: 'http-q', msgBody: 'x' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    expect(http.requests - before).toBe(1);
    await http.close();
  });

  it('server faults are retryable UNAVAILABLE', async () => {
    const http = client();
    emulator.faults.setRule({ protocol: 'cmq', action: 'SendMessage', errorRate: 1 });
    await expect(http.call('SendMessage', { queueName: 'http-q', msgBody: 'x' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      details: { cmqCode: 6000 },
    });
    await http.close();
  });
});

describe('QueueConsumer.backlog', () => {
  it('reports the messages waiting in the queue (activeMsgNum), for the consumer-lag gauge', async () => {
    const { QueueConsumer } = await import('./queue-model.js');
    emulator.engines.cmq.createQueue('lag-q');
    const http = client();
    const consumer = new QueueConsumer(http, 'lag-q', {
      bodyMode: 'raw',
      nackMode: 'visibility',
      maxMessageBytes: 65_536,
    });
    expect(await consumer.backlog()).toBe(0);
    for (const body of ['a', 'b', 'c']) await http.call('SendMessage', { queueName: 'lag-q', msgBody: body });
    expect(await consumer.backlog()).toBe(3);
    const [taken] = await consumer.receiveBatch(1, 0);
    expect(taken).toBeDefined();
    expect(await consumer.backlog()).toBe(2);
    await consumer.close();
    expect(await consumer.backlog()).toBeUndefined();
    await http.close();
  });
});
