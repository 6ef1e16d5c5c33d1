// The conformance suite through the RocketMQ driver against the emulator's gRPC proxy, with the
// real service's topology rule: topics and groups exist only when created through the admin API
// (the harness creates topics; the driver's ensureGroup hook creates each group before its
// consumer subscribes, so a consumer opened before a send sees the message). Two profiles, since
// a RocketMQ 5 topic accepts one message type:
// - MIXED topics (TDMQ full names): delay on send; no ordering keys.
// - FIFO topics with FIFO groups (`fifoGroups: true`): ordering keys become message groups and a
//   message without one is its own group; no delay on send (a FIFO topic refuses delivery
//   timestamps), which the suite's UNSUPPORTED scenario checks.

//
// Every credential is the file's sentinel secret (sentinelLeakCheck): the role name (secretKey, the
// HMAC key) is the sentinel and the role token (accessKey, sent in every request's Credential=) a
// second one; a third is a wrong role token, which the emulator echoes in its refusal ("access key
// ... does not exist"). Every output line, log call (the rocketmq client's own log lines come
// through the driver's logger), status event and caught error is searched for them.

import { runConformance, sentinelLeakCheck } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { type RocketMqNative, rocketmqCapabilities } from '@switchyard/rocketmq';
import { within } from '../packages/emulator/test-kit/within.js';
import { emulatorReplyTopics, fullName, testConfig } from '../packages/rocketmq/test-kit/emulator.js';
import { emulatorOutage } from './emulator-outage.js';
import { recordConformancePoison } from './reliability-report.js';

const leaks = sentinelLeakCheck('rocketmq conformance');
const ROLE = leaks.sentinel.value;
const TOKEN = leaks.sentinel.another('role-token');
const WRONG_TOKEN = leaks.sentinel.another('wrong-token');

/** The test-kit emulator (fast timings, nothing auto-created) with the sentinel credentials. */
function startSentinelEmulator(seed: number): Promise<RunningEmulator> {
  return startEmulator({
    rocketmqPort: 0,
    seed,
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
    onPoison: recordConformancePoison,
    name: `rocketmq (emulator, ${profile.name})`,
    leakCheck: leaks,
    capabilities: rocketmqCapabilities({ topicType: profile.topicType, replyTopics: true }),
    minVisibilityMs: 1_000,
    harness: async () => {
      const emulator = await startSentinelEmulator(profile.seed ?? 7);
      const engine = emulator.engines.rocketmq;
      const brokers: Array<{ close(o?: { timeoutMs?: number }): Promise<void> }> = [];
      const open = async (token: string) => {
        const broker = await connect(
          testConfig(emulator, {
            ...profile.extra,
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
          engine.createTopic(fullName(name), { type: profile.topicType });
        },
        deleteDestination: async (name) => {
          engine.deleteTopic(fullName(name));
        },
        nonexistentDestination: () => 'does-not-exist',
        secrets: [ROLE, TOKEN, WRONG_TOKEN],
        restart: () => emulatorOutage(emulator, 'rocketmq'),
        held: async (name, group) => {
          const view = engine.inspect() as {
            groups: Array<{ name: string; progress: Record<string, { inflight: number; pending: number }> }>;
          };
          const progress = view.groups.find((g) => g.name === fullName(group))?.progress[fullName(name)];
          // No cursor yet: the group has read nothing, so everything may still come.
          return progress === undefined ? Number.POSITIVE_INFINITY : progress.inflight + progress.pending;
        },
        close: async () => {
          await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
          // Clients first, then the server (the client's shutdown talks to it).
          await within(emulator.telemetryClosed(), 10_000, 'RocketMQ clients to shut down');
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
