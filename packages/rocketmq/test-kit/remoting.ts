// Driver configs for the Remoting transport against the in-process emulator: TDMQ full names,
// fast membership timers, and each consumer group created through the engine before its consumer
// subscribes (the emulator, like TDMQ, creates nothing on first use in these tests).

import type { RunningEmulator } from '@switchyard/emulator';
import { TEST_CLUSTER, TEST_NAMESPACE, TEST_ROLE, TEST_TOKEN, type TestConfigExtra } from './emulator.js';

export function remotingConfig(emulator: RunningEmulator, extra: TestConfigExtra = {}) {
  const engine = emulator.engines.rocketmq;
  return {
    driver: 'rocketmq' as const,
    transport: 'remoting' as const,
    endpoints: emulator.endpoints.remoting,
    cluster: TEST_CLUSTER,
    namespace: TEST_NAMESPACE,
    token: TEST_TOKEN,
    role: TEST_ROLE,
    longPollMs: 1_000,
    requestTimeoutMs: 3_000,
    invisibleDurationMs: 3_000,
    rebalanceIntervalMs: 500,
    offsetPersistMs: 500,
    ensureGroup: (group: string) => {
      engine.createGroup(group, { fifo: false });
    },
    ...extra,
  };
}
