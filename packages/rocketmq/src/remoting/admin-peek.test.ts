// The Remoting admin's peek against the emulator: what a consumer of the group would get next,
// with every portable field of the delivery (read through its getters, see delivery.ts) and
// neither its settle handle nor its attemptKey.
import { outgoing } from '@switchyard/conformance/outgoing';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullName, startTestEmulator } from '../../test-kit/emulator.js';
import { remotingConfig } from '../../test-kit/remoting.js';
import { driver } from '../index.js';

let emulator: RunningEmulator;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await close?.();
  await emulator?.stop();
});

describe('rocketmq remoting admin peek', () => {
  it("shows the next messages' fields, without a handle or attemptKey, and moves nothing", async () => {
    emulator.engines.rocketmq.createTopic(fullName('peeked'), { type: 'MIXED', queues: 1 });
    emulator.engines.rocketmq.createGroup(fullName('g-peeked'), { fifo: false });
    const { driver: _name, ...fields } = remotingConfig(emulator);
    const quiet = () => undefined;
    const instance = await driver.create(driver.parseConfig(fields), {
      logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
      status: quiet,
    });
    close = () => instance.close();
    const producer = await instance.openProducer('peeked', { driverOptions: {} });
    await producer.sendBatch([
      outgoing({
        id: 'peek-1',
        body: new TextEncoder().encode('first'),
        contentType: 'text/plain; charset=utf-8',
        headers: { region: 'eu' },
        keys: ['k1', 'k2'],
        key: 'k1',
        tags: ['TagA'],
      }),
    ]);
    const peek = instance.admin!.peek!;
    for (let i = 0; i < 2; i++) {
      const [m, ...rest] = await peek('peeked', 'g-peeked', { max: 5 });
      expect(rest).toEqual([]);
      expect(m).toMatchObject({
        id: 'peek-1',
        contentType: 'text/plain; charset=utf-8',
        headers: { region: 'eu' },
        key: 'k1',
        keys: ['k1', 'k2'],
        tags: ['TagA'],
        routingKey: undefined,
        orderingKey: undefined,
        deliveryAttempt: 1,
      });
      expect(new TextDecoder().decode(m!.body)).toBe('first');
      expect(typeof m!.publishedAt).toBe('number');
      expect(m!.native).toMatchObject({ queueOffset: 0 });
      expect(Object.keys(m!)).not.toContain('handle');
      expect(Object.keys(m!)).not.toContain('attemptKey');
    }
  });
});
