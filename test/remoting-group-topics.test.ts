// RocketMQ 4.x shares a group's queues among every member the broker lists for the group, whatever
// each subscribes. Two consumers of one group on different topics in one process would so each
// own part of the other's queues and never pull them: messages of either topic would wait for good.
// The Remoting driver refuses the second topic for a group, with the fix in the message.

import { connect, ErrorCode, isSwitchyardError } from '@switchyard/core';
import '@switchyard/rocketmq';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullName, startTestEmulator } from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
  for (const t of ['gt-a', 'gt-b'])
    emulator.engines.rocketmq.createTopic(fullName(t), { type: 'MIXED', queues: 4 });
});
afterAll(async () => {
  await emulator?.stop();
});

describe('RocketMQ 4.x (Remoting): one topic per consumer group in a process', () => {
  it('refuses a second topic for a group, and takes it once the first consumer closed', async () => {
    const broker = await connect(remotingConfig(emulator));
    try {
      const first = await broker.consumer('gt-a', { group: 'gt-g1' });
      const refused = await broker.consumer('gt-b', { group: 'gt-g1' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isSwitchyardError(refused) && refused.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect((refused as Error).message).toContain('consumer group "gt-g1" already consumes topic "gt-a"');
      expect((refused as Error).message).toContain('use one group per topic, e.g. "gt-g1-gt-b"');
      // The same topic again in the same group is an ordinary second member.
      const second = await broker.consumer('gt-a', { group: 'gt-g1' });
      await second.close();
      await first.close();
      const other = await broker.consumer('gt-b', { group: 'gt-g1' });
      await other.close();
    } finally {
      await broker.close();
    }
  });
});
