// Topology through the real tencentcloud-sdk-nodejs against the emulator's Tencent Cloud API, checked
// on the emulator's shared CMQ state and by messages flowing over the CMQ HTTP data plane.

import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTo, startTestEmulator } from '../test-kit/emulator.js';
import type { CmqNative } from './driver.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.stop());

describe('topology management via tencentcloud-sdk-nodejs', () => {
  it('a tag-topic consumer creates the topic, its group queue and a filtered queue subscription', async () => {
    const broker = await connectTo(emulator, { model: 'topic', topicFilter: 'tag', manageTopology: true });
    try {
      const consumer = await broker.consumer('mgmt-orders', {
        group: 'billing',
        filter: { tags: ['TAG1', 'TAG2'] },
      });
      const engine = emulator.engines.cmq;
      expect(engine.getTopicAttributes('mgmt-orders').filterType).toBe(1);
      expect(engine.getQueueAttributes('mgmt-orders-billing').queueName).toBe('mgmt-orders-billing');
      const sub = engine.getSubscriptionAttributes('mgmt-orders', 'mgmt-orders-billing');
      expect(sub).toMatchObject({
        protocol: 'queue',
        endpoint: 'mgmt-orders-billing',
        notifyContentFormat: 'SIMPLIFIED',
      });
      expect([...sub.filterTags].sort()).toEqual(['TAG1', 'TAG2']);
      // The same topology again (another consumer, another connection) is not an error.
      const again = await connectTo(emulator, { model: 'topic', manageTopology: true });
      await again.consumer('mgmt-orders', { group: 'billing', filter: { tags: ['TAG1', 'TAG2'] } });
      await again.close();
      const producer = await broker.producer('mgmt-orders');
      await producer.send([
        { body: 'one', tags: ['TAG1'] },
        { body: 'skip', tags: ['TAG9'] },
      ]);
      const [m] = await consumer.receive({ max: 5, waitMs: 3_000 });
      expect(m?.text()).toBe('one');
      await m?.ack();
      // The SDK client is reachable through the escape hatch.
      const native = broker.unwrap<CmqNative>();
      const detail = (await native.management.client.request('DescribeCmqTopicDetail', {
        TopicName: 'mgmt-orders',
      })) as { TopicDescribe?: { FilterType?: number } };
      expect(detail.TopicDescribe?.FilterType).toBe(1);
    } finally {
      await broker.close();
    }
  });

  it('a routing-topic consumer binds its keys; a changed filter updates the subscription', async () => {
    const broker = await connectTo(emulator, {
      model: 'topic',
      topicFilter: 'routing',
      manageTopology: true,
    });
    try {
      const c1 = await broker.consumer('mgmt-routes', { group: 'g1', filter: { routingKeys: ['a.*.c'] } });
      const engine = emulator.engines.cmq;
      expect(engine.getTopicAttributes('mgmt-routes').filterType).toBe(2);
      expect(engine.getSubscriptionAttributes('mgmt-routes', 'mgmt-routes-g1').bindingKeys).toEqual([
        'a.*.c',
      ]);
      await c1.close();
      await broker.consumer('mgmt-routes', { group: 'g1', filter: { routingKeys: ['x.#'] } });
      expect(engine.getSubscriptionAttributes('mgmt-routes', 'mgmt-routes-g1').bindingKeys).toEqual(['x.#']);
      // No filter on a routing topic means every key.
      await broker.consumer('mgmt-routes', { group: 'all' });
      expect(engine.getSubscriptionAttributes('mgmt-routes', 'mgmt-routes-all').bindingKeys).toEqual(['#']);
    } finally {
      await broker.close();
    }
  });

  it('native dead-lettering: the queue is created with a CMQ dead-letter policy that moves the message', async () => {
    const broker = await connectTo(emulator, {
      model: 'queue',
      manageTopology: true,
      deadLetter: 'native',
      bodyMode: 'envelope',
    });
    try {
      expect(broker.capabilities.deadLetter).toBe('native');
      const consumer = await broker.consumer('mgmt-work', {
        maxDeliveries: 2,
        deadLetter: 'mgmt-work-dlq',
        visibilityTimeoutMs: 1_000,
        retry: { initialDelayMs: 1, maxDelayMs: 1 },
      });
      const attrs = emulator.engines.cmq.getQueueAttributes('mgmt-work');
      expect(attrs.visibilityTimeout).toBe(1);
      expect(attrs.deadLetterPolicy).toMatchObject({
        deadLetterQueue: 'mgmt-work-dlq',
        policy: 0,
        maxReceiveCount: 2,
      });
      expect(emulator.engines.cmq.getQueueAttributes('mgmt-work-dlq').queueName).toBe('mgmt-work-dlq');
      const producer = await broker.producer('mgmt-work');
      await producer.send({ body: 'poison', headers: { 'x-case': 'native' } });
      const attempts: number[] = [];
      const stop = new AbortController();
      const run = consumer.run(
        (m) => {
          attempts.push(m.deliveryAttempt);
          throw new Error('fails every time');
        },
        { signal: stop.signal },
      );
      const dlq = await broker.consumer('mgmt-work-dlq');
      const [dead] = await dlq.receive({ waitMs: 8_000 });
      stop.abort();
      await run;
      expect(dead?.text()).toBe('poison');
      expect(dead?.headers['x-case']).toBe('native');
      expect(attempts).toEqual([1, 2]);
      await dead?.ack();
    } finally {
      await broker.close();
    }
  });

  it('consumer visibilityTimeoutMs sets the queue attribute, rounded up to whole seconds', async () => {
    emulator.engines.cmq.createQueue('mgmt-vis', { visibilityTimeout: 30 });
    const broker = await connectTo(emulator, { manageTopology: true });
    try {
      await broker.consumer('mgmt-vis', { visibilityTimeoutMs: 1_500 });
      expect(emulator.engines.cmq.getQueueAttributes('mgmt-vis').visibilityTimeout).toBe(2);
    } finally {
      await broker.close();
    }
  });

  it('without topology management nothing is created and visibilityTimeoutMs is UNSUPPORTED', async () => {
    const broker = await connectTo(emulator, { model: 'topic' });
    try {
      await expect(broker.consumer('mgmt-none', { visibilityTimeoutMs: 1_000 })).rejects.toMatchObject({
        code: 'UNSUPPORTED',
      });
      const consumer = await broker.consumer('mgmt-none', { group: 'g' });
      await expect(consumer.receive({ waitMs: 2_000 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(() => emulator.engines.cmq.getTopicAttributes('mgmt-none')).toThrow();
    } finally {
      await broker.close();
    }
  });
});
