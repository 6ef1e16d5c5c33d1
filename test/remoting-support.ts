// Helpers the Remoting transport's test files share.
import { type Broker, type Consumer, connect, type Message } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll } from 'vitest';
import { startTestEmulator } from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';

type RemotingExtra = Parameters<typeof remotingConfig>[1];

/** Receives until `n` messages came (each receive waits up to 10 s for more). */
export async function collect(consumer: Consumer, n: number): Promise<Message[]> {
  const got: Message[] = [];
  while (got.length < n) {
    const batch = await consumer.receive({ max: n - got.length, waitMs: 10_000 });
    if (batch.length === 0) break;
    got.push(...batch);
  }
  return got;
}

/**
 * A test file's emulator (started before its tests, stopped after them with every broker opened
 * through `open`), with Remoting driver configs from the test kit plus `defaults`.
 */
export function remotingEmulator(options: { seed?: number; defaults?: RemotingExtra } = {}) {
  const brokers: Broker[] = [];
  const ctx = {
    emulator: undefined as unknown as RunningEmulator,
    async open(extra: RemotingExtra = {}): Promise<Broker> {
      const broker = await connect(remotingConfig(ctx.emulator, { ...options.defaults, ...extra }));
      brokers.push(broker);
      return broker;
    },
  };
  beforeAll(async () => {
    ctx.emulator = await startTestEmulator(options.seed === undefined ? {} : { seed: options.seed });
  });
  afterAll(async () => {
    await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
    await ctx.emulator?.stop();
  });
  return ctx;
}
