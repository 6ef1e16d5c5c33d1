// Seed 002 (TDMQ for RocketMQ 4.x, the Python/C++ SDK getting-started guide) through Switchyard's
// Remoting transport against the emulator: a name server address, session credentials in TDMQ's
// order (accessKey = role TOKEN, secretKey = role NAME), a producer group and a consumer group and
// a topic all given as full `cluster|namespace%name` names, a message with tags and keys sent
// synchronously, and a push consumer (run) whose callback first asks to reconsume later and then
// succeeds — the retry coming back through the broker's %RETRY% topic with its count.

import { connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestEmulator, TEST_ROLE, TEST_TOKEN } from '../packages/rocketmq/test-kit/emulator.js';

// What the guide copies from the console.
const NAMESPACE = 'rocketmq-seed002|namespace_python';
const topicName = `${NAMESPACE}%topic1`;
const producerGroupName = `${NAMESPACE}%producer_group1`;
const consumerGroupName = `${NAMESPACE}%group11`;
const accessKey = TEST_TOKEN; // role token
const secretKey = TEST_ROLE; // role name

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
  // Created in the console beforehand, as the guide's prerequisites say.
  emulator.engines.rocketmq.createTopic(topicName, { type: 'MIXED', queues: 4 });
  emulator.engines.rocketmq.createGroup(consumerGroupName, { fifo: false });
});
afterAll(async () => {
  await emulator?.stop();
});

it("runs seed 002's producer and push consumer: name server, TDMQ credentials, full names, tags and keys", async () => {
  const nameserver = emulator.endpoints.remoting;
  // set_name_server_address + set_session_credentials(accessKey, secretKey, ''), in one URL.
  const broker = await connect(
    `rocketmq+remoting://${encodeURIComponent(accessKey)}:${encodeURIComponent(secretKey)}@${nameserver}` +
      `?producerGroup=${encodeURIComponent(producerGroupName)}&rebalanceIntervalMs=500`,
  );
  try {
    const producer = await broker.producer(topicName);
    const receipt = await producer.send({
      body: 'This is a new message.',
      tags: ['TagA'],
      keys: ['order-1'],
    });
    expect(receipt.messageId).toMatch(/\S/);

    const consumer = await broker.consumer(topicName, {
      group: consumerGroupName,
      filter: { tags: ['TagA'] },
    });
    const seen: Array<{ id: string; body: string; attempt: number; tags: readonly string[]; key?: string }> =
      [];
    const stop = new AbortController();
    await consumer.run(
      (msg) => {
        seen.push({
          id: msg.id,
          body: msg.text(),
          attempt: msg.deliveryAttempt,
          tags: msg.tags,
          ...(msg.key === undefined ? {} : { key: msg.key }),
        });
        // return ConsumeStatus.RECONSUME_LATER the first time, CONSUME_SUCCESS the second
        if (seen.length === 1) throw new Error('RECONSUME_LATER');
        stop.abort();
      },
      { signal: stop.signal },
    );
    expect(seen).toEqual([
      { id: receipt.messageId, body: 'This is a new message.', attempt: 1, tags: ['TagA'], key: 'order-1' },
      { id: receipt.messageId, body: 'This is a new message.', attempt: 2, tags: ['TagA'], key: 'order-1' },
    ]);
    // The producer group, topic and consumer group reached the broker under their full names.
    const topics = (emulator.engines.rocketmq.inspect() as { topics: Array<{ name: string }> }).topics.map(
      (t) => t.name,
    );
    expect(topics).toContain(topicName);
    expect(topics).toContain(`%RETRY%${consumerGroupName}`);
  } finally {
    await broker.close({ timeoutMs: 5_000 });
  }
});
