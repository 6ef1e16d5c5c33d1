// Shared by the RocketMQ driver tests: an in-process emulator with fast timings and the real
// service's topology rule (nothing is auto-created), and driver configs pointing at it. Teardown
// order matters for the client (sheet §0.9): close brokers first, pause, then stop the emulator.

import { setTimeout as sleep } from 'node:timers/promises';
import { type Broker, connect, type Logger } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import type { ReplyTopics, RocketMqConfigInput } from '../src/config.js';
import { qualify } from '../src/naming.js';

export const TEST_TOKEN = 'AKIDROCKETTEST'; // the role token: accessKey
export const TEST_ROLE = 'rocket-role-secret-name'; // the role name: secretKey
export const TEST_CLUSTER = 'rocketmq-test01';
export const TEST_NAMESPACE = 'ns_conf';

export async function startTestEmulator(options: { seed?: number } = {}): Promise<RunningEmulator> {
  return startEmulator({
    rocketmqPort: 0,
    seed: options.seed ?? 7,
    credentials: [{ secretId: TEST_TOKEN, secretKey: TEST_ROLE }],
    rocketmq: {
      autoCreate: false,
      allowAnonymous: false,
      // Short polls and invisibility keep suites fast; the defaults are the proxy's.
      longPolling: { minMs: 200, maxMs: 1_000 },
      minInvisibleMs: 1_000,
      pushLongPollingMs: 1_000,
      transactionCheckMs: 0,
    },
  });
}

/** A driver config for the emulator: TDMQ full naming, groups created through the admin API. */
/** Driver fields plus the portable ones connect() takes (retry policy, logger). */
export type TestConfigExtra = Partial<RocketMqConfigInput> & {
  retry?: Record<string, number>;
  logger?: Logger;
};

export function testConfig(
  emulator: RunningEmulator,
  extra: TestConfigExtra = {},
): RocketMqConfigInput & { driver: 'rocketmq' } {
  const engine = emulator.engines.rocketmq;
  return {
    driver: 'rocketmq',
    endpoints: emulator.endpoints.rocketmq,
    cluster: TEST_CLUSTER,
    namespace: TEST_NAMESPACE,
    token: TEST_TOKEN,
    role: TEST_ROLE,
    longPollMs: 1_000,
    invisibleDurationMs: 3_000,
    startupTimeoutMs: 10_000,
    ensureGroup: (group, { fifo }) => {
      engine.createGroup(group, { fifo });
    },
    ...extra,
  };
}

export function fullName(name: string): string {
  return qualify(name, { naming: 'full', cluster: TEST_CLUSTER, namespace: TEST_NAMESPACE });
}

export function connectTo(emulator: RunningEmulator, extra: TestConfigExtra = {}): Promise<Broker> {
  return connect(testConfig(emulator, extra));
}

/** Close brokers (their clients notify the server), pause, then stop the emulator. */
export async function teardown(emulator: RunningEmulator | undefined, brokers: Broker[]): Promise<void> {
  await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
  brokers.length = 0;
  await sleep(200);
  await emulator?.stop();
}

/** Request-reply's replyTopics hooks over the emulator's admin API (on TDMQ: a management call). */
export function emulatorReplyTopics(emulator: RunningEmulator): ReplyTopics {
  const engine = emulator.engines.rocketmq;
  return {
    create: (topic, group) => {
      engine.createTopic(topic, { type: 'MIXED' });
      engine.createGroup(group);
    },
    delete: (topic, group) => {
      engine.deleteTopic(topic);
      engine.deleteGroup(group);
    },
  };
}
