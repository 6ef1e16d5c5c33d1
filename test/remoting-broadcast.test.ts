// Broadcasting consumers on the Remoting transport (driverOptions: { messageModel: 'broadcasting' }):
// every member of the group gets every message, offsets stay in the process (nothing is committed
// to the broker), and a nack comes back to the consumer that nacked it, counted there.
import { ErrorCode } from '@switchyard/core';
import { expect, it } from 'vitest';
import { fullName } from '../packages/rocketmq/test-kit/emulator.js';
import { collect, remotingEmulator } from './remoting-support.js';

const env = remotingEmulator({ seed: 37 });
const open = env.open;
const broadcasting = { driverOptions: { messageModel: 'broadcasting' } } as const;

it('every member gets every message; offsets stay local; a nack comes back to its own consumer', {
  timeout: 60_000,
}, async () => {
  const engine = env.emulator.engines.rocketmq;
  engine.createTopic(fullName('bc'), { type: 'MIXED', queues: 2 });
  const producerSide = await open();
  const a = await producerSide.consumer('bc', { group: 'g-bc', ...broadcasting });
  const b = await (await open()).consumer('bc', { group: 'g-bc', ...broadcasting });
  const bodies = Array.from({ length: 6 }, (_, i) => `b-${i}`);
  await (await producerSide.producer('bc')).send(bodies);

  const byA = await collect(a, 6);
  const byB = await collect(b, 6);
  expect(byA.map((m) => m.text()).sort()).toEqual(bodies);
  expect(byB.map((m) => m.text()).sort()).toEqual(bodies);
  for (const m of byB) await m.ack();
  const [nacked, ...rest] = byA;
  for (const m of rest) await m.ack();
  await nacked!.nack();
  const [again] = await a.receive({ max: 1, waitMs: 10_000 });
  expect(again?.text()).toBe(nacked?.text());
  expect(again?.deliveryAttempt).toBe(2);
  await again!.ack();
  // The other member is not given it again, and nothing went to %RETRY%.
  expect(await b.receive({ max: 1, waitMs: 1_500 })).toEqual([]);
  expect(engine.messages(`%RETRY%${fullName('g-bc')}`)).toHaveLength(0);
  // Offsets are the process's own: the broker holds none for the group.
  await a.close();
  await b.close();
  for (const queueId of [0, 1])
    expect(engine.consumerOffset(fullName('g-bc'), fullName('bc'), queueId)).toBeUndefined();
});

it('refuses a misspelt message model and native dead-lettering, which needs send-backs', async () => {
  env.emulator.engines.rocketmq.createTopic(fullName('bc-bad'), { type: 'MIXED', queues: 1 });
  const broker = await open({ deadLetter: 'native' });
  await expect(
    broker.consumer('bc-bad', { group: 'g-bc-bad', driverOptions: { messageModel: 'broadcast' } }),
  ).rejects.toMatchObject({
    code: ErrorCode.INVALID_ARGUMENT,
    message: expect.stringMatching(/messageModel/),
  });
  await expect(
    broker.consumer('bc-bad', {
      group: 'g-bc-bad',
      maxDeliveries: 3,
      deadLetter: `%DLQ%${fullName('g-bc-bad')}`,
      ...broadcasting,
    }),
  ).rejects.toMatchObject({ code: ErrorCode.UNSUPPORTED, message: expect.stringMatching(/broadcasting/) });
});
