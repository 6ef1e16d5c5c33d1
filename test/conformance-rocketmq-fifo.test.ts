// The conformance suite on FIFO topics with FIFO consumer groups (`topicType: 'FIFO'`,
// `fifoGroups: true`): ordering keys become message groups, and a message without one is its
// own group (a FIFO topic accepts FIFO messages only). No delay on send (a FIFO topic refuses
// delivery timestamps), declared in the capabilities and checked by the suite's UNSUPPORTED test.

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
  name: 'rocketmq (emulator, FIFO topics and groups)',
  capabilities: rocketmqCapabilities({ topicType: 'FIFO' }),
  minVisibilityMs: 1_000,
  harness: async () => {
    const emulator: RunningEmulator = await startTestEmulator({ seed: 11 });
    const engine = emulator.engines.rocketmq;
    const brokers: Array<{ close(o?: { timeoutMs?: number }): Promise<void> }> = [];
    return {
      connect: async () => {
        const broker = await connectTo(emulator, { topicType: 'FIFO', fifoGroups: true });
        brokers.push(broker);
        return broker;
      },
      createDestination: async (name) => {
        engine.createTopic(fullName(name), { type: 'FIFO' });
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
