// The emulator's admin view of what a Remoting consumer group may still get (RemotingBroker.held),
// which the conformance harness uses to end its poison watch on the broker's word: unconsumed
// messages past the committed offsets, and a sent-back message until its retry is consumed.
import { type Broker, connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fullName, startTestEmulator } from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';

let emulator: RunningEmulator;
let broker: Broker;

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 31 });
  broker = await connect(remotingConfig(emulator));
});
afterAll(async () => {
  await broker?.close({ timeoutMs: 5_000 });
  await emulator?.stop();
});

it('counts what is unconsumed, a sent-back message until its retry is acked, and nothing after', {
  timeout: 60_000,
}, async () => {
  emulator.engines.rocketmq.createTopic(fullName('held'), { type: 'MIXED', queues: 2 });
  const held = () => emulator.remoting.broker.held(fullName('g-held'), fullName('held'));
  // No committed offset and nothing sent: nothing can come.
  expect(held()).toBe(0);
  let consumer = await broker.consumer('held', { group: 'g-held' });
  await (await broker.producer('held')).send(['a', 'b', 'c']);
  expect(held()).toBe(3);

  const got = [];
  while (got.length < 3) got.push(...(await consumer.receive({ max: 3, waitMs: 10_000 })));
  const [retried, ...rest] = got;
  for (const m of rest) await m.ack();
  await retried!.nack();
  // Closing commits the offsets: the two acked ones are done, the sent-back one waits in %RETRY%.
  await consumer.close();
  expect(held()).toBe(1);

  consumer = await broker.consumer('held', { group: 'g-held' });
  const [again] = await consumer.receive({ max: 1, waitMs: 15_000 });
  expect(again?.text()).toBe(retried?.text());
  await again!.ack();
  await consumer.close();
  expect(held()).toBe(0);
});
