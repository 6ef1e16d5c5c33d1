// A rebalance the broker's NOTIFY_CONSUMER_IDS_CHANGED starts can fail (the broker busy, the
// consumer closing under it): the consumer logs it and carries on, and nothing becomes an unhandled
// rejection — Vitest fails this file if one does (a CI run hit one while a consumer closed).
import { expect, it } from 'vitest';
import { fullName } from '../packages/rocketmq/test-kit/emulator.js';
import { remotingEmulator } from './remoting-support.js';

const env = remotingEmulator({ seed: 41 });

it('a failed rebalance after a membership change is logged, not an unhandled rejection', {
  timeout: 60_000,
}, async () => {
  const engine = env.emulator.engines.rocketmq;
  engine.createTopic(fullName('rb'), { type: 'MIXED', queues: 2 });
  const warnings: string[] = [];
  const record = (_: unknown, message?: string) => void warnings.push(String(message));
  const logger = { debug() {}, info() {}, warn: record, error: record };
  const first = await (await env.open({ logger })).consumer('rb', { group: 'g-rb' });
  // From now on the broker refuses the member list every rebalance asks for.
  env.emulator.faults.setRules([
    { protocol: 'rocketmq', action: 'GET_CONSUMER_LIST_BY_GROUP', errorRate: 1 },
  ]);
  // A second member joins: the broker tells the first, whose rebalance then fails.
  const second = (await env.open()).consumer('rb', { group: 'g-rb' });
  await second.catch(() => undefined);
  const until = Date.now() + 30_000;
  while (!warnings.some((w) => w.includes('background task failed')) && Date.now() < until)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(warnings).toContain('rocketmq: background task failed');
  env.emulator.faults.clear();
  await first.close();
});
