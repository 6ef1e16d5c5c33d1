// Request-reply on RocketMQ 5 over gRPC (through the emulator): the data plane cannot create
// topics or groups, so a private reply topic and group per requesting process come from the
// configured replyTopics hooks (here the emulator's admin API, on TDMQ a management call), made on
// the first request and deleted on close; reply-to and correlation-id travel as user properties.

import { type Broker, connect, type Message } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  emulatorReplyTopics,
  fullName,
  startTestEmulator,
  teardown,
  testConfig,
} from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';

const transports = [
  { transport: 'gRPC', config: testConfig },
  { transport: 'Remoting (4.x)', config: remotingConfig },
];

let emulator: RunningEmulator;
const brokers: Broker[] = [];
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await teardown(emulator, brokers);
});

// The inbox's own topics: not the %RETRY% topic a 4.x broker keeps per group it has seen.
const replyTopics = () =>
  emulator.engines.rocketmq
    .listTopics()
    .map((t) => t.name)
    .filter((name) => name.includes('sy-reply-') && !name.startsWith('%'));

describe.each(transports)('request-reply on RocketMQ over $transport', ({ transport, config }) => {
  const tag = transport === 'gRPC' ? 'grpc' : 'remoting';
  it('answers requests through a private reply topic that is deleted on close', {
    timeout: 60_000,
  }, async () => {
    emulator.engines.rocketmq.createTopic(fullName(`rr-${tag}-svc`), { type: 'MIXED' });
    const requester = await connect(config(emulator, { replyTopics: emulatorReplyTopics(emulator) }));
    // The responder needs no reply topic of its own: answering only sends to the request's address.
    const responder = await connect(config(emulator));
    brokers.push(responder);
    expect(requester.capabilities.requestReply).toBe('emulated');
    const consumer = await responder.consumer(`rr-${tag}-svc`, { group: `rr-${tag}-service` });
    const running = consumer.run(async (m: Message) => {
      await responder.reply(m, { body: `ok:${m.text()}` });
    });
    const producer = await requester.producer(`rr-${tag}-svc`);
    const replies = await Promise.all(
      ['x', 'y'].map((body) => producer.request(body, { timeoutMs: 30_000 })),
    );
    expect(replies.map((r) => r.text())).toEqual(['ok:x', 'ok:y']);
    expect(replyTopics()).toHaveLength(1);
    await requester.close();
    expect(replyTopics()).toHaveLength(0);
    await consumer.close();
    await running;
  });

  it('is unsupported without the replyTopics hooks', async () => {
    const broker = await connect(config(emulator));
    brokers.push(broker);
    emulator.engines.rocketmq.createTopic(fullName(`rr-${tag}-none`), { type: 'MIXED' });
    const producer = await broker.producer(`rr-${tag}-none`);
    await expect(producer.request('x')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});
