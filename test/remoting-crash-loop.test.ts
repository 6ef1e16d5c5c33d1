// The crash loop on the Remoting transport with native dead-lettering: a poison message SIGKILLs
// its consumer child, restarted after each crash, against the in-process emulator. A RocketMQ 4.x
// broker counts a delivery only when a client sends the message back (reconsumeTimes); a process
// killed inside its handler sends nothing back and commits nothing past the message, so the next
// member gets it again from the committed offset with the same count, as with the Apache 4.x
// clients. Nothing is lost, but without a store the loop is not bounded: the first test pins that
// down (see the README's Remoting "Dead letters" paragraph). With an attemptStore (Redis) the
// children count each handout of the stored position before any handler, and the 4th is
// dead-lettered (moved to %DLQ% by the broker's send-back, at the portable layer's word).

import { randomUUID } from 'node:crypto';
import { type Broker, connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, it } from 'vitest';
import {
  fullName,
  startTestEmulator,
  TEST_CLUSTER,
  TEST_NAMESPACE,
  TEST_ROLE,
  TEST_TOKEN,
  teardown,
} from '../packages/rocketmq/test-kit/emulator.js';
import {
  type CrashLoopRun,
  expectBounded,
  expectUnbounded,
  MAX,
  runCrashLoop,
  UNBOUNDED_RUNS,
} from './crash-loop-scenarios.js';
import type { AttemptStoreKind } from './fixtures/attempt-store-env.js';

let emulator: RunningEmulator;
const brokers: Broker[] = [];
beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 29 });
});
afterAll(() => teardown(emulator, brokers));

function url(): string {
  const q = new URLSearchParams({
    cluster: TEST_CLUSTER,
    namespace: TEST_NAMESPACE,
    deadLetter: 'native',
    invisibleDurationMs: '1000',
    longPollMs: '1000',
    rebalanceIntervalMs: '500',
    offsetPersistMs: '500',
  });
  return `rocketmq+remoting://${encodeURIComponent(TEST_TOKEN)}:${encodeURIComponent(TEST_ROLE)}@${emulator.endpoints.remoting}?${q}`;
}

/**
 * A source of 2 queues and its group, with the group's %DLQ% routed for the test's reader, and the
 * crash loop on it: children counting in `store` (MAX + 2 runs), or in none.
 */
async function crashLoopIn(store?: AttemptStoreKind): Promise<CrashLoopRun> {
  const id = randomUUID().slice(0, 6);
  const [source, group] = [`crash-${id}`, `svc-${id}`];
  const dlq = `%DLQ%${fullName(group)}`;
  const engine = emulator.engines.rocketmq;
  engine.createTopic(fullName(source), { type: 'MIXED', queues: 2 });
  // The broker makes a group's %DLQ% on its first move; the reader needs its route before that.
  engine.createTopic(dlq, { type: 'MIXED', queues: 1 });
  engine.createGroup(fullName(group), { fifo: false });
  engine.createGroup(fullName('reader'), { fifo: false });
  const broker = await connect(url());
  brokers.push(broker);
  return runCrashLoop({
    broker,
    url: url(),
    source,
    group,
    deadLetter: dlq,
    ...(store === undefined ? { runs: UNBOUNDED_RUNS } : { runs: MAX + 2, attemptStore: store }),
  });
}

it('a crashing poison message is never dead-lettered and never lost (crashes are not counted)', {
  timeout: 420_000,
}, async () => {
  const run = await crashLoopIn();
  await expectUnbounded(
    'rocketmq remoting (emulator, deadLetter native)',
    run,
    'no attemptStore: a killed handler sends nothing back, so reconsumeTimes stays 0 and the next member redelivers from the committed offset',
  );
});

// Redis only: the count goes through the AttemptStore interface whichever store it is, both stores
// meet one contract in test/attempt-stores.test.ts, and PostgreSQL runs the crash loop in a child
// process in test/crash-loop.test.ts (pulsar-http, retry-topic).
for (const store of ['redis'] as const satisfies readonly AttemptStoreKind[]) {
  it(`attemptStore ${store}: a crashing poison message is dead-lettered after exactly maxDeliveries crashes`, {
    timeout: 420_000,
  }, async () => {
    const run = await crashLoopIn(store);
    await expectBounded(
      `rocketmq remoting (emulator, deadLetter native, attemptStore ${store})`,
      run,
      `each handout counted per stored position (topic@broker@queue/offset) in ${store === 'redis' ? 'Redis' : 'PostgreSQL'} before any handler, reconsumeTimes (0) the carried count; the 4th handout is sent to %DLQ% before any handler, at the portable layer's word`,
      'the broker',
    );
  });
}
