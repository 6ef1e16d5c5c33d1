// The conformance suite through the RocketMQ driver's Remoting (4.x) transport against the
// emulator's Remoting name server + broker, which shares its store with the gRPC side. Topology as
// the real service has it: topics exist only when created through the admin API (the harness
// creates them) and each consumer group is created by the driver's ensureGroup hook before its
// consumer subscribes.
//
// Every credential is the file's sentinel secret (sentinelLeakCheck): the role name (secretKey, the
// HMAC-SHA1 key of every request's Signature) is the sentinel, the role token (accessKey, sent in
// every request's AccessKey field) a second one, and a wrong role token a third, which the
// emulator's ACL refusal echoes ("Check signature failed for accessKey=…").

import { runConformance, sentinelLeakCheck } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { type RocketMqNative, remotingCapabilities } from '@switchyard/rocketmq';
import { within } from '../packages/emulator/test-kit/within.js';
import { emulatorReplyTopics, fullName } from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';
import { emulatorOutage } from './emulator-outage.js';
import { recordConformancePoison } from './reliability-report.js';

const leaks = sentinelLeakCheck('rocketmq remoting conformance');
const ROLE = leaks.sentinel.value;
const TOKEN = leaks.sentinel.another('role-token');
const WRONG_TOKEN = leaks.sentinel.another('wrong-token');

function startSentinelEmulator(): Promise<RunningEmulator> {
  return startEmulator({
    rocketmqPort: 0,
    remotingPort: 0,
    seed: 19,
    credentials: [{ secretId: TOKEN, secretKey: ROLE }],
    rocketmq: {
      autoCreate: false,
      allowAnonymous: false,
      longPolling: { minMs: 200, maxMs: 1_000 },
      minInvisibleMs: 1_000,
      pushLongPollingMs: 1_000,
      transactionCheckMs: 0,
    },
  });
}

runConformance({
  onPoison: recordConformancePoison,
  name: 'rocketmq remoting (emulator, TDMQ full names)',
  leakCheck: leaks,
  capabilities: remotingCapabilities({ replyTopics: true }),
  minVisibilityMs: 1_000,
  harness: async () => {
    const emulator = await startSentinelEmulator();
    const engine = emulator.engines.rocketmq;
    const brokers: Array<{ close(o?: { timeoutMs?: number }): Promise<void> }> = [];
    const open = async (token: string) => {
      const broker = await connect(
        remotingConfig(emulator, {
          token,
          role: ROLE,
          logger: leaks.logger,
          replyTopics: emulatorReplyTopics(emulator),
        }),
      );
      brokers.push(broker);
      return broker;
    };
    return {
      connect: () => open(TOKEN),
      connectWithWrongCredentials: () => open(WRONG_TOKEN),
      createDestination: async (name) => {
        // Several queues, as TDMQ and Apache topics have, so a group's members split them.
        engine.createTopic(fullName(name), { type: 'MIXED', queues: 4 });
      },
      deleteDestination: async (name) => {
        engine.deleteTopic(fullName(name));
      },
      nonexistentDestination: () => 'does-not-exist',
      secrets: [ROLE, TOKEN, WRONG_TOKEN],
      restart: () => emulatorOutage(emulator, 'rocketmq'),
      // The broker's word: unconsumed past the committed offsets, plus sent-back retries.
      held: async (name, group) => emulator.remoting.broker.held(fullName(group), fullName(name)),
      close: async () => {
        await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
        await within(emulator.stop(), 10_000, 'the emulator to stop');
      },
    };
  },
  native: {
    broker: (native) => typeof (native as RocketMqNative).qualify === 'function',
    message: (native) => typeof (native as { commitLogOffset?: unknown }).commitLogOffset === 'number',
  },
});
