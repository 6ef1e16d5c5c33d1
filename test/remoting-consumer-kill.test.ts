// Issue 19's chaos case on the Remoting transport: a group member killed mid-batch (SIGKILL: no
// close, no unregister, no offset commit) — the broker drops it when its connections die, the
// survivor rebalances onto its queues and receives everything it held, so nothing is lost. And a
// network cut of every connection: producer and consumer reconnect by themselves.

import { spawn } from 'node:child_process';
import { type Broker, connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  fullName,
  startTestEmulator,
  TEST_CLUSTER,
  TEST_NAMESPACE,
  TEST_ROLE,
  TEST_TOKEN,
} from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';

let emulator: RunningEmulator;
const brokers: Broker[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
  await emulator?.stop();
});

const ownQueues = (consumer: { unwrap(): unknown }) =>
  (consumer.unwrap() as { queues: Array<{ topic: string }> }).queues.filter(
    (q) => !q.topic.startsWith('%RETRY%'),
  ).length;

it('a member killed mid-batch: the survivor takes over its queues and gets every message it held', {
  timeout: 60_000,
}, async () => {
  emulator.engines.rocketmq.createTopic(fullName('kill'), { type: 'MIXED', queues: 4 });
  const survivorBroker = await connect(remotingConfig(emulator));
  brokers.push(survivorBroker);
  const survivor = await survivorBroker.consumer('kill', { group: 'g-kill', prefetch: 100 });

  const url =
    `rocketmq+remoting://${TEST_TOKEN}:${TEST_ROLE}@${emulator.endpoints.remoting}` +
    `?cluster=${TEST_CLUSTER}&namespace=${TEST_NAMESPACE}&rebalanceIntervalMs=500&longPollMs=1000`;
  // Node itself with tsx as a loader: SIGKILL must reach the process holding the connections (the
  // tsx binary runs the script in a child that would live on as an orphan).
  const victim = spawn(
    process.execPath,
    [
      '--conditions=switchyard-source',
      '--import',
      'tsx',
      'test/fixtures/remoting-victim.ts',
      'kill',
      'g-kill',
    ],
    {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SWITCHYARD_URL: url },
    },
  );
  const held: string[] = [];
  let stderr = '';
  victim.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let ready: () => void = () => {};
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  let gotSome: () => void = () => {};
  const victimGotSome = new Promise<void>((resolve) => (gotSome = resolve));
  let buffer = '';
  victim.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') ready();
      if (line.startsWith('got ')) {
        held.push(line.slice(4));
        gotSome();
      }
    }
  });
  const exited = new Promise<void>((resolve) => victim.once('exit', () => resolve()));
  try {
    await Promise.race([isReady, exited.then(() => Promise.reject(new Error(`victim exited: ${stderr}`)))]);
    // Both members hold two queues each (the survivor hears of the newcomer from the broker).
    while (ownQueues(survivor) !== 2) await new Promise((resolve) => setTimeout(resolve, 50));

    const bodies = Array.from({ length: 40 }, (_, i) => `k-${i}`);
    await (await survivorBroker.producer('kill')).send(bodies);
    const seen = new Set<string>();
    const receiveSome = async () => {
      for (const m of await survivor.receive({ max: 100, waitMs: 1_000 })) {
        seen.add(m.text());
        await m.ack();
      }
    };
    await Promise.race([victimGotSome, exited]);
    victim.kill('SIGKILL');
    await exited;
    expect(held.length).toBeGreaterThan(0);
    const deadline = Date.now() + 30_000;
    while (seen.size < bodies.length && Date.now() < deadline) await receiveSome();
    expect([...seen].sort()).toEqual([...bodies].sort());
    for (const body of held) expect(seen.has(body)).toBe(true);
    expect(ownQueues(survivor)).toBe(4);
  } finally {
    victim.kill('SIGKILL');
  }
});

it('producer and consumer carry on after every connection is cut', { timeout: 60_000 }, async () => {
  emulator.engines.rocketmq.createTopic(fullName('cut'), { type: 'MIXED', queues: 2 });
  const broker = await connect(remotingConfig(emulator));
  brokers.push(broker);
  const consumer = await broker.consumer('cut', { group: 'g-cut' });
  const producer = await broker.producer('cut');
  const seen = new Set<string>();
  for (let round = 0; round < 3; round++) {
    expect(emulator.remoting.cutConnections()).toBeGreaterThan(0);
    const bodies = Array.from({ length: 10 }, (_, i) => `r${round}-${i}`);
    await producer.send(bodies);
    const deadline = Date.now() + 20_000;
    while (!bodies.every((b) => seen.has(b)) && Date.now() < deadline) {
      for (const m of await consumer.receive({ max: 20, waitMs: 1_000 })) {
        seen.add(m.text());
        await m.ack();
      }
    }
    expect(bodies.filter((b) => !seen.has(b))).toEqual([]);
  }
});
