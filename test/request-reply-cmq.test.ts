// Request-reply on CMQ (through the emulator): CMQ has no reply addresses, so each requesting
// process gets a private reply queue, created on its first request and deleted on close; the reply
// address and correlation id travel as envelope headers. The topic model too: requests go to a
// topic, replies to the requester's queue.

import { connect, type Message } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorConfig, startTestEmulator } from '../packages/cmq/test-kit/emulator.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await emulator?.stop();
});

const models = [
  { model: 'queue' as const, create: (name: string) => emulator.engines.cmq.createQueue(name, {}) },
  { model: 'topic' as const, create: (name: string) => emulator.engines.cmq.createTopic(name, {}) },
];

describe.each(models)('request-reply on CMQ ($model model)', ({ model, create }) => {
  it('answers requests through a private reply queue that is deleted on close', async () => {
    const config = emulatorConfig(emulator, { model, bodyMode: 'envelope', manageTopology: true });
    const requester = await connect(config);
    const responder = await connect(config);
    const destination = `rr-${model}-svc`;
    create(destination);
    const consumer = await responder.consumer(destination);
    const running = consumer.run(async (m: Message) => {
      await responder.reply(m, { body: { sum: m.json<number[]>().reduce((a, b) => a + b, 0) } });
    });
    const producer = await requester.producer(destination);
    const replies = await Promise.all(
      [
        [1, 2],
        [3, 4],
      ].map((body) => producer.request({ body }, { timeoutMs: 30_000 })),
    );
    expect(replies.map((r) => r.json())).toEqual([{ sum: 3 }, { sum: 7 }]);
    const replyQueues = () =>
      emulator.engines.cmq.listQueues({ searchWord: 'sy-reply-' }).queueList.map((q) => q.queueName);
    expect(replyQueues()).toHaveLength(1);
    await requester.close();
    expect(replyQueues()).toHaveLength(0);
    await consumer.close();
    await running;
    await responder.close();
  });

  it('is unsupported with raw bodies, which have nowhere to carry the reply address', async () => {
    const requester = await connect(
      emulatorConfig(emulator, { model, bodyMode: 'raw', manageTopology: true }),
    );
    const destination = `rr-${model}-raw`;
    create(destination);
    const producer = await requester.producer(destination);
    await expect(producer.request('x')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await requester.close();
  });
});
