// The conformance suite through the RocketMQ driver against the emulator's gRPC proxy, with the
// real service's topology rule: topics and groups exist only when created through the admin API
// (the harness creates topics; the driver's ensureGroup hook creates each group before its
// consumer subscribes, so a consumer opened before a send sees the message). Topics are MIXED,
// the capabilities of `topicType: 'MIXED'` (delay on send; no ordering keys — those need a FIFO
// topic and FIFO groups, covered by test/rocketmq-driver.test.ts).

import { runConformance } from '@switchyard/conformance';
import type { RunningEmulator } from '@switchyard/emulator';
import { type RocketMqNative, rocketmqCapabilities } from '@switchyard/rocketmq';
import {
  connectTo,
  fullName,
  startTestEmulator,
  TEST_ROLE,
  TEST_TOKEN,
} from '../packages/rocketmq/src/test-support.js';

runConformance({
  name: 'rocketmq (emulator, MIXED topics, TDMQ full names)',
  capabilities: rocketmqCapabilities({ topicType: 'MIXED' }),
  minVisibilityMs: 1_000,
  harness: async () => {
    const emulator: RunningEmulator = await startTestEmulator();
    const engine = emulator.engines.rocketmq;
    const brokers: Array<{ close(o?: { timeoutMs?: number }): Promise<void> }> = [];
    return {
      connect: async () => {
        const broker = await connectTo(emulator);
        brokers.push(broker);
        return broker;
      },
      createDestination: async (name) => {
        engine.createTopic(fullName(name), { type: 'MIXED' });
      },
      deleteDestination: async (name) => {
        engine.deleteTopic(fullName(name));
      },
      nonexistentDestination: () => 'does-not-exist',
      secrets: [TEST_TOKEN, TEST_ROLE],
      close: async () => {
        await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
        await new Promise((r) => setTimeout(r, 200));
        await emulator.stop();
      },
    };
  },
  native: {
    broker: (native) => typeof (native as RocketMqNative).qualify === 'function',
    message: (native) => typeof (native as { receiptHandle?: unknown }).receiptHandle === 'string',
  },
});
