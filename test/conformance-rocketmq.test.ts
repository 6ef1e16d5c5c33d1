// The conformance suite through the RocketMQ driver against the emulator's gRPC proxy, with the
// real service's topology rule: topics and groups exist only when created through the admin API
// (the harness creates topics; the driver's ensureGroup hook creates each group before its
// consumer subscribes, so a consumer opened before a send sees the message). Two profiles, since
// a RocketMQ 5 topic accepts one message type:
// - MIXED topics (TDMQ full names): delay on send; no ordering keys.
// - FIFO topics with FIFO groups (`fifoGroups: true`): ordering keys become message groups and a
//   message without one is its own group; no delay on send (a FIFO topic refuses delivery
//   timestamps), which the suite's UNSUPPORTED scenario checks.

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

const profiles = [
  { name: 'MIXED topics, TDMQ full names', topicType: 'MIXED', extra: {}, seed: undefined },
  {
    name: 'FIFO topics and groups',
    topicType: 'FIFO',
    extra: { topicType: 'FIFO', fifoGroups: true },
    seed: 11,
  },
] as const;

for (const profile of profiles) {
  runConformance({
    name: `rocketmq (emulator, ${profile.name})`,
    capabilities: rocketmqCapabilities({ topicType: profile.topicType }),
    minVisibilityMs: 1_000,
    harness: async () => {
      const emulator: RunningEmulator = await startTestEmulator(
        profile.seed === undefined ? {} : { seed: profile.seed },
      );
      const engine = emulator.engines.rocketmq;
      const brokers: Array<{ close(o?: { timeoutMs?: number }): Promise<void> }> = [];
      return {
        connect: async () => {
          const broker = await connectTo(emulator, profile.extra);
          brokers.push(broker);
          return broker;
        },
        createDestination: async (name) => {
          engine.createTopic(fullName(name), { type: profile.topicType });
        },
        deleteDestination: async (name) => {
          engine.deleteTopic(fullName(name));
        },
        nonexistentDestination: () => 'does-not-exist',
        secrets: [TEST_TOKEN, TEST_ROLE],
        close: async () => {
          await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
          // Clients first, then the server (the client's shutdown talks to it).
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
}
