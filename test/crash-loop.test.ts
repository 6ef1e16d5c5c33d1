// Crash loops and shared ids on the emulator-backed flavours (RabbitMQ's are in
// test/rabbitmq-attempts.test.ts). The emulator runs in this process and outlives every crashing
// child, which connects to it by URL, so a count that survives is the broker's (CMQ dequeueCount,
// RocketMQ's delivery attempt), one the message carries, or one in the durable attemptStore the
// children share (Redis for both nack modes of pulsar-http, PostgreSQL for one); the rows go to
// docs/reliability.md.

import { randomUUID } from 'node:crypto';
import { type Broker, connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  startTestEmulator as startCmq,
  TEST_SECRET_ID,
  TEST_SECRET_KEY,
} from '../packages/cmq/test-kit/emulator.js';
import {
  fullName,
  startTestEmulator as startRocketMq,
  TEST_CLUSTER,
  TEST_NAMESPACE,
  TEST_ROLE,
  TEST_TOKEN,
  teardown,
} from '../packages/rocketmq/test-kit/emulator.js';
import {
  type CrashLoopRun,
  expectBounded,
  expectHealthy,
  expectUnbounded,
  MAX,
  runCrashLoop,
  runHealthySharedId,
  UNBOUNDED_RUNS,
} from './crash-loop-scenarios.js';
import type { AttemptStoreKind } from './fixtures/attempt-store-env.js';
import { type PulsarHttpEnv, startPulsarHttpEnv } from './pulsar-http-support.js';

// Up to maxDeliveries + 2 children of at most 60 s each (crashLoop's runMs), on a loaded machine.
const TIMEOUT = { timeout: 420_000 };

const suffix = () => randomUUID().slice(0, 6);

describe('cmq (emulator): dequeueCount survives the crashes', () => {
  let emulator: RunningEmulator;
  const brokers: Broker[] = [];
  beforeAll(async () => {
    emulator = await startCmq();
  });
  afterAll(async () => {
    await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
    await emulator?.stop();
  });

  /** The URL a child uses; the test process connects with the same one. */
  function cmqUrl(query: Record<string, string>): string {
    const host = new URL(emulator.endpoints.cmq).host;
    const q = new URLSearchParams({
      region: 'ap-guangzhou',
      managementEndpoint: emulator.endpoints.api,
      manageTopology: 'true',
      visibilityTimeoutMs: '1000',
      ...query,
    });
    return `cmq+http://${encodeURIComponent(TEST_SECRET_ID)}:${encodeURIComponent(TEST_SECRET_KEY)}@${host}?${q}`;
  }
  async function open(url: string): Promise<Broker> {
    const b = await connect(url);
    brokers.push(b);
    return b;
  }

  for (const deadLetter of ['emulated', 'native'] as const) {
    it(
      `deadLetter ${deadLetter}: a crashing poison message is dead-lettered after exactly maxDeliveries crashes`,
      TIMEOUT,
      async () => {
        const url = cmqUrl({ deadLetter, bodyMode: 'envelope' });
        const id = suffix();
        const run = await runCrashLoop({
          broker: await open(url),
          url,
          source: `crash-${id}`,
          group: 'svc',
          deadLetter: `crash-${id}-dlq`,
          runs: MAX + 2,
        });
        await expectBounded(
          `cmq (queue model, ${deadLetter === 'native' ? 'CMQ dead-letter policy' : 'emulated dead-letter'})`,
          run,
          deadLetter === 'native'
            ? "CMQ's policy (MaxReceiveCount) on the queue; visibility timeout 1 s"
            : 'the 4th delivery (dequeueCount 4) is dead-lettered before any handler; visibility timeout 1 s',
          deadLetter === 'native' ? 'the broker' : 'the portable layer',
        );
      },
    );
  }

  it('20 healthy messages sharing one id are never dead-lettered', TIMEOUT, async () => {
    const url = cmqUrl({ bodyMode: 'envelope' });
    const id = suffix();
    const run = await runHealthySharedId({
      broker: await open(url),
      source: `healthy-${id}`,
      group: 'svc',
      deadLetter: `healthy-${id}-dlq`,
    });
    await expectHealthy(
      'cmq (queue model, emulated dead-letter)',
      run,
      'envelope bodies carrying one id; counted by dequeueCount',
    );
  });
});

describe('rocketmq (emulator): the broker counts delivery attempts', () => {
  let emulator: RunningEmulator;
  const brokers: Broker[] = [];
  beforeAll(async () => {
    // Nothing is auto-created, as on TDMQ; short polls and invisibility keep the loop quick.
    emulator = await startRocketMq({ seed: 23 });
  });
  afterAll(() => teardown(emulator, brokers));

  function rocketUrl(): string {
    const q = new URLSearchParams({
      cluster: TEST_CLUSTER,
      namespace: TEST_NAMESPACE,
      invisibleDurationMs: '1000',
      longPollMs: '1000',
    });
    return `rocketmq://${encodeURIComponent(TEST_TOKEN)}:${encodeURIComponent(TEST_ROLE)}@${emulator.endpoints.rocketmq}?${q}`;
  }
  /** Topics and groups exist only when made through the admin API, as on TDMQ. */
  function topology(source: string, group: string, dlq: string): void {
    const engine = emulator.engines.rocketmq;
    engine.createTopic(fullName(source), { type: 'MIXED' });
    engine.createTopic(fullName(dlq), { type: 'MIXED' });
    engine.createGroup(fullName(group), { fifo: false });
    engine.createGroup(fullName('reader'), { fifo: false });
  }
  async function open(): Promise<Broker> {
    const b = await connect(rocketUrl());
    brokers.push(b);
    return b;
  }

  it('a crashing poison message is dead-lettered after exactly maxDeliveries crashes', TIMEOUT, async () => {
    const id = suffix();
    const [source, group, dlq] = [`crash-${id}`, `svc-${id}`, `crash-${id}-dlq`];
    topology(source, group, dlq);
    const run = await runCrashLoop({
      broker: await open(),
      url: rocketUrl(),
      source,
      group,
      deadLetter: dlq,
      runs: MAX + 2,
    });
    await expectBounded(
      'rocketmq (emulator, MIXED topic)',
      run,
      'the 4th delivery (deliveryAttempt 4) is dead-lettered before any handler; invisible duration 1 s',
      'the portable layer',
    );
  });

  it('20 healthy messages sharing one id and key are never dead-lettered', TIMEOUT, async () => {
    const id = suffix();
    const [source, group, dlq] = [`healthy-${id}`, `svc-${id}`, `healthy-${id}-dlq`];
    topology(source, group, dlq);
    const run = await runHealthySharedId({ broker: await open(), source, group, deadLetter: dlq });
    await expectHealthy(
      'rocketmq (emulator, MIXED topic)',
      run,
      'one sender id and key; counted by the broker per message',
    );
  });
});

describe('pulsar-http (emulator): the HTTP API reports no redelivery count', () => {
  const ACK_TIMEOUT_MS = 2_000;
  let env: PulsarHttpEnv;
  const brokers: Broker[] = [];
  beforeAll(async () => {
    env = await startPulsarHttpEnv({ ackTimeoutMs: ACK_TIMEOUT_MS });
  });
  afterAll(async () => {
    await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
    await env?.close();
  });

  const url = (nackMode: string) =>
    env.url({ token: 'role-token-crash-loop', receiveWaitMs: '200', mode: 'envelope', nackMode });
  async function open(u: string): Promise<Broker> {
    const b = await connect(u);
    brokers.push(b);
    return b;
  }
  async function topics(): Promise<{ source: string; dlq: string }> {
    const id = suffix();
    const source = `crash-${id}`;
    await env.createTopic(source);
    await env.createTopic(`${source}-dlq`);
    return { source, dlq: `${source}-dlq` };
  }

  /** The crash loop on fresh topics: children counting in `store` (MAX + 2 runs), or in none. */
  async function crashLoopIn(nackMode: string, store?: AttemptStoreKind): Promise<CrashLoopRun> {
    const { source, dlq } = await topics();
    return runCrashLoop({
      broker: await open(url(nackMode)),
      url: url(nackMode),
      source,
      group: `svc-${suffix()}`,
      deadLetter: dlq,
      ...(store === undefined ? { runs: UNBOUNDED_RUNS } : { runs: MAX + 2, attemptStore: store }),
    });
  }

  for (const nackMode of ['ack-timeout', 'retry-topic'] as const) {
    it(
      `nackMode ${nackMode}: a crash loop is bounded only by the restarts; the message is kept`,
      TIMEOUT,
      async () => {
        const run = await crashLoopIn(nackMode);
        await expectUnbounded(
          `pulsar-http (envelope mode, nackMode ${nackMode})`,
          run,
          nackMode === 'ack-timeout'
            ? 'no attemptStore: counted per MessageID in the consumer process, which each crash resets; ack timeout 2 s'
            : 'no attemptStore: a message the ack timeout returns to the main topic counts as a first delivery; only nacked copies carry a count; ack timeout 2 s',
        );
      },
    );

    // Both stores in one nack mode; the other counts in Redis alone. The driver counts through the
    // AttemptStore interface whichever store it is given, and test/attempt-stores.test.ts holds both
    // stores to the same contract (counts shared by two clients, forget, expiry), so a PostgreSQL
    // row per nack mode (and for Remoting) would prove what the Redis row beside it does. Retry-topic
    // keeps it: its count adds the store's handouts to the one the message carries.
    for (const store of nackMode === 'retry-topic'
      ? (['redis', 'postgres'] as const)
      : (['redis'] as const)) {
      it(
        `nackMode ${nackMode}, attemptStore ${store}: a crashing poison message is dead-lettered after exactly maxDeliveries crashes`,
        TIMEOUT,
        async () => {
          const run = await crashLoopIn(nackMode, store);
          await expectBounded(
            `pulsar-http (envelope mode, nackMode ${nackMode}, attemptStore ${store})`,
            run,
            `each handout counted per topic and MessageID in ${store === 'redis' ? 'Redis' : 'PostgreSQL'} before any handler${
              nackMode === 'ack-timeout'
                ? ''
                : ' (the main-topic message carries 1, the store adds its handouts)'
            }; the 4th handout is dead-lettered before any handler; ack timeout 2 s`,
            'the portable layer',
          );
        },
      );
    }

    it(
      `nackMode ${nackMode}: 20 healthy messages sharing one id are never dead-lettered`,
      TIMEOUT,
      async () => {
        const { source, dlq } = await topics();
        const run = await runHealthySharedId({
          broker: await open(url(nackMode)),
          source,
          group: `svc-${suffix()}`,
          deadLetter: dlq,
          deadlineMs: 60_000 + ACK_TIMEOUT_MS * 3,
        });
        await expectHealthy(
          `pulsar-http (envelope mode, nackMode ${nackMode})`,
          run,
          nackMode === 'ack-timeout'
            ? 'one sender id; counted per Pulsar MessageID, retried after the ack timeout'
            : 'one sender id; the count travels in the retry copy',
        );
      },
    );
  }
});
