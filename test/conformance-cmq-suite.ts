// The conformance suite against the CMQ emulator: the queue model, and the topic model with tag
// filters and with routing-key filters, with both nack modes, in envelope body mode; and the queue
// model in raw mode, CMQ's own text bodies (the suite skips what raw mode cannot carry: headers,
// keys, binary bodies; packages/cmq/src/raw-mode.test.ts covers its interop details). Two test
// files run it, the queue-model variants and the topic-model ones, so CI can run them side by side.

//
// Every credential is the file's sentinel secret (sentinelLeakCheck): the emulator's SecretKey, and
// a second sentinel as the wrong one; every output line, log call, status event and caught error of
// the file is searched for it.

import { type CmqConfigInput, type CmqNative, cmqCapabilities, groupQueueName } from '@switchyard/cmq';
import { runConformance, sentinelLeakCheck } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { emulatorConfig, startTestEmulator, TEST_SECRET_ID } from '../packages/cmq/test-kit/emulator.js';
import { emulatorDown, emulatorOutage } from './emulator-outage.js';
import { recordConformancePoison } from './reliability-report.js';

const leaks = sentinelLeakCheck('cmq conformance');
const SECRET_KEY = leaks.sentinel.value;
const WRONG_KEY = leaks.sentinel.another('wrong');

// The service patterns (request-reply, batches, flow, CloudEvents, health) run in the first variant
// and in raw mode, where bodies differ; the other variants differ only in what the rest covers.
const variants: Array<{ name: string; config: Partial<CmqConfigInput>; patterns?: boolean }> = [
  { name: 'queue model, nack by visibility timeout', config: { model: 'queue' }, patterns: true },
  // Requeue nacks go through the same queue consumer in both models; one variant covers them.
  // CMQ cannot extend a lease, so every two-step move (a requeue copy, a dead-letter copy, each
  // followed by a delete) must finish within the queue's visibility timeout; the poison scenario
  // leases long where the harness reports what the queue still holds (`held`).
  {
    name: 'topic model, tag filters, nack by requeue',
    config: { model: 'topic', topicFilter: 'tag', nackMode: 'requeue' },
  },
  {
    name: 'topic model, routing keys, nack by visibility timeout',
    config: { model: 'topic', topicFilter: 'routing' },
  },
  {
    name: 'queue model, nack by visibility timeout',
    config: { model: 'queue', bodyMode: 'raw' },
    patterns: true,
  },
  // CMQ's own dead-letter policy on the queue (the driver sets it), the portable copy its fallback.
  {
    name: 'queue model, CMQ dead-letter policy',
    config: { model: 'queue', deadLetter: 'native' },
  },
];

/** Runs the variants of one CMQ model. */
export function cmqConformance(model: 'queue' | 'topic'): void {
  for (const variant of variants.filter((v) => (v.config.model ?? 'queue') === model)) {
    const config: Partial<CmqConfigInput> = {
      bodyMode: 'envelope',
      manageTopology: true,
      // Buffered messages of a closed consumer come back after this; short keeps the suite quick.
      visibilityTimeoutMs: 2_000,
      ...variant.config,
    };
    runConformance({
      onPoison: recordConformancePoison,
      leakCheck: leaks,
      patterns: variant.patterns === true,
      name: `cmq (${variant.name}, ${config.bodyMode} bodies)`,
      capabilities: cmqCapabilities({
        model: config.model ?? 'queue',
        topicFilter: config.topicFilter ?? 'tag',
        bodyMode: config.bodyMode ?? 'envelope',
        manageTopology: true,
        deadLetter: config.deadLetter ?? 'emulated',
        nackMode: config.nackMode ?? 'visibility',
        maxMessageBytes: 65_536,
      }),
      minVisibilityMs: 1_000,
      harness: async () => {
        const emulator: RunningEmulator = await startTestEmulator({
          credentials: [{ secretId: TEST_SECRET_ID, secretKey: SECRET_KEY }],
        });
        const engine = emulator.engines.cmq;
        const configFor = (secretKey: string) => ({
          ...emulatorConfig(emulator, { ...config, secretKey }),
          logger: leaks.logger,
        });
        return {
          connect: () => connect(configFor(SECRET_KEY)),
          connectWithWrongCredentials: () => connect(configFor(WRONG_KEY)),
          createDestination: async (name) => {
            if (config.model === 'topic')
              engine.createTopic(name, { filterType: config.topicFilter === 'routing' ? 2 : 1 });
            else engine.createQueue(name, { visibilityTimeout: 2 });
          },
          deleteDestination: async (name) => {
            if (config.model === 'topic') engine.deleteTopic(name);
            else engine.deleteQueue(name);
          },
          nonexistentDestination: () => 'does-not-exist',
          secrets: [SECRET_KEY, WRONG_KEY],
          restart: () => emulatorOutage(emulator, 'cmq'),
          outage: () => emulatorDown(emulator, 'cmq'),
          held: async (name, group) => {
            const queue = config.model === 'topic' ? groupQueueName(name, group) : name;
            const a = engine.getQueueAttributes(queue);
            return a.activeMsgNum + a.inactiveMsgNum + a.delayMsgNum;
          },
          close: () => emulator.stop(),
        };
      },
      native: {
        broker: (native) => typeof (native as CmqNative).http?.call === 'function',
        message: (native) => typeof (native as { receiptHandle?: unknown }).receiptHandle === 'string',
      },
    });
  }
}
